/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Maglev seeds are base64: strict decoding, and what decodes encodes back
 * to the very same text; any bytes encode and decode back. */
#include "fuzz.h"
#include "core/base64.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t bin[512], back[512];
	char txt[KPR_B64_LEN(sizeof(bin)) + 1];
	char *s = fuzz_cstr(data, size);
	int n;

	if (s) {
		n = kpr_b64_decode(s, bin, sizeof(bin));
		FUZZ_ASSERT(n >= 0 || n == -EINVAL || n == -E2BIG);
		if (n >= 0) {
			FUZZ_ASSERT(!kpr_b64_encode(bin, (size_t)n, txt, sizeof(txt)));
			FUZZ_ASSERT(!strcmp(txt, s));
		}
		free(s);
	}
	if (size <= sizeof(bin)) {
		FUZZ_ASSERT(!kpr_b64_encode(data, size, txt, sizeof(txt)));
		FUZZ_ASSERT(strlen(txt) == KPR_B64_LEN(size));
		n = kpr_b64_decode(txt, back, sizeof(back));
		FUZZ_ASSERT(n == (int)size && !memcmp(back, data, size));
	}
	return 0;
}
