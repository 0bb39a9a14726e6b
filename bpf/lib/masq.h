/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Masquerade (masq-ctl): a pod's packet to the outside leaves a device
 * with the node's address and a port of the nat allocator, the same pool
 * node-port SNAT takes its ports from (lib/nat.h). Its slot holds the
 * server as both peer and "frontend", so a reply is translated back by the
 * path that serves node-port SNAT's replies (kpr_reverse(), and
 * lib/icmp_err.h for errors quoting it); only echo replies, which carry no
 * ports, come here.
 *
 * What is a reply of a flow that came in is told by ct: a packet arriving
 * for a pod CIDR records its flow (dir KPR_CT_IN), and a pod's packet whose
 * reverse is recorded leaves as it is. A flow masqueraded once keeps its
 * port in ct (KPR_CT_F_MASQ) until it closes or times out.
 */
#ifndef KPR_LIB_MASQ_H
#define KPR_LIB_MASQ_H

#include "ctx.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "ct.h"
#include "nat.h"
#include "fwd.h"
#include "stats.h"
#include "snat.h"

/* The switches, when masquerade is on for the packet's family. */
static __always_inline const struct kpr_masq *kpr_masq_on(const struct kpr_pkt *p)
{
	__u32 zero = 0;
	const struct kpr_masq *m = bpf_map_lookup_elem(&masq, &zero);

	if (!m || !(m->flags & (p->ip6 ? KPR_MASQ_V6 : KPR_MASQ_V4)))
		return NULL;
	return m;
}

/* Whether address a of the packet's family is in a CIDR of the kind. */
static __always_inline bool kpr_masq_in(__u8 kind, const struct kpr_pkt *p,
					const union kpr_addr *a)
{
	struct kpr_lpm_key k = {
		.prefixlen = KPR_LPM_HDR_BITS + (p->ip6 ? 128 : 32),
		.kind = kind,
		.family = p->key.family,
	};

	__builtin_memcpy(k.addr, a, 16);
	return bpf_map_lookup_elem(&masq_native, &k) != NULL;
}

static __always_inline bool kpr_masq_dev(const struct kpr_masq *m, __u32 ifindex)
{
	__u32 n = m->n_devs;

	if (!n)
		return true;
	for (__u32 i = 0; i < KPR_MASQ_MAX_DEVS; i++) {
		if (i >= n)
			break;
		if (m->ifindex[i] == ifindex)
			return true;
	}
	return false;
}

static __always_inline __u8 kpr_echo_type(const struct kpr_pkt *p, bool reply)
{
	if (p->ip6)
		return reply ? ICMPV6_ECHO_REPLY : ICMPV6_ECHO_REQUEST;
	return reply ? KPR_ICMP_ECHOREPLY : KPR_ICMP_ECHO;
}

/* The echo identifier of an ICMP packet: the first half of its second word. */
static __always_inline __be16 *kpr_echo_id(const struct kpr_pkt *p)
{
	return (__be16 *)&((struct kpr_icmphdr *)p->l4)->un;
}

/* Rewrites an echo's addresses and identifier. In tc the pointers are stale
 * afterwards, as after kpr_rewrite(). */
static __always_inline void kpr_masq_echo_rewrite(kpr_ctx_t *ctx, struct kpr_pkt *p,
						  const union kpr_addr *saddr,
						  const union kpr_addr *daddr, __be16 id)
{
	struct kpr_icmphdr *ih = p->l4;
	struct kpr_csum_upd u = {};
	bool v6 = p->ip6 != NULL;
	__be16 *idp = kpr_echo_id(p);
	__u64 d = 0, di;

	d = kpr_csum_diff_addr(d, p->key.saddr.w, saddr->w, v6);
	d = kpr_csum_diff_addr(d, p->key.daddr.w, daddr->w, v6);
	di = kpr_csum_diff16(0, *idp, id);
	if (p->ip6) {
		__builtin_memcpy(&p->ip6->saddr, saddr, 16);
		__builtin_memcpy(&p->ip6->daddr, daddr, 16);
	} else if (p->ip4) {
		kpr_csum_ip(ctx, &u, &p->ip4->check, d);
		p->ip4->saddr = saddr->v4;
		p->ip4->daddr = daddr->v4;
	}
	*idp = id;
	/* ICMPv6's sum covers a pseudo-header, ICMP's does not */
	kpr_csum_l4(ctx, &u, &ih->checksum, v6 ? d : 0, di, false);
	kpr_csum_commit(ctx, &u);
}

