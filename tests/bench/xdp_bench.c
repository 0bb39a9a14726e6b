// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of the XDP datapath through BPF_PROG_TEST_RUN, run by
 * tests/bench/datapath.sh inside a private network namespace where the
 * services and the routes to the backends exist.
 *
 *   xdp_bench PIN_ROOT IFINDEX VIP LABEL [REPEAT [RUNS]]
 *
 * Prints one line per path: the median over RUNS of the kernel's average
 * ns per repeat. Figures are printed, never judged.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpr_bench.skel.h"
#include "state.h"

#define PKT_LEN 54	/* Katran's: Ethernet, IPv4, TCP, no payload */

static unsigned int ifindex;
static int repeat = 1000000, runs = 5;

static __u16 fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* A 54-byte IPv4 packet; for UDP the last 12 bytes are payload. */
static void build(__u8 *pkt, __u8 proto, const char *src, __u16 sport, const char *dst,
		  __u16 dport, bool syn)
{
	struct ethhdr *eth = (void *)pkt;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 s = 0;

	memset(pkt, 0, PKT_LEN);
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(PKT_LEN - sizeof(*eth));
	ip->ttl = 64;
	ip->protocol = proto;
	inet_pton(AF_INET, src, &ip->saddr);
	inet_pton(AF_INET, dst, &ip->daddr);
	for (int i = 0; i < 10; i++)
		s += ((__u16 *)ip)[i];
	ip->check = fold(s);
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)(ip + 1);

		th->source = htons(sport);
		th->dest = htons(dport);
		th->seq = htonl(1);
		th->doff = 5;
		th->syn = syn;
		th->ack = !syn;
		th->window = htons(65535);
	} else {
		struct udphdr *uh = (void *)(ip + 1);

		uh->source = htons(sport);
		uh->dest = htons(dport);
		uh->len = htons(PKT_LEN - sizeof(*eth) - sizeof(*ip));
	}
}

static int run(struct bpf_program *prog, __u8 *pkt, int rep, __u8 *out, __u32 *retval,
	       __u32 *ns)
{
	struct xdp_md ctx = { .data_end = PKT_LEN, .ingress_ifindex = ifindex };
	__u8 buf[256];
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt, .data_size_in = PKT_LEN,
		.data_out = out ? out : buf, .data_size_out = sizeof(buf),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = rep);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

	if (err)
		return -errno;
	*retval = o.retval;
	*ns = o.duration;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	return (int)(*(const __u32 *)a - *(const __u32 *)b);
}

/* The median of `runs` runs of rep repeats; -1 on error. */
static double measure_n(struct bpf_program *prog, __u8 *pkt, int rep, __u32 *retval)
{
	__u32 v[32];
	int n = runs < 32 ? runs : 32;

	for (int i = 0; i < n; i++)
		if (run(prog, pkt, rep, NULL, retval, &v[i]))
			return -1;
	qsort(v, n, sizeof(v[0]), cmp_u32);
	return v[n / 2];
}

static double measure(struct bpf_program *prog, __u8 *pkt, __u32 *retval)
{
	return measure_n(prog, pkt, repeat, retval);
}

static const char *xdp_rc(__u32 rc)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return rc < 5 ? n[rc] : "?";
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct kpr_bench_bpf *skel;
	__u8 pkt[PKT_LEN], out[256];
	const char *vip, *label;
	char snat[INET_ADDRSTRLEN];
	__u32 rc, ns;
	double e, we, v;
	__u16 nat_port;
	int err;

	if (argc < 5) {
		fprintf(stderr, "usage: xdp_bench PIN_ROOT IFINDEX VIP LABEL [REPEAT [RUNS]]\n");
		return 2;
	}
	opts.pin_root_path = argv[1];
	ifindex = atoi(argv[2]);
	vip = argv[3];
	label = argv[4];
	if (argc > 5)
		repeat = atoi(argv[5]);
	if (argc > 6)
		runs = atoi(argv[6]);

	skel = kpr_bench_bpf__open_opts(&opts);
	if (!skel || kpr_obj_use_pins(argv[1], skel->obj) || kpr_bench_bpf__load(skel)) {
		fprintf(stderr, "xdp_bench: cannot load the bench programs\n");
		return 1;
	}

	/* the empty program and the wrapper's own cost, from this very run */
	build(pkt, IPPROTO_TCP, "10.98.0.1", 40000, vip, 80, false);
	e = measure(skel->progs.bench_empty, pkt, &rc);
	we = measure(skel->progs.bench_wrap_empty, pkt, &rc);
	printf("%-14s %-44s %8.1f ns  %5.2fx empty\n", label, "empty XDP program", e, 1.0);
	printf("%-14s %-44s %8.1f ns  (wrapper: save+restore 54 bytes)\n", label,
	       "wrapper around nothing", we);

