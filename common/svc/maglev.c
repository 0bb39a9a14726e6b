// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Maglev as Cilium builds it (pkg/maglev, Cilium >= 1.15; the facts are in
 * docs/maglev.md):
 *   1. each backend is named by a string, "[ADDR:PORT/PROTO,State:active]";
 *   2. backends are sorted by that string, bytewise;
 *   3. MurmurHash3_x64_128(string, seed) gives offset = h1 % M and
 *      skip = h2 % (M - 1) + 1; backend i prefers slots
 *      (offset + j * skip) % M for j = 0, 1, ...;
 *   4. backends take turns claiming their next free preferred slot, with
 *      Cilium's weighted turn-skipping when the weights are not all equal.
 * Preferences are walked incrementally (additions, no N x M matrix), slots
 * taken are tracked in a bitmap of M bits (16 KiB at M=131071, in L1), and
 * the last sqrt(M) slots are found by ranking the free ones rather than by
 * probing (see nearest_listed()). Memory is O(M + N).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "svc/addr.h"
#include "core/base64.h"
#include "svc/maglev.h"
#include "core/murmur3.h"

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
	static char buf[KPR_MAGLEV_NSIZES * 8];

	if (!buf[0])
		for (size_t i = 0, off = 0; i < KPR_MAGLEV_NSIZES; i++)
			off += snprintf(buf + off, sizeof(buf) - off, "%s%u", i ? ", " : "",
					kpr_maglev_sizes[i]);
	return buf;
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

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *put_uint(char *p, unsigned int v)
{
	char d[10];
	int n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*p++ = d[--n];
	return p;
}

/*
 * Formatted by hand, not with snprintf: for a thousand backends the strings
 * cost more than the whole fill otherwise. IPv6 goes through inet_ntop for
 * its RFC 5952 form (the same text Go's netip prints).
 */
int kpr_maglev_hash_string(const struct kpr_maglev_be *be, char *buf, size_t len)
{
	const struct kpr_l4addr *a = &be->addr;
	char tmp[KPR_MAGLEV_HASHSTRLEN], host[INET6_ADDRSTRLEN], *p = tmp;

	if (a->family == KPR_FAM_V4) {
		*p++ = '[';
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_uint(p, a->addr.b[i]);
		}
	} else if (a->family == KPR_FAM_V6) {
		kpr_fmt_addr(&a->addr, a->family, host, sizeof(host));
		p = put_str(put_str(p, "[["), host);
		*p++ = ']';
	} else {
		return -EINVAL;
	}
	*p++ = ':';
	p = put_uint(p, ntohs(a->port));
	*p++ = '/';
	p = put_str(p, kpr_proto_name(a->proto, true));
	if (be->scope == KPR_SCOPE_INT)
		p = put_str(p, "/i");
	p = put_str(p, ",State:active]");
	*p = '\0';
	if ((size_t)(p - tmp) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, tmp, (size_t)(p - tmp) + 1);
	return 0;
}

/* Candidates tested together by next_free(); 4 measured best here. */
#define KPR_MG_WIDE 4

/* Per backend, for sorting. */
struct mg_name {
	char name[KPR_MAGLEV_HASHSTRLEN];
	unsigned int orig;	/* index as given */
};

/* Per backend, in sorted order: only what the fill touches (40 bytes),
 * apart from the names that are needed once for sorting. */
struct mg_walk {
	__u32 cur;		/* the next preferred slot: (offset + next * skip) % M */
	__u32 mult[KPR_MG_WIDE];	/* (j * skip) % M: the candidates tested together */
	__u32 step;		/* (KPR_MG_WIDE * skip) % M */
	__u32 inv;		/* skip^-1 % M, for the endgame; 0 until needed */
	__u32 orig;
	__u32 weight;
	double cntr;		/* Cilium's weight counter */
};

static int cmp_name(const void *a, const void *b)
{
	const struct mg_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);	/* bytewise: strcmp compares unsigned chars */

	if (c)
		return c;
	return x->orig < y->orig ? -1 : x->orig > y->orig;
}

static inline unsigned int taken(const __u64 *bits, __u32 k)
{
	return (unsigned int)(bits[k >> 6] >> (k & 63)) & 1;
}

static inline __u32 add_mod(__u32 a, __u32 b, __u32 m)
{
	a += b;
	return a >= m ? a - m : a;
}

/*
 * The first free slot of b's preference list from b->cur on. Some slot is
 * still free, and the list visits all M slots (M prime, 0 < skip < M), so
 * this ends. Once the table fills up most candidates are taken, and a branch
 * per candidate would mispredict at every slot: KPR_MG_WIDE candidates are
 * tested at once instead, and the first free one picked from a bit mask.
 */
static __u32 next_free(const __u64 *bits, const struct mg_walk *b, __u32 m)
{
	__u32 c = b->cur;

	for (;;) {
		unsigned int free_mask = 0;

		for (int j = 0; j < KPR_MG_WIDE; j++)
			free_mask |= (taken(bits, add_mod(c, b->mult[j], m)) ^ 1) << j;
		if (free_mask)
			return add_mod(c, b->mult[__builtin_ctz(free_mask)], m);
		c = add_mod(c, b->step, m);
	}
}

/* Inverse of a modulo the prime m (extended Euclid). */
static __u32 inv_mod(__u32 a, __u32 m)
{
	int64_t t = 0, nt = 1, r = m, nr = a;

	while (nr) {
		int64_t q = r / nr, x;

		x = t - q * nt;
		t = nt;
		nt = x;
		x = r - q * nr;
		r = nr;
		nr = x;
	}
	return (__u32)(t < 0 ? t + m : t);
}

