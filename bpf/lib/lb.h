/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Service lookup and backend selection, keyed on a flow key and never on a
 * packet, so that a hook with no packet (a socket's connect()) can ask the
 * same questions: the service of a frontend, client affinity, then Maglev
 * or random among the active slots of the service's current generation
 * (weighted random: a random slot of the service's weighted Maglev table).
 * That an established flow keeps its backend is ct's (lib/ct.h).
 */
#ifndef KPR_LIB_LB_H
#define KPR_LIB_LB_H

#include "ct.h"
#include "jhash.h"
#include "maps.h"

static __always_inline struct kpr_config *kpr_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

/* Whether the flow is addressed to one of the node's addresses. */
static __always_inline bool kpr_is_node_addr(const struct kpr_flow_key *fk)
{
	struct kpr_node_addr_key k = { .addr = fk->daddr, .family = fk->family };

	return bpf_map_lookup_elem(&node_addrs, &k) != NULL;
}

/* The service whose exact frontend the flow is addressed to. */
static __always_inline struct kpr_svc *kpr_svc_exact(const struct kpr_flow_key *fk,
						     struct kpr_svc_key *sk)
{
	sk->fe.addr = fk->daddr;
	sk->fe.port = fk->dport;
	sk->fe.proto = fk->proto;
	sk->fe.family = fk->family;
	return bpf_map_lookup_elem(&services, sk);
}

/* A "*:PORT" NodePort, for a flow to a node address; sk keeps the
 * node address the client used, which the replies must come from. */
static __always_inline struct kpr_svc *kpr_svc_any(struct kpr_svc_key *sk)
{
	struct kpr_svc_key any = *sk;

	__builtin_memset(&any.fe.addr, 0, sizeof(any.fe.addr));
	KPR_ANY_FAMILY(&any.fe.addr) = sk->fe.family;
	any.fe.family = KPR_FAM_ANY;
	return bpf_map_lookup_elem(&services, &any);
}

/* ClusterIP frontends count only with external ClusterIP on: from outside
 * the node they are otherwise unreachable, as with kube-proxy. */
static __always_inline bool kpr_svc_reachable(const struct kpr_svc *svc,
					      const struct kpr_config *cfg)
{
	return svc->type != KPR_SVC_CLUSTERIP || (cfg->flags & KPR_CFG_EXTERNAL_CLUSTERIP);
}

/* Whether ifindex is an internal device, whose traffic comes from the
 * node's own pods: ClusterIP frontends are theirs to reach. */
static __always_inline bool kpr_dev_internal(__u32 ifindex)
{
	struct kpr_dev_addrs *da = bpf_map_lookup_elem(&dev_addrs, &ifindex);

	return da && (da->flags & KPR_DEV_F_INTERNAL);
}

/* A backend for a new flow, or 0 when the service has none to offer. */
static __always_inline __u32 kpr_pick_backend(const struct kpr_svc *svc,
					      const struct kpr_config *cfg,
					      const struct kpr_flow_key *fk)
{
	struct kpr_slot_key k = { .svc_id = svc->id };
	__u8 alg = svc->algorithm ? svc->algorithm : cfg->algorithm;
	__u32 *id;

	if (!svc->active)
		return 0;
	if ((alg == KPR_ALG_MAGLEV || (svc->flags & KPR_SVC_F_WEIGHTED)) && cfg->maglev_size) {
		void *table = bpf_map_lookup_elem(&maglev, &svc->id);

		if (table) {
			/* Cilium's hash and seed: a node of either picks the
			 * same backend for the same flow; weighted random takes
			 * the same table at a random index */
			__u32 slot = alg == KPR_ALG_MAGLEV ?
				kpr_flow_hash(fk, cfg->maglev_seed, svc->affinity_timeout) :
				bpf_get_prandom_u32();

			slot %= cfg->maglev_size;
			id = bpf_map_lookup_elem(table, &slot);
			if (id && *id)
				return *id;
		}
		/* no table (yet): random keeps the service working */
	}
	k.slot = bpf_get_prandom_u32() % svc->active;
	if (svc->flags & KPR_SVC_F_GEN)
		k.slot |= KPR_SLOT_GEN_BIT;
	id = bpf_map_lookup_elem(&svc_backends, &k);
	return id ? *id : 0;
}

/* Whether a flow of family may use backend be (an established flow, or a
 * new one). */
static __always_inline bool kpr_be_usable(const struct kpr_backend *be, __u8 family,
					  bool new_flow)
{
	if (be->be.family != family)	/* no NAT46/64 */
		return false;
	if (be->state == KPR_BE_ACTIVE)
		return true;
	/* terminating backends finish what they have, take nothing new */
	return !new_flow && be->state == KPR_BE_TERMINATING;
}

/* Client affinity: the backend this client used within the timeout. */
static __always_inline __u32 kpr_affinity_get(const struct kpr_svc *svc,
					      const struct kpr_flow_key *fk, __u64 now)
{
	struct kpr_affinity_key k = {
		.client = fk->saddr, .svc_id = svc->id, .family = fk->family,
	};
	struct kpr_affinity *a = bpf_map_lookup_elem(&affinity, &k);

	if (!a || (now > a->last_used &&
		   now - a->last_used > (__u64)svc->affinity_timeout * KPR_NSEC))
		return 0;
	return a->backend_id;
}

/* Records that the client of new flow fk uses backend be_id, for services
 * with affinity; k and v are the caller's, off the stack. */
static __always_inline void kpr_affinity_put(const struct kpr_svc *svc,
					     const struct kpr_flow_key *fk, __u32 be_id, __u64 now,
					     struct kpr_affinity_key *k, struct kpr_affinity *v)
{
	if (!svc->affinity_timeout)
		return;
	*k = (struct kpr_affinity_key){ .client = fk->saddr, .svc_id = svc->id, .family = fk->family };
	*v = (struct kpr_affinity){ .last_used = now, .backend_id = be_id };
	bpf_map_update_elem(&affinity, k, v, BPF_ANY);
}

/*
 * The backend for a new flow fk to svc: the client's affinity while it holds
 * and its backend takes new flows, else the service's algorithm. NULL when
 * the service has no usable backend; *be_id is the one chosen.
 */
static __always_inline struct kpr_backend *kpr_lb_select(const struct kpr_svc *svc,
							 const struct kpr_config *cfg,
							 const struct kpr_flow_key *fk, __u64 now,
							 __u32 *be_id)
{
	struct kpr_backend *be = NULL;
	__u32 id;

	if (svc->affinity_timeout) {
		id = kpr_affinity_get(svc, fk, now);
		be = id ? bpf_map_lookup_elem(&backends, &id) : NULL;
		if (be && !kpr_be_usable(be, fk->family, true))
			be = NULL;
	}
	if (!be) {
		id = kpr_pick_backend(svc, cfg, fk);
		be = id ? bpf_map_lookup_elem(&backends, &id) : NULL;
		if (be && !kpr_be_usable(be, fk->family, true))
			be = NULL;
	}
	*be_id = id;
	return be;
}

#endif
