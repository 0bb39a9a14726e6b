// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test helper, not a test (it needs root and BPF): the backend side of DSR
 * (bpf/lib/dsr.h) on packets built byte by byte, through the node's XDP
 * program with BPF_PROG_TEST_RUN, against the pinned maps of PIN_ROOT. The
 * suite (tests/dsr.bats) first adds the services 172.16.10.1:80/tcp,
 * 172.16.10.1:53/udp, 172.16.10.3:80/tcp and [fd00:10::1]:80/tcp. Each case says whether the
 * packet must leave an entry in dsr, and which frontend it names; the
 * entry is deleted afterwards. kpr's IPIP dispatch is addressed to the
 * node address 10.0.0.1 (fd00::1), which the helper writes to node_addrs.
 * Prints TAP.
 *   helper_dsr PIN_ROOT		every case, on a dsr map of the default size
 *   helper_dsr PIN_ROOT flood	a flood of SYNs with options from one client,
 *				on a dsr map smaller than the flood
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/kpr_maps.h"
#include "kpr_xdp.skel.h"
#include "state/state.h"
#include "tap.h"

#define CLIENT	"10.31.88.1"
#define POD	"10.0.1.5"
#define NODE	"10.0.0.1"
#define NODE6	"fd00::1"

/* Cilium's option for 172.16.10.1:80, as the issue and docs/dsr-wire.md give it */
static const __u8 cilium_opt[8] = { 0x9a, 0x08, 0x50, 0x00, 0x01, 0x0a, 0x10, 0xac };

struct pkt {
	__u8 b[256];
	size_t len;
};

/* Ethernet, IPv4 with the options opt (olen bytes, a multiple of 4), then
 * 20 bytes of TCP (flags) or 8 of UDP. */
static void build4(struct pkt *p, const __u8 *opt, size_t olen, __u8 proto, __u8 flags,
		   __u16 dport)
{
	__u8 *ip = p->b + ETH_HLEN, *l4 = ip + 20 + olen;
	__u16 sport = htons(52650), dp = htons(dport);
	size_t l4len = proto == IPPROTO_TCP ? 20 : 8;
	__u32 a;

	memset(p, 0, sizeof(*p));
	p->b[12] = 0x08;
	ip[0] = 0x40 | (__u8)((20 + olen) / 4);
	*(__u16 *)(ip + 2) = htons((__u16)(20 + olen + l4len));
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, CLIENT, &a);
	memcpy(ip + 12, &a, 4);
	inet_pton(AF_INET, POD, &a);
	memcpy(ip + 16, &a, 4);
	memcpy(ip + 20, opt, olen);
	memcpy(l4, &sport, 2);
	memcpy(l4 + 2, &dp, 2);
	if (proto == IPPROTO_TCP) {
		l4[12] = 5 << 4;
		l4[13] = flags;
	} else {
		*(__u16 *)(l4 + 4) = htons(8);
	}
	p->len = ETH_HLEN + 20 + olen + l4len;
}

/* Ethernet, IPv6, Cilium's Destination Options header for fe:80, TCP SYN. */
static void build6(struct pkt *p, const char *fe, __u8 opt_type)
{
	__u8 *ip6 = p->b + ETH_HLEN, *o = ip6 + 40, *th = o + 24;
	__u16 sport = htons(52650), port = htons(80);

	memset(p, 0, sizeof(*p));
	p->b[12] = 0x86;
	p->b[13] = 0xdd;
	ip6[0] = 0x60;
	*(__u16 *)(ip6 + 4) = htons(24 + 20);
	ip6[6] = 60;
	ip6[7] = 64;
	inet_pton(AF_INET6, "fd00:31::1", ip6 + 8);
	inet_pton(AF_INET6, "fd00:1::5", ip6 + 24);
	o[0] = IPPROTO_TCP;
	o[1] = 2;
	o[2] = opt_type;
	o[3] = 20;
	inet_pton(AF_INET6, fe, o + 4);
	memcpy(o + 20, &port, 2);
	memcpy(th, &sport, 2);
	memcpy(th + 2, &port, 2);
	th[12] = 5 << 4;
	th[13] = 0x02;
	p->len = ETH_HLEN + 40 + 24 + 20;
}

static __u8 out_buf[512];
static __u32 out_len;

/* The verdict; the packet as it left in out_buf, out_len bytes. */
static int run(int prog, struct pkt *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = (__u32)p->len,
		    .data_out = out_buf, .data_size_out = sizeof(out_buf), .repeat = 1);
	int err = bpf_prog_test_run_opts(prog, &o);

	out_len = o.data_size_out;
	return err ? -1 : (int)o.retval;
}

