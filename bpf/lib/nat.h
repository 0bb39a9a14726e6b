/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rewriting a packet's addresses and ports with incremental checksums, and
 * the SNAT port allocator over the nat map shared with masquerade.
 */
#ifndef KPR_LIB_NAT_H
#define KPR_LIB_NAT_H

#include "csum.h"
#include "maps.h"
#include "parse.h"

/* How many ports a new flow tries before it is dropped and counted: the
 * range is random-probed, so a full range costs this much and no more. */
#define KPR_NAT_TRIES	8

/* Rewrites source and destination of the packet p describes. */
static __always_inline void kpr_rewrite(struct kpr_pkt *p, const union kpr_addr *saddr,
					__be16 sport, const union kpr_addr *daddr, __be16 dport)
{
	bool v6 = p->ip6 != NULL;
	__u64 d = 0;

	d = kpr_csum_diff_addr(d, p->key.saddr.w, saddr->w, v6);
	d = kpr_csum_diff_addr(d, p->key.daddr.w, daddr->w, v6);
	if (p->ip6) {
		__builtin_memcpy(&p->ip6->saddr, saddr, 16);
		__builtin_memcpy(&p->ip6->daddr, daddr, 16);
	} else if (p->ip4) {
		kpr_csum_apply(&p->ip4->check, d);
		p->ip4->saddr = saddr->v4;
		p->ip4->daddr = daddr->v4;
	}
	/* the ports as parsed are the old ones: no reading back through
	 * another type, which strict aliasing would let the compiler skip */
	((__be16 *)p->l4)[0] = sport;
	((__be16 *)p->l4)[1] = dport;
	d = kpr_csum_diff16(d, p->key.sport, sport);
	d = kpr_csum_diff16(d, p->key.dport, dport);
	if (p->key.proto == IPPROTO_UDP && !v6 && !*p->l4csum)
		return;		/* IPv4 UDP without a checksum stays without */
	kpr_csum_apply(p->l4csum, d);
	if (p->key.proto == IPPROTO_UDP && !*p->l4csum)
		*p->l4csum = 0xffff;
}

static __always_inline bool kpr_stale(__u64 last, __u64 now, __u32 timeout_s)
{
	return now - last > (__u64)timeout_s * 1000000000ull;
}

static __always_inline __u32 kpr_ct_timeout(const struct kpr_config *cfg, __u8 proto,
					    __u32 flags)
{
	if (flags & KPR_CT_F_FIN_SEEN)
		return KPR_CT_CLOSING_TIMEOUT;
	return proto == IPPROTO_TCP ? cfg->ct_timeout_tcp : cfg->ct_timeout_udp;
}

/* A FIN or RST in a TCP packet: the flow is closing. */
static __always_inline bool kpr_tcp_closing(const struct kpr_pkt *p)
{
	const struct tcphdr *th = p->l4;

	if (p->key.proto != IPPROTO_TCP || (void *)(th + 1) > p->data_end)
		return false;
	return th->fin || th->rst;
}

/*
 * Whether the flow that holds a nat port is over: its replies (nat) and
 * its requests (ct, found from the client and frontend the nat entry names) both
 * expired. One-way UDP flows refresh only ct; closed TCP flows expire fast.
 */
static __always_inline bool kpr_flow_dead(const struct kpr_config *cfg,
					  const struct kpr_nat *rf,
					  struct kpr_flow_key *fk, __u64 now)
{
	struct kpr_ct *ce;

	if (!kpr_stale(rf->last_seen, now, kpr_ct_timeout(cfg, rf->client.proto, rf->flags)))
		return false;
	fk->saddr = rf->client.addr;
	fk->daddr = rf->frontend.addr;
	fk->sport = rf->client.port;
	fk->dport = rf->frontend.port;
	fk->proto = rf->client.proto;
	fk->family = rf->client.family;
	fk->dir = KPR_CT_FWD;
	fk->pad = 0;
	ce = bpf_map_lookup_elem(&ct, fk);
	return !ce || kpr_stale(ce->last_seen, now, kpr_ct_timeout(cfg, fk->proto, ce->flags));
}

/* The flow as its replies will arrive: backend -> SNAT address:port. */
static __always_inline void kpr_nat_rev_key(const struct kpr_pkt *p, const struct kpr_l4addr *be,
					    const union kpr_addr *snat, __be16 port,
					    struct kpr_flow_key *rk)
{
	rk->saddr = be->addr;
	rk->daddr = *snat;
	rk->sport = be->port;
	rk->dport = port;
	rk->proto = p->key.proto;
	rk->family = p->key.family;
	rk->dir = KPR_CT_REV;
	rk->pad = 0;
}

/*
 * Reserves a node port for a flow leaving to 'be' from 'snat': the reverse
 * nat entry (as the replies will arrive) is created with BPF_NOEXIST, and an
 * entry whose flow has expired may be taken over. Returns the port in
 * network order, or 0 when every try collided.
 */
static __always_inline __be16 kpr_nat_alloc(const struct kpr_config *cfg,
					     const struct kpr_pkt *p,
					     const struct kpr_l4addr *be,
					     const union kpr_addr *snat,
					     struct kpr_flow_key *rk, struct kpr_nat *v,
					     struct kpr_flow_key *fk)
{
	__u64 now = v->last_seen;
	__u32 min = cfg->nat_port_min, max = cfg->nat_port_max, range, start;

	if (!min || max < min)
		return 0;
	range = max - min + 1;
	start = bpf_get_prandom_u32();
	kpr_nat_rev_key(p, be, snat, 0, rk);
	for (int i = 0; i < KPR_NAT_TRIES; i++) {
		struct kpr_nat *old;

		rk->dport = bpf_htons((__u16)(min + (start + i * 7919) % range));
		if (!bpf_map_update_elem(&nat, rk, v, BPF_NOEXIST))
			return rk->dport;
		/* taken: by a flow that may be over (its replies refresh this
		 * entry, its requests its ct entry) */
		old = bpf_map_lookup_elem(&nat, rk);
		if ((!old || kpr_flow_dead(cfg, old, fk, now)) &&
		    !bpf_map_update_elem(&nat, rk, v, BPF_ANY))
			return rk->dport;
	}
	return 0;
}

#endif
