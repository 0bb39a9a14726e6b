/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet parsing for the service datapath: Ethernet, then IPv4 (with or
 * without options) or IPv6 through up to KPR_IP6_EXT_MAX extension headers
 * (hop-by-hop, routing, destination options, fragment), to TCP, UDP or
 * ICMP. Anything else is not ours and passes untouched.
 *
 * Fragments: a first fragment carries the L4 header and is parsed as any
 * packet (its UDP length is the datagram's, longer than the fragment); a
 * later fragment has no L4 header and comes back as KPR_PARSE_FRAG with its
 * addresses, protocol and IP ID, for lib/frag.h. A fragmented ICMP message
 * is the stack's: an echo answered piece by piece would be no answer.
 *
 * A packet whose headers contradict themselves (IPv4 version or header
 * length, total or payload length, an extension header past the payload,
 * TCP data offset, UDP length) is malformed: passed untouched too, before
 * any lookup, so that it creates no state; the stack drops it and counts it.
 */
#ifndef KPR_LIB_PARSE_H
#define KPR_LIB_PARSE_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "../kpr_maps.h"
#include "ctx.h"

/* linux/icmp.h pulls in libc's socket headers, which a BPF target lacks */
#define KPR_ICMP_ECHOREPLY	0
#define KPR_ICMP_DEST_UNREACH	3
#define KPR_ICMP_PORT_UNREACH	3
#define KPR_ICMP_ECHO		8
#define KPR_ICMP_TIME_EXCEEDED	11
#define KPR_ICMP_PARAMETERPROB	12

struct kpr_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 un;
};

struct kpr_pkt {
	void *data_end;
	struct ethhdr *eth;
	struct iphdr *ip4;		/* one of ip4 and ip6 */
	struct ipv6hdr *ip6;
	void *l4;
	__u16 *l4csum;			/* TCP/UDP checksum field */
	__u32 len;			/* bytes on the wire, for stats */
	struct kpr_flow_key key;	/* as received, dir KPR_CT_FWD */
	/* carried here so that out-of-line helpers need fewer arguments */
	const struct kpr_config *cfg;
	__u64 now;
	__be32 frag_id;			/* IPv4's ID (16 bits) or IPv6's, when frag */
	__u8 frag;			/* KPR_FRAG_* */
	__u8 opts;			/* IPv4 options, IPv6 extension headers other
					 * than a fragment header */
};

#define KPR_FRAG_NONE	0
#define KPR_FRAG_FIRST	1		/* offset 0, more fragments follow */
#define KPR_FRAG_LATER	2		/* no L4 header: lib/frag.h */