/* XDP_BENCH_ONLY=WORD measures only the paths whose name holds WORD (for
 * perf record); the baselines always run. */
#define REPORT(what, m, rc) do { \
	if (getenv("XDP_BENCH_ONLY") && !strstr(what, getenv("XDP_BENCH_ONLY"))) \
		break; \
	v = (m); \
	printf("%-14s %-44s %8.1f ns  %5.2fx empty  net of wrapper %6.1f ns  [%s]\n", label, what, \
	       v, v / e, v - (we - e), xdp_rc(rc)); \
} while (0)

	build(pkt, IPPROTO_TCP, "10.98.0.1", 40000, "10.97.0.1", 80, false);
	/* nothing is rewritten here: measured bare, as the empty program */
	v = measure(skel->progs.bench_plain, pkt, &rc);
	printf("%-14s %-44s %8.1f ns  %5.2fx empty  (unwrapped)              [%s]\n", label,
	       "not for a service (TCP to 10.97.0.1:80)", v, v / e, xdp_rc(rc));

	/* one flow through once, unwrapped, to learn its nat port */
	build(pkt, IPPROTO_TCP, "10.98.0.2", 40001, vip, 80, true);
	err = run(skel->progs.bench_plain, pkt, 1, out, &rc, &ns);
	if (err || rc != XDP_REDIRECT) {
		fprintf(stderr, "xdp_bench: the first SYN was not forwarded (%s, err %d): check the routes\n",
			xdp_rc(rc), err);
		return 1;
	}
	nat_port = ntohs(((struct tcphdr *)(out + 34))->source);
	inet_ntop(AF_INET, out + 26, snat, sizeof(snat));
	{
		char be[INET_ADDRSTRLEN];
		__u16 be_port = ntohs(((struct tcphdr *)(out + 34))->dest);

		inet_ntop(AF_INET, out + 30, be, sizeof(be));
		build(pkt, IPPROTO_TCP, "10.98.0.2", 40001, vip, 80, false);
		REPORT("TCP established flow (ct hit)", measure(skel->progs.bench_flow, pkt, &rc), rc);
		build(pkt, IPPROTO_TCP, be, be_port, snat, nat_port, false);
		REPORT("TCP reply, reverse SNAT (nat hit)",
		       measure(skel->progs.bench_flow, pkt, &rc), rc);
	}
	build(pkt, IPPROTO_UDP, "10.98.0.3", 40002, vip, 53, false);
	REPORT("UDP packet of an established flow", measure(skel->progs.bench_flow, pkt, &rc), rc);

	/* last: new flows fill the tables. First a few thousand per run, so
	 * that they stay far from full (ct and nat hold 262144 each),
	 * as in Katran's figure; then millions, which keep the LRU tables full
	 * and evicting, as a SYN flood would. */
	build(pkt, IPPROTO_TCP, "10.98.0.1", 40000, vip, 80, true);
	REPORT("TCP SYN, new flow each repeat, tables filling",
	       measure_n(skel->progs.bench_new_flow, pkt, 10000, &rc), rc);
	REPORT("TCP SYN, new flow each repeat, tables full",
	       measure(skel->progs.bench_new_flow, pkt, &rc), rc);

	kpr_bench_bpf__destroy(skel);
	return 0;
}
