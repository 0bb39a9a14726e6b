/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Refusing a new flow to a service with no usable backend, as a host with
 * no listener would: a TCP reset, an ICMP (v6) port unreachable for UDP.
 * The packet is turned into the answer in place and sent back out of the
 * device it came in by (KPR_TX). The parser has checked the headers these
 * functions rely on: no IPv4 options, no IPv6 extension headers.
 */
#ifndef KPR_LIB_REJECT_H
#define KPR_LIB_REJECT_H

#include "csum.h"
#include "icmp.h"
#include "parse.h"

#define KPR_ICMP6_DEST_UNREACH	1
#define KPR_ICMP6_PORT_UNREACH	4

/* A full sum of len bytes (a multiple of 4) at p, seeded, folded. */
static __always_inline __u16 kpr_csum_full(void *p, __u32 len, __u64 seed)
{
	__u64 s = (__u32)bpf_csum_diff(NULL, 0, p, len, 0);

	return ~kpr_csum_fold(s + seed);
}

static __always_inline __u64 kpr_pseudo_sum(const __u32 *saddr, const __u32 *daddr, bool v6,
					    __u8 proto, __u32 len)
{
	__u64 s = kpr_csum_diff_addr(0, (const __u32[4]){ ~0u, ~0u, ~0u, ~0u }, saddr, v6);

	/* diff_addr adds ~from: from all ones adds 0, so s holds saddr */
	s = kpr_csum_diff_addr(s, (const __u32[4]){ ~0u, ~0u, ~0u, ~0u }, daddr, v6);
	if (v6)
		return s + bpf_htonl(len) + bpf_htonl(proto);
	return s + bpf_htonl((__u32)proto << 16 | len);
}

static __noinline enum kpr_verdict kpr_reject_tcp(kpr_ctx_t *ctx, bool v6)
{
	void *data = kpr_ctx_data(ctx), *end = kpr_ctx_data_end(ctx);
	__u32 l3 = v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u32 want = sizeof(struct ethhdr) + l3 + sizeof(struct tcphdr);
	struct tcphdr *th = data + sizeof(struct ethhdr) + l3;
	__u32 seg, seq, ack;
	bool had_ack;
	__be16 port;

	if ((void *)(th + 1) > end)
		return KPR_DROP;
	if (!th->syn || th->rst)
		return KPR_DROP;	/* only a new connection is answered */
	/* RFC 793: reset a SYN with seq 0 and an ACK of what it carried, as
	 * the IP header counts it: the frame may carry Ethernet padding */
	if (v6)
		seg = bpf_ntohs(((struct ipv6hdr *)(data + sizeof(struct ethhdr)))->payload_len);
	else
		seg = bpf_ntohs(((struct iphdr *)(data + sizeof(struct ethhdr)))->tot_len) -
		      sizeof(struct iphdr);
	seg += th->syn + th->fin - th->doff * 4;
	had_ack = th->ack;
	seq = had_ack ? bpf_ntohl(th->ack_seq) : 0;
	ack = bpf_ntohl(th->seq) + seg;
	if (kpr_ctx_adjust_tail(ctx, (int)want - (int)(end - data)))
		return KPR_DROP;

	data = kpr_ctx_data(ctx);
	end = kpr_ctx_data_end(ctx);
	if (data + want > end)
		return KPR_DROP;
	kpr_swap_eth(data);
	th = data + sizeof(struct ethhdr) + l3;
	port = th->source;
	th->source = th->dest;
	th->dest = port;
	th->seq = bpf_htonl(seq);
	th->ack_seq = bpf_htonl(ack);
	*((__u16 *)th + 6) = 0;		/* doff, flags */
	th->doff = 5;
	th->rst = 1;
	th->ack = !had_ack;
	th->window = 0;
	th->urg_ptr = 0;
	th->check = 0;
	if (v6) {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
		struct in6_addr a = ip6->saddr;

		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
		ip6->payload_len = bpf_htons(sizeof(*th));
		ip6->hop_limit = 64;
		th->check = kpr_csum_full(th, sizeof(*th),
					  kpr_pseudo_sum((__u32 *)&ip6->saddr, (__u32 *)&ip6->daddr,
							 true, IPPROTO_TCP, sizeof(*th)));
	} else {
		struct iphdr *ip = data + sizeof(struct ethhdr);
		__be32 a = ip->saddr;

		ip->saddr = ip->daddr;
		ip->daddr = a;
		ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*th));
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000);	/* DF */
		ip->ttl = 64;
		ip->tos = 0;
		ip->check = 0;
		ip->check = kpr_csum_full(ip, sizeof(*ip), 0);
		th->check = kpr_csum_full(th, sizeof(*th),
					  kpr_pseudo_sum(&ip->saddr, &ip->daddr, false,
							 IPPROTO_TCP, sizeof(*th)));
	}
	return KPR_TX;
}

