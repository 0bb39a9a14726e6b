/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Direct server return, the backend's side: every node accepts it, whatever
 * its own mode. A flow that arrives with the frontend in Cilium's IPv4
 * option or IPv6 Destination Options header (docs/dsr-wire.md) is remembered in dsr, keyed as it arrived
 * (client -> backend), and passes on with the option in place (the kernel
 * ignores options it does not know). Its replies, leaving by an attached
 * device, are rewritten at tc egress to come from that frontend, and go
 * straight to the client.
 *
 * A flow dispatched in kpr's IPIP instead (an outer header from the frontend
 * to this node, lib/dsr_lb.h) is recorded the same way and loses its outer
 * header here, on every packet: the stack sees the packet as the option's
 * dispatch would have brought it, without the option.
 *
 * The LB side (lib/dsr_lb.h) writes the option; this file reads it, and both
 * share its encoding here.
 */
#ifndef KPR_LIB_DSR_H
#define KPR_LIB_DSR_H

#include "ctx.h"
#include "maps.h"
#include "parse.h"
#include "ct.h"
#include "lb.h"
#include "nat.h"

#define KPR_DSR_OPT4_TYPE	0x9a	/* copied, option class 0, number 26 */
#define KPR_DSR_OPT4_LEN	8

/*
 * Cilium's option: type, length, a 16-bit port, a 32-bit address. Cilium
 * applies htons()/htonl() to values already in network order, so on the
 * little-endian hosts it runs on both travel byte-swapped: 172.16.10.1:80 is
 * 9a 08 50 00 01 0a 10 ac. Written byte by byte, so that the wire format is
 * that one whatever the byte order of the host.
 */
static __always_inline void kpr_dsr_opt4_write(__u8 *o, const union kpr_addr *fe, __be16 port)
{
	const __u8 *pb = (const __u8 *)&port;

	o[0] = KPR_DSR_OPT4_TYPE;
	o[1] = KPR_DSR_OPT4_LEN;
	o[2] = pb[1];
	o[3] = pb[0];
	o[4] = fe->b[3];
	o[5] = fe->b[2];
	o[6] = fe->b[1];
	o[7] = fe->b[0];
}

static __always_inline void kpr_dsr_opt4_read(const __u8 *o, struct kpr_l4addr *fe)
{
	__u8 *pb = (__u8 *)&fe->port;

	pb[0] = o[3];
	pb[1] = o[2];
	fe->addr.b[0] = o[7];
	fe->addr.b[1] = o[6];
	fe->addr.b[2] = o[5];
	fe->addr.b[3] = o[4];
}

/* Whether fe, read from an option, is a frontend of this node's services
 * (the fleet shares them): a forged option naming any other address could
 * otherwise make this node send replies from it. */
static __always_inline bool kpr_dsr_is_frontend(const struct kpr_l4addr *fe)
{
	struct kpr_svc_key sk = { .fe = *fe };

	if (bpf_map_lookup_elem(&services, &sk))
		return true;
	/* a "*:PORT" NodePort, reached at another node's address */
	__builtin_memset(&sk.fe.addr, 0, sizeof(sk.fe.addr));
	KPR_ANY_FAMILY(&sk.fe.addr) = fe->family;
	sk.fe.family = KPR_FAM_ANY;
	return bpf_map_lookup_elem(&services, &sk) != NULL;
}

/*
 * Remembers that the flow k, which arrived with frontend fe, is answered
 * from fe. A TCP SYN starts a new entry (a later SYN on the same tuple is a
 * new connection and overwrites it); a UDP datagram, which carries the
 * option every time, refreshes its entry once a second, or replaces it
 * when the frontend changed.
 */
