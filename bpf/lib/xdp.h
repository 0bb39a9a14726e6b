/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The XDP ingress datapath, SNAT mode: a packet to a service frontend is
 * sent to a backend with the node's address and a nat port as its source;
 * a reply to that address and port is translated back and sent to the
 * client, as are ICMP errors about the flow. Both directions leave by
 * bpf_fib_lookup + redirect. A packet to none of the node's addresses or
 * service frontends passes untouched after two lookups (services,
 * node_addrs).
 *
 * An entry point and the benchmark wrapper both inline kpr_xdp().
 */
#ifndef KPR_LIB_XDP_H
#define KPR_LIB_XDP_H

#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "stats.h"
#include "lb.h"
#include "nat.h"
#include "fwd.h"
#include "icmp.h"
#include "icmp_err.h"
#include "reject.h"

/* The route lookup and the values of a new flow are built here, not on the
 * 512-byte stack, which the program and its out-of-line helpers share. */
struct kpr_scratch {
	struct bpf_fib_lookup fib;
	struct kpr_nat nat;
	struct kpr_ct ct;
	struct kpr_affinity_key ak;
	struct kpr_affinity av;
	struct kpr_flow_key fk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpr_scratch);
} scratch SEC(".maps");

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

static __always_inline struct kpr_scratch *kpr_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

static __always_inline int kpr_reverse(struct xdp_md *ctx, struct kpr_pkt *p,
				       struct kpr_nat *rf, __u64 now)
{
	struct kpr_scratch *x = kpr_scratch();
	int rc;

	if (!x)
		return XDP_PASS;
	if (now - rf->last_seen > KPR_REFRESH_NS)
		rf->last_seen = now;
	if (!(rf->flags & KPR_CT_F_FIN_SEEN) && kpr_tcp_closing(p))
		rf->flags |= KPR_CT_F_FIN_SEEN;
	rc = kpr_fib_cached(ctx, p, &rf->client.addr, &x->fib, NULL);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return XDP_PASS;
	kpr_rewrite(p, &rf->frontend.addr, rf->frontend.port, &rf->client.addr,
		    rf->client.port);
	kpr_stats_add(KPR_STATS_SVC, rf->svc_id, p->len, 0, 0);
	kpr_stats_add(KPR_STATS_BACKEND, rf->backend_id, p->len, 0, 0);
	return kpr_redirect(p, &x->fib, rc);
}

/* A new flow for a service with no usable backend: counted as a drop,
 * refused as a closed port would be. */
static __always_inline int kpr_no_backend(struct xdp_md *ctx, struct kpr_pkt *p, __u32 svc_id)
{
	bool v6 = p->ip6 != NULL;

	kpr_stats_add(KPR_STATS_SVC, svc_id, p->len, 0, 1);
	if (p->key.proto == IPPROTO_TCP)
		return kpr_reject_tcp(ctx, v6);
	return kpr_reject_udp(ctx, v6);
}

/*
 * Records a new flow: a nat port and its slot (the reverse translation), the
 * ct entry and the client's affinity. Out of line to keep its keys and
 * values off the caller's stack frame. Returns the nat port, 0 when none
 * was free.
 */
static __noinline __be16 kpr_new_flow(struct kpr_pkt *p, const struct kpr_svc *svc,
				      __u32 be_id, const struct kpr_backend *be,
				      const union kpr_addr *snat)
{
	struct kpr_scratch *x = kpr_scratch();

	if (!x)
		return 0;
	/* field by field: a compound literal would be built on the stack */
	__builtin_memset(&x->nat, 0, sizeof(x->nat));
	x->nat.last_seen = p->now;
	x->nat.peer = be->be;
	x->nat.snat = *snat;
	x->nat.flags = kpr_tcp_closing(p) ? KPR_CT_F_FIN_SEEN : 0;
	x->nat.client.addr = p->key.saddr;
	x->nat.client.port = p->key.sport;
	x->nat.client.proto = p->key.proto;
	x->nat.client.family = p->key.family;
	x->nat.frontend.addr = p->key.daddr;
	x->nat.frontend.port = p->key.dport;
	x->nat.frontend.proto = p->key.proto;
	x->nat.frontend.family = p->key.family;
	x->nat.svc_id = svc->id;
	x->nat.backend_id = be_id;
	x->ct = (struct kpr_ct){
		.last_seen = p->now, .backend_id = be_id, .svc_id = svc->id,
		.flags = KPR_CT_F_SNAT | x->nat.flags,
	};
	x->ct.nat_port = kpr_nat_alloc(p->cfg, &x->nat, &x->fk);
	if (!x->ct.nat_port)
		return 0;
	bpf_map_update_elem(&ct, &p->key, &x->ct, BPF_ANY);
	if (svc->affinity_timeout) {
		x->ak = (struct kpr_affinity_key){
			.client = p->key.saddr, .svc_id = svc->id, .family = p->key.family,
		};
		x->av = (struct kpr_affinity){ .last_used = p->now, .backend_id = be_id };
		bpf_map_update_elem(&affinity, &x->ak, &x->av, BPF_ANY);
	}
	return x->ct.nat_port;
}

