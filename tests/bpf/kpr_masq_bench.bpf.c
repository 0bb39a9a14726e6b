// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark wrappers around masquerade at tc egress (bpf/lib/masq.h), for
 * BPF_PROG_TEST_RUN only (tests/bench/xdp_bench.c). As in kpr_bench.bpf.c,
 * the test run reuses one skb for every repeat: each wrapper saves the 54
 * bytes masquerade may rewrite and puts them back, and mb_wrap_empty does
 * the same around nothing. mb_syn_warm makes one pod's SYN a new flow at
 * every repeat: it deletes the flow's ct entry before, and frees the nat
 * slot it claimed after, both inside the measured time.
 */
#define KPR_CTX_SKB
#include "lib/parse.h"
#include "lib/masq.h"

#define MB_SAVE	54	/* Ethernet + IPv4 + TCP */

struct mb_save {
	__u8 b[MB_SAVE];
	__u8 pad[2];
	struct kpr_flow_key k;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mb_save);
} mb_saved SEC(".maps");

static __always_inline struct mb_save *mb_save(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct mb_save *s = bpf_map_lookup_elem(&mb_saved, &zero);

	if (!s || bpf_skb_load_bytes(skb, 0, s->b, MB_SAVE))
		return NULL;
	return s;
}

static __always_inline void mb_restore(struct __sk_buff *skb, struct mb_save *s)
{
	bpf_skb_store_bytes(skb, 0, s->b, MB_SAVE, 0);
}

static __always_inline enum kpr_verdict mb_masq(struct __sk_buff *skb)
{
	struct kpr_pkt p = {};

	if (kpr_parse(skb, &p))
		return KPR_PASS;
	return kpr_masq_egress(skb, &p);
}

SEC("tc")
int mb_empty(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tc")
int mb_wrap_empty(struct __sk_buff *skb)
{
	struct mb_save *s = mb_save(skb);

	if (!s)
		return TC_ACT_SHOT;
	asm volatile("" ::: "memory");
	mb_restore(skb, s);
	return TC_ACT_OK;
}

/* Once, unwrapped: its output is the packet to look at. */
SEC("tc")
int mb_plain(struct __sk_buff *skb)
{
	return kpr_to_tc(skb, mb_masq(skb));
}

SEC("tc")
int mb_flow(struct __sk_buff *skb)
{
	struct mb_save *s = mb_save(skb);
	enum kpr_verdict v;

	if (!s)
		return TC_ACT_SHOT;
	v = mb_masq(skb);
	mb_restore(skb, s);
	return kpr_to_tc(skb, v);
}

SEC("tc")
int mb_syn_warm(struct __sk_buff *skb)
{
	struct mb_save *s = mb_save(skb);
	struct kpr_flow_key *k;
	struct kpr_nat *rf;
	__be32 addr[2];
	__be16 port[2];
	enum kpr_verdict v;
	__u32 idx;

	if (!s)
		return TC_ACT_SHOT;
	k = &s->k;
	__builtin_memset(k, 0, sizeof(*k));
	k->proto = IPPROTO_TCP;
	k->family = KPR_FAM_V4;
	__builtin_memcpy(&k->saddr.v4, s->b + 26, 4);
	__builtin_memcpy(&k->daddr.v4, s->b + 30, 4);
	__builtin_memcpy(&k->sport, s->b + 34, 2);
	__builtin_memcpy(&k->dport, s->b + 36, 2);
	bpf_map_delete_elem(&ct, k);
	v = mb_masq(skb);
	/* the reply's tuple: from the server to the node's address and port */
	if (bpf_skb_load_bytes(skb, 26, addr, sizeof(addr)) ||
	    bpf_skb_load_bytes(skb, 34, port, sizeof(port)))
		return TC_ACT_SHOT;
	k->saddr.v4 = addr[1];
	k->daddr.v4 = addr[0];
	idx = kpr_nat_slot(kpr_nat_bucket(&k->saddr, port[1], IPPROTO_TCP, KPR_FAM_V4, &k->daddr),
			   port[0]);
	rf = bpf_map_lookup_elem(&nat, &idx);
	if (rf && rf->port == port[0])
		rf->last_seen = 0;
	mb_restore(skb, s);
	return kpr_to_tc(skb, v);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
