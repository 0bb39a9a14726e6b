/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Node-port SNAT, both ways: a packet to a service frontend is sent to a
 * backend with the node's address and a nat port as its source, and a reply
 * to that address and port is translated back and sent to the client. Both
 * leave by bpf_fib_lookup + redirect (lib/fwd.h). A flow in DSR mode goes
 * to lib/dsr_lb.h instead, once its backend is known.
 */
#ifndef KPR_LIB_SNAT_H
#define KPR_LIB_SNAT_H

#include "ctx.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "stats.h"
#include "ct.h"
#include "lb.h"
#include "nat.h"
#include "fwd.h"
#include "reject.h"
#include "scratch.h"
#include "dsr_lb.h"

/*
 * The backend's first FIN of the flow in slot rf went by: when the client
 * has sent none yet, the backend closes first and will hold the tuple in
 * TIME_WAIT, which the slot must outlast (KPR_NAT_F_TW). Once per flow, so
 * the ct lookup costs nothing per packet.
 */
static __noinline void kpr_nat_fin(struct kpr_nat *rf, struct kpr_flow_key *fk)
{
	struct kpr_ct *ce;

	ce = kpr_nat_ct(rf, fk);
	if (!ce || ce->nat_port != rf->port || !(ce->flags & KPR_CT_F_FIN_SEEN))
		rf->flags |= KPR_NAT_F_TW;
}

/* A reply of a SNATed flow, its nat slot rf: back to frontend -> client. */
static __always_inline enum kpr_verdict kpr_reverse(kpr_ctx_t *ctx, struct kpr_pkt *p,
						    struct kpr_nat *rf, __u64 now)
{
	struct kpr_scratch *x = kpr_scratch();
	int rc;

	if (!x)
		return KPR_PASS;
	if (kpr_ct_touch(&rf->last_seen, &rf->flags, p, now) == KPR_CT_F_FIN_SEEN)
		kpr_nat_fin(rf, &x->fk);
	rc = kpr_fib_cached(ctx, p, &rf->client.addr, &x->fib, NULL);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return KPR_PASS;
	kpr_rewrite(ctx, p, &rf->frontend.addr, rf->frontend.port, &rf->client.addr,
		    rf->client.port);
	if (rf->svc_id) {
		kpr_stats_add(KPR_STATS_BE_KIND(rf->svc_id), rf->backend_id, p->len, 0, 0);
		kpr_stats_add(KPR_STATS_SVC, rf->svc_id, p->len, 0, 0);
	} else {	/* a masqueraded flow's (lib/masq.h) */
		kpr_stats_add(KPR_STATS_MASQ, KPR_MASQ_ST_REPLY | p->key.family, p->len, 0, 0);
	}
	return kpr_redirect(ctx, p, &x->fib, rc);
}

/* A new flow for a service with no usable backend: counted as a drop,
 * refused as a closed port would be. */
static __always_inline enum kpr_verdict kpr_no_backend(kpr_ctx_t *ctx, struct kpr_pkt *p,
						       __u32 svc_id)
{
	bool v6 = p->ip6 != NULL;

	kpr_stats_add(KPR_STATS_SVC, svc_id, p->len, 0, 1);
	/* the answers are built for plain headers and whole datagrams */
	if (p->opts || p->frag)
		return KPR_DROP;
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
	x->nat.flags = kpr_tcp_close_flags(p);
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
	x->ct.nat_port = kpr_nat_alloc(p->cfg, &x->nat);
	if (!x->ct.nat_port)
		return 0;
	kpr_ct_create(&p->key, &x->ct);
	kpr_affinity_put(svc, &p->key, be_id, p->now, &x->ak, &x->av);
	return x->ct.nat_port;
}

/* A packet to service svc: its flow's backend, or a new flow's, then
 * node address:nat port -> backend. */
static __always_inline enum kpr_verdict kpr_forward(kpr_ctx_t *ctx, struct kpr_pkt *p,
						    const struct kpr_config *cfg,
						    const struct kpr_svc *svc, __u64 now)
{
	struct kpr_scratch *x = kpr_scratch();
	struct kpr_backend *be = NULL;
	union kpr_addr snat;
	struct kpr_ct *ce;
	__be16 nat_port = 0;
	__u32 be_id = 0, svc_id = svc->id;
	bool new_flow = false;
	int rc;

	ce = kpr_ct_lookup(&p->key, cfg, now);
	/* a SYN on a closing flow's tuple opens a new connection: it gets a
	 * new entry, not the old one's closing flags and timeout */
	if (ce && (ce->flags & KPR_CT_F_FIN_SEEN) && kpr_tcp_syn(p))
		ce = NULL;
	if (ce) {
		/* an established flow keeps its backend while it exists */
		be_id = ce->backend_id;
		be = bpf_map_lookup_elem(&backends, &be_id);
		if (be && kpr_be_usable(be, p->key.family, false)) {
			nat_port = ce->nat_port;
			kpr_ct_touch(&ce->last_seen, &ce->flags, p, now);
		} else {
			be = NULL;
		}
	}
	if (!be) {
		new_flow = true;
		be = kpr_lb_select(svc, cfg, &p->key, now, &be_id);
		if (!be)
			return kpr_no_backend(ctx, p, svc_id);
	}

	/* the mode a flow began with holds until it ends (lib/dsr_lb.h) */
	if (new_flow ? kpr_dsr_wanted(svc, cfg, p) : !!(ce->flags & KPR_CT_F_DSR))
		return kpr_dsr_forward(ctx, p, svc, be_id, be, new_flow ? NULL : ce);

	/* SNAT to the address of the device the packet leaves by: only an
	 * attached device has one */
	if (!x)
		return KPR_PASS;
	rc = kpr_fib_backend(ctx, p, be_id, &be->be.addr, &x->fib, &snat);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		goto drop;

	if (new_flow) {
		nat_port = kpr_new_flow(p, svc, be_id, be, &snat);
		if (!nat_port) {
			kpr_stats_nat_fail(svc_id);
			goto drop;
		}
	}

	kpr_rewrite(ctx, p, &snat, nat_port, &be->be.addr, be->be.port);
	kpr_stats_fwd(svc_id, be_id, p->len, new_flow);
	return kpr_redirect(ctx, p, &x->fib, rc);
drop:
	kpr_stats_add(KPR_STATS_SVC, svc_id, p->len, 0, 1);
	return KPR_DROP;
}

#endif
