/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rewriting a packet's addresses and ports (the sums through lib/csum.h), and
 * the SNAT port allocator over the nat slots shared with masquerade.
 *
 * What the allocator guarantees: a new flow gets a port of the range
 * whenever one is free for its tuple as the backend sees it (node address,
 * port, backend address:port, protocol) and one of that port's eight slots
 * (one per bucket, "nat" in kpr_maps.h) is free, with three exceptions: a
 * peer whose scan found none stays refused for a second (a port freed
 * meanwhile by an expiry or a ct eviction waits that long); two CPUs racing
 * for the last free slots may each lose one; and ports 32768 apart share
 * their eight slots, so a range wider than 32768 ports offers at most
 * 8 x 32768 flows at once, whatever their peers.
 */
#ifndef KPR_LIB_NAT_H
#define KPR_LIB_NAT_H

#include "csum.h"
#include "ct.h"
#include "frag.h"
#include "maps.h"
#include "nat_slot.h"
#include "parse.h"

/* The addresses of the packet p describes, and the IPv4 header's sum; the
 * change of the L4 pseudo-header's sum is returned for the caller's. */
static __always_inline __u64 kpr_rewrite_l3(kpr_ctx_t *ctx, struct kpr_pkt *p,
					    struct kpr_csum_upd *u, const union kpr_addr *saddr,
					    const union kpr_addr *daddr)
{
	bool v6 = p->ip6 != NULL;
	__u64 d = 0;

	d = kpr_csum_diff_addr(d, p->key.saddr.w, saddr->w, v6);
	d = kpr_csum_diff_addr(d, p->key.daddr.w, daddr->w, v6);
	if (p->ip6) {
		__builtin_memcpy(&p->ip6->saddr, saddr, 16);
		__builtin_memcpy(&p->ip6->daddr, daddr, 16);
	} else if (p->ip4) {
		kpr_csum_ip(ctx, u, &p->ip4->check, d);
		p->ip4->saddr = saddr->v4;
		p->ip4->daddr = daddr->v4;
	}
	return d;
}

/* Rewrites source and destination of the packet p describes; a first
 * fragment's are noted for the later ones (lib/frag.h). In tc the checksum
 * helpers leave p's pointers stale: a caller parses again. */
static __always_inline void kpr_rewrite(kpr_ctx_t *ctx, struct kpr_pkt *p,
					const union kpr_addr *saddr, __be16 sport,
					const union kpr_addr *daddr, __be16 dport)
{
	struct kpr_csum_upd u = {};
	bool v6 = p->ip6 != NULL;
	__u64 d, dp = 0;

	d = kpr_rewrite_l3(ctx, p, &u, saddr, daddr);
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
	if (p->frag)
		kpr_frag_note(p, saddr, daddr);
}

/* A later fragment (KPR_PARSE_FRAG) of the datagram whose first fragment
 * left as e says (kpr_frag_find()): the same addresses. */
static __always_inline void kpr_frag_rewrite(kpr_ctx_t *ctx, struct kpr_pkt *p,
					     const struct kpr_frag *e)
{
	struct kpr_csum_upd u = {};

	kpr_rewrite_l3(ctx, p, &u, &e->saddr, &e->daddr);
	kpr_csum_commit(ctx, &u);
}

/* After the client's own port, how many consecutive slots a new flow probes
 * from a random start before it scans the whole range. Random, so that a
 * retried SYN never meets the same full slots again. */
#define KPR_NAT_PROBES		16

#define KPR_NAT_PORT_MASK	((1u << KPR_NAT_PORT_BITS) - 1)

/*
 * A peer whose scan found no free port for the range in force: its new
 * flows are dropped without probing until `until`, a second later, so that
 * a flood against a full range costs one lookup per SYN, not a scan. The
 * program's own cache, not pinned: losing an entry costs one scan.
 */
struct kpr_nat_full_key {
	struct kpr_l4addr peer;
	union kpr_addr snat;
};

struct kpr_nat_full {
	__u64 until;
	__u32 range;		/* min << 16 | max, the range it was scanned for */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct kpr_nat_full_key);
	__type(value, struct kpr_nat_full);
} nat_full SEC(".maps");

