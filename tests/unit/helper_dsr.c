// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test helper, not a test (it needs root and BPF): the backend side of DSR
 * (bpf/lib/dsr.h) on packets built byte by byte, through the node's XDP
 * program with BPF_PROG_TEST_RUN, against the pinned maps of PIN_ROOT. The
 * suite (tests/dsr.bats) first adds the services 172.16.10.1:80/tcp,
 * 172.16.10.1:53/udp, 172.16.10.3:80/tcp and [fd00:10::1]:80/tcp. Each case says whether the
 * packet must leave an entry in dsr, and which frontend it names; the
 * entry is deleted afterwards. Prints TAP.
 *   helper_dsr PIN_ROOT
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../../bpf/kpr_maps.h"
#include "kpr_xdp.skel.h"
#include "state/state.h"
#include "tap.h"

#define CLIENT	"10.31.88.1"
#define POD	"10.0.1.5"

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

static int run(int prog, struct pkt *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = (__u32)p->len,
		    .repeat = 1);
	int err = bpf_prog_test_run_opts(prog, &o);

	return err ? -1 : (int)o.retval;
}

/* The dsr entry of the packet's flow, deleted once read: 1 and *v, or 0. */
static int take(int map, const struct pkt *p, __u8 proto, bool v6, struct kpr_dsr *v)
{
	struct kpr_flow_key k = { .proto = proto, .family = v6 ? KPR_FAM_V6 : KPR_FAM_V4 };
	const __u8 *ip = p->b + ETH_HLEN;
	const __u8 *l4 = v6 ? ip + 40 + 24 : ip + (ip[0] & 0xf) * 4;

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

static bool fe_is(const struct kpr_dsr *v, int af, const char *addr, __u16 port)
{
	union kpr_addr a = {};

	inet_pton(af, addr, &a);
	return !memcmp(&v->frontend.addr, &a, sizeof(a)) && v->frontend.port == htons(port);
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct kpr_xdp_bpf *skel;
	struct kpr_dsr v;
	struct pkt p;
	int prog, map, i;

	if (argc != 2) {
		fprintf(stderr, "usage: helper_dsr PIN_ROOT\n");
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

	kpr_xdp_bpf__destroy(skel);
	return tap_done();
}