/*
 * Claims a nat port for the pod's new flow p, leaving from snat, and
 * records it in ct. Out of line, to keep the values off the caller's
 * frame. Returns the port, 0 when none was free.
 */
static __noinline __be16 kpr_masq_new(struct kpr_pkt *p, const union kpr_addr *snat)
{
	struct kpr_scratch *x = kpr_scratch();

	if (!x)
		return 0;
	__builtin_memset(&x->nat, 0, sizeof(x->nat));
	x->nat.last_seen = p->now;
	x->nat.peer.addr = p->key.daddr;
	x->nat.peer.port = p->key.dport;
	x->nat.peer.proto = p->key.proto;
	x->nat.peer.family = p->key.family;
	x->nat.snat = *snat;
	x->nat.flags = kpr_tcp_close_flags(p);
	x->nat.client.addr = p->key.saddr;
	x->nat.client.port = p->key.sport;
	x->nat.client.proto = p->key.proto;
	x->nat.client.family = p->key.family;
	x->nat.frontend = x->nat.peer;
	x->ct = (struct kpr_ct){
		.last_seen = p->now,
		.flags = KPR_CT_F_SNAT | KPR_CT_F_MASQ | x->nat.flags,
	};
	x->ct.nat_port = kpr_nat_alloc(p->cfg, &x->nat);
	if (!x->ct.nat_port)
		return 0;
	kpr_ct_create(&p->key, &x->ct);
	return x->ct.nat_port;
}

/* A new flow dropped for want of a nat port: counted for masquerade and,
 * as node-port SNAT's are, for the node. Out of line: the rare path. */
static __noinline void kpr_masq_nat_fail(__u32 family)
{
	struct kpr_stats *s = kpr_stats_get(KPR_STATS_MASQ, family);

	if (s)
		s->nat_fail++;
	s = kpr_stats_get(KPR_STATS_NODE, 0);
	if (s)
		s->nat_fail++;
}

/* Whether the pod's packet p answers a flow that came in to it. */
static __always_inline bool kpr_masq_answers_in(const struct kpr_pkt *p)
{
	struct kpr_scratch *x = kpr_scratch();
	struct kpr_flow_key *fk;

	if (!x)
		return false;
	fk = &x->fk;
	*fk = p->key;
	fk->saddr = p->key.daddr;
	fk->daddr = p->key.saddr;
	fk->sport = p->key.dport;
	fk->dport = p->key.sport;
	fk->dir = KPR_CT_IN;
	return kpr_ct_lookup(fk, p->cfg, p->now) != NULL;
}

/*
 * The pod's packet p to masquerade, leaving device ifindex: its flow's
 * port, or a new one. KPR_DROP (counted) when no port or no address is
 * to be had, rather than leaking the pod's address.
 */
static __always_inline enum kpr_verdict kpr_masq_out(kpr_ctx_t *ctx, struct kpr_pkt *p,
						     const struct kpr_masq *m, __u32 ifindex)
{
	__u32 st = p->key.family, zero = 0;
	const union kpr_addr *ip = p->ip6 ? &m->masq_ip6 : &m->masq_ip4;
	struct kpr_dev_addrs *da;
	struct kpr_config *cfg;
	union kpr_addr snat;
	struct kpr_ct *ce;
	bool new_flow = false;
	__be16 port;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return KPR_PASS;
	p->cfg = cfg;
	p->now = kpr_now();
	ce = kpr_ct_lookup(&p->key, cfg, p->now);
	/* a SYN on a closing flow's tuple opens a new connection */
	if (ce && (ce->flags & KPR_CT_F_FIN_SEEN) && kpr_tcp_syn(p))
		ce = NULL;
	if (ce && !(ce->flags & KPR_CT_F_MASQ))
		return KPR_PASS;	/* a flow of a service, not ours */
	if (!ce && p->l4csum && kpr_masq_answers_in(p))
		return KPR_PASS;

	if (ip->w[0] | ip->w[1] | ip->w[2] | ip->w[3]) {
		snat = *ip;
	} else {
		da = bpf_map_lookup_elem(&dev_addrs, &ifindex);
		if (da && p->ip6 && da->has_v6)
			snat = da->v6;
		else if (da && p->ip4 && da->has_v4)
			snat = da->v4;
		else
			goto drop;
	}
	if (ce) {
		port = ce->nat_port;
		kpr_ct_touch(&ce->last_seen, &ce->flags, p, p->now);
	} else {
		port = kpr_masq_new(p, &snat);
		if (!port) {
			kpr_masq_nat_fail(st);
			goto drop;
		}
		new_flow = true;
	}
	kpr_stats_add(KPR_STATS_MASQ, st, p->len, new_flow, 0);
	if (!p->l4csum)
		kpr_masq_echo_rewrite(ctx, p, &snat, &p->key.daddr, port);
	else
		kpr_rewrite(ctx, p, &snat, port, &p->key.daddr, p->key.dport);
	return KPR_PASS;
drop:
	kpr_stats_add(KPR_STATS_MASQ, st, p->len, 0, 1);
	return KPR_DROP;
}