/* The allocator's state, kept off the 512-byte stack, which the scan's
 * callback and its helpers share with the whole program. A reply's lookup
 * uses its `who` and `rport` too (kpr_nat_far()): a packet either allocates
 * or looks up, never both at once. */
struct kpr_nat_scan {
	struct kpr_flow_key fk;	/* kpr_flow_dead()'s key */
	struct kpr_nat_full_key who;	/* the flow's peer and node address */
	struct kpr_l4addr client, frontend;	/* the flow's, for kpr_nat_own() */
	struct kpr_nat_full fresh;	/* a refusal being written */
	__u64 now;
	__u64 seen;		/* the found slot's last_seen, for the swap */
	__u32 min, range, start;
	__u32 home;		/* the home slot of port min (its bucket's first) */
	__u32 idx;		/* the found slot */
	__u32 found;
	__u32 own;		/* the port tried is the client's own */
	__u16 port;		/* the found port, host order */
	__be16 rport;		/* the nat port kpr_nat_far() looks for */
	__u32 fidx;		/* and the slot it looks at, */
	__u32 fhome, fm;	/* from which home slot, which showed which bits */
	__u32 pad2;
};

/* A key for one-entry maps that costs no stack: .rodata is a map. */
static const __u32 kpr_zero = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpr_nat_scan);
} nat_scan SEC(".maps");

/* The ct entry of the flow in slot rf (its requests), looked up with the key
 * fk, which the caller provides off the stack. */
static __always_inline struct kpr_ct *kpr_nat_ct(const struct kpr_nat *rf,
						 struct kpr_flow_key *fk)
{
	fk->saddr = rf->client.addr;
	fk->daddr = rf->frontend.addr;
	fk->sport = rf->client.port;
	fk->dport = rf->frontend.port;
	fk->proto = rf->client.proto;
	fk->family = rf->client.family;
	fk->dir = KPR_CT_FWD;
	fk->pad = 0;
	return bpf_map_lookup_elem(&ct, fk);
}

/*
 * Whether the flow that holds a nat slot is over, so that a new flow may take
 * the slot, by TCP's rules for reusing a 4-tuple: the backend sees
 * node address:nat port -> backend, and a new flow on that tuple must not
 * meet the old one in TIME_WAIT there.
 *  - an RST from the backend: the backend holds nothing, free at once;
 *  - the backend's FIN came first (KPR_NAT_F_TW): the backend holds the
 *    tuple in TIME_WAIT, free KPR_NAT_TW_TIMEOUT after the last reply, however
 *    the ct entry went;
 *  - otherwise nothing is taken within a second of its claim or last refresh
 *    (the flow may not have written its ct entry yet), and then a flow whose
 *    ct entry went (LRU eviction) or names another port (the client reused
 *    its port), or that saw an RST from the client, is over at once; one the
 *    client closed first (the client holds TIME_WAIT, the backend none) when
 *    both directions are KPR_CT_CLOSING_TIMEOUT old; an open one when both
 *    timed out (one-way UDP flows refresh only ct).
 * Out of line: the allocator's loops already fill the caller's registers.
 */
static __noinline bool kpr_flow_dead(const struct kpr_config *cfg,
				     const struct kpr_nat *rf,
				     struct kpr_flow_key *fk, __u64 now)
{
	struct kpr_ct *ce;
	__u32 flags = rf->flags, t;

	if (flags & KPR_CT_F_RST)
		return true;
	if (flags & KPR_NAT_F_TW)
		return kpr_stale(rf->last_seen, now, KPR_NAT_TW_TIMEOUT);
	if (!kpr_stale(rf->last_seen, now, 1))
		return false;
	ce = kpr_nat_ct(rf, fk);
	if (!ce || ce->nat_port != rf->port)
		return true;
	flags |= ce->flags;
	if (!(flags & KPR_CT_F_RST)) {
		t = kpr_ct_timeout(cfg, fk->proto, flags);
		if (!kpr_stale(rf->last_seen, now, t) || !kpr_stale(ce->last_seen, now, t))
			return false;
	}
	/* its ct entry could still look alive by its own flags (a FIN seen
	 * only in replies): it goes with the port, so a late request is a new
	 * flow rather than one that shares the new owner's tuple */
	bpf_map_delete_elem(&ct, fk);
	return true;
}

