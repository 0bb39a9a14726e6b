// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The datapath's incremental checksum updates (bpf/lib/csum.h, RFC 1624)
 * against full recomputation, in user space: random headers, random
 * rewrites of addresses and ports as SNAT does them, IPv4 and IPv6, and the
 * edge sums (0x0000, 0xffff) where incremental updates classically go wrong.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <linux/types.h>

/* csum.h is written for the BPF target; it needs no helper, only these. */
#define KPR_LIB_CSUM_STANDALONE
#include "../../bpf/lib/csum.h"
#include "tap.h"

/* The one's complement sum of n 16-bit words as they lie in memory (read
 * through memcpy: the buffers are written as 32-bit words). */
static __u16 full_csum(const void *p, size_t n)
{
	__u64 s = 0;

	for (size_t i = 0; i < n / 2; i++) {
		__u16 w;

		memcpy(&w, (const char *)p + 2 * i, 2);
		s += w;
	}
	return ~kpr_csum_fold(s);
}

/* Equal as checksums: 0x0000 and 0xffff are both zero in one's complement. */
static bool same(__u16 a, __u16 b)
{
	return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

static __u32 rnd32(void)
{
	return (__u32)random() << 16 ^ (__u32)random();
}

int main(void)
{
	int bad4 = 0, bad6 = 0, bad16 = 0;

	srandom(1);
	/* IPv4 pseudo-header + ports + payload: rewrite saddr, daddr, ports;
	 * every thousandth buffer ends in zeros, for sums near the edges */
	for (int i = 0; i < 100000; i++) {
		__u32 buf[8], old[3], now[3];
		__u16 sum;
		__u64 d = 0;

		for (int j = 0; j < 8; j++)
			buf[j] = rnd32();
		if (i % 1000 == 0)
			buf[7] = 0;
		sum = full_csum(buf, sizeof(buf));
		for (int j = 0; j < 3; j++) {
			old[j] = buf[j];
			now[j] = rnd32();
			d = kpr_csum_diff32(d, old[j], now[j]);
			buf[j] = now[j];
		}
		kpr_csum_apply(&sum, d);
		if (!same(sum, full_csum(buf, sizeof(buf))))
			bad4++;
	}
	ok(bad4 == 0, "IPv4-sized rewrites: incremental equals recomputed (%d bad of 100000)", bad4);

	for (int i = 0; i < 100000; i++) {
		__u32 buf[12], from[4], to[4];
		__u16 sum;
		__u64 d;

		for (int j = 0; j < 12; j++)
			buf[j] = rnd32();
		sum = full_csum(buf, sizeof(buf));
		for (int j = 0; j < 4; j++) {
			from[j] = buf[j];
			to[j] = rnd32();
		}
		d = kpr_csum_diff_addr(0, from, to, true);
		for (int j = 0; j < 4; j++)
			buf[j] = to[j];
		kpr_csum_apply(&sum, d);
		if (!same(sum, full_csum(buf, sizeof(buf))))
			bad6++;
	}
	ok(bad6 == 0, "IPv6 address rewrites: incremental equals recomputed (%d bad of 100000)", bad6);

	for (int i = 0; i < 100000; i++) {
		__u16 buf[10], sum, old;

		for (int j = 0; j < 10; j++)
			buf[j] = (__u16)random();
		sum = full_csum(buf, sizeof(buf));
		old = buf[4];
		buf[4] = (__u16)random();	/* TTL and protocol, or ICMP type */
		kpr_csum_apply(&sum, kpr_csum_diff16(0, old, buf[4]));
		if (!same(sum, full_csum(buf, sizeof(buf))))
			bad16++;
	}
	ok(bad16 == 0, "16-bit field rewrites: incremental equals recomputed (%d bad of 100000)", bad16);
	return tap_done();
}
