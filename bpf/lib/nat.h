/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rewriting a packet's addresses and ports (the sums through lib/csum.h), and
 * the SNAT port allocator over the nat slots shared with masquerade.
 */
#ifndef KPR_LIB_NAT_H
#define KPR_LIB_NAT_H

#include "csum.h"
#include "ct.h"
#include "maps.h"
#include "nat_slot.h"
#include "parse.h"

/* How many ports a new flow tries before it is dropped and counted: the
 * range is probed from a hashed start, so a full range costs this much and
 * no more. */
#define KPR_NAT_TRIES	8

/* Rewrites source and destination of the packet p describes. In tc the
 * checksum helpers leave p's pointers stale: a caller parses again. */
static __always_inline void kpr_rewrite(kpr_ctx_t *ctx, struct kpr_pkt *p,
					const union kpr_addr *saddr, __be16 sport,
					const union kpr_addr *daddr, __be16 dport)
{
	struct kpr_csum_upd u = {};
	bool v6 = p->ip6 != NULL;
	__u64 d = 0, dp = 0;

	d = kpr_csum_diff_addr(d, p->key.saddr.w, saddr->w, v6);
	d = kpr_csum_diff_addr(d, p->key.daddr.w, daddr->w, v6);
	if (p->ip6) {
		__builtin_memcpy(&p->ip6->saddr, saddr, 16);
		__builtin_memcpy(&p->ip6->daddr, daddr, 16);
	} else if (p->ip4) {
		kpr_csum_ip(ctx, &u, &p->ip4->check, d);
		p->ip4->saddr = saddr->v4;
		p->ip4->daddr = daddr->v4;
	}
	/* the ports as parsed are the old ones: no reading back through
	 * another type, which strict aliasing would let the compiler skip */
	((__be16 *)p->l4)[0] = sport;
	((__be16 *)p->l4)[1] = dport;
	dp = kpr_csum_diff16(dp, p->key.sport, sport);
	dp = kpr_csum_diff16(dp, p->key.dport, dport);
	/* IPv4 UDP without a checksum stays without */
	if (p->key.proto != IPPROTO_UDP || v6 || *p->l4csum)
		kpr_csum_l4(ctx, &u, p->l4csum, d, dp, p->key.proto == IPPROTO_UDP);
	kpr_csum_commit(ctx, &u);
}

/*
 * Whether the flow that holds a nat slot is over, so that a new flow may take
 * the slot. Nothing evicts slots, so a flow whose ct entry went (LRU
 * eviction under a flood) or now names another port (the client reused its
 * port) must free its slot at once: its next request would be a new flow
 * anyway. Otherwise the flow is over when its replies (the slot) and its
 * requests (ct) both expired; one-way UDP flows refresh only ct, and a TCP
 * flow that saw a FIN or RST either way expires fast. A slot claimed or answered within the last second is
 * never taken: its flow may not have written its ct entry yet.
 * Out of line: the allocator's loop already fills the caller's registers.
 */
static __noinline bool kpr_flow_dead(const struct kpr_config *cfg,
				     const struct kpr_nat *rf,
				     struct kpr_flow_key *fk, __u64 now)
{
	struct kpr_ct *ce;
	__u32 flags;

	if (!kpr_stale(rf->last_seen, now, 1))
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
	if (!ce || ce->nat_port != rf->port)
		return true;
	/* a client's RST gets no FIN back: the flags of both directions count */
	flags = rf->flags | ce->flags;
	if (!kpr_stale(rf->last_seen, now, kpr_ct_timeout(cfg, fk->proto, flags)) ||
	    !kpr_stale(ce->last_seen, now, kpr_ct_timeout(cfg, fk->proto, flags)))
		return false;
	/* its ct entry could still look alive by its own flags (a FIN seen
	 * only in replies): it goes with the port, so a late request is a new
	 * flow rather than one that shares the new owner's tuple */
	bpf_map_delete_elem(&ct, fk);
	return true;
}