/* Whether slot rf holds the replies from peer to snat:port (network order). */
static __always_inline bool kpr_nat_is(const struct kpr_nat *rf, const struct kpr_l4addr *peer,
				       const union kpr_addr *snat, __be16 port)
{
	return rf->last_seen > KPR_NAT_CLAIMING && rf->port == port &&
	       rf->peer.port == peer->port && rf->peer.proto == peer->proto &&
	       rf->peer.family == peer->family && kpr_addr_eq(&rf->peer.addr, &peer->addr) &&
	       kpr_addr_eq(&rf->snat, snat);
}

/* The slot of the reply tuple rk names among the far slots (k >= 1) of
 * its home slot, by the bits that slot showed. Out of line: a reply lands
 * here only when another peer had taken its port at home. The tuple, the
 * bits and the keys of the lookups are in nat_scan, off the stack: this
 * frame ends the deepest chain (the XDP program's, 344 bytes, then an ICMP
 * error's) and must stay empty. */
static __noinline struct kpr_nat *kpr_nat_far(struct kpr_nat_scan *rk)
{
	struct kpr_nat *rf;

#pragma clang loop unroll(disable)
	for (__u32 k = 1; k < KPR_NAT_BUCKETS; k++) {
		if (!(rk->fm >> k))
			break;
		if (!((rk->fm >> k) & 1))
			continue;
		rk->fidx = kpr_nat_slot_k(rk->fhome, k);
		rf = bpf_map_lookup_elem(&nat, &rk->fidx);
		if (rf && kpr_nat_is(rf, &rk->who.peer, &rk->who.snat, rk->rport))
			return rf;
	}
	return NULL;
}

/* The slot of the flow whose replies come from peer:peer_port to the node
 * address snat and nat port; NULL when no flow of ours holds that tuple. */
static __always_inline struct kpr_nat *kpr_nat_lookup(const union kpr_addr *peer, __be16 peer_port,
						      __u8 proto, __u8 family,
						      const union kpr_addr *snat, __be16 port)
{
	__u32 home = kpr_nat_slot(kpr_nat_bucket(peer, peer_port, proto, family, snat), port);
	struct kpr_nat *rf = bpf_map_lookup_elem(&nat, &home);
	struct kpr_nat_scan *rk;
	__u32 m;

	if (!rf)
		return NULL;
	m = rf->homed;
	if ((m & 1) && rf->last_seen > KPR_NAT_CLAIMING && rf->port == port &&
	    rf->peer.port == peer_port && rf->peer.proto == proto && rf->peer.family == family &&
	    kpr_addr_eq(&rf->peer.addr, peer) && kpr_addr_eq(&rf->snat, snat))
		return rf;
	if (!(m >> 1))
		return NULL;
	rk = bpf_map_lookup_elem(&nat_scan, &kpr_zero);
	if (!rk)
		return NULL;
	rk->who.peer.addr = *peer;
	rk->who.peer.port = peer_port;
	rk->who.peer.proto = proto;
	rk->who.peer.family = family;
	rk->who.snat = *snat;
	rk->rport = port;
	rk->fhome = home;
	rk->fm = m;
	return kpr_nat_far(rk);
}

/* The slot of a reply, the packet p. */
static __always_inline struct kpr_nat *kpr_nat_find(const struct kpr_pkt *p)
{
	return kpr_nat_lookup(&p->key.saddr, p->key.sport, p->key.proto, p->key.family,
			      &p->key.daddr, p->key.dport);
}

/*
 * Whether slot rf, which holds the tuple of the flow s allocates for, holds
 * an earlier flow of that very flow: the same client address:port and
 * frontend, under the client's own port. Its translation is then the identity on ports, and the
 * backend sees exactly the tuple it would see without NAT: when the client's
 * stack reuses its port, by its own TIME_WAIT rules, the backend meets the
 * same connection it would meet anyway (a later ISN and timestamp, which
 * Linux accepts over TIME_WAIT), so the slot is taken at once.
 */
static __always_inline bool kpr_nat_own(const struct kpr_nat *rf, const struct kpr_nat_scan *v)
{
	return rf->port == v->client.port && rf->client.port == v->client.port &&
	       rf->frontend.port == v->frontend.port && rf->client.proto == v->client.proto &&
	       rf->client.family == v->client.family &&
	       kpr_addr_eq(&rf->client.addr, &v->client.addr) &&
	       kpr_addr_eq(&rf->frontend.addr, &v->frontend.addr);
}

