// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test helper, not a test (it needs root and BPF): runs tests/bpf/tc_csum
 * (the datapath's kpr_rewrite() in a tc program, so the sums go through
 * bpf_l3_csum_replace() and bpf_l4_csum_replace()) on TCP and UDP packets
 * of both families with BPF_PROG_TEST_RUN, each rewritten to random
 * tuples, and checks every sum of the result against a full recomputation.
 * Prints TAP; datapath-tc.bats runs it.
 *   helper_tc_csum
 * With attach, it instead attaches the program at tc egress of DEV in the
 * network namespace NETNS, rewriting every IPv4 TCP/UDP packet leaving by it
 * to SRC -> DST, and exits; the filter stays until the namespace goes.
 *   helper_tc_csum attach NETNS DEV SRC_IP:PORT DST_IP:PORT
 */
#define _GNU_SOURCE	/* setns() */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../../bpf/kpr_maps.h"
#include "tests/bpf/tc_csum.skel.h"
#include "tap.h"

#define ROUNDS	500
#define PAYLOAD	37	/* odd: the sums' last word is half a payload byte */

/* The one's complement sum of n bytes as they lie in memory, folded. */
static __u32 sum16(const void *p, size_t n, __u32 s)
{
	const __u8 *b = p;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (__u16)(b[i] | b[i + 1] << 8);
	if (n & 1)
		s += b[n - 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static __u32 pseudo(const __u8 *saddr, const __u8 *daddr, size_t alen, __u8 proto, __u16 len)
{
	__u16 w[2] = { htons(proto), htons(len) };

	return sum16(w, 4, sum16(daddr, alen, sum16(saddr, alen, 0)));
}

struct pkt {
	__u8 b[128];
	size_t len;
	size_t l3, l4;	/* offsets */
	bool v6;
	__u8 proto;
};

static void rnd(void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((__u8 *)p)[i] = rand();
}

/* Addresses of the packet's family at their place in the header. */
static __u8 *saddr(struct pkt *k)
{
	return k->b + k->l3 + (k->v6 ? 8 : 12);
}

static __u8 *daddr(struct pkt *k)
{
	return k->b + k->l3 + (k->v6 ? 24 : 16);
}

static __u16 *l4sum(struct pkt *k)
{
	return (__u16 *)(k->b + k->l4 + (k->proto == IPPROTO_TCP ? 16 : 6));
}

/* A packet with random addresses, ports and payload, and correct sums;
 * nosum: IPv4 UDP without a checksum. */
static void build(struct pkt *k, bool v6, __u8 proto, bool nosum)
{
	size_t alen = v6 ? 16 : 4, l4len = (proto == IPPROTO_TCP ? 20 : 8) + PAYLOAD;
	__u8 *ip, *l4;

	memset(k, 0, sizeof(*k));
	k->v6 = v6;
	k->proto = proto;
	k->l3 = ETH_HLEN;
	k->l4 = k->l3 + (v6 ? 40 : 20);
	k->len = k->l4 + l4len;
	rnd(k->b, 12);				/* MACs */
	*(__u16 *)(k->b + 12) = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	ip = k->b + k->l3;
	l4 = k->b + k->l4;
	if (v6) {
		ip[0] = 0x60;
		*(__u16 *)(ip + 4) = htons(l4len);
		ip[6] = proto;
		ip[7] = 64;
	} else {
		ip[0] = 0x45;
		*(__u16 *)(ip + 2) = htons(20 + l4len);
		ip[8] = 64;
		ip[9] = proto;
	}
	rnd(saddr(k), alen);
	rnd(daddr(k), alen);
	rnd(l4, 4);				/* ports */
	rnd(l4 + l4len - PAYLOAD, PAYLOAD);
	if (proto == IPPROTO_TCP) {
		rnd(l4 + 4, 8);			/* seq, ack */
		l4[12] = 5 << 4;
		l4[13] = 0x18;			/* PSH ACK */
		*(__u16 *)(l4 + 14) = htons(512);
	} else {
		*(__u16 *)(l4 + 4) = htons(l4len);
	}
	if (!v6)
		*(__u16 *)(ip + 10) = ~sum16(ip, 20, 0);
	if (!nosum) {
		*l4sum(k) = ~sum16(l4, l4len, pseudo(saddr(k), daddr(k), alen, proto, l4len));
		if (proto == IPPROTO_UDP && !*l4sum(k))
			*l4sum(k) = 0xffff;
	}
}

/* Whether every sum of k verifies. */
static bool sums_ok(struct pkt *k, bool nosum)
{
	size_t alen = k->v6 ? 16 : 4, l4len = k->len - k->l4;

	if (!k->v6 && sum16(k->b + k->l3, 20, 0) != 0xffff)
		return false;
	if (nosum)
		return *l4sum(k) == 0;
	return sum16(k->b + k->l4, l4len,
		     pseudo(saddr(k), daddr(k), alen, k->proto, l4len)) == 0xffff;
}

static void run_case(struct tc_csum_bpf *skel, bool v6, __u8 proto, bool nosum)
{
	int prog = bpf_program__fd(skel->progs.tc_csum), bad = 0, wrong = 0, err = 0;
	const char *name = v6 ? "IPv6" : "IPv4";
	size_t alen = v6 ? 16 : 4;

	for (int r = 0; r < ROUNDS; r++) {
		struct kpr_l4addr *src = &skel->bss->tc_csum_src, *dst = &skel->bss->tc_csum_dst;
		struct pkt in, out;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in.b, .data_out = out.b,
			    .data_size_out = sizeof(out.b), .repeat = 1);

		build(&in, v6, proto, nosum);
		o.data_size_in = in.len;
		memset(src, 0, sizeof(*src));
		memset(dst, 0, sizeof(*dst));
		rnd(&src->addr, alen);
		rnd(&dst->addr, alen);
		rnd(&src->port, 2);
		rnd(&dst->port, 2);
		/* the edge sums: a rewrite that leaves a field as it was */
		if (r % 10 == 0)
			memcpy(&dst->addr, daddr(&in), alen);
		if (bpf_prog_test_run_opts(prog, &o) || o.retval != TC_ACT_OK ||
		    o.data_size_out != in.len) {
			err++;
			continue;
		}
		out.len = in.len;
		out.l3 = in.l3;
		out.l4 = in.l4;
		out.v6 = v6;
		out.proto = proto;
		if (memcmp(saddr(&out), &src->addr, alen) || memcmp(daddr(&out), &dst->addr, alen) ||
		    memcmp(out.b + out.l4, &src->port, 2) || memcmp(out.b + out.l4 + 2, &dst->port, 2))
			wrong++;
		else if (!sums_ok(&out, nosum))
			bad++;
	}
	ok(!err && !wrong && !bad, "%s %s%s: %d rewrites, %d with a bad sum, %d not rewritten, %d runs failed",
	   name, proto == IPPROTO_TCP ? "TCP" : "UDP", nosum ? " without a checksum" : "",
	   ROUNDS, bad, wrong, err);
}

static int parse_l4(const char *s, struct kpr_l4addr *a)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');

	if (!colon || colon - s >= (int)sizeof(ip))
		return -1;
	memcpy(ip, s, colon - s);
	ip[colon - s] = 0;
	memset(a, 0, sizeof(*a));
	a->port = htons(atoi(colon + 1));
	return inet_pton(AF_INET, ip, &a->addr.v4) == 1 ? 0 : -1;
}

