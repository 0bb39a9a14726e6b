/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* iptables-save text, as kp-cleanup reads it: parse it, plan the removal of
 * kube-proxy's chains and write the iptables-restore input that does it. */
#include "fuzz.h"
#include "core/buf.h"
#include "kpcleanup/kpcleanup.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kpc_dump d = { 0 };
	struct kpr_buf b = { 0 };
	char *s = fuzz_cstr(data, size);

	if (!s)
		return 0;
	if (!kpc_dump_parse(s, &d)) {
		FUZZ_ASSERT(kpc_plan(&d) >= 0);
		FUZZ_ASSERT(!kpc_delta(&d, &b));
		/* what it writes is iptables-restore input: tables end in COMMIT */
		if (b.len)
			FUZZ_ASSERT(b.s[b.len - 1] == '\n');
	}
	kpc_dump_free(&d);
	kpr_buf_free(&b);
	free(s);
	return 0;
}