static __always_inline bool kpr_addr_eq(const union kpr_addr *a, const union kpr_addr *b)
{
	return !((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
		 (a->w[3] ^ b->w[3]));
}

#define KPR_IP_MF	0x2000
#define KPR_IP_OFFSET	0x1fff

#define KPR_PARSE_OTHER	(-1)	/* not ours: other protocols, tunnels, truncated */
#define KPR_PARSE_BAD	(-2)	/* malformed: never looked up, never tracked */
#define KPR_PARSE_FRAG	(-3)	/* a later fragment: key without ports, frag_id */

#define KPR_IP6_HOPOPTS		0
#define KPR_IP6_ROUTING		43
#define KPR_IP6_FRAGMENT	44
#define KPR_IP6_DSTOPTS		60
#define KPR_IP6_EXT_MAX		4	/* headers walked before L4; more: not ours */
/* where the walk may reach: four headers of the largest size, and slack */
#define KPR_IP6_EXT_OFF_MAX	(KPR_IP6_EXT_MAX * 2048 + 64)
/* a fragment header's offset and flags word, host order */
#define KPR_IP6_FRAG_OFF	0xfff8
#define KPR_IP6_FRAG_MF		0x0001

/* The IPv6 fragment header at fh (cut by end or not): past it, its next
 * header in *proto, when it is a first fragment; else NULL. */
static __always_inline __u8 *kpr_ip6_first_frag(__u8 *fh, const void *end, __u8 *proto)
{
	if ((void *)(fh + 8) > end || (bpf_ntohs(*(__be16 *)(fh + 2)) & KPR_IP6_FRAG_OFF))
		return NULL;
	*proto = fh[0];
	return fh + 8;
}

struct kpr_ext6 {
	__u32 off;	/* from the packet's start: the header after the walked ones */
	__u32 l4len;	/* what the payload length leaves after them */
	__u8 proto;	/* its type */
};

static __always_inline bool kpr_ext6_is(__u8 proto)
{
	return proto == KPR_IP6_HOPOPTS || proto == KPR_IP6_ROUTING || proto == KPR_IP6_DSTOPTS ||
	       proto == KPR_IP6_FRAGMENT;
}

/*
 * Walks IPv6 extension headers from w (the first after the fixed header),
 * noting a fragment header's facts and other headers in p. KPR_PARSE_OTHER
 * for a header cut by the frame or a chain longer than KPR_IP6_EXT_MAX,
 * KPR_PARSE_BAD for one past the payload length, else 0. Out of line, so
 * that the verifier walks its branches once, not once for every path of
 * the program after it; called only when there is a header to walk.
 */
static __noinline int kpr_parse_ext6(const kpr_ctx_t *ctx, struct kpr_pkt *p, struct kpr_ext6 *w)
{
	void *data = kpr_ctx_data(ctx), *data_end = kpr_ctx_data_end(ctx);
	__u32 off = w->off, l4len = w->l4len;
	__u8 proto = w->proto;

#pragma unroll
	for (int i = 0; i < KPR_IP6_EXT_MAX; i++) {
		__u8 *h;
		__u32 len;

		if (!kpr_ext6_is(proto))
			break;
		if (off > KPR_IP6_EXT_OFF_MAX)
			return KPR_PARSE_OTHER;
		h = data + off;
		if ((void *)(h + 8) > data_end)
			return KPR_PARSE_OTHER;
		if (proto == KPR_IP6_FRAGMENT) {
			__u16 fo = bpf_ntohs(*(__be16 *)(h + 2));

			len = 8;
			/* an atomic fragment (offset 0, no more) is a whole packet */
			if (fo & (KPR_IP6_FRAG_OFF | KPR_IP6_FRAG_MF)) {
				p->frag = fo & KPR_IP6_FRAG_OFF ? KPR_FRAG_LATER : KPR_FRAG_FIRST;
				p->frag_id = *(__be32 *)(h + 4);
			}
		} else {
			len = ((__u32)h[1] + 1) * 8;
			p->opts = 1;
		}
		if (l4len < len)
			return KPR_PARSE_BAD;
		proto = h[0];
		off += len;
		l4len -= len;
		if (p->frag == KPR_FRAG_LATER)
			break;
	}
	if (p->frag != KPR_FRAG_LATER && kpr_ext6_is(proto))
		return KPR_PARSE_OTHER;
	w->off = off;
	w->l4len = l4len;
	w->proto = proto;
	return 0;
}

/*
 * Whether an L3 length of len bytes from hdr fits the frame. XDP sees the
 * whole frame; an skb's data_end ends its linear part, and a GSO or paged
 * skb carries more than that, so tc cannot judge it.
 */
static __always_inline bool kpr_len_fits(const void *hdr, const void *data_end, __u32 len)
{
	return !KPR_CTX_IS_XDP || len <= (__u32)(data_end - hdr);
}

/* Returns 0 for a packet to look at, KPR_PARSE_FRAG for a later fragment,
 * KPR_PARSE_OTHER for one that is not ours, KPR_PARSE_BAD for a malformed
 * one. */
static __always_inline int kpr_parse(const kpr_ctx_t *ctx, struct kpr_pkt *p)
{
	void *data = kpr_ctx_data(ctx);
	void *data_end = kpr_ctx_data_end(ctx);
	struct ethhdr *eth = data;
	__u32 l4len;	/* what the L3 header says follows it */
	__u8 proto;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return -1;
	p->data_end = data_end;
	p->eth = eth;
	p->len = data_end - data;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 hlen;

		if ((void *)(ip + 1) > data_end)
			return KPR_PARSE_OTHER;
		hlen = ip->ihl * 4;
		if (ip->version != 4 || hlen < sizeof(*ip))
			return KPR_PARSE_BAD;
		l4len = bpf_ntohs(ip->tot_len);
		if (l4len < hlen || !kpr_len_fits(ip, data_end, l4len))
			return KPR_PARSE_BAD;
		l4len -= hlen;
		if (ip->frag_off & bpf_htons(KPR_IP_MF | KPR_IP_OFFSET)) {
			p->frag = ip->frag_off & bpf_htons(KPR_IP_OFFSET) ? KPR_FRAG_LATER :
									    KPR_FRAG_FIRST;
			p->frag_id = ip->id;
		}
		p->opts = hlen > sizeof(*ip);
		p->ip4 = ip;
		proto = ip->protocol;
		l4 = (void *)ip + hlen;
		p->key.family = KPR_FAM_V4;
		p->key.saddr.v4 = ip->saddr;
		p->key.daddr.v4 = ip->daddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return KPR_PARSE_OTHER;
		l4len = bpf_ntohs(ip6->payload_len);
		if (!kpr_len_fits(ip6 + 1, data_end, l4len))
			return KPR_PARSE_BAD;
		p->ip6 = ip6;
		proto = ip6->nexthdr;
		l4 = ip6 + 1;
		p->key.family = KPR_FAM_V6;
		__builtin_memcpy(&p->key.saddr, &ip6->saddr, 16);
		__builtin_memcpy(&p->key.daddr, &ip6->daddr, 16);
		if (kpr_ext6_is(proto)) {
			struct kpr_ext6 w = { .off = sizeof(*eth) + sizeof(*ip6), .l4len = l4len,
					      .proto = proto };
			int rc = kpr_parse_ext6(ctx, p, &w);

			if (rc)
				return rc;
			if (w.off > KPR_IP6_EXT_OFF_MAX + sizeof(*ip6) + sizeof(*eth))
				return KPR_PARSE_OTHER;
			l4 = data + w.off;
			l4len = w.l4len;
			proto = w.proto;
		}
	} else {
		return KPR_PARSE_OTHER;
	}
	p->key.proto = proto;
	p->l4 = l4;
	if (p->frag && proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return KPR_PARSE_OTHER;
	if (p->frag == KPR_FRAG_LATER)
		return KPR_PARSE_FRAG;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return KPR_PARSE_OTHER;
		if (th->doff < 5 || l4len < th->doff * 4u)
			return KPR_PARSE_BAD;
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->l4csum = &th->check;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return KPR_PARSE_OTHER;
		/* a first fragment's UDP length is the whole datagram's */
		if (bpf_ntohs(uh->len) < sizeof(*uh) || l4len < sizeof(*uh) ||
		    (!p->frag && bpf_ntohs(uh->len) > l4len))
			return KPR_PARSE_BAD;
		p->key.sport = uh->source;
		p->key.dport = uh->dest;
		p->l4csum = &uh->check;
	} else if ((proto == IPPROTO_ICMP && p->ip4) || (proto == IPPROTO_ICMPV6 && p->ip6)) {
		/* echo requests and errors are looked at; both start with 8 bytes */
		if (l4 + 8 > data_end)
			return KPR_PARSE_OTHER;
		if (l4len < 8)
			return KPR_PARSE_BAD;
	} else {
		return KPR_PARSE_OTHER;
	}
	return 0;
}

#endif