/*
 * Takes slot idx, which showed last_seen `seen`, for the flow v with port
 * (network order); home is v's home slot for that port. The swap to
 * KPR_NAT_CLAIMING makes sure that no other CPU claims it too; readers skip
 * the slot until its fields are all written and last_seen set. The home
 * bits move with the flow: the slot's previous flow leaves its home's bit,
 * v's home gains one, before v is visible. False when another CPU was
 * first.
 */
static __noinline bool kpr_nat_claim(__u32 idx, __u64 seen, struct kpr_nat *v, __u32 home,
				     __be16 port)
{
	struct kpr_nat *rf = bpf_map_lookup_elem(&nat, &idx), *h;
	__u32 old;

	if (!rf || __sync_val_compare_and_swap(&rf->last_seen, seen, KPR_NAT_CLAIMING) != seen)
		return false;
	if (rf->peer.family) {
		old = kpr_nat_slot(kpr_nat_bucket(&rf->peer.addr, rf->peer.port, rf->peer.proto,
						  rf->peer.family, &rf->snat), rf->port);
		h = old != home ? bpf_map_lookup_elem(&nat, &old) : NULL;
		if (h)
			__sync_fetch_and_and(&h->homed,
					     ~(1ull << (((idx - old) >> KPR_NAT_PORT_BITS) &
							(KPR_NAT_BUCKETS - 1))));
	}
	h = bpf_map_lookup_elem(&nat, &home);
	if (h)
		__sync_fetch_and_or(&h->homed,
				    1ull << (((idx - home) >> KPR_NAT_PORT_BITS) & (KPR_NAT_BUCKETS - 1)));
	v->port = port;
	/* everything after the slot's own fields, then last_seen */
	__builtin_memcpy(&rf->peer, &v->peer, sizeof(*v) - offsetof(struct kpr_nat, peer));
	asm volatile("" ::: "memory");
	*(volatile __u64 *)&rf->last_seen = v->last_seen;
	return true;
}

/*
 * Port `port` (host order) for the flow the scan state allocates for: 1
 * when one of its eight slots is free for it (noted in the state), 0 when
 * none is, -1 when a map fails. The tuple's own slot, when it has one (a
 * home bit, the same peer and port), is the only one it may take: two slots
 * of one tuple would be two flows the backend cannot tell apart; for the
 * same reason a claim in flight on any of them makes the port busy. Else
 * the first free slot from home on. Global, so that the verifier checks it
 * once rather than at each of its callers.
 */
__noinline int kpr_nat_try(__u32 port)
{
	__u32 zero = 0, home, idx, m;
	struct kpr_nat_scan *s = bpf_map_lookup_elem(&nat_scan, &zero);
	struct kpr_config *cfg = bpf_map_lookup_elem(&config, &zero);
	struct kpr_nat *rf;
	__be16 nport;
	bool mine, free;
	__u64 seen;

	if (!s || !cfg)
		return -1;
	home = s->home | (port & KPR_NAT_PORT_MASK);
	nport = bpf_htons(port);
	rf = bpf_map_lookup_elem(&nat, &home);
	if (!rf)
		return -1;
	m = rf->homed;
	s->found = 0;
#pragma clang loop unroll(disable)
	for (__u32 k = 0; k < KPR_NAT_BUCKETS; k++) {
		idx = kpr_nat_slot_k(home, k);
		rf = bpf_map_lookup_elem(&nat, &idx);
		if (!rf)
			return -1;
		seen = rf->last_seen;
		if (seen == KPR_NAT_CLAIMING)
			return 0;
		mine = (m >> k) & 1 && rf->port == nport && rf->peer.port == s->who.peer.port &&
		       rf->peer.proto == s->who.peer.proto && rf->peer.family == s->who.peer.family &&
		       kpr_addr_eq(&rf->peer.addr, &s->who.peer.addr) &&
		       kpr_addr_eq(&rf->snat, &s->who.snat);
		if (mine || !s->found) {
			free = !seen || (mine && s->own && kpr_nat_own(rf, s)) ||
			       kpr_flow_dead(cfg, rf, &s->fk, s->now);
			if (mine && !free)
				return 0;
			if (free) {
				s->idx = idx;
				s->seen = seen;
				s->port = port;
				s->found = 1;
			}
		}
		if (mine || (s->found && !(m >> (k + 1))))
			break;
	}
	return s->found;
}

