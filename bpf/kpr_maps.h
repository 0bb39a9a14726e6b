/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Keys and values of every pinned map. This is the one definition shared by
 * the datapath (bpf/) and the tools (common/): change a layout here, bump
 * KPR_LAYOUT_VERSION, and old pins are refused instead of misread.
 *
 * Addresses of both families live in the same maps, as in Katran: 16 bytes,
 * IPv4 in the first four, with a family byte beside them. Ports are kept in
 * network byte order so the datapath compares them without swapping.
 */
#ifndef KPR_MAPS_H
#define KPR_MAPS_H

#include <linux/types.h>

#define KPR_MAGIC		0x6b707231	/* "kpr1" */
#define KPR_LAYOUT_VERSION	13	/* 2: mmapable Maglev tables; 3: revflow folded into
					 * nat; 4: nat an array of port slots; 5: stats count
					 * nat allocation failures, nat slots who closed first;
					 * 6: a nat flow may sit in any bucket (homed);
					 * 7: masq holds devices, masq_native pod and
					 * non-masquerade CIDRs (masq-ctl); 8: the dsr map (a
					 * backend's node: flow -> frontend); 9: dev_addrs
					 * flags (internal devices); 10: config's
					 * dsr_dispatch (opt or ipip); 11: maglev a
					 * hash of maps (the kernel deletes from those
					 * in batches, one RCU wait each); 12: backend
					 * stats per (service, backend); 13: a "*:PORT"
					 * frontend names its family (KPR_ANY_FAMILY) */

/* Default sizes, chosen at creation; lb-mode shows the ones in force. */
#define KPR_MAX_SERVICES	131072
#define KPR_MAX_BACKENDS	262144
#define KPR_MAX_SLOTS		1048576	/* svc_backends: both generations */
#define KPR_MAX_CT		262144
#define KPR_MAX_NAT		262144
#define KPR_MAX_AFFINITY	65536
#define KPR_MAX_NODE_ADDRS	256
#define KPR_MAX_NATIVE_CIDRS	1024	/* masq_native: pod and non-masquerade CIDRs */
/* stats: every service, every (service, backend) slot of one generation,
 * the node's and masquerade's few */
#define KPR_MAX_STATS		(KPR_MAX_SERVICES + KPR_MAX_SLOTS / 2 + 64)
#define KPR_MAX_SOCK_REVNAT	65536
#define KPR_MAGLEV_INNER_MAX	131071	/* the largest table size */
#define KPR_MAX_DEVS		256
#define KPR_MAX_SVC_ADDRS	(2 * KPR_MAX_SERVICES)	/* both classes of every address */
#define KPR_MAX_DSR		KPR_MAX_CT

#define KPR_MAX_BACKENDS_PER_SVC 65535

/*
 * Every pinned map by name, in the order of their declarations in
 * bpf/lib/maps.h (type, size and flags live there, next to the BTF that
 * libbpf needs). The tools' map descriptors (struct kpr_state) are generated
 * from this list, and common/state/state.c does not compile when the list and
 * the declarations disagree. Adding a map: its key and value here, its name
 * here, its declaration there, and KPR_LAYOUT_VERSION bumped.
 */
#define KPR_MAPS(X)							\
	X(config) X(services) X(backends) X(backend_idx) X(svc_backends)	\
	X(maglev) X(revnat) X(ct) X(nat) X(affinity) X(node_addrs)	\
	X(masq) X(masq_native) X(stats) X(sock_revnat) X(dev_addrs)	\
	X(svc_addrs) X(dsr)

enum kpr_family {
	KPR_FAM_ANY = 0,	/* "*:PORT" NodePort frontends: every node address */
	KPR_FAM_V4 = 4,
	KPR_FAM_V6 = 6,
};

union kpr_addr {
	__u8 b[16];
	__u32 w[4];
	__u32 v4;		/* network order, in w[0] */
};

/*
 * A "*:PORT" (IPv4) or "[*]:PORT" (IPv6) NodePort frontend has family
 * KPR_FAM_ANY and, as its address, the family of the node addresses it
 * serves in the first word, the rest zero: one NodePort of each family on
 * a port, as a dual-stack Service has.
 */
#define KPR_ANY_FAMILY(a)	((a)->w[0])

/* An endpoint: the common prefix of frontends and backends. */
struct kpr_l4addr {
	union kpr_addr addr;
	__be16 port;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* enum kpr_family */
};

enum kpr_svc_type {
	KPR_SVC_CLUSTERIP = 1,
	KPR_SVC_NODEPORT,
	KPR_SVC_LOADBALANCER,
	KPR_SVC_EXTERNALIP,
};

enum kpr_scope {
	KPR_SCOPE_EXT = 0,
	KPR_SCOPE_INT = 1,	/* Cilium's internal-traffic-policy frontend */
};

/* 0 means "what lb-mode says" for both. */
enum kpr_alg {
	KPR_ALG_DEFAULT = 0,
	KPR_ALG_RANDOM,
	KPR_ALG_MAGLEV,
};

enum kpr_mode {
	KPR_MODE_DEFAULT = 0,
	KPR_MODE_SNAT,
	KPR_MODE_DSR,
	KPR_MODE_HYBRID,	/* lb-mode only: DSR for TCP, SNAT for UDP */
};

/* How a DSR flow's frontend travels to the backend's node (docs/dsr-wire.md). */
enum kpr_dsr_dispatch {
	KPR_DISPATCH_DEFAULT = 0,	/* the option */
	KPR_DISPATCH_OPT,		/* Cilium's IPv4 option / IPv6 Destination Options */
	KPR_DISPATCH_IPIP,		/* kpr's outer IPv4/IPv6 header, to the backend's node */
};

enum kpr_backend_state {
	KPR_BE_ACTIVE = 0,
	KPR_BE_TERMINATING,
	KPR_BE_QUARANTINED,
	KPR_BE_MAINTENANCE,
};

/* services: frontend -> service */
struct kpr_svc_key {
	struct kpr_l4addr fe;
	__u8 scope;		/* enum kpr_scope */
	__u8 pad[3];
};

/*
 * Slots of a service live in svc_backends under one of two generations. A
 * writer fills the generation not in use, then flips KPR_SVC_F_GEN here with a
 * single map update, then deletes the old generation: a packet sees either
 * the old backend set or the new one, never a mix.
 *
 * Slots [0, active) hold the backends that take new flows; [active, total)
 * the terminating, quarantined and maintenance ones, kept so that listing and
 * established flows still find them.
 */
#define KPR_SVC_F_GEN		0x01
/* The active backends' weights differ: a random service then draws its
 * backend from a (weighted) Maglev table at a random index, so that each
 * backend's share of new flows follows its weight, as Maglev's does. */
#define KPR_SVC_F_WEIGHTED	0x02
#define KPR_SLOT_GEN_BIT	0x80000000u

struct kpr_svc {
	__u32 id;
	__u16 active;
	__u16 total;
	__u8 type;		/* enum kpr_svc_type */
	__u8 flags;		/* KPR_SVC_F_* */
	__u8 algorithm;		/* enum kpr_alg */
	__u8 mode;		/* enum kpr_mode */
	__u32 affinity_timeout;	/* seconds; 0: no client affinity */
};

/* backends: backend id -> backend. Ids are shared by every service that
 * names the same address:port/protocol. */
struct kpr_backend {
	struct kpr_l4addr be;
	__u8 state;		/* enum kpr_backend_state */
	__u8 pad;
	__u16 weight;		/* 1 when not given */
};

/* backend_idx: address:port/protocol -> id and reference count. Control
 * plane only: without a daemon, the index that finds a backend's id must be
 * pinned state too. */
struct kpr_backend_ref {
	__u32 id;
	__u32 refcnt;
};

/* svc_backends: (service, generation | slot) -> backend id */
struct kpr_slot_key {
	__u32 svc_id;
	__u32 slot;
};

/* maglev: service id -> inner ARRAY of M backend ids. A HASH_OF_MAPS: every
 * syscall on a map-in-map waits for RCU, and only a hash deletes in batches.
 * The inner maps carry BPF_F_INNER_MAP (any size fits) and BPF_F_MMAPABLE (a
 * table is written with a memory copy, not element by element). */
#define KPR_MAGLEV_INNER_FLAGS	(BPF_F_INNER_MAP | BPF_F_MMAPABLE)

/* revnat: service id -> frontend (struct kpr_svc_key). */

/* ct: a flow as the node received it -> where it went. */
enum kpr_ct_dir {
	KPR_CT_FWD = 0,		/* client -> frontend */
	KPR_CT_REV,		/* replies: unused since nat holds them in slots */
	KPR_CT_IN,		/* a flow into a pod CIDR, as received: its replies
				 * are not masqueraded */
};

struct kpr_flow_key {
	union kpr_addr saddr;
	union kpr_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 dir;		/* enum kpr_ct_dir */
	__u8 pad;
};

#define KPR_CT_F_SYN_SEEN	0x01
#define KPR_CT_F_FIN_SEEN	0x02
#define KPR_CT_F_DSR		0x04
#define KPR_CT_F_SNAT		0x08
#define KPR_CT_F_RST		0x10	/* an RST went by (FIN_SEEN is set with it) */
#define KPR_NAT_F_TW		0x20	/* nat slots: the backend's FIN came first, so
					 * the backend holds the tuple in TIME_WAIT */
#define KPR_CT_F_MASQ		0x40	/* a masqueraded flow: pod -> outside */
#define KPR_CT_F_IPIP		0x80	/* a DSR flow dispatched in IPIP */

struct kpr_ct {
	__u64 last_seen;	/* bpf_ktime_get_coarse_ns() */
	__u32 backend_id;
	__u32 svc_id;
	__u32 flags;		/* KPR_CT_F_* */
	__be16 nat_port;	/* the node port chosen for SNAT */
	__u16 pad;
};

/*
 * nat: the one SNAT table, shared by node-port SNAT and masquerade, and its
 * port allocator. An ARRAY of port slots, not a hash: a new flow claims a
 * slot with one compare-and-swap instead of a hash-table insert (which
 * costs as much as the rest of a new flow: a lock, an LRU node, a copy),
 * and a reply finds its slot by index, with no hashing.
 *
 * A slot is (bucket, low 15 bits of the port). A flow's home bucket is a
 * hash of the flow as its replies arrive (peer address:port/protocol and the
 * node address, kpr_nat_bucket() in bpf/lib/nat_slot.h); its slot is the
 * first free one of its port's eight, from the home bucket on, and the
 * home slot's `homed` bit k says that bucket home + k holds a flow of this
 * home for this port. So any peer may use every port of the range as long
 * as one of a port's eight slots is free: peers that share a home bucket do
 * not share its ports, and a reply costs one lookup unless its port was
 * taken by another peer at home. The slot holds
 * the reply's full tuple, checked on every lookup, and everything needed to
 * translate the reply back: the client, and the frontend as the client
 * addressed it (for a "*:PORT" NodePort, the node address it used, which no
 * other map holds).
 *
 * A slot is free when it was never used (last_seen 0) or when its flow is
 * over (kpr_flow_dead() in bpf/lib/nat.h): a flow the backend closed first
 * keeps its slot KPR_NAT_TW_TIMEOUT seconds after its last reply, longer than
 * the backend's TIME_WAIT; one the client closed first, KPR_CT_CLOSING_TIMEOUT
 * (the backend then holds no TIME_WAIT); one that saw an RST, a second. An
 * open flow keeps it until its replies (the slot) and requests (ct) both
 * time out. Nothing evicts a live flow's slot: a new flow that finds no
 * free slot is dropped and counted (kpr_stats.nat_fail).
 */
#define KPR_NAT_PORT_BITS	15
#define KPR_NAT_BUCKETS		(KPR_MAX_NAT >> KPR_NAT_PORT_BITS)

struct kpr_nat {
	__u64 last_seen;		/* claimed by compare-and-swap from a free value */
	__u64 homed;			/* bit k: slot (this bucket + k, this port) holds a
					 * flow whose home is this bucket; the slot's, not
					 * its flow's: a claim never copies it */
	struct kpr_l4addr peer;		/* the backend, as replies come from it */
	union kpr_addr snat;		/* the node address replies come to */
	__be16 port;			/* the nat port, the replies' destination port */
	__u16 pad;
	__u32 flags;			/* KPR_CT_F_FIN_SEEN, _RST: from the backend;
					 * KPR_NAT_F_TW: its FIN came first */
	struct kpr_l4addr client;
	struct kpr_l4addr frontend;
	__u32 svc_id;			/* 0 for masquerade */
	__u32 backend_id;
};

/* affinity: (client, service) -> backend */
struct kpr_affinity_key {
	union kpr_addr client;
	__u32 svc_id;
	__u8 family;
	__u8 pad[3];
};

struct kpr_affinity {
	__u64 last_used;	/* bpf_ktime_get_coarse_ns() */
	__u32 backend_id;
	__u32 pad;
};

/* config: ARRAY[1]. Magic and layout come first so that any later layout can
 * still read them. */
#define KPR_CFG_EXTERNAL_CLUSTERIP	0x01
#define KPR_CFG_SOCKET_LB		0x02
#define KPR_CFG_SOCK_HOSTNS_ONLY	0x04
#define KPR_CFG_ICMP_ECHO		0x08

#define KPR_MAGLEV_DEFAULT_SIZE	16381
#define KPR_SEED_LEN		12

struct kpr_config {
	__u32 magic;		/* KPR_MAGIC */
	__u32 layout;		/* KPR_LAYOUT_VERSION */
	__u8 mode;		/* enum kpr_mode, never DEFAULT */
	__u8 algorithm;		/* enum kpr_alg, never DEFAULT */
	__u8 dsr_dispatch;	/* enum kpr_dsr_dispatch, never DEFAULT */
	__u8 pad0;
	__u32 flags;		/* KPR_CFG_* */
	__u32 maglev_size;
	__u8 maglev_seed[KPR_SEED_LEN];
	__u64 hostns_cookie;
	__u16 nat_port_min;	/* host order */
	__u16 nat_port_max;
	__u32 ct_timeout_tcp;	/* seconds */
	__u32 ct_timeout_udp;
	/* allocation hints of the control plane: where to look for a free id */
	__u32 next_svc_id;
	__u32 next_backend_id;
	__u32 pad1;
};

/* node_addrs: the node's addresses (NodePort frontends on every one). */
struct kpr_node_addr_key {
	union kpr_addr addr;
	__u8 family;
	__u8 pad[3];
};

struct kpr_node_addr {
	__u32 ifindex;
	__u32 flags;
};

/*
 * masq: ARRAY[1], the masquerade switches (masq-ctl). A packet leaving one
 * of the devices (every attached one when n_devs is 0) from a pod CIDR to a
 * destination outside every non-masquerade CIDR leaves from masq_ip4/6, or
 * the device's address when that is zero, and a port of the nat allocator
 * (its slot's svc_id is 0). ICMP echo is translated by its identifier,
 * which then stands in for the ports (the peer's "port" is 0).
 */
#define KPR_MASQ_V4		0x01
#define KPR_MASQ_V6		0x02
#define KPR_MASQ_MAX_DEVS	16

struct kpr_masq {
	__u32 flags;		/* KPR_MASQ_* */
	__u32 n_devs;		/* 0: every attached device */
	__u32 ifindex[KPR_MASQ_MAX_DEVS];
	union kpr_addr masq_ip4;	/* zero: the device's address */
	union kpr_addr masq_ip6;
};

/* masq_native: LPM_TRIE of the pod CIDRs and the non-masquerade CIDRs, one
 * trie keyed by kind, family and address (prefixlen counts the kind and
 * family bytes: 16 + the CIDR's prefix). The value is unused (1). */
enum kpr_masq_kind {
	KPR_MASQ_POD = 1,
	KPR_MASQ_NONMASQ,
};

struct kpr_lpm_key {
	__u32 prefixlen;
	__u8 kind;		/* enum kpr_masq_kind */
	__u8 family;
	__u8 addr[16];
};

#define KPR_LPM_HDR_BITS	16

/* stats: PERCPU_HASH, per service and per (service, backend) */
enum kpr_stats_kind {
	KPR_STATS_SVC = 1,
	KPR_STATS_BACKEND,
	KPR_STATS_NODE,		/* id 0: the node as a whole */
	KPR_STATS_MASQ,		/* id KPR_MASQ_ST_*: masquerade, per family */
};

/* Ids of KPR_STATS_MASQ: a family (4 or 6) for packets leaving masqueraded,
 * with the family and KPR_MASQ_ST_REPLY for their replies. drops are the
 * new flows dropped, nat_fail those for want of a port, the rest for want
 * of an address of the family on the device. */
#define KPR_MASQ_ST_REPLY	0x100

/*
 * kind: an enum kpr_stats_kind; for KPR_STATS_BACKEND the id of the service
 * whose packets these were sits above it (KPR_STATS_BE_KIND), so that a
 * service's backends add up to the service. Eight bytes, as before the
 * service was in it: the key is hashed twice per packet, and a larger one
 * costs stack that the datapath's deepest paths do not have.
 */
struct kpr_stats_key {
	__u32 kind;
	__u32 id;
};

#define KPR_STATS_SVC_SHIFT	8
#define KPR_STATS_BE_KIND(svc_id)	(KPR_STATS_BACKEND | (__u32)(svc_id) << KPR_STATS_SVC_SHIFT)

struct kpr_stats {
	__u64 packets;
	__u64 bytes;
	__u64 flows;
	__u64 drops;
	__u64 nat_fail;		/* new flows dropped: no free nat port (also in drops) */
};

/* sock_revnat: (socket cookie, backend) -> frontend, for UDP socket LB */
struct kpr_sock_revnat_key {
	__u64 cookie;
	union kpr_addr addr;
	__be16 port;
	__u8 family;
	__u8 pad[5];
};

/*
 * Maps of the node datapath beside the ones above.
 *
 * dev_addrs: ifindex of an attached device -> its first address of each
 * family. SNAT rewrites the source to the address of the device the packet
 * leaves by, which bpf_fib_lookup names.
 */
struct kpr_dev_addrs {
	union kpr_addr v4;
	union kpr_addr v6;
	__u8 has_v4;
	__u8 has_v6;
	__u8 flags;		/* KPR_DEV_F_* */
	__u8 pad[5];
};

/* A pod's host-side veth (xdp-attach --internal): the pods' packets to a
 * ClusterIP arrive there, so ClusterIP frontends are served on it whatever
 * --external-clusterip says. */
#define KPR_DEV_F_INTERNAL	0x01

/* A TCP flow that saw a FIN or RST expires this long after its last
 * packet, so that closed flows give their nat port back. */
#define KPR_CT_CLOSING_TIMEOUT	10

/* A nat slot whose backend sent the first FIN is held this long after its
 * last reply: the backend keeps the tuple in TIME_WAIT for 60 s (Linux's
 * TCP_TIMEWAIT_LEN), and slots are refreshed once a second. */
#define KPR_NAT_TW_TIMEOUT	63

/*
 * svc_addrs: every service frontend address -> number of frontends on it,
 * kept by the control plane, so that the datapath can answer ICMP echo
 * requests to a service address, which carry no port to look a service up
 * by. Each address has an entry of class KPR_SVC_ADDR_ALL and, when a
 * frontend on it is reachable from outside the node (any type but
 * ClusterIP), one of KPR_SVC_ADDR_EXT counting those: an address of
 * ClusterIPs alone answers only where its TCP would be served.
 */
struct kpr_svc_addr_key {
	union kpr_addr addr;
	__u8 family;
	__u8 class;	/* KPR_SVC_ADDR_* */
	__u8 pad[2];
};

#define KPR_SVC_ADDR_ALL	0
#define KPR_SVC_ADDR_EXT	1

/*
 * dsr: on a backend's node, a flow that came in with a DSR option (or from
 * this node's own XDP for a backend it hosts), keyed as it arrived (client
 * -> backend, dir KPR_CT_FWD), -> the frontend its replies must come from.
 * Written by XDP ingress, read by tc egress; timed out as ct is.
 */
struct kpr_dsr {
	__u64 last_seen;	/* bpf_ktime_get_coarse_ns() */
	struct kpr_l4addr frontend;
	__u32 flags;		/* KPR_CT_F_FIN_SEEN, _RST: closing, from the replies */
	__u32 pad;
};

#endif /* KPR_MAPS_H */
