/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Connection tracking: a flow's entry in ct, keyed on the flow as received,
 * found while it lives, created with its backend, refreshed, and timed out
 * sooner once a FIN or RST says the flow is closing. The nat slots share
 * the timeouts and the closing rule (lib/nat.h).
 */
#ifndef KPR_LIB_CT_H
#define KPR_LIB_CT_H

#include "maps.h"
#include "parse.h"

#define KPR_NSEC	1000000000ull

/* Timestamps in map values are refreshed at most once a second: writing
 * them on every packet would bounce their cache line between CPUs. */
#define KPR_REFRESH_NS	KPR_NSEC

/* Timeouts are whole seconds and refreshes once a second, so the tick's
 * clock is exact enough; reading the clock source costs as much as a map
 * lookup here (measured in a KVM guest: 45 ns against 23 ns). */
static __always_inline __u64 kpr_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

/* last may be later than now: another CPU wrote it after this packet read
 * the clock. That is fresh, not a wrapped-around age. */
static __always_inline bool kpr_stale(__u64 last, __u64 now, __u32 timeout_s)
{
	return now > last && now - last > (__u64)timeout_s * KPR_NSEC;
}

static __always_inline __u32 kpr_ct_timeout(const struct kpr_config *cfg, __u8 proto,
					    __u32 flags)
{
	if (flags & KPR_CT_F_FIN_SEEN)
		return KPR_CT_CLOSING_TIMEOUT;
	return proto == IPPROTO_TCP ? cfg->ct_timeout_tcp : cfg->ct_timeout_udp;
}

/* A nat slot being written: claimed, its fields not yet all there. Readers
 * that decide from the fields skip it; no clock reads 1 ns. */
#define KPR_NAT_CLAIMING	1ull

/* A SYN without ACK in a TCP packet: a client opening a connection. */
static __always_inline bool kpr_tcp_syn(const struct kpr_pkt *p)
{
	const struct tcphdr *th = p->l4;

	if (p->key.proto != IPPROTO_TCP || (void *)(th + 1) > p->data_end)
		return false;
	return th->syn && !th->ack;
}

/* The closing flags a packet adds: FIN_SEEN for a FIN or RST, RST too for an
 * RST. */
static __always_inline __u32 kpr_tcp_close_flags(const struct kpr_pkt *p)
{
	const struct tcphdr *th = p->l4;

	if (p->key.proto != IPPROTO_TCP || (void *)(th + 1) > p->data_end)
		return 0;
	if (th->rst)
		return KPR_CT_F_FIN_SEEN | KPR_CT_F_RST;
	return th->fin ? KPR_CT_F_FIN_SEEN : 0;
}

/* The flow's entry while it has not timed out, else NULL. */
static __always_inline struct kpr_ct *kpr_ct_lookup(const struct kpr_flow_key *k,
						    const struct kpr_config *cfg, __u64 now)
{
	struct kpr_ct *ce = bpf_map_lookup_elem(&ct, k);

	if (ce && !kpr_stale(ce->last_seen, now, kpr_ct_timeout(cfg, k->proto, ce->flags)))
		return ce;
	return NULL;
}

/* A packet of a live flow, either way: its entry's (ct's or a nat slot's)
 * last_seen and closing flags, written only when they change. Returns the
 * flags the packet added. */
static __always_inline __u32 kpr_ct_touch(__u64 *last_seen, __u32 *flags,
					  const struct kpr_pkt *p, __u64 now)
{
	__u64 old = *last_seen;
	__u32 f = 0;

	/* a nat slot another CPU is claiming for a new flow (lib/nat.h) is
	 * no longer this flow's: a plain store would undo the claim */
	if (old == KPR_NAT_CLAIMING)
		return 0;
	/* swapped, not stored, for the same reason: the claim may come
	 * between the read and the write */
	if (now > old && now - old > KPR_REFRESH_NS)
		__sync_val_compare_and_swap(last_seen, old, now);
	if (!(*flags & KPR_CT_F_RST)) {
		f = kpr_tcp_close_flags(p) & ~*flags;
		if (f)
			*flags |= f;
	}
	return f;
}

static __always_inline void kpr_ct_create(const struct kpr_flow_key *k, const struct kpr_ct *ce)
{
	bpf_map_update_elem(&ct, k, ce, BPF_ANY);
}

#endif
