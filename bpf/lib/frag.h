/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fragmented datagrams. Only the first fragment carries the ports that name
 * the flow, so it is translated as any packet of its flow is, and the
 * addresses it left with are noted here under what names the datagram
 * (source, destination, protocol, IP ID, as the fragment arrived). A later
 * fragment is found by that key and leaves with the same addresses; nothing
 * else of it changes (the L4 sum, in the first fragment, covers the whole
 * datagram and was updated there), so the receiver reassembles a datagram
 * that was translated as one. kube-proxy gets this from conntrack's
 * reassembly; Cilium keeps the first fragment's ports by IP ID likewise.
 *
 * A later fragment that arrives before its first, or whose datagram is none
 * of ours, passes to the stack untouched: the datapath holds no fragment
 * back, and the node's own fragmented traffic must reach the node.
 *
 * The map is each program object's own (XDP ingress, tc egress), sized at
 * creation, not pinned: losing it with a reload loses only the datagrams
 * in flight. An entry serves for KPR_FRAG_TIMEOUT, the kernel's own
 * reassembly timeout (net.ipv4.ipfrag_time); the LRU makes room for new
 * datagrams under a flood.
 */
#ifndef KPR_LIB_FRAG_H
#define KPR_LIB_FRAG_H

#include "ct.h"
#include "parse.h"

#define KPR_FRAG_MAX		8192
#define KPR_FRAG_TIMEOUT	30

struct kpr_frag_key {
	union kpr_addr saddr, daddr;
	__be32 id;
	__u8 proto;
	__u8 family;
	__u16 pad;
};

struct kpr_frag {
	__u64 seen;
	union kpr_addr saddr, daddr;	/* as the first fragment left */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KPR_FRAG_MAX);
	__type(key, struct kpr_frag_key);
	__type(value, struct kpr_frag);
} frag SEC(".maps");

/* Built here, not on the stack of the deepest call chains. */
struct kpr_frag_tmp {
	struct kpr_frag_key k;
	struct kpr_frag v;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpr_frag_tmp);
} frag_tmp SEC(".maps");

static __always_inline void kpr_frag_key(struct kpr_frag_key *k, const struct kpr_pkt *p)
{
	k->saddr = p->key.saddr;
	k->daddr = p->key.daddr;
	k->id = p->frag_id;
	k->proto = p->key.proto;
	k->family = p->key.family;
	k->pad = 0;
}

/* The first fragment p leaves from saddr to daddr: its datagram's later
 * fragments will too. A new datagram on the same key (the ID wrapped)
 * replaces the old entry. */
static __noinline __attribute__((unused)) void kpr_frag_note(const struct kpr_pkt *p, const union kpr_addr *saddr,
				     const union kpr_addr *daddr)
{
	__u32 zero = 0;
	struct kpr_frag_tmp *t = bpf_map_lookup_elem(&frag_tmp, &zero);

	if (!t)
		return;
	kpr_frag_key(&t->k, p);
	t->v.seen = kpr_now();
	t->v.saddr = *saddr;
	t->v.daddr = *daddr;
	bpf_map_update_elem(&frag, &t->k, &t->v, BPF_ANY);
}

/* The entry of later fragment p's datagram, or NULL. */
static __always_inline struct kpr_frag *kpr_frag_find(const struct kpr_pkt *p)
{
	__u32 zero = 0;
	struct kpr_frag_tmp *t = bpf_map_lookup_elem(&frag_tmp, &zero);
	struct kpr_frag *e;

	if (!t)
		return NULL;
	kpr_frag_key(&t->k, p);
	e = bpf_map_lookup_elem(&frag, &t->k);
	if (!e || kpr_stale(e->seen, kpr_now(), KPR_FRAG_TIMEOUT))
		return NULL;
	return e;
}

#endif