/* Whether the packet left as it came. */
static bool unchanged(const struct pkt *p)
{
	return out_len == p->len && !memcmp(out_buf, p->b, p->len);
}

/*
 * kpr's IPIP dispatch of the IPv4 packet p (built by build4, without
 * options): an outer header from src, with the frontend port fe_port in its
 * ID, to dst, between the Ethernet header and p's IP header.
 */
static void ipip4(struct pkt *p, const char *src, const char *dst, __u16 fe_port)
{
	__u8 *ip = p->b + ETH_HLEN;
	__u16 id = htons(fe_port), len;
	__u32 a;

	memmove(ip + 20, ip, p->len - ETH_HLEN);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	len = htons((__u16)(p->len - ETH_HLEN + 20));
	memcpy(ip + 2, &len, 2);
	memcpy(ip + 4, &id, 2);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = IPPROTO_IPIP;
	inet_pton(AF_INET, src, &a);
	memcpy(ip + 12, &a, 4);
	inet_pton(AF_INET, dst, &a);
	memcpy(ip + 16, &a, 4);
	p->len += 20;
}

/* Ethernet, IPv6 in IPv6 from the frontend fe (its port fe_port in the flow
 * label) to dst, the inner packet a TCP SYN from fd00:31::1 to fd00:1::5:80. */
static void build6_ipip(struct pkt *p, const char *fe, __u16 fe_port, const char *dst)
{
	__u8 *o = p->b + ETH_HLEN, *in = o + 40, *th = in + 40;
	__u16 sport = htons(52650), port = htons(80);
	__u32 w = htonl(0x60000000u | fe_port);

	memset(p, 0, sizeof(*p));
	p->b[12] = 0x86;
	p->b[13] = 0xdd;
	memcpy(o, &w, 4);
	*(__u16 *)(o + 4) = htons(40 + 20);
	o[6] = IPPROTO_IPV6;
	o[7] = 64;
	inet_pton(AF_INET6, fe, o + 8);
	inet_pton(AF_INET6, dst, o + 24);
	in[0] = 0x60;
	*(__u16 *)(in + 4) = htons(20);
	in[6] = IPPROTO_TCP;
	in[7] = 64;
	inet_pton(AF_INET6, "fd00:31::1", in + 8);
	inet_pton(AF_INET6, "fd00:1::5", in + 24);
	memcpy(th, &sport, 2);
	memcpy(th + 2, &port, 2);
	th[12] = 5 << 4;
	th[13] = 0x02;
	p->len = ETH_HLEN + 40 + 40 + 20;
}

/* Whether the packet left as p's inner packet, behind p's Ethernet header
 * (the outer header of hlen bytes taken off). */
static bool decapped(const struct pkt *p, size_t hlen)
{
	return out_len == p->len - hlen && !memcmp(out_buf, p->b, ETH_HLEN) &&
	       !memcmp(out_buf + ETH_HLEN, p->b + ETH_HLEN + hlen, p->len - ETH_HLEN - hlen);
}

static void node_addr(int map, int af, const char *addr)
{
	struct kpr_node_addr_key k = { .family = af == AF_INET ? KPR_FAM_V4 : KPR_FAM_V6 };
	struct kpr_node_addr v = { .ifindex = 1 };

	inet_pton(af, addr, &k.addr);
	if (bpf_map_update_elem(map, &k, &v, BPF_ANY))
		fprintf(stderr, "helper_dsr: cannot write node_addrs\n");
}

