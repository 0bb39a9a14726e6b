/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* CIDRs of masq-ctl and ip-masq-agent files: what is accepted prints in
 * canonical form, which is accepted again as the same prefix. */
#include "fuzz.h"
#include "dev/masq.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kpr_cidr_list a, b;
	char txt[64];
	char *s = fuzz_cstr(data, size);

	if (!s)
		return 0;
	a.n = b.n = 0;
	if (!kpr_masq_cidr_add(&a, s, "fuzz")) {
		FUZZ_ASSERT(a.n == 1);
		FUZZ_ASSERT(kpr_fmt_cidr(&a.v[0], txt, sizeof(txt)));
		FUZZ_ASSERT(!kpr_masq_cidr_add(&b, txt, "fuzz"));
		FUZZ_ASSERT(b.v[0].family == a.v[0].family);
		FUZZ_ASSERT(b.v[0].prefix == a.v[0].prefix);
		FUZZ_ASSERT(!memcmp(&b.v[0].addr, &a.v[0].addr, sizeof(a.v[0].addr)));
	}
	free(s);
	return 0;
}
