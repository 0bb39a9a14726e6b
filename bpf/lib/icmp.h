/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Answers for the node itself: echo replies for service addresses (Cilium
 * drops those pings; users have asked for years), sent back out of the
 * device they came in by.
 */
#ifndef KPR_LIB_ICMP_H
#define KPR_LIB_ICMP_H

#include "csum.h"
#include "lb.h"
#include "maps.h"
#include "parse.h"

static __always_inline void kpr_swap_eth(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* Whether the echo request p is to a service address that answers it: one
 * with a frontend reachable from outside the node, or of ClusterIPs alone
 * where their TCP would be served (external ClusterIP on, or from an
 * internal device: the node's pods). */
static __always_inline bool kpr_is_svc_addr(kpr_ctx_t *ctx, const struct kpr_pkt *p)
{
	struct kpr_svc_addr_key k = { .addr = p->key.daddr, .family = p->key.family,
				      .class = KPR_SVC_ADDR_EXT };

	if (bpf_map_lookup_elem(&svc_addrs, &k))
		return true;
	k.class = KPR_SVC_ADDR_ALL;
	if (!bpf_map_lookup_elem(&svc_addrs, &k))
		return false;
	return (p->cfg->flags & KPR_CFG_EXTERNAL_CLUSTERIP) || kpr_dev_internal(kpr_ctx_ifindex_in(ctx));
}

/*
 * Whether an echo request's source can take an answer: not the unspecified
 * address, broadcast or multicast (an answer there is an amplifier) and not
 * the service address itself (a forged request would have it answer itself).
 */
static __always_inline bool kpr_echo_src_ok(const struct kpr_pkt *p)
{
	const union kpr_addr *s = &p->key.saddr, *d = &p->key.daddr;

	if (p->ip4) {
		return s->v4 && s->v4 != 0xffffffff && (s->b[0] & 0xf0) != 0xe0 && s->v4 != d->v4;
	}
	if (s->b[0] == 0xff)
		return false;
	if (!(s->w[0] | s->w[1] | s->w[2] | s->w[3]))
		return false;
	return s->w[0] != d->w[0] || s->w[1] != d->w[1] || s->w[2] != d->w[2] ||
	       s->w[3] != d->w[3];
}

/* KPR_TX for an echo request to a service address, -1 when not one. */
static __always_inline int kpr_icmp_echo(kpr_ctx_t *ctx, struct kpr_pkt *p)
{
	struct kpr_csum_upd u = {};
	__u16 *w = p->l4;	/* type and code */
	__u16 old = *w;

	if (p->ip4) {
		struct kpr_icmphdr *ih = p->l4;
		__u32 a;

		if (ih->type != KPR_ICMP_ECHO || ih->code || !kpr_echo_src_ok(p))
			return -1;
		if (!kpr_is_svc_addr(ctx, p))
			return -1;
		ih->type = KPR_ICMP_ECHOREPLY;
		kpr_csum_l4(ctx, &u, &ih->checksum, 0, kpr_csum_diff16(0, old, *w), false);
		/* swapping addresses leaves the header sum as it was */
		a = p->ip4->saddr;
		p->ip4->saddr = p->ip4->daddr;
		p->ip4->daddr = a;
		old = *(__u16 *)&p->ip4->ttl;
		p->ip4->ttl = 64;
		kpr_csum_ip(ctx, &u, &p->ip4->check,
			    kpr_csum_diff16(0, old, *(__u16 *)&p->ip4->ttl));
	} else if (p->ip6) {
		struct icmp6hdr *ih = p->l4;

		if (ih->icmp6_type != ICMPV6_ECHO_REQUEST || ih->icmp6_code || !kpr_echo_src_ok(p))
			return -1;
		if (!kpr_is_svc_addr(ctx, p))
			return -1;
		ih->icmp6_type = ICMPV6_ECHO_REPLY;
		/* the pseudo-header is symmetric in the addresses */
		kpr_csum_l4(ctx, &u, &ih->icmp6_cksum, 0, kpr_csum_diff16(0, old, *w), false);
		__builtin_memcpy(&p->ip6->saddr, &p->key.daddr, 16);
		__builtin_memcpy(&p->ip6->daddr, &p->key.saddr, 16);
		p->ip6->hop_limit = 64;
	} else {
		return -1;
	}
	kpr_swap_eth(p->eth);
	kpr_csum_commit(ctx, &u);
	return KPR_TX;
}

#endif
