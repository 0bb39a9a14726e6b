/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Sending a translated packet on: bpf_fib_lookup, then a redirect to the
 * egress device with the neighbour's MAC. Redirecting both ways keeps NATed
 * packets away from the stack, where they would be martians (SNAT source is
 * a local address), trip rp_filter (replies from a frontend with no route)
 * or conntrack's INVALID drop (see docs/design.md). Without a neighbour entry the
 * packet goes to the stack, which resolves it for the next one.
 */
#ifndef KPR_LIB_FWD_H
#define KPR_LIB_FWD_H

#include "csum.h"
#include "maps.h"
#include "parse.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* The packet's length from its IP header, as routes and MTUs count it. */
static __always_inline __u32 kpr_l3_len(const struct kpr_pkt *p)
{
	if (p->ip6)
		return bpf_ntohs(p->ip6->payload_len) + sizeof(struct ipv6hdr);
	if (p->ip4)
		return bpf_ntohs(p->ip4->tot_len);
	return 0;
}

/* Looks the route to daddr up as the packet p arrived; fills fib. */
static __always_inline int kpr_fib(kpr_ctx_t *ctx, const struct kpr_pkt *p,
				   const union kpr_addr *daddr, struct bpf_fib_lookup *fib)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->l4_protocol = p->key.proto;
	fib->ifindex = kpr_ctx_ifindex_in(ctx);
	/* branch on the header pointers, not on key.family: the verifier
	 * tracks a spilled pointer's NULL-ness, not a byte in a struct */
	fib->tot_len = kpr_l3_len(p);
	if (p->ip6) {
		fib->family = AF_INET6;
		__builtin_memcpy(fib->ipv6_src, &p->key.saddr, 16);
		__builtin_memcpy(fib->ipv6_dst, daddr, 16);
	} else if (p->ip4) {
		fib->family = AF_INET;
		fib->tos = p->ip4->tos;
		fib->ipv4_src = p->key.saddr.v4;
		fib->ipv4_dst = daddr->v4;
	} else {
		return -1;
	}
	return kpr_ctx_fib_lookup(ctx, fib);
}

/*
 * bpf_fib_lookup costs several map lookups' worth (measured: about a third
 * of an established packet's cost), and its answer changes only with
 * routes and neighbours. So each program keeps its answers for a second,
 * per destination and ingress device: a route or MAC change is seen within
 * a second. Only complete answers are kept; a packet larger than the
 * route's MTU asks the kernel again, which says so.
 */
struct kpr_nh_key {
	union kpr_addr dst;
	__u32 ifindex_in;
	__u8 family;
	__u8 pad[3];
};

struct kpr_nh {
	__u64 expires;
	__u32 ifindex;
	__u16 mtu;
	__u8 smac[ETH_ALEN];
	__u8 dmac[ETH_ALEN];
	__u8 has_snat;
	__u8 pad;
	union kpr_addr snat;	/* the egress device's address, for SNAT */
	union kpr_addr nexthop;	/* the gateway, or the destination itself (DSR's IPIP) */
};

#define KPR_NH_TTL_NS	1000000000ull
#define KPR_FIB_NO_SNAT	(-1)	/* beside the BPF_FIB_LKUP_RET_* codes */

/* Not pinned: a cache of each loaded program, no shared state. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct kpr_nh_key);
	__type(value, struct kpr_nh);
} nh_cache SEC(".maps");

/*
 * With snat, also gives the address of the egress device (dev_addrs) of the
 * packet's family, kept in the cache beside the route; KPR_FIB_NO_SNAT when that
 * device has none (it is not attached).
 */
static __noinline int kpr_fib_cached(kpr_ctx_t *ctx, const struct kpr_pkt *p,
				     const union kpr_addr *daddr, struct bpf_fib_lookup *fib,
				     union kpr_addr *snat)
{
	struct kpr_dev_addrs *da;
	struct kpr_nh_key k = { .dst = *daddr, .ifindex_in = kpr_ctx_ifindex_in(ctx),
				.family = p->key.family };
	struct kpr_nh *nh = bpf_map_lookup_elem(&nh_cache, &k);
	struct kpr_nh v = {};
	int rc;

