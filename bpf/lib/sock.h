/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Socket LB: the cgroup hooks point a socket's connect() or sendmsg() to a
 * service frontend at a backend, once, so that no packet of the flow is
 * translated, and show the frontend again where the socket asks who its
 * peer is (recvmsg, getpeername). Same lookup and backend choice as the
 * packet path (lib/lb.h), on a flow key with no packet.
 *
 * What a local socket reaches: ClusterIP and LoadBalancer frontends;
 * NodePorts on every node address and on loopback (127.0.0.0/8, ::1), as
 * kube-proxy and Cilium serve them; ExternalIP frontends only when the
 * address is one of the node's, so that a service cannot claim an outside
 * address for the node's own processes (the CVE-2020-8554 hijack).
 *
 * The blocks take the socket's address as a struct kpr_l4addr and return
 * 0 or a negative errno for the hook to return; the entry points
 * (bpf/kpr_sock.bpf.c) copy the addresses in and out of their context.
 */
#ifndef KPR_LIB_SOCK_H
#define KPR_LIB_SOCK_H

#include <linux/errno.h>
#include "lb.h"

/*
 * The frontends a socket was sent to and the backends they went to: a
 * socket keeps its backend (a UDP socket sends many datagrams, a
 * non-blocking connect() may be called again), and sock_release deletes
 * exactly the socket's sock_revnat entries. The socket's own storage, freed
 * with it; private to this object, not pinned. A socket that talks to more
 * frontends than KPR_SOCK_PEERS forgets the oldest, and its sock_revnat
 * entry goes with it.
 */
#define KPR_SOCK_PEERS	4

struct kpr_sock_peer {
	struct kpr_l4addr fe;
	__u32 backend_id;
};

struct kpr_sock_peers {
	struct kpr_sock_peer p[KPR_SOCK_PEERS];
	__u32 next;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kpr_sock_peers);
} sock_peers SEC(".maps");

/* Whether socket LB serves a socket of the network namespace netns. */
static __always_inline struct kpr_config *kpr_sock_cfg(__u64 netns)
{
	struct kpr_config *cfg = kpr_cfg();

	if (!cfg || !(cfg->flags & KPR_CFG_SOCKET_LB))
		return NULL;
	if ((cfg->flags & KPR_CFG_SOCK_HOSTNS_ONLY) && netns != cfg->hostns_cookie)
		return NULL;	/* left to the packet path */
	return cfg;
}

static __always_inline bool kpr_is_loopback(const struct kpr_flow_key *fk)
{
	if (fk->family == KPR_FAM_V4)
		return (bpf_ntohl(fk->daddr.v4) >> 24) == 127;
	return !fk->daddr.w[0] && !fk->daddr.w[1] && !fk->daddr.w[2] &&
	       fk->daddr.w[3] == bpf_htonl(1);
}

/* The service a local socket addressed, NULL when none serves it here; sk
 * keeps the frontend as the socket named it. */
static __always_inline struct kpr_svc *kpr_sock_svc(const struct kpr_flow_key *fk,
						    struct kpr_svc_key *sk)
{
	struct kpr_svc *svc = kpr_svc_exact(fk, sk);

	if (svc) {
		if (svc->type == KPR_SVC_EXTERNALIP && !kpr_is_node_addr(fk))
			return NULL;
		return svc;
	}
	if (!kpr_is_node_addr(fk) && !kpr_is_loopback(fk))
		return NULL;
	svc = kpr_svc_any(sk);
	return svc && svc->type == KPR_SVC_NODEPORT ? svc : NULL;
}

/* The flow key of a socket's destination (or bound address) a. */
static __always_inline void kpr_sock_flow(struct kpr_flow_key *fk, const struct kpr_l4addr *a)
{
	fk->daddr = a->addr;
	fk->dport = a->port;
	fk->proto = a->proto;
	fk->family = a->family;
}