/*
 * tc egress: a packet leaving device ifindex from a pod CIDR to a
 * destination outside every non-masquerade CIDR, with masquerade on for its
 * family, leaves masqueraded; everything else passes as it is.
 */
static __always_inline enum kpr_verdict kpr_masq_egress(kpr_ctx_t *ctx, struct kpr_pkt *p)
{
	const struct kpr_masq *m = kpr_masq_on(p);
	__u32 ifindex = kpr_ctx_ifindex(ctx);

	if (!m || !kpr_masq_dev(m, ifindex))
		return KPR_PASS;
	if (!p->l4csum) {
		/* of ICMP, echo requests only: an echo reply answers a ping
		 * that came in, and errors are about flows already seen */
		if (p->l4 + sizeof(struct kpr_icmphdr) > p->data_end ||
		    ((struct kpr_icmphdr *)p->l4)->type != kpr_echo_type(p, false))
			return KPR_PASS;
		p->key.sport = *kpr_echo_id(p);
		p->key.dport = 0;
	}
	if (!kpr_masq_in(KPR_MASQ_POD, p, &p->key.saddr) ||
	    kpr_masq_in(KPR_MASQ_NONMASQ, p, &p->key.daddr))
		return KPR_PASS;
	return kpr_masq_out(ctx, p, m, ifindex);
}

/*
 * Ingress, a TCP or UDP packet for no address of the node: when it is for a
 * pod CIDR, its flow is recorded as one that came in, so that the pod's
 * replies keep its address. Always KPR_PASS.
 */
static __always_inline enum kpr_verdict kpr_masq_inbound(struct kpr_pkt *p)
{
	struct kpr_scratch *x;
	struct kpr_ct *ce;
	__u64 now;

	if (!p->l4csum || !kpr_masq_on(p) || !kpr_masq_in(KPR_MASQ_POD, p, &p->key.daddr))
		return KPR_PASS;
	x = kpr_scratch();
	if (!x)
		return KPR_PASS;
	now = kpr_now();
	x->fk = p->key;
	x->fk.dir = KPR_CT_IN;
	ce = bpf_map_lookup_elem(&ct, &x->fk);
	if (ce) {
		kpr_ct_touch(&ce->last_seen, &ce->flags, p, now);
		return KPR_PASS;
	}
	x->ct = (struct kpr_ct){ .last_seen = now, .flags = kpr_tcp_close_flags(p) };
	kpr_ct_create(&x->fk, &x->ct);
	return KPR_PASS;
}

/*
 * Ingress: an echo reply to a masqueraded echo request, back to the pod.
 * Returns a verdict, or -1 when p is no such reply. For XDP, whose packet
 * pointers outlive the rewrite (kpr_redirect() reads the headers again).
 */
static __always_inline int kpr_masq_echo_reply(kpr_ctx_t *ctx, struct kpr_pkt *p)
{
	struct kpr_scratch *x;
	struct kpr_nat *rf;
	__be16 id;
	int rc;

	if (p->l4 + sizeof(struct kpr_icmphdr) > p->data_end ||
	    ((struct kpr_icmphdr *)p->l4)->type != kpr_echo_type(p, true))
		return -1;
	id = *kpr_echo_id(p);
	rf = kpr_nat_lookup(&p->key.saddr, 0, p->key.proto, p->key.family, &p->key.daddr, id);
	x = kpr_scratch();
	if (!rf || !x)
		return -1;
	p->now = kpr_now();
	kpr_ct_touch(&rf->last_seen, &rf->flags, p, p->now);
	rc = kpr_fib_cached(ctx, p, &rf->client.addr, &x->fib, NULL);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return KPR_PASS;
	kpr_stats_add(KPR_STATS_MASQ, KPR_MASQ_ST_REPLY | p->key.family, p->len, 0, 0);
	kpr_masq_echo_rewrite(ctx, p, &p->key.saddr, &rf->client.addr, rf->client.port);
	return kpr_redirect(ctx, p, &x->fib, rc);
}

#endif
