// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark wrappers around the XDP datapath, for BPF_PROG_TEST_RUN only
 * (tests/bench/datapath.sh). The test run reuses one packet buffer for
 * every repeat, and the datapath rewrites packets: measured naively, the
 * second repeat would see the first one's output. So each wrapper saves
 * the bytes the datapath may rewrite, runs it, and puts them back;
 * bench_wrap_empty does the same around nothing, to calibrate the wrapper.
 * bench_new_flow also gives every repeat a new client port and address,
 * so that each one is a new flow; bench_syn_warm instead undoes the state
 * the packet created (its ct and nat entries) with the rewrite, so that one
 * warm flow is a new flow again at every repeat, as in Katran's figure.
 * bench_dsr_flow and bench_dsr_syn also put the packet's head back where it
 * was, for the paths that move it (DSR's option and outer header pushed on
 * the LB side, the outer header taken off on the backend's); the SYN's
 * undo is its ct entry (a DSR flow claims no nat slot).
 */
#include "lib/xdp.h"

#define BENCH_SAVE	54	/* Ethernet + IPv4 + TCP: the rewritten bytes */

struct bench_save {
	__u64 w[6];
	__u32 w4;
	__u16 w2;
	struct kpr_flow_key k;	/* bench_syn_warm's, off the stack */
};

/* Word by word: a byte-wise memcpy (the packet's alignment is unknown to
 * the compiler) would make the wrapper cost more than what it wraps; x86
 * takes unaligned loads and the verifier allows them on packets. */
static __always_inline void copy54(void *dst, const void *src)
{
	for (int i = 0; i < 6; i++)
		((__u64 *)dst)[i] = ((const __u64 *)src)[i];
	*(__u32 *)(dst + 48) = *(const __u32 *)(src + 48);
	*(__u16 *)(dst + 52) = *(const __u16 *)(src + 52);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_save);
} bench_saved SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_counter SEC(".maps");

static __always_inline struct bench_save *save(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct bench_save *s = bpf_map_lookup_elem(&bench_saved, &zero);

	if (!s || data + BENCH_SAVE > end)
		return NULL;
	copy54(s, data);
	return s;
}

/* The saved bytes are looked up again rather than kept: a pointer held
 * across the datapath is one more value its deepest path must keep on the
 * stack, which the verifier's 512 bytes do not always have room for. */
static __always_inline void restore(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct bench_save *s = bpf_map_lookup_elem(&bench_saved, &zero);

	if (s && data + BENCH_SAVE <= end)
		copy54(data, s);
}

SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bench_wrap_empty(struct xdp_md *ctx)
{
	struct bench_save *s = save(ctx);

	if (!s)
		return XDP_ABORTED;
	asm volatile("" ::: "memory");
	restore(ctx);
	return XDP_PASS;
}

/* The datapath once, unwrapped: its output is the packet to look at. */
SEC("xdp")
int bench_plain(struct xdp_md *ctx)
{
	return kpr_xdp(ctx);
}

SEC("xdp")
int bench_flow(struct xdp_md *ctx)
{
	struct bench_save *s = save(ctx);
	int rc;

	if (!s)
		return XDP_ABORTED;
	rc = kpr_xdp(ctx);
	restore(ctx);
	return rc;
}

SEC("xdp")
int bench_new_flow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct bench_save *s = save(ctx);
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);
	__u32 zero = 0, *n = bpf_map_lookup_elem(&bench_counter, &zero);
	int rc;

	if (!s || !n || (void *)(th + 1) > end)
		return XDP_ABORTED;
	/* a new client port, and after 64k of them a new client address; the
	 * checksums go stale, which the datapath does not check */
	(*n)++;
	th->source = bpf_htons(1024 + (*n & 0x7fff));
	((__u16 *)&ip->saddr)[1] = bpf_htons((__u16)(*n >> 15));
	rc = kpr_xdp(ctx);
	restore(ctx);
	return rc;
}

/* The flow key of the IPv4 TCP packet ip/th as it arrived. */
static __always_inline void flow_key_of(struct kpr_flow_key *k, const struct iphdr *ip,
					const struct tcphdr *th)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->proto = IPPROTO_TCP;
	k->family = KPR_FAM_V4;
	k->saddr.v4 = ip->saddr;
	k->daddr.v4 = ip->daddr;
	k->sport = th->source;
	k->dport = th->dest;
}

/* The datapath on a packet whose head it may move, put back as it came;
 * with syn, its flow's ct entry deleted first. */
static __always_inline int bench_dsr(struct xdp_md *ctx, bool syn)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct bench_save *s = save(ctx);
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);
	__u64 len = bpf_xdp_get_buff_len(ctx);
	int rc, grown;

	if (!s || (void *)(th + 1) > end)
		return XDP_ABORTED;
	if (syn) {
		flow_key_of(&s->k, ip, th);
		bpf_map_delete_elem(&ct, &s->k);
	}
	rc = kpr_xdp(ctx);
	grown = (int)(bpf_xdp_get_buff_len(ctx) - len);
	if (grown && bpf_xdp_adjust_head(ctx, grown))
		return XDP_ABORTED;
	restore(ctx);
	return rc;
}

SEC("xdp")
int bench_dsr_flow(struct xdp_md *ctx)
{
	return bench_dsr(ctx, false);
}

SEC("xdp")
int bench_dsr_syn(struct xdp_md *ctx)
{
	return bench_dsr(ctx, true);
}

/*
 * The same SYN at every repeat, each one a new flow that inserts its ct entry
 * and claims a nat slot: the wrapper deletes the flow's ct entry before the
 * datapath runs, and frees the slot afterwards (found from the packet as it
 * left, as its reply would find it). Both undos are inside the measured time.
 */
SEC("xdp")
int bench_syn_warm(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct bench_save *s = save(ctx);
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);
	struct kpr_flow_key *k;
	struct kpr_nat *rf;
	__u32 zero = 0;
	int rc;

	if (!s || (void *)(th + 1) > end)
		return XDP_ABORTED;
	flow_key_of(&s->k, ip, th);
	bpf_map_delete_elem(&ct, &s->k);
	rc = kpr_xdp(ctx);
	/* looked up again, as restore() does, rather than held across */
	s = bpf_map_lookup_elem(&bench_saved, &zero);
	if (!s)
		return XDP_ABORTED;
	k = &s->k;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip = data + sizeof(struct ethhdr);
	th = (void *)(ip + 1);
	if ((void *)(th + 1) > end)
		return XDP_ABORTED;
	/* the reply's tuple: from the backend to the node's address and port */
	k->saddr.v4 = ip->daddr;
	k->daddr.v4 = ip->saddr;
	rf = kpr_nat_lookup(&k->saddr, th->dest, IPPROTO_TCP, KPR_FAM_V4, &k->daddr, th->source);
	if (rf)
		rf->last_seen = 0;
	restore(ctx);
	return rc;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