/* a % m for a < 2^34, m < 2^17, without a division (Lemire's fastmod:
 * exact while 64 >= bits(a) + bits(m)). */
static inline __u32 fast_mod(__u64 a, __u64 c, __u32 m)
{
	return (__u32)(((unsigned __int128)(c * a) * m) >> 64);
}

/*
 * The endgame, once at most sqrt(M) slots are free: probing would visit
 * about M / free candidates per slot, so instead each free slot f is ranked
 * by how many steps b's list takes from b->cur to reach it,
 * ((f - cur) * skip^-1) % M, and the nearest one wins. Every slot between
 * b's offset and b->cur is taken, so this is the same slot probing finds.
 */
static __u32 nearest_listed(__u32 *freel, __u32 *nf, struct mg_walk *b, __u32 m, __u64 c)
{
	__u64 best = ~0ULL;
	__u32 at, f;

	if (!b->inv)
		b->inv = inv_mod(b->mult[1], m);
	for (__u32 i = 0; i < *nf; i++) {
		__u32 d = freel[i] >= b->cur ? freel[i] - b->cur : freel[i] + m - b->cur;
		__u64 key = (__u64)fast_mod((__u64)d * b->inv, c, m) << 32 | i;

		best = key < best ? key : best;
	}
	at = (__u32)best;
	f = freel[at];
	freel[at] = freel[--*nf];
	return f;
}

bool kpr_maglev_weighted(const struct kpr_maglev_be *be, unsigned int n, __u64 *wsum)
{
	*wsum = 0;
	for (unsigned int i = 0; i < n; i++)
		*wsum += be[i].weight;
	return n && *wsum / n > 1;
}

int kpr_maglev_build(const struct kpr_maglev_be *be, unsigned int n, __u32 m,
		     const __u8 seed[KPR_SEED_LEN], __u32 *table)
{
	__u32 mseed = (__u32)seed[0] << 24 | (__u32)seed[1] << 16 | (__u32)seed[2] << 8 | seed[3];
	__u32 endgame = 1, nf = 0, *freel = NULL;
	__u64 *bits, wsum = 0, fm = ~0ULL / m + 1;
	unsigned int turn = 0;
	struct mg_name *s;
	struct mg_walk *w;
	bool weighted;
	int ret = 0;

	if (!n || !kpr_maglev_size_ok(m))
		return -EINVAL;
	while (endgame * endgame < m)
		endgame++;
	s = calloc(n, sizeof(*s));
	w = calloc(n, sizeof(*w));
	bits = calloc((m + 63) / 64, sizeof(*bits));
	freel = calloc(endgame + 1, sizeof(*freel));
	if (!s || !w || !bits || !freel) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		ret = kpr_maglev_hash_string(&be[i], s[i].name, sizeof(s[i].name));
		if (ret)
			goto out;
		s[i].orig = i;
	}
	qsort(s, n, sizeof(*s), cmp_name);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t h1, h2;
		__u32 skip;

		kpr_murmur3_x64_128(s[i].name, strlen(s[i].name), mseed, &h1, &h2);
		w[i].cur = (__u32)(h1 % m);
		skip = (__u32)(h2 % (m - 1)) + 1;
		for (int j = 1; j < KPR_MG_WIDE; j++)
			w[i].mult[j] = add_mod(w[i].mult[j - 1], skip, m);
		w[i].step = add_mod(w[i].mult[KPR_MG_WIDE - 1], skip, m);
		w[i].orig = s[i].orig;
		w[i].weight = be[s[i].orig].weight;
		w[i].cntr = (double)w[i].weight / (double)n;
	}

	weighted = kpr_maglev_weighted(be, n, &wsum);
	for (__u64 k = 0; k < m; k++, turn = turn + 1 == n ? 0 : turn + 1) {
		unsigned int i = turn;		/* k % n */
		struct mg_walk *b;
		__u32 c;

		/* Cilium: a backend whose weighted counter is ahead gives its
		 * turn to the next one. */
		while (weighted && (k + 1) * w[i].weight < (__u64)w[i].cntr)
			i = i + 1 == n ? 0 : i + 1;
		b = &w[i];
		if (weighted)
			b->cntr += (double)wsum;
		if (m - k == endgame) {		/* list the free slots, once */
			for (__u32 f = 0; f < m; f++)
				if (!taken(bits, f))
					freel[nf++] = f;
		}
		if (m - k <= endgame) {
			c = nearest_listed(freel, &nf, b, m, fm);
		} else {
			c = next_free(bits, b, m);
			bits[c >> 6] |= 1ULL << (c & 63);
		}
		table[c] = b->orig;
		b->cur = add_mod(c, b->mult[1], m);
	}
out:
	free(s);
	free(w);
	free(bits);
	free(freel);
	return ret;
}

void kpr_maglev_diff(const __u32 *old_tab, const __u32 *new_tab, __u32 m,
		     const int *old_to_new, struct kpr_maglev_diff *d)
{
	memset(d, 0, sizeof(*d));
	for (__u32 k = 0; k < m; k++) {
		int now = old_to_new[old_tab[k]];
		bool moves = now < 0 || (__u32)now != new_tab[k];

		d->changed += moves;
		if (now < 0) {
			d->removed++;
			continue;
		}
		d->surviving++;
		d->moved += moves;
	}
}
