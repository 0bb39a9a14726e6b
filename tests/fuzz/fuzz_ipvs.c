/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ipvsadm-save text, kp-cleanup's IPVS backup: what parses saves to text
 * that parses back to the same services, and saving that again gives the
 * same text. */
#include "fuzz.h"
#include "core/buf.h"
#include "nl/ipvs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void same(const struct kpr_ipvs_svc *a, const struct kpr_ipvs_svc *b)
{
	FUZZ_ASSERT(a->af == b->af && a->proto == b->proto && a->port == b->port);
	FUZZ_ASSERT(a->fwmark == b->fwmark && a->flags == b->flags);
	FUZZ_ASSERT(a->timeout == b->timeout && a->netmask == b->netmask);
	FUZZ_ASSERT(!memcmp(a->addr, b->addr, sizeof(a->addr)));
	FUZZ_ASSERT(!strcmp(a->sched, b->sched));
	FUZZ_ASSERT(a->ndests == b->ndests);
	for (size_t i = 0; i < a->ndests; i++) {
		const struct kpr_ipvs_dest *x = &a->dests[i], *y = &b->dests[i];

		FUZZ_ASSERT(x->af == y->af && x->port == y->port && x->fwd == y->fwd);
		FUZZ_ASSERT(x->weight == y->weight);
		FUZZ_ASSERT(x->u_thresh == y->u_thresh && x->l_thresh == y->l_thresh);
		FUZZ_ASSERT(!memcmp(x->addr, y->addr, sizeof(x->addr)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kpr_ipvs_svc *a = NULL, *b = NULL;
	struct kpr_buf t1 = { 0 }, t2 = { 0 };
	size_t na = 0, nb = 0;
	char *s = fuzz_cstr(data, size);

	if (!s)
		return 0;
	if (kpr_ipvs_restore_parse(s, &a, &na))
		goto out;
	FUZZ_ASSERT(!kpr_ipvs_save(a, na, &t1));
	FUZZ_ASSERT(!kpr_ipvs_restore_parse(t1.s ? t1.s : "", &b, &nb));
	FUZZ_ASSERT(na == nb);
	for (size_t i = 0; i < na; i++)
		same(&a[i], &b[i]);
	FUZZ_ASSERT(!kpr_ipvs_save(b, nb, &t2));
	FUZZ_ASSERT(t1.len == t2.len && (!t1.len || !memcmp(t1.s, t2.s, t1.len)));
out:
	kpr_ipvs_free(a, na);
	kpr_ipvs_free(b, nb);
	kpr_buf_free(&t1);
	kpr_buf_free(&t2);
	free(s);
	return 0;
}
