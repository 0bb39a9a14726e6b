/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The XDP dispatcher: which block a packet goes to. ICMP errors about our
 * flows and echo requests to service addresses; packets to a frontend are
 * forwarded and replies translated back (lib/snat.h), masqueraded flows'
 * too; flows into pod CIDRs are noted for masquerade (lib/masq.h). A packet
 * to none of the node's addresses or service frontends passes untouched
 * after two lookups (services, node_addrs), and with masquerade on a look
 * at the pod CIDRs. The blocks answer in kpr verdicts; only this file and
 * the entry points speak XDP.
 *
 * An entry point and the benchmark wrapper both inline kpr_xdp().
 */
#ifndef KPR_LIB_XDP_H
#define KPR_LIB_XDP_H

#include "ctx.h"
#include "maps.h"
#include "parse.h"
#include "ct.h"
#include "lb.h"
#include "nat.h"
#include "fwd.h"
#include "icmp.h"
#include "icmp_err.h"
#include "snat.h"
#include "dsr.h"
#include "masq.h"

_Static_assert(KPR_CTX_IS_XDP, "lib/xdp.h is for XDP objects");

/* An ICMP packet, or a TCP or UDP one without a checksum field. */
static __always_inline enum kpr_verdict kpr_xdp_icmp(kpr_ctx_t *ctx, struct kpr_pkt *p,
						     const struct kpr_config *cfg)
{
	int rc;

	if (kpr_icmp_is_error(p) && kpr_is_node_addr(&p->key)) {
		struct kpr_scratch *x = kpr_scratch();

		if (!x)
			return KPR_PASS;
		if (p->ip4 ? kpr_icmp4_error(p) : kpr_icmp6_error(p))
			return KPR_PASS;
		p->now = kpr_now();
		rc = kpr_fib_cached(ctx, p, &p->key.daddr, &x->fib, NULL);
		if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
			return KPR_DROP;	/* translated, with no route on */
		return kpr_redirect(ctx, p, &x->fib, rc);
	}
	rc = kpr_masq_echo_reply(ctx, p);
	if (rc >= 0)
		return rc;
	if (!(cfg->flags & KPR_CFG_ICMP_ECHO))
		return KPR_PASS;
	rc = kpr_icmp_echo(ctx, p);
	return rc < 0 ? KPR_PASS : rc;
}

/* A later fragment: its datagram's translation (lib/frag.h), then the way
 * its first fragment went, by the route to its new destination. Counted
 * nowhere: the counters count a datagram by its first fragment. */
static __always_inline enum kpr_verdict kpr_xdp_frag(kpr_ctx_t *ctx, struct kpr_pkt *p)
{
	struct kpr_scratch *x = kpr_scratch();
	struct kpr_frag *e = kpr_frag_find(p);
	int rc;

	if (!x || !e)
		return KPR_PASS;
	if ((p->ip4 && p->ip4->ttl <= 1) || (p->ip6 && p->ip6->hop_limit <= 1))
		return KPR_PASS;
	p->now = kpr_now();
	rc = kpr_fib_cached(ctx, p, &e->daddr, &x->fib, NULL);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return KPR_PASS;
	kpr_frag_rewrite(ctx, p, e);
	return kpr_redirect(ctx, p, &x->fib, rc);
}

static __always_inline enum kpr_verdict kpr_xdp_verdict(kpr_ctx_t *ctx)
{
	struct kpr_pkt p = {};
	struct kpr_svc_key sk = {};
	struct kpr_config *cfg;
	struct kpr_nat *rf;
	struct kpr_svc *svc;
	int rc = kpr_parse(ctx, &p);

	if (rc == KPR_PARSE_BAD)
		return KPR_PASS;
	if (rc == KPR_PARSE_FRAG)
		return kpr_xdp_frag(ctx, &p);
	if (rc)
		return kpr_dsr_recv(ctx);	/* a tunnel: kpr's IPIP dispatch here? */
	cfg = kpr_cfg();
	if (!cfg)
		return KPR_PASS;
	p.cfg = cfg;
	if (!p.l4csum)
		return kpr_xdp_icmp(ctx, &p, cfg);
	svc = kpr_svc_exact(&p.key, &sk);
	if (!svc) {
		/* IPv4 options or IPv6 extension headers to no frontend: a DSR
		 * flow to a backend here? */
		if (p.opts)
			return kpr_dsr_recv(ctx);
		/* replies and "*:PORT" NodePorts are addressed to the node */
		if (!kpr_is_node_addr(&p.key))
			return kpr_masq_inbound(&p);
		rf = kpr_nat_find(&p);
		if (rf) {
			p.now = kpr_now();
			return kpr_reverse(ctx, &p, rf, p.now);
		}
		svc = kpr_svc_any(&sk);
		if (!svc)
			return KPR_PASS;
	}
	if (!kpr_svc_reachable(svc, cfg) && !kpr_dev_internal(kpr_ctx_ifindex_in(ctx)))
		return KPR_PASS;
	/* its last hop: the stack answers Time Exceeded, and no state is made
	 * for a packet that cannot reach the backend */
	if ((p.ip4 && p.ip4->ttl <= 1) || (p.ip6 && p.ip6->hop_limit <= 1))
		return KPR_PASS;
	p.now = kpr_now();
	return kpr_forward(ctx, &p, cfg, svc, p.now);
}

/* The XDP action for the packet. */
static __always_inline int kpr_xdp(struct xdp_md *ctx)
{
	return kpr_to_xdp(kpr_xdp_verdict(ctx));
}

#endif
