// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Flows, hashed the way the datapath hashes them (bpf/lib/jhash.h), against
 * the Maglev tables: when one backend of ten leaves, the share of flows that
 * change backend is what the slot comparison (maglev-gen --compare)
 * predicts, within sampling error; the figures are printed.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "svc/maglev.h"
#include "../bpf/lib/jhash.h"
#include "../tests/unit/tap.h"

#define M 16381
#define N 10

static __u64 rng = 0x9e3779b97f4a7c15ULL;

static __u32 next32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (__u32)(rng >> 16);
}

static void backend(struct kpr_maglev_be *b, int i, bool v6)
{
	memset(b, 0, sizeof(*b));
	b->weight = 1;
	b->addr.proto = IPPROTO_TCP;
	b->addr.port = htons(8080);
	b->addr.family = v6 ? KPR_FAM_V6 : KPR_FAM_V4;
	if (v6) {
		inet_pton(AF_INET6, "fd00::", b->addr.addr.b);
		b->addr.addr.b[15] = (__u8)(i + 1);
	} else {
		b->addr.addr.v4 = htonl(0x0a010000u + (__u32)i + 1);
	}
}

static void random_flow(struct kpr_flow_key *k, bool v6)
{
	memset(k, 0, sizeof(*k));
	k->family = v6 ? KPR_FAM_V6 : KPR_FAM_V4;
	k->proto = IPPROTO_TCP;
	k->sport = htons((__u16)(1024 + next32() % 64512));
	k->dport = htons(80);
	k->saddr.w[0] = next32();
	if (v6) {
		k->saddr.w[1] = next32();
		k->saddr.w[2] = next32();
		k->saddr.w[3] = next32();
	}
}

static void one_leaves(bool v6, int flows)
{
	struct kpr_maglev_be old[N], nw[N - 1];
	static __u32 old_tab[M], new_tab[M];
	int old_to_new[N], gone = 4;
	struct kpr_maglev_diff d;
	__u8 seed[KPR_SEED_LEN];
	int moved = 0, surv = 0, surv_moved = 0;
	double p, q, tol, got;

	kpr_maglev_seed_parse(KPR_MAGLEV_DEFAULT_SEED, seed);
	for (int i = 0, j = 0; i < N; i++) {
		backend(&old[i], i, v6);
		old_to_new[i] = i == gone ? -1 : j;
		if (i != gone)
			nw[j++] = old[i];
	}
	ok(!kpr_maglev_build(old, N, M, seed, old_tab) &&
	   !kpr_maglev_build(nw, N - 1, M, seed, new_tab), "IPv%d tables built", v6 ? 6 : 4);
	kpr_maglev_diff(old_tab, new_tab, M, old_to_new, &d);

	for (int f = 0; f < flows; f++) {
		struct kpr_flow_key k;
		__u32 slot, was, now;

		random_flow(&k, v6);
		slot = kpr_flow_hash(&k, seed, false) % M;
		was = old_tab[slot];
		now = new_tab[slot];
		if (old_to_new[was] < 0 || (__u32)old_to_new[was] != now)
			moved++;
		if (old_to_new[was] >= 0) {
			surv++;
			surv_moved += (__u32)old_to_new[was] != now;
		}
	}
	p = (double)d.changed / M;
	got = (double)moved / flows;
	/* four standard errors of a share measured on this many flows */
	tol = 4 * sqrt(p * (1 - p) / flows) + 1.0 / flows;
	printf("# IPv%d, M=%d, one backend of %d leaves: --compare predicts %.2f%% of flows move "
	       "(%lu of %d slots), %d synthetic flows measured %.2f%%\n",
	       v6 ? 6 : 4, M, N, 100 * p, d.changed, M, flows, 100 * got);
	ok(fabs(got - p) <= tol, "IPv%d: measured share %.4f within %.4f of the predicted %.4f",
	   v6 ? 6 : 4, got, tol, p);
	q = (double)d.moved / (double)d.surviving;
	printf("# IPv%d: slots of surviving backends that move: %lu of %lu (%.2f%%); "
	       "flows of surviving backends that moved: %d of %d (%.2f%%)\n",
	       v6 ? 6 : 4, d.moved, d.surviving, 100 * q, surv_moved, surv,
	       surv ? 100.0 * surv_moved / surv : 0);
	ok(fabs((double)surv_moved / surv - q) <= 4 * sqrt(q * (1 - q) / surv) + 2.0 / surv,
	   "IPv%d: surviving backends' flows move as their slots do", v6 ? 6 : 4);
	ok(d.removed > 0 && d.changed >= d.removed, "IPv%d: the departed backend's slots all change owner",
	   v6 ? 6 : 4);
}

int main(void)
{
	__u8 seed[KPR_SEED_LEN];
	struct kpr_flow_key k;
	__u32 h0;
	bool same = true;

	one_leaves(false, 1000);
	one_leaves(true, 500);
	/* many flows: the tolerance shrinks to a few tenths of a percent */
	one_leaves(false, 100000);
	one_leaves(true, 100000);

	/* With affinity the client port is out of the hash: one client, one slot. */
	kpr_maglev_seed_parse(KPR_MAGLEV_DEFAULT_SEED, seed);
	random_flow(&k, false);
	h0 = kpr_flow_hash(&k, seed, true);
	for (int i = 0; i < 100; i++) {
		k.sport = htons((__u16)(1024 + i));
		same &= kpr_flow_hash(&k, seed, true) == h0;
	}
	ok(same, "affinity: every source port of a client hashes alike");
	k.sport = htons(1024);
	ok(kpr_flow_hash(&k, seed, false) != kpr_flow_hash(&k, seed, true) ||
	   kpr_flow_hash(&k, seed, false) != (k.sport = htons(1025), kpr_flow_hash(&k, seed, false)),
	   "without affinity the source port counts");
	/* The destination address is not in the hash (Cilium's choice). */
	h0 = kpr_flow_hash(&k, seed, false);
	k.daddr.w[0] = 0x01020304;
	ok(kpr_flow_hash(&k, seed, false) == h0, "the destination address is not hashed");
	/* The seed's IPv4 word is bytes 4..7 */
	seed[5] ^= 1;
	ok(kpr_flow_hash(&k, seed, false) != h0, "the seed's bytes 4..7 change IPv4 hashes");
	return tap_done();
}