static int attach(struct tc_csum_bpf *skel, char **argv)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(skel->progs.tc_csum));
	char path[256];
	int fd, err;

	if (parse_l4(argv[4], &skel->bss->tc_csum_src) ||
	    parse_l4(argv[5], &skel->bss->tc_csum_dst)) {
		fprintf(stderr, "helper_tc_csum: bad address in %s %s\n", argv[4], argv[5]);
		return 2;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", argv[2]);
	fd = open(path, O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		perror(path);
		return 1;
	}
	hook.ifindex = if_nametoindex(argv[3]);
	if (!hook.ifindex) {
		perror(argv[3]);
		return 1;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		fprintf(stderr, "helper_tc_csum: clsact on %s: %s\n", argv[3], strerror(-err));
		return 1;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fprintf(stderr, "helper_tc_csum: attach to %s: %s\n", argv[3], strerror(-err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct tc_csum_bpf *skel;
	struct bpf_map *m;
	int ret;

	if (argc != 1 && (argc != 6 || strcmp(argv[1], "attach"))) {
		fprintf(stderr, "usage: helper_tc_csum [attach NETNS DEV SRC_IP:PORT DST_IP:PORT]\n");
		return 2;
	}
	srand(1624);
	skel = tc_csum_bpf__open();
	if (!skel) {
		fprintf(stderr, "helper_tc_csum: cannot open tc_csum: %s\n", strerror(errno));
		return 1;
	}
	/* The datapath's headers declare every pinned map; this program uses
	 * none of them and creates none (nor pins one on the host). The
	 * fragments' maps are its own, unpinned: a first fragment would note
	 * itself there (lib/frag.h). */
	bpf_object__for_each_map(m, skel->obj)
		if (m != skel->maps.bss && m != skel->maps.frag && m != skel->maps.frag_tmp)
			bpf_map__set_autocreate(m, false);
	if (tc_csum_bpf__load(skel)) {
		fprintf(stderr, "helper_tc_csum: cannot load tc_csum: %s\n", strerror(errno));
		return 1;
	}
	if (argc == 6) {
		ret = attach(skel, argv);
		tc_csum_bpf__destroy(skel);
		return ret;
	}
	run_case(skel, false, IPPROTO_TCP, false);
	run_case(skel, false, IPPROTO_UDP, false);
	run_case(skel, true, IPPROTO_TCP, false);
	run_case(skel, true, IPPROTO_UDP, false);
	run_case(skel, false, IPPROTO_UDP, true);
	tc_csum_bpf__destroy(skel);
	return tap_done();
}
