// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test helper, not a test (it needs root and BPF): runs the node's XDP
 * program (BPF_PROG_TEST_RUN) over the packets of a table, each a well-formed
 * packet to a service with one thing broken, and checks the verdict and how
 * many ct entries it left. tests/pkt-table.bats sets up the pin root, the
 * services and a namespace whose FIB reaches the backend; tests/pkt-table.txt
 * is the table. Prints TAP.
 *   helper_pkt_table PIN_ROOT IFINDEX TABLE
 *
 * A row: BASE MUTATION VERDICT CT WHAT...
 *   BASE      tcp4 udp4 tcp6 udp6 (a SYN or a datagram to the service), icmp4err
 *             (a port unreachable to the node quoting 8 bytes of garbage),
 *             ping4 ping6 (an echo request to the service address)
 *   MUTATION  - | ttl=N | ver=N | totlen=N | totlen=+N (past the frame) |
 *             doff=N | udplen=N | udplen=+N | hop=N | plen=+N | mf | fragoff |
 *             ihl=N | dst=cip (to an address of ClusterIPs alone) | src=0 | src=bcast | src=mcast | src=vip (the source
 *             address) | opt=nop4 (4 bytes of IPv4 NOPs) | ext=CHAIN (IPv6
 *             extension headers of 8 bytes, a letter each: d destination
 *             options, h hop-by-hop, f a first fragment, a an atomic
 *             fragment, l a later fragment; ext=dst is ext=d) | extlen=+N
 *             (the last one's length past the payload by N 8-byte units) |
 *             trunc (every length from the Ethernet header to one byte
 *             short, each a case). A mutation ending in +later is that
 *             first fragment, then a later fragment of its datagram (no L4
 *             header): the row's verdict and ct count are the later one's,
 *             which must leave with the addresses its first left with.
 *   VERDICT   PASS DROP TX REDIRECT
 *   CT        ct entries the packet leaves (0, or 1 for the flow)
 * Each row's packets come from their own source port, so rows never meet.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/kpr_maps.h"
#include "kpr_xdp.skel.h"
#include "state/state.h"
#include "tap.h"

#define CLIENT4	"10.55.0.2"
#define VIP4	"10.96.55.1"
#define CLIENT6	"fd00:55::2"
#define VIP6	"fd00:96:55::1"
#define NODE4	"10.55.0.1"
#define CIP4	"10.96.55.2"
#define CIP6	"fd00:96:55::2"

struct pkt {
	__u8 b[256];
	size_t len;
};

static __u16 csum_fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static void ip4_csum(__u8 *ip, size_t hlen)
{
	__u32 s = 0;

	ip[10] = ip[11] = 0;
	for (size_t i = 0; i < hlen; i += 2)
		s += (__u32)(ip[i] << 8 | ip[i + 1]);
	*(__u16 *)(ip + 10) = htons(csum_fold(s));
}

/* A packet of base from source port sport (and IP ID sport), with olen bytes
 * of IPv4 options (NOPs) or, for IPv6, the extension headers of chain, 8
 * bytes each. */
static int build(struct pkt *p, const char *base, __u16 sport, size_t olen, const char *chain)
{
	bool v6 = base[3] == '6' || !strcmp(base, "udp6") || !strcmp(base, "ping6");
	bool tcp = !strncmp(base, "tcp", 3), icmp = !strcmp(base, "icmp4err");
	bool ping = !strncmp(base, "ping", 4);
	size_t iphl = v6 ? 40 : 20, l4 = tcp ? 20 : 8, pay = tcp ? 0 : 12;
	__u8 *ip = p->b + ETH_HLEN, *l4p;
	__u16 dport = htons(tcp ? 80 : 53);

	if (!icmp && !ping && strcmp(base, "tcp4") && strcmp(base, "udp4") && strcmp(base, "tcp6") &&
	    strcmp(base, "udp6"))
		return -1;
	memset(p, 0, sizeof(*p));
	memcpy(p->b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	p->b[12] = v6 ? 0x86 : 0x08;
	p->b[13] = v6 ? 0xdd : 0x00;
	l4p = ip + iphl + olen;
	if (v6) {
		ip[0] = 0x60;
		__u8 *nh = ip + 6;

		*(__u16 *)(ip + 4) = htons((__u16)(olen + l4 + pay));
		ip[7] = 64;
		inet_pton(AF_INET6, CLIENT6, ip + 8);
		inet_pton(AF_INET6, VIP6, ip + 24);
		for (size_t i = 0; i < olen / 8; i++) {
			__u8 *h = ip + 40 + 8 * i;

			*nh = chain[i] == 'd' ? 60 : chain[i] == 'h' ? 0 : 44;
			if (*nh == 44) {	/* offset 1 (8 bytes) or 0, M, ID */
				__u16 fo = htons(chain[i] == 'l' ? 8 : chain[i] == 'f');
				__u32 id = htonl(sport);

				/* the ID lies 2 bytes off a 4-byte boundary here */
				memcpy(h + 2, &fo, sizeof(fo));
				memcpy(h + 4, &id, sizeof(id));
			} else {	/* length 0 (8 bytes), PadN of 4 */
				h[2] = 1;
				h[3] = 4;
			}
			nh = h;
		}
		*nh = ping ? IPPROTO_ICMPV6 : (tcp ? IPPROTO_TCP : IPPROTO_UDP);
	} else {
		ip[0] = 0x40 | (__u8)((20 + olen) / 4);
		*(__u16 *)(ip + 2) = htons((__u16)(20 + olen + l4 + pay));
		*(__u16 *)(ip + 4) = htons(sport);
		ip[8] = 64;
		ip[9] = icmp || ping ? IPPROTO_ICMP : tcp ? IPPROTO_TCP : IPPROTO_UDP;
		inet_pton(AF_INET, CLIENT4, ip + 12);
		inet_pton(AF_INET, icmp ? NODE4 : VIP4, ip + 16);
		memset(ip + 20, 1, olen);	/* NOPs */
		ip4_csum(ip, 20 + olen);
	}
	if (ping) {	/* an echo request, identifier sport */
		l4p[0] = v6 ? 128 : 8;
		*(__u16 *)(l4p + 4) = htons(sport);
		*(__u16 *)(l4p + 6) = htons(1);
	} else if (icmp) {	/* port unreachable quoting 8 bytes that are no header */
		l4p[0] = 3;
		l4p[1] = 3;
		memset(l4p + 8, 0xa5, 12);
	} else if (tcp) {
		*(__u16 *)l4p = htons(sport);
		*(__u16 *)(l4p + 2) = dport;
		l4p[12] = 5 << 4;
		l4p[13] = 0x02;	/* SYN */
		*(__u16 *)(l4p + 14) = htons(65535);
	} else {
		*(__u16 *)l4p = htons(sport);
		*(__u16 *)(l4p + 2) = dport;
		*(__u16 *)(l4p + 4) = htons((__u16)(l4 + pay));
	}
	p->len = ETH_HLEN + iphl + olen + l4 + pay;
	return 0;
}

/* Applies mutation m to p; -1 for one the helper does not know. */
static int mutate(struct pkt *p, const char *base, const char *m)
{
	__u8 *ip = p->b + ETH_HLEN;
	bool v6 = p->b[12] == 0x86;
	__u8 *l4 = ip + (v6 ? 40 : (ip[0] & 0xf) * 4);
	long n = 0;
	const char *eq = strchr(m, '=');

	if (eq)
		n = strtol(eq + 1, NULL, 10);
	if (!strcmp(m, "-") || !strcmp(m, "opt=nop4") || !strncmp(m, "ext=", 4) || !strcmp(m, "trunc"))
		return 0;	/* built so, or done by the caller */
	if (!strncmp(m, "ttl=", 4) && !v6)
		ip[8] = (__u8)n;
	else if (!strncmp(m, "hop=", 4) && v6)
		ip[7] = (__u8)n;
	else if (!strncmp(m, "ver=", 4))
		ip[0] = (__u8)(n << 4 | (ip[0] & 0xf));
	else if (!strncmp(m, "totlen=", 7) && !v6)
		*(__u16 *)(ip + 2) = htons((__u16)(eq[1] == '+' ? (long)(p->len - ETH_HLEN) + n : n));
	else if (!strncmp(m, "plen=+", 6) && v6)
		*(__u16 *)(ip + 4) = htons((__u16)(p->len - ETH_HLEN - 40 + n));
	else if (!strncmp(m, "doff=", 5) && base[0] == 't')
		l4[12] = (__u8)(n << 4);
	else if (!strncmp(m, "udplen=", 7) && base[0] == 'u')
		*(__u16 *)(l4 + 4) = htons((__u16)(eq[1] == '+' ? (long)(p->b + p->len - l4) + n : n));
	else if (!strcmp(m, "src=0"))
		memset(ip + (v6 ? 8 : 12), 0, v6 ? 16 : 4);
	else if (!strcmp(m, "src=bcast") && !v6)
		memset(ip + 12, 0xff, 4);
	else if (!strcmp(m, "src=mcast"))
		inet_pton(v6 ? AF_INET6 : AF_INET, v6 ? "ff02::1" : "224.0.0.1", ip + (v6 ? 8 : 12));
	else if (!strcmp(m, "dst=cip"))	/* an address of ClusterIPs alone */
		inet_pton(v6 ? AF_INET6 : AF_INET, v6 ? CIP6 : CIP4, ip + (v6 ? 24 : 16));
	else if (!strcmp(m, "src=vip"))
		memcpy(ip + (v6 ? 8 : 12), ip + (v6 ? 24 : 16), v6 ? 16 : 4);
	else if (!strncmp(m, "ihl=", 4) && !v6)
		ip[0] = (__u8)(0x40 | n);
	else if (!strncmp(m, "extlen=+", 8) && v6 && ip[6] == 60)
		ip[41] = (__u8)((p->len - ETH_HLEN - 40) / 8 - 1 + n);
	else if (!strcmp(m, "mf") && !v6)
		ip[6] |= 0x20;
	else if (!strcmp(m, "fragoff") && !v6)
		ip[7] = 0x10;
	else
		return -1;
	if (!v6)
		ip4_csum(ip, (ip[0] & 0xf) * 4);
	return 0;
}

static int count(int map)
{
	struct kpr_flow_key k, next;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(map, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

static void clear(int map)
{
	struct kpr_flow_key k;

	while (!bpf_map_get_next_key(map, NULL, &k))
		bpf_map_delete_elem(map, &k);
}

static __u8 out[512], first_out[512];

/* The first fragment p becomes a later fragment of its datagram: offset 8,
 * no more fragments; the bytes that were its L4 header are data now. */
static int make_later(struct pkt *p)
{
	__u8 *ip = p->b + ETH_HLEN;

	if (p->b[12] == 0x08) {
		ip[6] = 0;
		ip[7] = 1;
		ip4_csum(ip, (ip[0] & 0xf) * 4);
		return 0;
	}
	for (__u8 *nh = ip + 6, *h = ip + 40; h + 8 <= p->b + p->len; h += 8) {
		if (*nh == 44) {
			*(__u16 *)(h + 2) = htons(8);
			return 0;
		}
		nh = h;
	}
	return -1;
}

static int run(int prog, unsigned int ifindex, const struct pkt *p)
{
	struct xdp_md ctx = { .data_end = (__u32)p->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = (__u32)p->len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o))
		return -1;
	return (int)o.retval;
}

static const char *const names[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

static int verdict(const char *s)
{
	for (int i = 0; i < 5; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static const char *name(int v)
{
	return v >= 0 && v < 5 ? names[v] : "error";
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	char line[512], base[16], mut[32], vs[16], what[400];
	struct kpr_xdp_bpf *skel;
	unsigned int ifindex;
	int prog, ct, want_ct, row = 0;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: helper_pkt_table PIN_ROOT IFINDEX TABLE\n");
		return 2;
	}
	ifindex = (unsigned int)atoi(argv[2]);
	f = fopen(argv[3], "r");
	oo.pin_root_path = argv[1];
	skel = kpr_xdp_bpf__open_opts(&oo);
	if (!f || !skel || kpr_obj_use_pins(argv[1], skel->obj) || kpr_xdp_bpf__load(skel)) {
		fprintf(stderr, "helper_pkt_table: cannot open %s or load the XDP datapath on %s\n",
			argv[3], argv[1]);
		return 1;
	}
	prog = bpf_program__fd(skel->progs.kpr_xdp_ingress);
	ct = bpf_map__fd(skel->maps.ct);
	while (fgets(line, sizeof(line), f)) {
		struct pkt p, full;
		size_t olen;
		int want, got;
		bool bad = false, same;
		const char *chain;
		char *later;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		row++;
		if (sscanf(line, "%15s %31s %15s %d %399[^\n]", base, mut, vs, &want_ct, what) != 5 ||
		    (want = verdict(vs)) < 0) {
			ok(false, "row %d of the table is not BASE MUTATION VERDICT CT WHAT: %s", row, line);
			continue;
		}
		later = strstr(mut, "+later");
		if (later)
			*later = '\0';
		chain = !strcmp(mut, "ext=dst") || !strncmp(mut, "extlen=", 7) ? "d" :
			!strncmp(mut, "ext=", 4) ? mut + 4 : "";
		olen = !strcmp(mut, "opt=nop4") ? 4 : strlen(chain) * 8;
		if (olen > 64 || build(&full, base, (__u16)(41000 + row), olen, chain) ||
		    mutate(&full, base, mut)) {
			ok(false, "%s: unknown base %s or mutation %s", what, base, mut);
			continue;
		}
		clear(ct);
		if (later) {
			got = run(prog, ifindex, &full);
			memcpy(first_out, out, sizeof(out));
			if (got != XDP_REDIRECT || make_later(&full)) {
				ok(false, "%s %s+later: the first fragment was %s, not REDIRECT", base,
				   mut, name(got));
				continue;
			}
		}
		if (strcmp(mut, "trunc")) {
			got = run(prog, ifindex, &full);
			/* the addresses: IPv4's at 12, IPv6's at 8, after Ethernet */
			same = !later || !memcmp(out + ETH_HLEN + (full.b[12] == 0x86 ? 8 : 12),
						 first_out + ETH_HLEN + (full.b[12] == 0x86 ? 8 : 12),
						 full.b[12] == 0x86 ? 32 : 8);
			ok(got == want && count(ct) == want_ct && same,
			   "%s %s%s: %s (%s, %d ct entries%s; want %s, %d)", base, mut,
			   later ? "+later" : "", what, name(got), count(ct),
			   same ? "" : ", addresses not its first's", vs, want_ct);
			continue;
		}
		for (size_t len = ETH_HLEN; len < full.len && !bad; len++) {
			p = full;
			p.len = len;
			got = run(prog, ifindex, &p);
			if (got != want || count(ct) != want_ct) {
				bad = true;
				printf("# cut to %zu bytes: %s, %d ct entries\n", len, name(got), count(ct));
			}
		}
		ok(!bad, "%s cut at every length from %d to %zu bytes: %s", base, ETH_HLEN, full.len - 1, what);
	}
	clear(ct);
	fclose(f);
	kpr_xdp_bpf__destroy(skel);
	return tap_done();
}
