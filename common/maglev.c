// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Maglev as Cilium builds it (pkg/maglev, Cilium >= 1.15; the facts are in
 * shared/maglev-compat.md):
 *   1. each backend is named by a string, "[ADDR:PORT/PROTO,State:active]";
 *   2. backends are sorted by that string, bytewise;
 *   3. MurmurHash3_x64_128(string, seed) gives offset = h1 % M and
 *      skip = h2 % (M - 1) + 1; backend i prefers slots
 *      (offset + j * skip) % M for j = 0, 1, ...;
 *   4. backends take turns claiming their next free preferred slot, with
 *      Cilium's weighted turn-skipping when the weights are not all equal.
 * Preferences are walked incrementally (one addition per step), and slots
 * taken are tracked in a bitmap of M bits that stays in L1 even at M=131071.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "addr.h"
#include "base64.h"
#include "maglev.h"
#include "murmur3.h"

const __u32 kpr_maglev_sizes[KPR_MAGLEV_NSIZES] = {
	251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
};

bool kpr_maglev_size_ok(__u32 m)
{
	for (int i = 0; i < KPR_MAGLEV_NSIZES; i++)
		if (kpr_maglev_sizes[i] == m)
			return true;
	return false;
}

const char *kpr_maglev_sizes_str(void)
{
	return "251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071";
}

int kpr_maglev_seed_parse(const char *s, __u8 seed[KPR_SEED_LEN])
{
	__u8 buf[KPR_SEED_LEN];
	int n;

	/* 12 bytes are exactly 16 characters, never padded. */
	if (strlen(s) != KPR_SEED_STRLEN - 1)
		return -EINVAL;
	n = kpr_b64_decode(s, buf, sizeof(buf));
	if (n != KPR_SEED_LEN)
		return -EINVAL;
	memcpy(seed, buf, KPR_SEED_LEN);
	return 0;
}

const char *kpr_maglev_seed_fmt(const __u8 seed[KPR_SEED_LEN], char *buf, size_t len)
{
	if (kpr_b64_encode(seed, KPR_SEED_LEN, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

int kpr_maglev_seed_new(__u8 seed[KPR_SEED_LEN])
{
	size_t got = 0;

	while (got < KPR_SEED_LEN) {
		ssize_t r = getrandom(seed + got, KPR_SEED_LEN - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	return 0;
}

int kpr_maglev_hash_string(const struct kpr_maglev_be *be, char *buf, size_t len)
{
	const struct kpr_l4addr *a = &be->addr;
	char host[INET6_ADDRSTRLEN];
	int n;

	if (a->family != KPR_FAM_V4 && a->family != KPR_FAM_V6)
		return -EINVAL;
	/* inet_ntop prints RFC 5952 text, as Go's netip does. */
	kpr_fmt_addr(&a->addr, a->family, host, sizeof(host));
	n = snprintf(buf, len, a->family == KPR_FAM_V6 ? "[[%s]:%u/%s%s,State:active]" :
		     "[%s:%u/%s%s,State:active]", host, ntohs(a->port),
		     kpr_proto_name(a->proto, true), be->scope == KPR_SCOPE_INT ? "/i" : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Per backend, in sorted order. */
struct mg_state {
	char name[KPR_MAGLEV_HASHSTRLEN];
	unsigned int orig;	/* index as given */
	__u32 skip;
	__u32 cur;		/* the next preferred slot: (offset + next * skip) % M */
	__u64 weight;
	double cntr;
};

static int cmp_name(const void *a, const void *b)
{
	const struct mg_state *x = a, *y = b;
	int c = strcmp(x->name, y->name);	/* bytewise: strcmp compares unsigned chars */

	if (c)
		return c;
	return x->orig < y->orig ? -1 : x->orig > y->orig;
}

static inline bool taken(const __u64 *bits, __u32 k)
{
	return bits[k >> 6] & (1ULL << (k & 63));
}

int kpr_maglev_build(const struct kpr_maglev_be *be, unsigned int n, __u32 m,
		     const __u8 seed[KPR_SEED_LEN], __u32 *table)
{
	__u32 mseed = (__u32)seed[0] << 24 | (__u32)seed[1] << 16 | (__u32)seed[2] << 8 | seed[3];
	struct mg_state *s;
	__u64 *bits, wsum = 0;
	bool weighted;
	int ret = 0;

	if (!n || !kpr_maglev_size_ok(m))
		return -EINVAL;
	s = calloc(n, sizeof(*s));
	bits = calloc((m + 63) / 64, sizeof(*bits));
	if (!s || !bits) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		ret = kpr_maglev_hash_string(&be[i], s[i].name, sizeof(s[i].name));
		if (ret)
			goto out;
		s[i].orig = i;
		s[i].weight = be[i].weight;
		wsum += be[i].weight;
	}
	qsort(s, n, sizeof(*s), cmp_name);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t h1, h2;

		kpr_murmur3_x64_128(s[i].name, strlen(s[i].name), mseed, &h1, &h2);
		s[i].cur = (__u32)(h1 % m);
		s[i].skip = (__u32)(h2 % (m - 1)) + 1;
		s[i].cntr = (double)s[i].weight / (double)n;
	}

	weighted = wsum / n > 1;
	for (__u64 k = 0; k < m; k++) {
		unsigned int i = (unsigned int)(k % n);
		struct mg_state *b;
		__u32 c;

		/* Cilium: a backend whose weighted counter is ahead gives its
		 * turn to the next one. */
		while (weighted && (k + 1) * s[i].weight < (__u64)s[i].cntr)
			i = (i + 1) % n;
		b = &s[i];
		if (weighted)
			b->cntr += (double)wsum;
		/* Some slot is still free, and every backend's preference
		 * list visits all M slots (M prime, 0 < skip < M). */
		for (c = b->cur; taken(bits, c); ) {
			c += b->skip;
			if (c >= m)
				c -= m;
		}
		bits[c >> 6] |= 1ULL << (c & 63);
		table[c] = b->orig;
		c += b->skip;
		b->cur = c >= m ? c - m : c;
	}
out:
	free(s);
	free(bits);
	return ret;
}