/* bpf_loop's callback for the scan, try i: port min + (start + i) % range.
 * 1 stops it. */
static long kpr_nat_scan_one(__u32 i, void *unused)
{
	__u32 zero = 0;
	struct kpr_nat_scan *s = bpf_map_lookup_elem(&nat_scan, &zero);

	return !s || !s->range || kpr_nat_try(s->min + (s->start + i) % s->range) != 0;
}

/* Claims the slot kpr_nat_try() noted in s. */
static __always_inline bool kpr_nat_claim_found(struct kpr_nat_scan *s, struct kpr_nat *v)
{
	return kpr_nat_claim(s->idx, s->seen, v, s->home | (s->port & KPR_NAT_PORT_MASK),
			     bpf_htons(s->port));
}

/*
 * Claims a node port for the flow that v describes (peer, snat and the
 * translation filled in, last_seen the time now) and fills its slot:
 *  1. the client's own port, when the range holds it and it is free for
 *     the tuple, or holds an earlier flow of this same tuple (kpr_nat_own());
 *  2. unless the peer was refused within the last second, KPR_NAT_PROBES
 *     consecutive ports from a random start;
 *  3. then every other port of the range (bpf_loop), and when none is free
 *     the peer is refused for a second.
 * Each port tried is tried in all its slots (kpr_nat_try()). Returns the
 * port in network order, or 0 when none was free.
 */
/* unused by objects that only rewrite (tests/bpf/tc_csum.bpf.c) */
static __noinline __attribute__((unused)) __be16 kpr_nat_alloc(const struct kpr_config *cfg, struct kpr_nat *v)
{
	__u32 zero = 0, min = cfg->nat_port_min, max = cfg->nat_port_max, tag;
	struct kpr_nat_scan *s = bpf_map_lookup_elem(&nat_scan, &zero);
	struct kpr_nat_full *full;
	__u16 cport;
	int r;

	if (!s || !min || max < min)
		return 0;
	s->now = v->last_seen;
	s->min = min;
	s->range = max - min + 1;
	s->who.peer = v->peer;
	s->who.snat = v->snat;
	s->client = v->client;
	s->frontend = v->frontend;
	s->home = kpr_nat_bucket(&v->peer.addr, v->peer.port, v->peer.proto, v->peer.family,
				 &v->snat);
	cport = kpr_ntohs(v->client.port);
	s->own = 0;
	if (cport >= min && cport <= max) {
		s->own = 1;
		r = kpr_nat_try(cport);
		s->own = 0;
		if (r < 0)
			return 0;
		if (r && kpr_nat_claim_found(s, v))
			return v->client.port;
	}

	tag = min << 16 | max;
	full = bpf_map_lookup_elem(&nat_full, &s->who);
	if (full && full->range == tag && full->until > s->now)
		return 0;
	s->start = bpf_get_prandom_u32() % s->range;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < KPR_NAT_PROBES; i++) {
		r = kpr_nat_try(s->min + (s->start + i) % s->range);
		if (r < 0)
			return 0;
		if (r && kpr_nat_claim_found(s, v))
			return bpf_htons(s->port);
	}
	/* the rest of the range, from where the probes stopped; a slot lost to
	 * another CPU resumes the scan once */
	s->start += KPR_NAT_PROBES;
	for (int round = 0; round < 2; round++) {
		s->found = 0;
		bpf_loop(s->range, kpr_nat_scan_one, NULL, 0);
		if (!s->found)
			break;
		if (kpr_nat_claim_found(s, v))
			return bpf_htons(s->port);
		/* past the slot lost, not over the busy ones again */
		s->start = s->port - s->min + 1;
	}
	if (!s->found) {
		s->fresh.range = tag;
		s->fresh.until = s->now + KPR_NSEC;
		s->fresh.pad = 0;
		bpf_map_update_elem(&nat_full, &s->who, &s->fresh, BPF_ANY);
	}
	return 0;
}

#endif