static __always_inline int kpr_forward(struct xdp_md *ctx, struct kpr_pkt *p,
				       const struct kpr_config *cfg, const struct kpr_svc *svc,
				       __u64 now)
{
	struct kpr_scratch *x = kpr_scratch();
	struct kpr_backend *be = NULL;
	union kpr_addr snat;
	struct kpr_ct *ce;
	__be16 nat_port = 0;
	__u32 be_id = 0, svc_id = svc->id;
	bool new_flow = false;
	int rc;

	ce = bpf_map_lookup_elem(&ct, &p->key);
	if (ce && !kpr_stale(ce->last_seen, now, kpr_ct_timeout(cfg, p->key.proto, ce->flags))) {
		/* an established flow keeps its backend while it exists */
		be_id = ce->backend_id;
		be = bpf_map_lookup_elem(&backends, &be_id);
		if (be && kpr_be_usable(be, p, false)) {
			nat_port = ce->nat_port;
			if (now - ce->last_seen > KPR_REFRESH_NS)
				ce->last_seen = now;
			if (!(ce->flags & KPR_CT_F_FIN_SEEN) && kpr_tcp_closing(p))
				ce->flags |= KPR_CT_F_FIN_SEEN;
		} else {
			be = NULL;
		}
	}
	if (!be) {
		new_flow = true;
		if (svc->affinity_timeout) {
			be_id = kpr_affinity_get(svc, p, now);
			be = be_id ? bpf_map_lookup_elem(&backends, &be_id) : NULL;
			if (be && !kpr_be_usable(be, p, true))
				be = NULL;
		}
		if (!be) {
			be_id = kpr_pick_backend(svc, cfg, p);
			be = be_id ? bpf_map_lookup_elem(&backends, &be_id) : NULL;
			if (!be || !kpr_be_usable(be, p, true))
				return kpr_no_backend(ctx, p, svc_id);
		}
	}

	/* SNAT to the address of the device the packet leaves by: only an
	 * attached device has one */
	if (!x)
		return XDP_PASS;
	rc = kpr_fib_backend(ctx, p, be_id, &be->be.addr, &x->fib, &snat);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		goto drop;

	if (new_flow) {
		nat_port = kpr_new_flow(p, svc, be_id, be, &snat);
		if (!nat_port)
			goto drop;
	}

	kpr_rewrite(p, &snat, nat_port, &be->be.addr, be->be.port);
	kpr_stats_add(KPR_STATS_SVC, svc_id, p->len, new_flow, 0);
	kpr_stats_add(KPR_STATS_BACKEND, be_id, p->len, new_flow, 0);
	return kpr_redirect(p, &x->fib, rc);
drop:
	kpr_stats_add(KPR_STATS_SVC, svc_id, p->len, 0, 1);
	return XDP_DROP;
}

static __always_inline int kpr_xdp(struct xdp_md *ctx)
{
	struct kpr_pkt p = {};
	struct kpr_svc_key sk = {};
	struct kpr_config *cfg;
	struct kpr_nat *rf;
	struct kpr_svc *svc;
	int rc;

	if (kpr_parse(ctx, &p))
		return XDP_PASS;
	cfg = kpr_cfg();
	if (!cfg)
		return XDP_PASS;
	p.cfg = cfg;
	if (!p.l4csum) {
		if (kpr_icmp_is_error(&p) && kpr_is_node_addr(&p)) {
			struct kpr_scratch *x = kpr_scratch();

			if (!x)
				return XDP_PASS;
			if (p.ip4 ? kpr_icmp4_error(&p) : kpr_icmp6_error(&p))
				return XDP_PASS;
			p.now = kpr_now();
			rc = kpr_fib_cached(ctx, &p, &p.key.daddr, &x->fib, NULL);
			if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
				return XDP_DROP;	/* translated, with no route on */
			return kpr_redirect(&p, &x->fib, rc);
		}
		if (!(cfg->flags & KPR_CFG_ICMP_ECHO))
			return XDP_PASS;
		rc = kpr_icmp_echo(&p);
		return rc < 0 ? XDP_PASS : rc;
	}
	svc = kpr_svc_exact(&p, &sk);
	if (!svc) {
		/* replies and "*:PORT" NodePorts are addressed to the node */
		if (!kpr_is_node_addr(&p))
			return XDP_PASS;
		rf = kpr_nat_find(&p);
		if (rf) {
			p.now = kpr_now();
			return kpr_reverse(ctx, &p, rf, p.now);
		}
		svc = kpr_svc_any(&sk);
		if (!svc)
			return XDP_PASS;
	}
	if (!kpr_svc_reachable(svc, cfg))
		return XDP_PASS;
	p.now = kpr_now();
	return kpr_forward(ctx, &p, cfg, svc, p.now);
}

#endif