static __always_inline bool kpr_l4addr_eq(const struct kpr_l4addr *a, const struct kpr_l4addr *b)
{
	return a->addr.w[0] == b->addr.w[0] && a->addr.w[1] == b->addr.w[1] &&
	       a->addr.w[2] == b->addr.w[2] && a->addr.w[3] == b->addr.w[3] &&
	       a->port == b->port && a->proto == b->proto && a->family == b->family;
}

static __always_inline void kpr_sock_revnat_key(struct kpr_sock_revnat_key *k, __u64 cookie,
						const struct kpr_l4addr *a)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->cookie = cookie;
	k->addr = a->addr;
	k->port = a->port;
	k->family = a->family;
}

/* The backend this socket already uses for frontend fe, while it may. */
static __always_inline struct kpr_backend *kpr_sock_kept(struct kpr_sock_peers *ps,
							 const struct kpr_l4addr *fe, __u32 *id)
{
	struct kpr_backend *be;

	for (int i = 0; i < KPR_SOCK_PEERS; i++) {
		if (!ps->p[i].backend_id || !kpr_l4addr_eq(&ps->p[i].fe, fe))
			continue;
		*id = ps->p[i].backend_id;
		be = bpf_map_lookup_elem(&backends, id);
		/* as an established flow: a terminating backend keeps it */
		if (be && kpr_be_usable(be, fe->family, false))
			return be;
		return NULL;
	}
	return NULL;
}

/* Remembers fe -> id for the socket; the peer it replaces loses its
 * sock_revnat entry unless the new one reuses it. */
static __noinline void kpr_sock_remember(struct kpr_sock_peers *ps, __u64 cookie,
					 const struct kpr_l4addr *fe, __u32 id)
{
	struct kpr_sock_revnat_key k;
	struct kpr_backend *be;
	__u32 i = ps->next % KPR_SOCK_PEERS, old;

	for (int j = 0; j < KPR_SOCK_PEERS; j++)
		if (kpr_l4addr_eq(&ps->p[j].fe, fe)) {
			i = j;	/* the same frontend, another backend */
			goto set;
		}
	ps->next++;
set:
	if (i >= KPR_SOCK_PEERS)
		return;
	old = ps->p[i].backend_id;
	if (old && old != id) {
		be = bpf_map_lookup_elem(&backends, &old);
		if (be) {
			kpr_sock_revnat_key(&k, cookie, &be->be);
			bpf_map_delete_elem(&sock_revnat, &k);
		}
	}
	ps->p[i].fe = *fe;
	ps->p[i].backend_id = id;
}

static __always_inline void kpr_sock_affinity(const struct kpr_svc *svc,
					      const struct kpr_flow_key *fk, __u32 id, __u64 now)
{
	struct kpr_affinity_key ak = {
		.client = fk->saddr, .svc_id = svc->id, .family = fk->family,
	};
	struct kpr_affinity av = { .last_used = now, .backend_id = id };

	bpf_map_update_elem(&affinity, &ak, &av, BPF_ANY);
}

/*
 * connect() or sendmsg() of socket sk (cookie; network namespace netns) to
 * *dst: a frontend becomes its backend. Returns 0 (dst rewritten or left as
 * it is) or -ECONNREFUSED when the service has no usable backend, as the
 * packet path's reset refuses it.
 *
 * The flow key's client is the socket's network namespace (its cookie in
 * the source address), so that client affinity holds per namespace, as
 * Cilium's does for sockets; the source port is the socket cookie's low
 * bits, so that Maglev spreads sockets without affinity.
 */
static __always_inline int kpr_sock_fwd(void *sk, __u64 cookie, __u64 netns,
					struct kpr_l4addr *dst)
{
	struct kpr_config *cfg = kpr_sock_cfg(netns);
	struct kpr_sock_revnat_key rk;
	struct kpr_sock_peers *ps;
	struct kpr_backend *be;
	struct kpr_flow_key fk = {};
	struct kpr_svc_key fe = {};
	struct kpr_svc *svc;
	__u32 id = 0;
	__u64 now;