static __always_inline void kpr_dsr_note(struct kpr_flow_key *k, struct kpr_dsr *v, __u64 now)
{
	struct kpr_dsr *e = bpf_map_lookup_elem(&dsr, k);

	if (e && k->proto == IPPROTO_UDP && e->frontend.port == v->frontend.port &&
	    kpr_addr_eq(&e->frontend.addr, &v->frontend.addr)) {
		if (now > e->last_seen && now - e->last_seen > KPR_REFRESH_NS)
			e->last_seen = now;
		return;
	}
	bpf_map_update_elem(&dsr, k, v, BPF_ANY);
}

/*
 * IPv6: Cilium's Destination Options header right after the fixed header
 * (next header 60): next header, hdr-ext-len 2 (24 bytes), option type
 * 0x1b (skipped by a node that does not know it), option length 20, the
 * 16-byte address, the port in network order, two zero bytes.
 */
#define KPR_DSR_OPT6_TYPE	0x1b
#define KPR_DSR_OPT6_LEN	20
#define KPR_DSR_EXT6_LEN	24	/* the whole header */

static __always_inline void kpr_dsr_opt6_write(__u8 *o, __u8 nexthdr, const union kpr_addr *fe,
					       __be16 port)
{
	o[0] = nexthdr;
	o[1] = KPR_DSR_EXT6_LEN / 8 - 1;
	o[2] = KPR_DSR_OPT6_TYPE;
	o[3] = KPR_DSR_OPT6_LEN;
	__builtin_memcpy(o + 4, fe, 16);
	__builtin_memcpy(o + 20, &port, 2);
	o[22] = 0;
	o[23] = 0;
}

/*
 * Where the DSR option of an IPv4 packet is, or NULL: the first option,
 * of the right length. Its transport header and protocol through l4 and
 * proto, the flow in k, the frontend in fe.
 */
static __always_inline void *kpr_dsr_find4(struct iphdr *ip, void *end, struct kpr_flow_key *k,
					    struct kpr_l4addr *fe)
{
	__u8 *o = (void *)(ip + 1);
	__u32 off;

	/* a first fragment carries the option; the later ones have no ports */
	if ((void *)(ip + 1) > end || ip->ihl < 7 || (ip->frag_off & bpf_htons(KPR_IP_OFFSET)))
		return NULL;
	if ((void *)(o + KPR_DSR_OPT4_LEN) > end || o[0] != KPR_DSR_OPT4_TYPE ||
	    o[1] != KPR_DSR_OPT4_LEN)
		return NULL;
	off = ip->ihl * 4;
	if (off > 60)
		return NULL;
	kpr_dsr_opt4_read(o, fe);
	fe->family = KPR_FAM_V4;
	k->saddr.v4 = ip->saddr;
	k->daddr.v4 = ip->daddr;
	k->proto = ip->protocol;
	k->family = KPR_FAM_V4;
	return (void *)ip + off;
}

static __always_inline void *kpr_dsr_find6(struct ipv6hdr *ip6, void *end, struct kpr_flow_key *k,
					    struct kpr_l4addr *fe)
{
	__u8 *o = (void *)(ip6 + 1);

	if ((void *)(ip6 + 1) > end || ip6->nexthdr != KPR_IP6_DSTOPTS)
		return NULL;
	if ((void *)(o + KPR_DSR_EXT6_LEN) > end || o[1] != KPR_DSR_EXT6_LEN / 8 - 1 ||
	    o[2] != KPR_DSR_OPT6_TYPE || o[3] != KPR_DSR_OPT6_LEN)
		return NULL;
	__builtin_memcpy(&fe->addr, o + 4, 16);
	__builtin_memcpy(&fe->port, o + 20, 2);
	fe->family = KPR_FAM_V6;
	__builtin_memcpy(&k->saddr, &ip6->saddr, 16);
	__builtin_memcpy(&k->daddr, &ip6->daddr, 16);
	k->proto = o[0];
	k->family = KPR_FAM_V6;
	o += KPR_DSR_EXT6_LEN;
	/* a first fragment carries the header, ahead of its fragment header */
	if (k->proto == KPR_IP6_FRAGMENT)
		return kpr_ip6_first_frag(o, end, &k->proto);
	return o;
}

