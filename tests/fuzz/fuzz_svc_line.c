/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One line of a batch file, as svc-add -f reads it. */
#include "fuzz.h"
#include "svc/svc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kpr_svc_spec sp;
	char err[KPR_ERRLEN];
	char *s = fuzz_cstr(data, size);
	int ret;

	if (!s || strchr(s, '\n')) {
		free(s);
		return 0;
	}
	kpr_svc_spec_init(&sp);
	ret = kpr_svc_parse_line(s, &sp, err, sizeof(err));
	FUZZ_ASSERT(ret <= 1);
	if (ret == 0)
		FUZZ_ASSERT(sp.n_be == 0 || sp.be);
	else if (ret < 0)
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) && err[0]);
	kpr_svc_spec_free(&sp);
	free(s);
	return 0;
}
