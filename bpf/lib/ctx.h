/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The context shim: the one header of bpf/lib that knows which program type
 * it is compiled for. Blocks take a kpr_ctx_t (an XDP buffer or an skb),
 * read the packet through the accessors below and answer with a
 * kpr_verdict; only entry points turn a verdict into XDP_* or TC_ACT_*.
 *
 * The program type is a property of the object, not of the packet: an
 * object with tc programs defines KPR_CTX_SKB before its first include, as
 * Cilium builds one object per hook. So every branch on it below folds at
 * compile time, and the XDP datapath is the same instructions it was
 * before the shim.
 */
#ifndef KPR_LIB_CTX_H
#define KPR_LIB_CTX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#ifdef KPR_CTX_SKB
typedef struct __sk_buff kpr_ctx_t;
#define KPR_CTX_IS_XDP	0
#else
typedef struct xdp_md kpr_ctx_t;
#define KPR_CTX_IS_XDP	1
#endif

/*
 * What a block decided. The values are XDP's own, so that mapping a verdict
 * to XDP costs nothing; tc has its own numbers and kpr_to_tc() maps them.
 */
enum kpr_verdict {
	KPR_DROP = 1,		/* and counted by the block that decided it */
	KPR_PASS = 2,		/* to the stack, as it came or as rewritten */
	KPR_TX = 3,		/* back out of the device it is on */
	KPR_REDIRECT = 4,	/* kpr_ctx_redirect() chose the device */
};

_Static_assert(KPR_DROP == XDP_DROP && KPR_PASS == XDP_PASS && KPR_TX == XDP_TX &&
	       KPR_REDIRECT == XDP_REDIRECT, "kpr verdicts are XDP's numbers");

static __always_inline void *kpr_ctx_data(const kpr_ctx_t *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *kpr_ctx_data_end(const kpr_ctx_t *ctx)
{
	return (void *)(long)ctx->data_end;
}

/* The device the packet came in by (both contexts name it alike). */
static __always_inline __u32 kpr_ctx_ifindex_in(const kpr_ctx_t *ctx)
{
	return ctx->ingress_ifindex;
}

/* The device the program runs on: at tc egress the one the packet leaves
 * by, in XDP the one it came in by. */
static __always_inline __u32 kpr_ctx_ifindex(const kpr_ctx_t *ctx)
{
#if KPR_CTX_IS_XDP
	return ctx->ingress_ifindex;
#else
	return ctx->ifindex;
#endif
}

/* Moves the packet's end by delta bytes: 0, or a negative errno. Every
 * packet pointer is to be read again afterwards. */
static __always_inline long kpr_ctx_adjust_tail(kpr_ctx_t *ctx, int delta)
{
#if KPR_CTX_IS_XDP
	return bpf_xdp_adjust_tail(ctx, delta);
#else
	return bpf_skb_change_tail(ctx, ctx->len + delta, 0);
#endif
}

/* Grows (delta < 0) or shrinks the packet at its start, as
 * bpf_xdp_adjust_head() counts it. The same rule for pointers. */
static __always_inline long kpr_ctx_adjust_head(kpr_ctx_t *ctx, int delta)
{
#if KPR_CTX_IS_XDP
	return bpf_xdp_adjust_head(ctx, delta);
#else
	if (delta > 0)
		return -1;	/* an skb is cut at its head by the stack, not here */
	return bpf_skb_change_head(ctx, -delta, 0);
#endif
}

static __always_inline long kpr_ctx_fib_lookup(kpr_ctx_t *ctx, struct bpf_fib_lookup *fib)
{
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/* Sends the packet out of ifindex: KPR_REDIRECT, or KPR_DROP when the
 * helper refused. */
static __always_inline enum kpr_verdict kpr_ctx_redirect(__u32 ifindex)
{
#if KPR_CTX_IS_XDP
	/* bpf_redirect() answers in XDP's numbers, which are ours */
	return bpf_redirect(ifindex, 0);
#else
	return bpf_redirect(ifindex, 0) == TC_ACT_REDIRECT ? KPR_REDIRECT : KPR_DROP;
#endif
}

/* For entry points only, from here on. */

#if KPR_CTX_IS_XDP
static __always_inline int kpr_to_xdp(enum kpr_verdict v)
{
	return v;
}
#else
/* tc has no "back out of this device" verdict: a redirect to the device
 * the skb is on does it. */
static __always_inline int kpr_to_tc(kpr_ctx_t *ctx, enum kpr_verdict v)
{
	switch (v) {
	case KPR_PASS:
		return TC_ACT_OK;
	case KPR_REDIRECT:
		return TC_ACT_REDIRECT;
	case KPR_TX:
		return bpf_redirect(ctx->ifindex, 0);
	default:
		return TC_ACT_SHOT;
	}
}
#endif

#endif