/*
 * kpr's IPIP dispatch, IPv4 in IPv4: an outer header without options or
 * fragments, addressed to one of this node's addresses, from the frontend,
 * whose port is in the ID; the inner header without options or fragments.
 * Its transport header, or NULL; the inner flow in k, the frontend in fe.
 */
static __always_inline void *kpr_dsr_ipip4(struct iphdr *ip, void *end, struct kpr_flow_key *k,
					    struct kpr_l4addr *fe)
{
	struct iphdr *in = (void *)(ip + 1);

	if ((void *)(in + 1) > end || ip->ihl != 5 || in->ihl != 5 || in->version != 4 ||
	    (ip->frag_off & bpf_htons(KPR_IP_MF | KPR_IP_OFFSET)) ||
	    (in->frag_off & bpf_htons(KPR_IP_OFFSET)))
		return NULL;
	k->daddr.v4 = ip->daddr;
	k->family = KPR_FAM_V4;
	if (!kpr_is_node_addr(k))
		return NULL;
	fe->addr.v4 = ip->saddr;
	fe->port = ip->id;
	fe->family = KPR_FAM_V4;
	k->saddr.v4 = in->saddr;
	k->daddr.v4 = in->daddr;
	k->proto = in->protocol;
	return in + 1;
}

/* IPv6 in IPv6: the frontend's port in the outer flow label's low 16 bits. */
static __always_inline void *kpr_dsr_ipip6(struct ipv6hdr *ip6, void *end, struct kpr_flow_key *k,
					    struct kpr_l4addr *fe)
{
	struct ipv6hdr *in = (void *)(ip6 + 1);

	if ((void *)(in + 1) > end || in->version != 6)
		return NULL;
	__builtin_memcpy(&k->daddr, &ip6->daddr, 16);
	k->family = KPR_FAM_V6;
	if (!kpr_is_node_addr(k))
		return NULL;
	__builtin_memcpy(&fe->addr, &ip6->saddr, 16);
	fe->port = bpf_htons((__u16)bpf_ntohl(*(__be32 *)ip6));
	fe->family = KPR_FAM_V6;
	__builtin_memcpy(&k->saddr, &in->saddr, 16);
	__builtin_memcpy(&k->daddr, &in->daddr, 16);
	k->proto = in->nexthdr;
	/* a datagram's first fragment; its later ones come untunnelled */
	if (k->proto == KPR_IP6_FRAGMENT)
		return kpr_ip6_first_frag((__u8 *)(in + 1), end, &k->proto);
	return in + 1;
}

/* Takes the outer header (len bytes after Ethernet) off: the Ethernet
 * header moves up to the inner one, whose family is the outer's. */
static __always_inline enum kpr_verdict kpr_dsr_decap(kpr_ctx_t *ctx, __u32 len)
{
	void *data = kpr_ctx_data(ctx), *end = kpr_ctx_data_end(ctx);

	if (data + len + sizeof(struct ethhdr) > end)
		return KPR_PASS;
	/* not overlapping: len is 20 or 40, the Ethernet header 14 */
	__builtin_memcpy(data + len, data, sizeof(struct ethhdr));
	if (kpr_ctx_adjust_head(ctx, (int)len))
		return KPR_DROP;	/* the Ethernet header is already moved */
	return KPR_PASS;
}

/*
 * XDP ingress, for a tunnelled packet or one with IPv4 options or IPv6
 * extension headers to no frontend of this node: a TCP SYN or UDP datagram
 * (or a datagram's first fragment) that
 * carries a DSR option where Cilium puts it (the first IPv4 option, of
 * length 8; the first IPv6 extension header, a Destination Options header
 * holding only the option) and names one of our frontends is recorded.
 * Anything else, a truncated option, one of another length, one in a later
 * slot, a TCP segment other than a SYN, is ignored. Every packet passes on.
 *
 * kpr's IPIP dispatch to this node (kpr_dsr_ipip4/6) from one of our
 * frontends is recorded by the same rules, and every packet of it, a SYN or
 * not, passes on without its outer header. Tunnelled packets that are not
 * kpr's pass as they came, to the kernel's own tunnels.
 */