	if (!cfg || !sk || (dst->proto != IPPROTO_TCP && dst->proto != IPPROTO_UDP))
		return 0;
	kpr_sock_flow(&fk, dst);
	svc = kpr_sock_svc(&fk, &fe);
	if (!svc)
		return 0;
	fk.saddr.w[0] = (__u32)netns;
	fk.saddr.w[1] = (__u32)(netns >> 32);
	fk.sport = (__be16)cookie;
	now = kpr_now();
	ps = bpf_sk_storage_get(&sock_peers, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	be = ps ? kpr_sock_kept(ps, dst, &id) : NULL;
	if (!be) {
		be = kpr_lb_select(svc, cfg, &fk, now, &id);
		if (!be)
			return -ECONNREFUSED;
		if (svc->affinity_timeout)
			kpr_sock_affinity(svc, &fk, id, now);
		if (ps)
			kpr_sock_remember(ps, cookie, dst, id);
	}
	/* without the socket's storage its entry would outlive it: the
	 * frontend is not shown again, but the connection works */
	if (ps) {
		kpr_sock_revnat_key(&rk, cookie, &be->be);
		bpf_map_update_elem(&sock_revnat, &rk, &fe, BPF_ANY);
	}
	dst->addr = be->be.addr;
	dst->port = be->be.port;
	return 0;
}

/* recvmsg() or getpeername() of socket cookie: a backend's address shown as
 * the frontend the socket sent to. */
static __always_inline void kpr_sock_rev(__u64 cookie, struct kpr_l4addr *peer)
{
	struct kpr_sock_revnat_key k;
	struct kpr_svc_key *fe;

	kpr_sock_revnat_key(&k, cookie, peer);
	fe = bpf_map_lookup_elem(&sock_revnat, &k);
	if (!fe)
		return;
	peer->addr = fe->fe.addr;
	peer->port = fe->fe.port;
}

/* sock_release: the socket's sock_revnat entries go with it. */
static __always_inline void kpr_sock_release(void *sk, __u64 cookie)
{
	struct kpr_sock_peers *ps = bpf_sk_storage_get(&sock_peers, sk, 0, 0);
	struct kpr_sock_revnat_key k;
	struct kpr_backend *be;

	if (!ps)
		return;
	for (int i = 0; i < KPR_SOCK_PEERS; i++) {
		__u32 id = ps->p[i].backend_id;

		if (!id)
			continue;
		be = bpf_map_lookup_elem(&backends, &id);
		if (!be)
			continue;
		kpr_sock_revnat_key(&k, cookie, &be->be);
		bpf_map_delete_elem(&sock_revnat, &k);
	}
}

/*
 * post_bind: a socket of the node's own network namespace may not bind
 * what a service holds there, a NodePort's port on any address or a
 * LoadBalancer or ExternalIP frontend, whose traffic the datapath takes
 * before the socket could see it. -EADDRINUSE, or 0.
 */
static __always_inline int kpr_sock_bind_guard(__u64 netns, const struct kpr_l4addr *a)
{
	struct kpr_config *cfg = kpr_cfg();
	struct kpr_flow_key fk = {};
	struct kpr_svc_key sk = {};
	struct kpr_svc *svc;

	if (!cfg || !(cfg->flags & KPR_CFG_SOCKET_LB) || netns != cfg->hostns_cookie)
		return 0;
	if (a->proto != IPPROTO_TCP && a->proto != IPPROTO_UDP)
		return 0;
	kpr_sock_flow(&fk, a);
	svc = kpr_svc_exact(&fk, &sk);
	if (svc && (svc->type == KPR_SVC_NODEPORT || svc->type == KPR_SVC_LOADBALANCER ||
		    svc->type == KPR_SVC_EXTERNALIP))
		return -EADDRINUSE;
	svc = kpr_svc_any(&sk);
	if (svc && svc->type == KPR_SVC_NODEPORT)
		return -EADDRINUSE;
	return 0;
}

#endif
