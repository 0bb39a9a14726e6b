/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Checksums, behind one interface: a block gathers the change of every field
 * it rewrites (kpr_csum_diff*() into a struct kpr_csum_upd), writes the
 * fields, then kpr_csum_commit() writes the sums. In XDP that is an
 * incremental update in place; in tc it is bpf_l3_csum_replace() and
 * bpf_l4_csum_replace(), which also keep the skb's checksum state right.
 *
 * Incremental checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')).
 * Words are summed as they lie in the packet, in 32-bit pieces: the one's
 * complement sum of 16-bit words is the folded sum of 32-bit words, so no
 * byte swapping is needed. A field that still holds only the pseudo-header
 * sum (checksum offload pending) would need the opposite sign and comes out
 * wrong: such packets are not supported, which is why the lab turns the
 * veths' tx offload off (docs/design.md).
 */
#ifndef KPR_LIB_CSUM_H
#define KPR_LIB_CSUM_H

#include <linux/types.h>
#include <stdbool.h>
#ifndef KPR_LIB_CSUM_STANDALONE	/* tests/unit/test_csum.c, in user space */
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

#include "ctx.h"
#endif

static __always_inline __u16 kpr_csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* Accumulates the change of one 32-bit word from 'from' to 'to'. */
static __always_inline __u64 kpr_csum_diff32(__u64 acc, __u32 from, __u32 to)
{
	return acc + (__u32)~from + to;
}

static __always_inline __u64 kpr_csum_diff16(__u64 acc, __u16 from, __u16 to)
{
	return acc + (__u16)~from + to;
}

/* The change of a 16-byte address (only the first word for IPv4). */
static __always_inline __u64 kpr_csum_diff_addr(__u64 acc, const __u32 *from,
						const __u32 *to, bool v6)
{
	acc = kpr_csum_diff32(acc, from[0], to[0]);
	if (v6) {
		acc = kpr_csum_diff32(acc, from[1], to[1]);
		acc = kpr_csum_diff32(acc, from[2], to[2]);
		acc = kpr_csum_diff32(acc, from[3], to[3]);
	}
	return acc;
}

static __always_inline void kpr_csum_apply(__u16 *csum, __u64 diff)
{
	*csum = ~kpr_csum_fold((__u16)~*csum + diff);
}

/* The same for a UDP checksum, where 0 means "none": a sum that comes out
 * 0 is sent as 0xffff (RFC 768). */
static __always_inline void kpr_csum_apply_udp(__u16 *csum, __u64 diff)
{
	kpr_csum_apply(csum, diff);
	if (!*csum)
		*csum = 0xffff;
}

#ifndef KPR_LIB_CSUM_STANDALONE
/*
 * The interface. A block calls kpr_csum_ip() and kpr_csum_l4() where a sum
 * changes, then kpr_csum_commit() after its last write to the packet.
 *
 * XDP writes each sum at once, in place. tc queues them here and the
 * commit writes them with bpf_l3_csum_replace() and bpf_l4_csum_replace(),
 * because those helpers end every packet pointer the program holds. They
 * also keep the skb's checksum state right: for a packet whose sum the
 * device will finish (CHECKSUM_PARTIAL) the field holds only the
 * pseudo-header's sum, which takes the address change (BPF_F_PSEUDO_HDR)
 * and not the ports'. In XDP such packets come out wrong (see the top).
 */
struct kpr_csum_upd {
#if !KPR_CTX_IS_XDP
	__u64 ip;	/* the change of IPv4 header fields */
	__u64 pseudo;	/* of L4 pseudo-header fields: the addresses */
	__u64 l4;	/* of fields only the L4 sum covers: ports, ICMP type */
	__u32 ipoff;	/* where the sums are, from the packet's start */
	__u32 l4off;
	__u8 has_ip;
	__u8 has_l4;
	__u8 udp;
#endif
};

/* The IPv4 header's sum at field changes by diff. */
static __always_inline void kpr_csum_ip(kpr_ctx_t *ctx, struct kpr_csum_upd *u, __u16 *field,
					__u64 diff)
{
#if KPR_CTX_IS_XDP
	kpr_csum_apply(field, diff);
#else
	u->ipoff = (void *)field - kpr_ctx_data(ctx);
	u->ip += diff;
	u->has_ip = 1;
#endif
}

/* The L4 sum at field changes by pseudo (pseudo-header fields) and rest;
 * udp: a UDP sum, where 0 means none. */
static __always_inline void kpr_csum_l4(kpr_ctx_t *ctx, struct kpr_csum_upd *u, __u16 *field,
					__u64 pseudo, __u64 rest, bool udp)
{
#if KPR_CTX_IS_XDP
	if (udp)
		kpr_csum_apply_udp(field, pseudo + rest);
	else
		kpr_csum_apply(field, pseudo + rest);
#else
	u->l4off = (void *)field - kpr_ctx_data(ctx);
	u->pseudo += pseudo;
	u->l4 += rest;
	u->has_l4 = 1;
	u->udp = udp;
#endif
}

/* After the block's last write: the sums queued (tc), nothing (XDP). */
static __always_inline void kpr_csum_commit(kpr_ctx_t *ctx, const struct kpr_csum_upd *u)
{
#if !KPR_CTX_IS_XDP
	__u64 mangled = u->udp ? BPF_F_MARK_MANGLED_0 : 0;

	/* size 0: "to" is a precomputed difference, here folded to 16 bits */
	if (u->has_ip)
		bpf_l3_csum_replace(ctx, u->ipoff, 0, kpr_csum_fold(u->ip), 0);
	if (!u->has_l4)
		return;
	if (u->pseudo)
		bpf_l4_csum_replace(ctx, u->l4off, 0, kpr_csum_fold(u->pseudo),
				    BPF_F_PSEUDO_HDR | mangled);
	if (u->l4)
		bpf_l4_csum_replace(ctx, u->l4off, 0, kpr_csum_fold(u->l4), mangled);
#endif
}
#endif

#endif