static __noinline __attribute__((unused)) enum kpr_verdict kpr_dsr_recv(kpr_ctx_t *ctx)
{
	void *data = kpr_ctx_data(ctx), *end = kpr_ctx_data_end(ctx);
	struct ethhdr *eth = data;
	struct kpr_flow_key k = {};
	struct kpr_dsr v = {};
	__u32 decap = 0;
	bool note = true;
	__u8 *l4;

	if ((void *)(eth + 1) > end)
		return KPR_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return KPR_PASS;
		if (ip->protocol == IPPROTO_IPIP) {
			decap = sizeof(struct iphdr);
			l4 = kpr_dsr_ipip4(ip, end, &k, &v.frontend);
		} else {
			l4 = kpr_dsr_find4(ip, end, &k, &v.frontend);
		}
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return KPR_PASS;
		if (ip6->nexthdr == IPPROTO_IPV6) {
			decap = sizeof(struct ipv6hdr);
			l4 = kpr_dsr_ipip6(ip6, end, &k, &v.frontend);
		} else {
			l4 = kpr_dsr_find6(ip6, end, &k, &v.frontend);
		}
	} else {
		return KPR_PASS;
	}
	if (!l4)
		return KPR_PASS;
	if (k.proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)l4;

		if ((void *)(th + 1) > end)
			return KPR_PASS;
		if (!th->syn || th->ack) {
			if (!decap)
				return KPR_PASS;
			note = false;
		}
	} else if (k.proto == IPPROTO_UDP) {
		if ((void *)(l4 + sizeof(struct udphdr)) > end)
			return KPR_PASS;
	} else {
		return KPR_PASS;
	}
	v.frontend.proto = k.proto;
	if (!kpr_dsr_is_frontend(&v.frontend))
		return KPR_PASS;
	if (note) {
		k.sport = ((__be16 *)l4)[0];
		k.dport = ((__be16 *)l4)[1];
		v.last_seen = kpr_now();
		kpr_dsr_note(&k, &v, v.last_seen);
	}
	return decap ? kpr_dsr_decap(ctx, decap) : KPR_PASS;
}

/*
 * tc egress: a reply of a flow in dsr (backend -> client) leaves from the
 * frontend instead, sums by the skb helpers. Closing flags come from the
 * replies, which this node sees; the requests' it does not look at after
 * the first, so a flow closed by the client alone times out as an open one.
 * Every packet passes; true when this one was a reply and was rewritten (it
 * is then no pod's packet for masquerade to take).
 */
static __always_inline bool kpr_dsr_reply(kpr_ctx_t *ctx, struct kpr_pkt *p)
{
	struct kpr_flow_key k = {
		.saddr = p->key.daddr, .daddr = p->key.saddr,
		.sport = p->key.dport, .dport = p->key.sport,
		.proto = p->key.proto, .family = p->key.family,
	};
	struct kpr_config *cfg;
	struct kpr_dsr *e;
	__u64 now;

	e = bpf_map_lookup_elem(&dsr, &k);
	if (!e)
		return false;
	cfg = kpr_cfg();
	if (!cfg)
		return false;
	now = kpr_now();
	if (kpr_stale(e->last_seen, now, kpr_ct_timeout(cfg, k.proto, e->flags)))
		return false;
	kpr_ct_touch(&e->last_seen, &e->flags, p, now);
	kpr_rewrite(ctx, p, &e->frontend.addr, e->frontend.port, &p->key.daddr, p->key.dport);
	return true;
}

#endif
