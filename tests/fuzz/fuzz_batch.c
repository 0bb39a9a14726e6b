/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A whole svc-add -f file, NUL bytes and all. Accepted: each service's
 * backends share its protocol and one family, and it knows its line.
 * Refused: nothing is handed out.
 */
#include "fuzz.h"
#include "svc/svc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kpr_svc_spec *sp = NULL;
	char path[64];
	size_t n = 0, i;
	int fd = fuzz_file(data, size, path, sizeof(path));
	int ret;

	ret = kpr_svc_parse_file(path, &sp, &n);
	if (ret == 0) {
		for (i = 0; i < n; i++) {
			FUZZ_ASSERT(sp[i].line > 0 && (!sp[i].n_be || sp[i].be));
			for (unsigned int j = 0; j < sp[i].n_be; j++) {
				FUZZ_ASSERT(sp[i].be[j].addr.proto == sp[i].key.fe.proto);
				FUZZ_ASSERT(sp[i].be[j].addr.family == sp[i].be[0].addr.family);
			}
		}
	} else {
		FUZZ_ASSERT(!sp && !n);
	}
	kpr_svc_specs_free(sp, n);
	close(fd);
	return 0;
}