/*
 * An ICMP (v6) error of type and code, its second word un (network order),
 * quoting the packet's IP header and the first 8 bytes of its transport
 * header, as RFC 792 asks (RFC 4443 allows more, never requires it): for
 * TCP and UDP alike, the ports the sender finds its socket by. The packet is
 * cut to that quote, then the new IP and ICMP headers are put in front of
 * it; it goes back to the sender from the address it was sent to.
 */
static __noinline enum kpr_verdict kpr_icmp_quote(kpr_ctx_t *ctx, bool v6, __u8 type, __u8 code,
						  __be32 un)
{
	void *data = kpr_ctx_data(ctx), *end = kpr_ctx_data_end(ctx);
	__u32 l3 = v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u32 quote = l3 + sizeof(struct udphdr);
	int grow = l3 + 8;		/* new IP header + ICMP header */
	struct ethhdr *eth, *old_eth;
	struct ipv6hdr *q6 = data + sizeof(struct ethhdr);
	bool frag6 = false;
	__u8 *icmp;

	if (data + sizeof(struct ethhdr) + quote > end)
		return KPR_DROP;
	/* an IPv6 first fragment's ports are past its fragment header, and
	 * the sender looks for them there (RFC 4443 quotes as much as fits) */
	if (v6 && q6->nexthdr == KPR_IP6_FRAGMENT) {
		frag6 = true;
		quote += 8;
		if (data + sizeof(struct ethhdr) + quote > end)
			return KPR_DROP;
	}
	if (kpr_ctx_adjust_tail(ctx, (int)(sizeof(struct ethhdr) + quote) - (int)(end - data)))
		return KPR_DROP;
	if (kpr_ctx_adjust_head(ctx, -grow))
		return KPR_DROP;
	data = kpr_ctx_data(ctx);
	end = kpr_ctx_data_end(ctx);
	if (frag6 && data + sizeof(struct ethhdr) + grow + sizeof(struct ipv6hdr) + 16 > end)
		return KPR_DROP;
	if (data + sizeof(struct ethhdr) + grow + quote > end)
		return KPR_DROP;
	eth = data;
	old_eth = data + grow;
	__builtin_memcpy(eth->h_dest, old_eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old_eth->h_dest, ETH_ALEN);
	eth->h_proto = old_eth->h_proto;
	icmp = data + sizeof(struct ethhdr) + l3;
	__builtin_memset(icmp, 0, 8);
	icmp[0] = type;
	icmp[1] = code;
	*(__be32 *)(icmp + 4) = un;
	if (v6) {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
		struct ipv6hdr *in = data + sizeof(struct ethhdr) + grow;

		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(8 + quote);
		ip6->nexthdr = IPPROTO_ICMPV6;
		ip6->hop_limit = 64;
		ip6->saddr = in->daddr;
		ip6->daddr = in->saddr;
		__u64 ps = kpr_pseudo_sum((__u32 *)&ip6->saddr, (__u32 *)&ip6->daddr, true,
					  IPPROTO_ICMPV6, 8 + quote);

		if (frag6)
			*(__u16 *)(icmp + 2) = kpr_csum_full(icmp, 8 + sizeof(struct ipv6hdr) + 16, ps);
		else
			*(__u16 *)(icmp + 2) = kpr_csum_full(icmp, 8 + sizeof(struct ipv6hdr) + 8, ps);
	} else {
		struct iphdr *ip = data + sizeof(struct ethhdr);
		struct iphdr *in = data + sizeof(struct ethhdr) + grow;

		ip->version = 4;
		ip->ihl = 5;
		ip->tos = 0;
		ip->tot_len = bpf_htons(sizeof(*ip) + 8 + quote);
		ip->id = 0;
		ip->frag_off = 0;
		ip->ttl = 64;
		ip->protocol = IPPROTO_ICMP;
		ip->saddr = in->daddr;
		ip->daddr = in->saddr;
		ip->check = 0;
		ip->check = kpr_csum_full(ip, sizeof(*ip), 0);
		*(__u16 *)(icmp + 2) = kpr_csum_full(icmp, 8 + sizeof(struct iphdr) + sizeof(struct udphdr), 0);
	}
	return KPR_TX;
}

/* UDP: an ICMP port unreachable. */
static __always_inline enum kpr_verdict kpr_reject_udp(kpr_ctx_t *ctx, bool v6)
{
	return v6 ? kpr_icmp_quote(ctx, true, KPR_ICMP6_DEST_UNREACH, KPR_ICMP6_PORT_UNREACH, 0) :
		    kpr_icmp_quote(ctx, false, KPR_ICMP_DEST_UNREACH, KPR_ICMP_PORT_UNREACH, 0);
}

#endif
