/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Service lookup and backend selection: an established flow keeps its
 * backend (ct), then client affinity, then Maglev or random among the
 * active slots of the service's current generation.
 */
#ifndef KPR_LIB_LB_H
#define KPR_LIB_LB_H

#include "jhash.h"
#include "maps.h"
#include "parse.h"

#define KPR_NSEC	1000000000ull

static __always_inline struct kpr_config *kpr_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

static __always_inline bool kpr_is_node_addr(const struct kpr_pkt *p)
{
	struct kpr_node_addr_key k = { .addr = p->key.daddr, .family = p->key.family };

	return bpf_map_lookup_elem(&node_addrs, &k) != NULL;
}

/* The service whose exact frontend the packet is addressed to. */
static __always_inline struct kpr_svc *kpr_svc_exact(const struct kpr_pkt *p,
						     struct kpr_svc_key *sk)
{
	sk->fe.addr = p->key.daddr;
	sk->fe.port = p->key.dport;
	sk->fe.proto = p->key.proto;
	sk->fe.family = p->key.family;
	return bpf_map_lookup_elem(&services, sk);
}

/* A "*:PORT" NodePort, for a packet to a node address; sk keeps the
 * node address the client used, which the replies must come from. */
static __always_inline struct kpr_svc *kpr_svc_any(struct kpr_svc_key *sk)
{
	struct kpr_svc_key any = *sk;

	__builtin_memset(&any.fe.addr, 0, sizeof(any.fe.addr));
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

/* A backend for a new flow, or 0 when the service has none to offer. */
static __always_inline __u32 kpr_pick_backend(const struct kpr_svc *svc,
					      const struct kpr_config *cfg,
					      const struct kpr_pkt *p)
{
	struct kpr_slot_key k = { .svc_id = svc->id };
	__u8 alg = svc->algorithm ? svc->algorithm : cfg->algorithm;
	__u32 *id;

	if (!svc->active)
		return 0;
	if (alg == KPR_ALG_MAGLEV && cfg->maglev_size) {
		void *table = bpf_map_lookup_elem(&maglev, &svc->id);

		if (table) {
			/* Cilium's hash and seed: a node of either picks the
			 * same backend for the same flow */
			__u32 slot = kpr_flow_hash(&p->key, cfg->maglev_seed,
						   svc->affinity_timeout) % cfg->maglev_size;

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

static __always_inline bool kpr_be_usable(const struct kpr_backend *be,
					  const struct kpr_pkt *p, bool new_flow)
{
	if (be->be.family != p->key.family)	/* no NAT46/64 */
		return false;
	if (be->state == KPR_BE_ACTIVE)
		return true;
	/* terminating backends finish what they have, take nothing new */
	return !new_flow && be->state == KPR_BE_TERMINATING;
}

/* Client affinity: the backend this client used within the timeout. */
static __always_inline __u32 kpr_affinity_get(const struct kpr_svc *svc,
					      const struct kpr_pkt *p, __u64 now)
{
	struct kpr_affinity_key k = {
		.client = p->key.saddr, .svc_id = svc->id, .family = p->key.family,
	};
	struct kpr_affinity *a = bpf_map_lookup_elem(&affinity, &k);

	if (!a || (now > a->last_used &&
		   now - a->last_used > (__u64)svc->affinity_timeout * KPR_NSEC))
		return 0;
	return a->backend_id;
}

#endif