/* The slot of the flow whose replies come from peer:peer_port to the node
 * address snat and nat port; NULL when no flow of ours holds that tuple. */
static __always_inline struct kpr_nat *kpr_nat_lookup(const union kpr_addr *peer, __be16 peer_port,
						      __u8 proto, __u8 family,
						      const union kpr_addr *snat, __be16 port)
{
	__u32 i = kpr_nat_slot(kpr_nat_bucket(peer, peer_port, proto, family, snat), port);
	struct kpr_nat *rf = bpf_map_lookup_elem(&nat, &i);

	if (!rf || !rf->last_seen || rf->port != port || rf->peer.port != peer_port ||
	    rf->peer.proto != proto || rf->peer.family != family ||
	    !kpr_addr_eq(&rf->peer.addr, peer) || !kpr_addr_eq(&rf->snat, snat))
		return NULL;
	return rf;
}

/* The slot of a reply, the packet p. */
static __always_inline struct kpr_nat *kpr_nat_find(const struct kpr_pkt *p)
{
	return kpr_nat_lookup(&p->key.saddr, p->key.sport, p->key.proto, p->key.family,
			      &p->key.daddr, p->key.dport);
}

/*
 * Where a flow's search for a port starts: a keyed hash of the flow (RFC 6056,
 * algorithm 3), so a flow seen again, such as a client reusing its port,
 * finds its old slot first and warm in the caches, while the ports stay
 * unpredictable from outside: the key is random, drawn once per loaded
 * program (a race between CPUs only draws it twice).
 */
static __u32 kpr_nat_key;

static __always_inline __u32 kpr_nat_start(const struct kpr_nat *v)
{
	__u32 key = kpr_nat_key;

	if (!key) {
		key = bpf_get_prandom_u32() | 1;
		kpr_nat_key = key;
	}
	return kpr_jhash_3words(kpr_addr_fold(&v->client.addr) ^ kpr_addr_fold(&v->frontend.addr),
				(__u32)v->client.port << 16 | v->frontend.port,
				v->client.proto, key);
}

/*
 * Claims a node port for the flow that v describes (peer, snat and the
 * translation filled in, last_seen the time now) and fills its slot. A slot
 * is taken with a compare-and-swap of last_seen from the value that showed
 * it free, so two CPUs never claim the same one. Returns the port in network
 * order, or 0 when every try found a live flow.
 */
static __always_inline __be16 kpr_nat_alloc(const struct kpr_config *cfg, struct kpr_nat *v,
					     struct kpr_flow_key *fk)
{
	__u32 min = cfg->nat_port_min, max = cfg->nat_port_max, range, start, bucket;

	if (!min || max < min)
		return 0;
	range = max - min + 1;
	start = kpr_nat_start(v);
	bucket = kpr_nat_bucket(&v->peer.addr, v->peer.port, v->peer.proto, v->peer.family,
				&v->snat);
#pragma clang loop unroll(disable)
	for (int i = 0; i < KPR_NAT_TRIES; i++) {
		__be16 port = bpf_htons((__u16)(min + (start + i * 7919) % range));
		__u32 idx = kpr_nat_slot(bucket, port);
		struct kpr_nat *rf = bpf_map_lookup_elem(&nat, &idx);
		__u64 seen;

		if (!rf)
			return 0;
		seen = rf->last_seen;
		if (seen && !kpr_flow_dead(cfg, rf, fk, v->last_seen))
			continue;
		if (__sync_val_compare_and_swap(&rf->last_seen, seen, v->last_seen) != seen)
			continue;	/* another CPU took it */
		v->port = port;
		/* everything after last_seen, which the swap wrote */
		__builtin_memcpy((void *)rf + sizeof(rf->last_seen), (void *)v + sizeof(v->last_seen),
				 sizeof(*v) - sizeof(v->last_seen));
		return port;
	}
	return 0;
}

#endif