	if (nh && p->now < nh->expires && kpr_l3_len(p) <= nh->mtu) {
		fib->ifindex = nh->ifindex;
		fib->mtu_result = nh->mtu;	/* as the kernel's answer gives it */
		__builtin_memcpy(fib->smac, nh->smac, ETH_ALEN);
		__builtin_memcpy(fib->dmac, nh->dmac, ETH_ALEN);
		/* where the kernel's answer puts it */
		if (p->ip6)
			__builtin_memcpy(fib->ipv6_dst, &nh->nexthop, 16);
		else
			fib->ipv4_dst = nh->nexthop.v4;
		if (snat) {
			if (!nh->has_snat)
				return KPR_FIB_NO_SNAT;
			*snat = nh->snat;
		}
		return BPF_FIB_LKUP_RET_SUCCESS;
	}
	rc = kpr_fib(ctx, p, daddr, fib);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return rc;
	/* the device's address is cached whether or not this caller wants it:
	 * the same destination may be a client (replies, no SNAT) and a
	 * backend (SNAT) through the same device. NO_NEIGH names the egress
	 * device too. */
	da = bpf_map_lookup_elem(&dev_addrs, &fib->ifindex);
	if (da && p->ip6 && da->has_v6) {
		v.snat = da->v6;
		v.has_snat = 1;
	} else if (da && p->ip4 && da->has_v4) {
		v.snat = da->v4;
		v.has_snat = 1;
	}
	if (snat) {
		if (!v.has_snat)
			return KPR_FIB_NO_SNAT;
		*snat = v.snat;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return rc;
	v.expires = p->now + KPR_NH_TTL_NS;
	v.ifindex = fib->ifindex;
	v.mtu = fib->mtu_result;
	__builtin_memcpy(v.smac, fib->smac, ETH_ALEN);
	__builtin_memcpy(v.dmac, fib->dmac, ETH_ALEN);
	if (p->ip6)
		__builtin_memcpy(&v.nexthop, fib->ipv6_dst, 16);
	else
		v.nexthop.v4 = fib->ipv4_dst;
	bpf_map_update_elem(&nh_cache, &k, &v, BPF_ANY);
	return rc;
}

/*
 * The forward path's next hop and SNAT address, by backend id: an array, so
 * an established flow finds its next hop with no hashing (nh_cache costs a
 * hashed lookup per packet). An entry holds the backend address and ingress
 * device it was looked up for, and is a miss for any other. Entries are
 * rewritten in place once a second; a reader on another CPU meanwhile sees
 * the same bytes unless the route changed in that very second.
 */
struct kpr_nh_backend {
	__u64 expires;
	union kpr_addr dst;
	union kpr_addr snat;
	__u32 ifindex_in;
	__u32 ifindex;
	__u16 mtu;
	__u8 smac[ETH_ALEN];
	__u8 dmac[ETH_ALEN];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KPR_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct kpr_nh_backend);
} nh_backend SEC(".maps");

/* kpr_fib_cached() towards backend be_id at daddr, with its SNAT address. */
static __always_inline int kpr_fib_backend(kpr_ctx_t *ctx, const struct kpr_pkt *p,
					   __u32 be_id, const union kpr_addr *daddr,
					   struct bpf_fib_lookup *fib, union kpr_addr *snat)
{
	struct kpr_nh_backend *nh = bpf_map_lookup_elem(&nh_backend, &be_id);
	int rc;

	if (nh && p->now < nh->expires && nh->ifindex_in == kpr_ctx_ifindex_in(ctx) &&
	    kpr_l3_len(p) <= nh->mtu && kpr_addr_eq(&nh->dst, daddr)) {
		fib->ifindex = nh->ifindex;
		fib->mtu_result = nh->mtu;
		__builtin_memcpy(fib->smac, nh->smac, ETH_ALEN);
		__builtin_memcpy(fib->dmac, nh->dmac, ETH_ALEN);
		*snat = nh->snat;
		return BPF_FIB_LKUP_RET_SUCCESS;
	}
	rc = kpr_fib_cached(ctx, p, daddr, fib, snat);
	if (!nh || rc != BPF_FIB_LKUP_RET_SUCCESS)
		return rc;
	nh->dst = *daddr;
	nh->snat = *snat;
	nh->ifindex_in = kpr_ctx_ifindex_in(ctx);
	nh->ifindex = fib->ifindex;
	nh->mtu = fib->mtu_result;
	__builtin_memcpy(nh->smac, fib->smac, ETH_ALEN);
	__builtin_memcpy(nh->dmac, fib->dmac, ETH_ALEN);
	nh->expires = p->now + KPR_NH_TTL_NS;
	return rc;
}

/* After the rewrite: one hop less, the neighbour's MAC, out by egress.
 * Without a neighbour (rc NO_NEIGH) or hops, the stack takes it. */
static __always_inline enum kpr_verdict kpr_redirect(kpr_ctx_t *ctx, struct kpr_pkt *p,
						     const struct bpf_fib_lookup *fib, int rc)
{
	struct kpr_csum_upd u = {};

	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return KPR_PASS;
	if (p->ip6) {
		if (p->ip6->hop_limit <= 1)
			return KPR_PASS;	/* the stack sends time exceeded */
		p->ip6->hop_limit--;
	} else if (p->ip4) {
		__u16 *w = (__u16 *)&p->ip4->ttl;
		__u16 old = *w;

		if (p->ip4->ttl <= 1)
			return KPR_PASS;
		p->ip4->ttl--;
		kpr_csum_ip(ctx, &u, &p->ip4->check, kpr_csum_diff16(0, old, *w));
	}
	__builtin_memcpy(p->eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, fib->smac, ETH_ALEN);
	kpr_csum_commit(ctx, &u);
	return kpr_ctx_redirect(fib->ifindex);
}

#endif
