/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet parsing for the service datapath: Ethernet, then IPv4 without
 * options and not fragmented, or IPv6 with TCP, UDP or ICMPv6 as the first
 * next header. Anything else is not ours and passes untouched: kube-proxy
 * does not balance fragments either, and options or extension headers on
 * service traffic are rare enough to leave to the stack. A packet whose
 * headers contradict themselves (IPv4 version, total or payload length, TCP
 * data offset, UDP length) is malformed: passed untouched too, before any
 * lookup, so that it creates no state; the stack drops it and counts it.
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
};

static __always_inline bool kpr_addr_eq(const union kpr_addr *a, const union kpr_addr *b)
{
	return !((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
		 (a->w[3] ^ b->w[3]));
}

#define KPR_IP_MF	0x2000
#define KPR_IP_OFFSET	0x1fff

#define KPR_PARSE_OTHER	(-1)	/* not ours: options, fragments, other protocols */
#define KPR_PARSE_BAD	(-2)	/* malformed: never looked up, never tracked */

/*
 * Whether an L3 length of len bytes from hdr fits the frame. XDP sees the
 * whole frame; an skb's data_end ends its linear part, and a GSO or paged
 * skb carries more than that, so tc cannot judge it.
 */
static __always_inline bool kpr_len_fits(const void *hdr, const void *data_end, __u32 len)
{
	return !KPR_CTX_IS_XDP || len <= (__u32)(data_end - hdr);
}

/* Returns 0 for a packet to look at, KPR_PARSE_OTHER for one that is not
 * ours, KPR_PARSE_BAD for a malformed one. */
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

		if ((void *)(ip + 1) > data_end)
			return KPR_PARSE_OTHER;
		if (ip->version != 4)
			return KPR_PARSE_BAD;
		if (ip->ihl != 5 || (ip->frag_off & bpf_htons(KPR_IP_MF | KPR_IP_OFFSET)))
			return KPR_PARSE_OTHER;
		l4len = bpf_ntohs(ip->tot_len);
		if (l4len < sizeof(*ip) || !kpr_len_fits(ip, data_end, l4len))
			return KPR_PARSE_BAD;
		l4len -= sizeof(*ip);
		p->ip4 = ip;
		proto = ip->protocol;
		l4 = ip + 1;
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
	} else {
		return KPR_PARSE_OTHER;
	}
	p->key.proto = proto;
	p->l4 = l4;
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
		if (bpf_ntohs(uh->len) < sizeof(*uh) || bpf_ntohs(uh->len) > l4len)
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