/* The number of entries in dsr. */
static int count(int map)
{
	struct kpr_flow_key k, next;
	int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(map, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* The dsr entry of the packet's flow, deleted once read: 1 and *v, or 0. */
static int take_at(int map, const struct pkt *p, size_t hlen, __u8 proto, bool v6,
		   struct kpr_dsr *v)
{
	struct kpr_flow_key k = { .proto = proto, .family = v6 ? KPR_FAM_V6 : KPR_FAM_V4 };
	const __u8 *ip = p->b + ETH_HLEN + hlen;
	const __u8 *l4 = v6 ? ip + 40 + (ip[6] == 60 ? 24 : 0) : ip + (ip[0] & 0xf) * 4;

	if (v6) {
		memcpy(&k.saddr, ip + 8, 16);
		memcpy(&k.daddr, ip + 24, 16);
	} else {
		memcpy(&k.saddr, ip + 12, 4);
		memcpy(&k.daddr, ip + 16, 4);
	}
	memcpy(&k.sport, l4, 2);
	memcpy(&k.dport, l4 + 2, 2);
	if (bpf_map_lookup_elem(map, &k, v))
		return 0;
	bpf_map_delete_elem(map, &k);
	return 1;
}

static int take(int map, const struct pkt *p, __u8 proto, bool v6, struct kpr_dsr *v)
{
	return take_at(map, p, 0, proto, v6, v);
}

/* The client's address and port of the IPv4 packet built by build4. */
static void client4(struct pkt *p, const char *addr, __u16 port)
{
	__u8 *ip = p->b + ETH_HLEN;
	__u16 sp = htons(port);
	__u32 a;

	inet_pton(AF_INET, addr, &a);
	memcpy(ip + 12, &a, 4);
	memcpy(ip + (ip[0] & 0xf) * 4, &sp, 2);
}

static bool kpr_addr_same(const union kpr_addr *a, const union kpr_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static bool fe_is(const struct kpr_dsr *v, int af, const char *addr, __u16 port)
{
	union kpr_addr a = {};

	inet_pton(af, addr, &a);
	return !memcmp(&v->frontend.addr, &a, sizeof(a)) && v->frontend.port == htons(port);
}

static const __u8 opt_fe3[8] = { 0x9a, 0x08, 0x50, 0x00, 0x03, 0x0a, 0x10, 0xac };

/* A SYN from client:port to the pod's port 80 with the option opt. */
static void syn_from(struct pkt *p, const __u8 *opt, const char *client, __u16 port)
{
	build4(p, opt, 8, IPPROTO_TCP, 0x02, 80);
	client4(p, client, port);
}

/*
 * A flood of SYNs with options from one client, every one from a port of
 * its own and naming 172.16.10.3:80, four times as many as dsr holds, after
 * another client's SYN naming 172.16.10.1:80: every packet passes, the map
 * holds no more than its size, and every entry names the frontend of the
 * SYN of its own tuple.
 */
static void flood_small(int prog, int map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct kpr_flow_key k, next, *prev = NULL;
	union kpr_addr client = {}, other = {};
	int i, n = 0, bad = 0, wrong = 0;
	struct kpr_dsr v;
	struct pkt p;

	if (bpf_obj_get_info_by_fd(map, &info, &len)) {
		ok(0, "the dsr map's size");
		return;
	}
	inet_pton(AF_INET, CLIENT, &client);
	inet_pton(AF_INET, "10.31.88.2", &other);
	syn_from(&p, cilium_opt, "10.31.88.2", 40000);
	run(prog, &p);
	for (i = 0; i < (int)info.max_entries * 4; i++) {
		syn_from(&p, opt_fe3, CLIENT, (__u16)(1000 + i));
		if (run(prog, &p) != 2)
			bad++;
	}
	ok(!bad, "%u SYNs with options from one client: every one passes", info.max_entries * 4);
	while (!bpf_map_get_next_key(map, prev, &next)) {
		k = next;
		prev = &k;
		n++;
		if (bpf_map_lookup_elem(map, &k, &v))
			continue;
		if (kpr_addr_same(&k.saddr, &client) ? !fe_is(&v, AF_INET, "172.16.10.3", 80) :
		    kpr_addr_same(&k.saddr, &other) ? !fe_is(&v, AF_INET, "172.16.10.1", 80) : 1)
			wrong++;
	}
	ok(n > 0 && n <= (int)info.max_entries, "dsr holds %d entries, at most its size %u", n,
	   info.max_entries);
	ok(!wrong, "every entry names the frontend of its own tuple's SYN (%d do not)", wrong);
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct kpr_xdp_bpf *skel;
	struct kpr_dsr v;
	struct pkt p;
	int prog, map, i;

	if (argc != 2 && (argc != 3 || strcmp(argv[2], "flood"))) {
		fprintf(stderr, "usage: helper_dsr PIN_ROOT [flood]\n");
		return 2;
	}
	oo.pin_root_path = argv[1];
	skel = kpr_xdp_bpf__open_opts(&oo);
	if (!skel || kpr_obj_use_pins(argv[1], skel->obj) || kpr_xdp_bpf__load(skel)) {
		fprintf(stderr, "helper_dsr: cannot load the XDP datapath on %s\n", argv[1]);
		return 1;
	}
	prog = bpf_program__fd(skel->progs.kpr_xdp_ingress);
	map = bpf_map__fd(skel->maps.dsr);
	if (argc == 3) {
		flood_small(prog, map);
		kpr_xdp_bpf__destroy(skel);
		return tap_done();
	}

	/* a SYN built as Cilium builds it */
	build4(&p, cilium_opt, 8, IPPROTO_TCP, 0x02, 80);
	ok(run(prog, &p) == 2, "a SYN with Cilium's option passes");
	ok(take(map, &p, IPPROTO_TCP, false, &v) && fe_is(&v, AF_INET, "172.16.10.1", 80),
	   "and is recorded: client:52650 -> pod:80 answered from 172.16.10.1:80");

	/* every UDP datagram carries it */
	{
		__u8 o[8] = { 0x9a, 0x08, 0x35, 0x00, 0x01, 0x0a, 0x10, 0xac };

		build4(&p, o, 8, IPPROTO_UDP, 0, 53);
		ok(run(prog, &p) == 2 && take(map, &p, IPPROTO_UDP, false, &v) &&
		   fe_is(&v, AF_INET, "172.16.10.1", 53), "a UDP datagram with the option is recorded");
	}

	/* broken or forged: passed, never recorded */
	{
		static const struct {
			const char *what;
			__u8 opt[12];
			size_t olen;
			__u8 flags;
		} bad[] = {
			{ "truncated (IHL 6, 4 bytes of it)", { 0x9a, 0x08, 0x50, 0x00 }, 4, 0x02 },
			{ "a length other than 8", { 0x9a, 0x0c, 0x50, 0x00, 0x01, 0x0a, 0x10, 0xac }, 8, 0x02 },
			{ "0x9a in the second slot, after a NOP and an end",
			  { 0x01, 0x00, 0x00, 0x00, 0x9a, 0x08, 0x50, 0x00, 0x01, 0x0a, 0x10, 0xac }, 12, 0x02 },
			{ "another option type", { 0x9b, 0x08, 0x50, 0x00, 0x01, 0x0a, 0x10, 0xac }, 8, 0x02 },
			{ "a frontend that is no service (172.16.10.2:80)",
			  { 0x9a, 0x08, 0x50, 0x00, 0x02, 0x0a, 0x10, 0xac }, 8, 0x02 },
			{ "a port that is no service (172.16.10.1:81)",
			  { 0x9a, 0x08, 0x51, 0x00, 0x01, 0x0a, 0x10, 0xac }, 8, 0x02 },
			{ "the frontend in network order, not Cilium's swapped one",
			  { 0x9a, 0x08, 0x00, 0x50, 0xac, 0x10, 0x0a, 0x01 }, 8, 0x02 },
			{ "on a TCP segment that is not a SYN (ACK)", { 0x9a, 0x08, 0x50, 0x00, 0x01, 0x0a, 0x10, 0xac }, 8, 0x10 },
			{ "on a SYN-ACK", { 0x9a, 0x08, 0x50, 0x00, 0x01, 0x0a, 0x10, 0xac }, 8, 0x12 },
		};

		for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
			build4(&p, bad[i].opt, bad[i].olen, IPPROTO_TCP, bad[i].flags, 80);
			ok(run(prog, &p) == 2 && !take(map, &p, IPPROTO_TCP, false, &v),
			   "%s: passes, not recorded", bad[i].what);
		}
	}
	/* a packet cut inside the option: the frame ends 3 bytes into it */
	build4(&p, cilium_opt, 8, IPPROTO_TCP, 0x02, 80);
	p.len = ETH_HLEN + 23;
	ok(run(prog, &p) == 2, "a frame that ends inside the option passes");

	/* a later SYN on the same tuple overwrites the entry */
	build4(&p, cilium_opt, 8, IPPROTO_TCP, 0x02, 80);
	run(prog, &p);
	{
		struct pkt q;
		__u8 o[8] = { 0x9a, 0x08, 0x50, 0x00, 0x03, 0x0a, 0x10, 0xac };

		build4(&q, o, 8, IPPROTO_TCP, 0x02, 80);
		run(prog, &q);
		ok(take(map, &p, IPPROTO_TCP, false, &v) && fe_is(&v, AF_INET, "172.16.10.3", 80),
		   "a later SYN naming another frontend (172.16.10.3:80) overwrites the entry");
	}

	/* IPv6 */
	build6(&p, "fd00:10::1", 0x1b);
	ok(run(prog, &p) == 2 && take(map, &p, IPPROTO_TCP, true, &v) &&
	   fe_is(&v, AF_INET6, "fd00:10::1", 80), "IPv6: Cilium's Destination Options header is recorded");
	build6(&p, "fd00:10::1", 0x1c);
	ok(run(prog, &p) == 2 && !take(map, &p, IPPROTO_TCP, true, &v),
	   "IPv6: another option type is not");
	build6(&p, "fd00:10::2", 0x1b);
	ok(run(prog, &p) == 2 && !take(map, &p, IPPROTO_TCP, true, &v),
	   "IPv6: a frontend that is no service is not");

	/* kpr's IPIP dispatch, to the node's address */
	node_addr(bpf_map__fd(skel->maps.node_addrs), AF_INET, NODE);
	node_addr(bpf_map__fd(skel->maps.node_addrs), AF_INET6, NODE6);
	build4(&p, cilium_opt, 0, IPPROTO_TCP, 0x02, 80);
	ipip4(&p, "172.16.10.1", NODE, 80);
	ok(run(prog, &p) == 2 && decapped(&p, 20),
	   "IPIP: a SYN from a frontend (port in the ID) to the node passes without its outer header");
	ok(take_at(map, &p, 20, IPPROTO_TCP, false, &v) && fe_is(&v, AF_INET, "172.16.10.1", 80),
	   "and is recorded: client:52650 -> pod:80 answered from 172.16.10.1:80");
	build4(&p, cilium_opt, 0, IPPROTO_TCP, 0x10, 80);
	ipip4(&p, "172.16.10.1", NODE, 80);
	ok(run(prog, &p) == 2 && decapped(&p, 20) && !take_at(map, &p, 20, IPPROTO_TCP, false, &v),
	   "IPIP: an ACK passes without its outer header, not recorded");
	build4(&p, cilium_opt, 0, IPPROTO_UDP, 0, 53);
	ipip4(&p, "172.16.10.1", NODE, 53);
	ok(run(prog, &p) == 2 && decapped(&p, 20) && take_at(map, &p, 20, IPPROTO_UDP, false, &v) &&
	   fe_is(&v, AF_INET, "172.16.10.1", 53), "IPIP: a UDP datagram is recorded, without its outer header");
	{
		static const struct {
			const char *what, *src, *dst;
			__u16 port;
		} bad[] = {
			{ "from an address that is no frontend (172.16.10.2)", "172.16.10.2", NODE, 80 },
			{ "a port in the ID that is no service's (81)", "172.16.10.1", NODE, 81 },
			{ "to an address that is not the node's", "172.16.10.1", "10.0.0.9", 80 },
		};

		for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
			build4(&p, cilium_opt, 0, IPPROTO_TCP, 0x02, 80);
			ipip4(&p, bad[i].src, bad[i].dst, bad[i].port);
			ok(run(prog, &p) == 2 && unchanged(&p) &&
			   !take_at(map, &p, 20, IPPROTO_TCP, false, &v),
			   "IPIP %s: passes as it came, not recorded", bad[i].what);
		}
	}
	build6_ipip(&p, "fd00:10::1", 80, NODE6);
	ok(run(prog, &p) == 2 && decapped(&p, 40) && take_at(map, &p, 40, IPPROTO_TCP, true, &v) &&
	   fe_is(&v, AF_INET6, "fd00:10::1", 80),
	   "IPv6 in IPv6: recorded (port in the flow label), without its outer header");
	build6_ipip(&p, "fd00:10::1", 81, NODE6);
	ok(run(prog, &p) == 2 && unchanged(&p) && !take_at(map, &p, 40, IPPROTO_TCP, true, &v),
	   "IPv6 in IPv6 with a port that is no service's: passes as it came");

	/* a flood of SYNs with options from one client, the map large enough */
	{
		struct pkt f;
		int before, n, bad = 0;

		syn_from(&f, cilium_opt, "10.31.88.2", 40000);
		run(prog, &f);
		before = count(map);
		for (i = 0; i < 2000; i++) {
			syn_from(&p, opt_fe3, CLIENT, (__u16)(1000 + i));
			if (run(prog, &p) != 2)
				bad++;
		}
		ok(!bad && count(map) == before + 2000,
		   "2000 SYNs with options from one client, a port each: every one passes, an entry each");
		n = count(map);
		for (i = 0; i < 1000; i++) {
			syn_from(&p, opt_fe3, CLIENT, 1000);
			run(prog, &p);
		}
		ok(count(map) == n, "1000 SYNs on one tuple: still its one entry");
		ok(take(map, &f, IPPROTO_TCP, false, &v) && fe_is(&v, AF_INET, "172.16.10.1", 80),
		   "another client's flow keeps its frontend through the flood");
		for (i = 0; i < 2000; i++) {
			syn_from(&p, opt_fe3, CLIENT, (__u16)(1000 + i));
			take(map, &p, IPPROTO_TCP, false, &v);
		}
	}

	kpr_xdp_bpf__destroy(skel);
	return tap_done();
}
