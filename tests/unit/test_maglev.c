// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Maglev tables against Cilium's reference vector, MurmurHash3 against
 * published vectors, the strict base64 of seeds, and the balance Maglev
 * promises. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>

#include "svc/addr.h"
#include "core/base64.h"
#include "svc/maglev.h"
#include "core/murmur3.h"
#include "state/state.h"
#include "tap.h"
#include "core/util.h"

/* docs/maglev.md: Cilium's TestReproducible, M = 251, default seed. */
static const char ref_rle[] =
	"2(5),3(1),2(3),1(1),2(2),0(1),2(1),3(1),2(1),3(1),2(1),1(1),2(7),1(1),2(14),3(1),2(1),"
	"1(2),2(12),3(1),2(3),1(1),2(4),3(1),2(8),3(1),2(2),1(1),2(16),1(2),2(3),3(1),2(11),1(2),2(4),3(1),2(3),"
	"1(1),2(4),3(1),2(1),0(1),1(1),2(8),1(1),2(7),1(1),2(4),3(1),2(1),3(1),2(9),1(2),2(5),1(1),2(7),3(1),2(1),"
	"3(1),1(1),2(8),1(1),2(4),0(1),2(1),1(1),2(5),3(1),2(3),1(1),2(4),3(1),2(3),1(1),2(12),0(1),3(1),2(3),3(1),"
	"2(4),3(1),2(2),1(1),2(7)";

static __u8 seed[KPR_SEED_LEN];

/* Backends from the tools' own grammar; weight and state ride along. */
static struct kpr_maglev_be *backends(const char *const *spec, unsigned int n, __u8 scope)
{
	struct kpr_maglev_be *be = calloc(n, sizeof(*be));
	char err[KPR_ERRLEN];

	for (unsigned int i = 0; be && i < n; i++) {
		struct kpr_be_spec s;

		if (kpr_parse_backend(spec[i], IPPROTO_TCP, &s, err, sizeof(err))) {
			printf("# %s\n", err);
			exit(1);
		}
		be[i].addr = s.addr;
		be[i].weight = s.weight;
		be[i].scope = scope;
	}
	return be;
}

/* n backends 10.X.Y.Z:80 with the given weight (0: none given). */
static struct kpr_maglev_be *synthetic(unsigned int n, unsigned int weight)
{
	struct kpr_maglev_be *be = calloc(n, sizeof(*be));

	for (unsigned int i = 0; be && i < n; i++) {
		be[i].addr.family = KPR_FAM_V4;
		be[i].addr.proto = IPPROTO_TCP;
		be[i].addr.port = htons(80);
		be[i].addr.addr.b[0] = 10;
		be[i].addr.addr.b[1] = (__u8)(i >> 16);
		be[i].addr.addr.b[2] = (__u8)(i >> 8);
		be[i].addr.addr.b[3] = (__u8)i;
		be[i].weight = weight ? (__u16)weight : 1;
	}
	return be;
}

static void count(const __u32 *t, __u32 m, unsigned int n, unsigned int *cnt)
{
	memset(cnt, 0, n * sizeof(*cnt));
	for (__u32 k = 0; k < m; k++)
		if (t[k] < n)
			cnt[t[k]]++;
}

static void test_murmur3(void)
{
	static const struct {
		const char *in;
		uint32_t seed;
		uint64_t h1, h2;
	} v[] = {
		/* Published with Elasticsearch's MurmurHash3 tests. */
		{ "hell", 0, 0x629942693e10f867ULL, 0x92db0b82baeb5347ULL },
		{ "hello", 1, 0xa78ddff5adae8d10ULL, 0x128900ef20900135ULL },
		{ "hello ", 2, 0x8a486b23f422e826ULL, 0xf962a2c58947765fULL },
		{ "hello w", 3, 0x2ea59f466f6bed8cULL, 0xc610990acc428a17ULL },
		{ "hello wo", 4, 0x79f6305a386c572cULL, 0x46305aed3483b94eULL },
		{ "hello wor", 5, 0xc2219d213ec1f1b5ULL, 0xa1d8e2e0a52785bdULL },
		{ "The quick brown fox jumps over the lazy dog", 0,
		  0xe34bbc7bbc071b6cULL, 0x7a433ca9c49a9347ULL },
		{ "The quick brown fox jumps over the lazy cog", 0,
		  0x658ca970ff85269aULL, 0x43fee3eaa68e5c3eULL },
		{ "", 0, 0, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		uint64_t h1, h2;

		kpr_murmur3_x64_128(v[i].in, strlen(v[i].in), v[i].seed, &h1, &h2);
		ok(h1 == v[i].h1 && h2 == v[i].h2, "murmur3 x64-128 of \"%s\" seed %u: %016llx %016llx",
		   v[i].in, v[i].seed, (unsigned long long)h1, (unsigned long long)h2);
	}
}

static void test_base64(void)
{
	static const char *const bad_seeds[] = {
		"", "JLfvgnHc2kaSUFa", "JLfvgnHc2kaSUFaI=", "JLfvgnHc2kaSUFaIJLfv",
		"JLfvgnHc2kaSUFa-", "JLfvgnHc2kaSUFa_", " LfvgnHc2kaSUFaI", "JLfvgnHc2kaSUF==",
		"JLfvgnHc2kaSUFa.", "JLfvgnHc=kaSUFaI", "AAAAAAAAAAAAAAA=",
	};
	struct kpr_config cfg;
	__u8 buf[16], s[KPR_SEED_LEN];
	char txt[32];

	ok(kpr_b64_decode("QQ==", buf, sizeof(buf)) == 1 && buf[0] == 'A', "base64 QQ== is A");
	ok(kpr_b64_decode("QUI=", buf, sizeof(buf)) == 2 && !memcmp(buf, "AB", 2), "base64 QUI= is AB");
	ok(kpr_b64_decode("QUJD", buf, sizeof(buf)) == 3 && !memcmp(buf, "ABC", 3), "base64 QUJD is ABC");
	ok(kpr_b64_decode("QR==", buf, sizeof(buf)) == -EINVAL, "base64 refuses QR== (bits past the data)");
	ok(kpr_b64_decode("QUJ=", buf, sizeof(buf)) == -EINVAL, "base64 refuses QUJ= (bits past the data)");
	ok(kpr_b64_decode("Q===", buf, sizeof(buf)) == -EINVAL, "base64 refuses Q===");
	ok(kpr_b64_decode("QQ==QUJD", buf, sizeof(buf)) == -EINVAL, "base64 refuses padding in the middle");
	ok(kpr_b64_decode("QUJD", buf, 2) == -E2BIG, "base64 says -E2BIG when the output is short");
	ok(!kpr_b64_encode((const __u8 *)"AB", 2, txt, sizeof(txt)) && !strcmp(txt, "QUI="), "base64 encodes AB as QUI=");
	ok(kpr_b64_encode((const __u8 *)"AB", 2, txt, 4) == -ENOSPC, "base64 encode says -ENOSPC when short");

	kpr_config_defaults(&cfg);
	ok(!kpr_maglev_seed_parse(KPR_MAGLEV_DEFAULT_SEED, s) && !memcmp(s, cfg.maglev_seed, KPR_SEED_LEN),
	   "default seed %s decodes to the config's default bytes", KPR_MAGLEV_DEFAULT_SEED);
	ok(!strcmp(kpr_maglev_seed_fmt(s, txt, sizeof(txt)), KPR_MAGLEV_DEFAULT_SEED),
	   "default seed encodes back to %s", txt);
	for (size_t i = 0; i < ARRAY_SIZE(bad_seeds); i++)
		ok(kpr_maglev_seed_parse(bad_seeds[i], s) == -EINVAL, "seed '%s' refused", bad_seeds[i]);
	ok(!kpr_maglev_seed_new(s) && !kpr_maglev_seed_parse(kpr_maglev_seed_fmt(s, txt, sizeof(txt)), buf) &&
	   !memcmp(s, buf, KPR_SEED_LEN), "a new seed %s round-trips", txt);
}

static void test_hash_strings(void)
{
	static const struct {
		const char *be;
		__u8 scope;
		const char *want;
	} v[] = {
		{ "10.0.0.1:80", KPR_SCOPE_EXT, "[10.0.0.1:80/TCP,State:active]" },
		{ "10.0.0.1:53/udp,weight=7,state=terminating", KPR_SCOPE_EXT,
		  "[10.0.0.1:53/UDP,State:active]" },
		{ "10.0.0.1:53/UDP", KPR_SCOPE_INT, "[10.0.0.1:53/UDP/i,State:active]" },
		{ "[2001:0DB8:0000:0000:0000:0000:0000:0001]:443", KPR_SCOPE_EXT,
		  "[[2001:db8::1]:443/TCP,State:active]" },
		{ "[2001:db8:0:0:1:0:0:1]:80", KPR_SCOPE_EXT, "[[2001:db8::1:0:0:1]:80/TCP,State:active]" },
		{ "[2001:db8:0:1:1:1:1:1]:80", KPR_SCOPE_EXT, "[[2001:db8:0:1:1:1:1:1]:80/TCP,State:active]" },
		{ "[::ffff:10.0.0.1]:80", KPR_SCOPE_EXT, "[[::ffff:10.0.0.1]:80/TCP,State:active]" },
		{ "[fe80::]:8080/udp", KPR_SCOPE_INT, "[[fe80::]:8080/UDP/i,State:active]" },
		{ "[::]:1", KPR_SCOPE_EXT, "[[::]:1/TCP,State:active]" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct kpr_maglev_be *be = backends(&v[i].be, 1, v[i].scope);
		char s[KPR_MAGLEV_HASHSTRLEN];

		ok(!kpr_maglev_hash_string(be, s, sizeof(s)) && !strcmp(s, v[i].want),
		   "hash string of %s%s: %s", v[i].be, v[i].scope ? " (internal)" : "", s);
		free(be);
	}
}

static void test_reference(void)
{
	static const char *const ref[] = {
		"0.0.0.1:1,weight=2", "0.0.0.3:3,weight=13", "0.0.0.4:4,weight=111", "0.0.0.5:5,weight=10",
	};
	static const char *const ref2[] = {
		"0.0.0.1:1,weight=2", "0.0.0.2:2,weight=13", "0.0.0.3:3,weight=111", "0.0.0.4:4,weight=10",
	};
	struct kpr_maglev_be *be = backends(ref, 4, KPR_SCOPE_EXT);
	__u32 want[251], t[1021], k = 0;
	unsigned int cnt[4];
	const char *p = ref_rle;
	bool parsed = true;

	while (*p && parsed) {
		char *end;
		unsigned long idx = strtoul(p, &end, 10), run;

		parsed = *end == '(';
		run = strtoul(end + 1, &end, 10);
		parsed = parsed && *end == ')' && k + run <= 251;
		for (unsigned long j = 0; parsed && j < run; j++)
			want[k++] = (__u32)idx;
		p = end + 1;
		if (*p == ',')
			p++;
	}
	ok(parsed && k == 251, "reference vector parsed: %u entries", k);
	ok(!kpr_maglev_build(be, 4, 251, seed, t), "reference table built");
	k = 0;
	while (k < 251 && t[k] == want[k])
		k++;
	ok(k == 251, "M=251 table is Cilium's TestReproducible vector (first difference at %u)", k);

	/* The same backends given in another order: the same owners. */
	{
		struct kpr_maglev_be rev[4] = { be[3], be[2], be[1], be[0] };
		__u32 t2[251];
		bool same = !kpr_maglev_build(rev, 4, 251, seed, t2);

		for (k = 0; same && k < 251; k++)
			same = 3 - t2[k] == t[k];
		ok(same, "the order backends are given in does not change the owners");
	}
	free(be);

	be = backends(ref2, 4, KPR_SCOPE_EXT);
	ok(!kpr_maglev_build(be, 4, 1021, seed, t), "M=1021 table built");
	count(t, 1021, 4, cnt);
	ok(cnt[0] == 16 && cnt[1] == 98 && cnt[2] == 832 && cnt[3] == 75,
	   "M=1021 slot counts %u/%u/%u/%u (want 16/98/832/75)", cnt[0], cnt[1], cnt[2], cnt[3]);
	free(be);
}

static void test_balance(void)
{
	static const struct { __u32 m; unsigned int n; } v[] = {
		{ 251, 7 }, { 1021, 4 }, { 16381, 100 }, { 65521, 1000 }, { 131071, 3 }, { 251, 251 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct kpr_maglev_be *be = synthetic(v[i].n, 0);
		__u32 *t = malloc(v[i].m * sizeof(*t)), lo = v[i].m / v[i].n;
		unsigned int *cnt = calloc(v[i].n, sizeof(*cnt)), bad = 0;
		__u32 hi = lo + (v[i].m % v[i].n ? 1 : 0);

		memset(t, 0xff, v[i].m * sizeof(*t));
		ok(!kpr_maglev_build(be, v[i].n, v[i].m, seed, t), "M=%u N=%u built", v[i].m, v[i].n);
		count(t, v[i].m, v[i].n, cnt);
		for (unsigned int j = 0; j < v[i].n; j++)
			bad += cnt[j] < lo || cnt[j] > hi;
		ok(!bad, "M=%u N=%u: every backend has %u or %u slots (%u do not)", v[i].m, v[i].n, lo, hi, bad);
		free(be);
		free(t);
		free(cnt);
	}
}

/*
 * The doc's algorithm written the plain way, as an oracle for the fast one:
 * preference lists computed as (offset + j * skip) % M with a division per
 * probe, no bitmap, no endgame.
 */
struct naive_be {
	char name[KPR_MAGLEV_HASHSTRLEN];
	unsigned int orig;
};

static int naive_cmp(const void *a, const void *b)
{
	return strcmp(((const struct naive_be *)a)->name, ((const struct naive_be *)b)->name);
}

static void naive_build(const struct kpr_maglev_be *be, unsigned int n, __u32 m, __u32 *table)
{
	struct naive_be *s = calloc(n, sizeof(*s));
	__u64 *off = calloc(n, sizeof(*off)), *skip = calloc(n, sizeof(*skip));
	__u64 *next = calloc(n, sizeof(*next)), wsum = 0;
	double *cntr = calloc(n, sizeof(*cntr));
	__u32 mseed = (__u32)seed[0] << 24 | (__u32)seed[1] << 16 | (__u32)seed[2] << 8 | seed[3];

	for (unsigned int i = 0; i < n; i++) {
		kpr_maglev_hash_string(&be[i], s[i].name, sizeof(s[i].name));
		s[i].orig = i;
		wsum += be[i].weight;
	}
	qsort(s, n, sizeof(*s), naive_cmp);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t h1, h2;

		kpr_murmur3_x64_128(s[i].name, strlen(s[i].name), mseed, &h1, &h2);
		off[i] = h1 % m;
		skip[i] = h2 % (m - 1) + 1;
		cntr[i] = (double)be[s[i].orig].weight / n;
	}
	for (__u32 k = 0; k < m; k++)
		table[k] = ~0U;
	for (__u64 k = 0; k < m; k++) {
		unsigned int i = (unsigned int)(k % n);
		__u64 c;

		for (;;) {
			if (wsum / n > 1) {
				if ((k + 1) * be[s[i].orig].weight < (__u64)cntr[i]) {
					i = (i + 1) % n;
					continue;
				}
				cntr[i] += (double)wsum;
			}
			c = (off[i] + next[i] * skip[i]) % m;
			while (table[c] != ~0U) {
				next[i]++;
				c = (off[i] + next[i] * skip[i]) % m;
			}
			table[c] = s[i].orig;
			next[i]++;
			break;
		}
	}
	free(s);
	free(off);
	free(skip);
	free(next);
	free(cntr);
}

static void test_oracle(void)
{
	__u32 *t = malloc(131071 * sizeof(*t)), *t2 = malloc(131071 * sizeof(*t2));
	unsigned int bad = 0, runs = 0;

	srand(4242);
	for (int r = 0; r < 60; r++) {
		__u32 m = kpr_maglev_sizes[rand() % KPR_MAGLEV_NSIZES];
		unsigned int n = 1 + (unsigned int)rand() % (r < 30 ? 12 : 400);
		struct kpr_maglev_be *be = synthetic(n, 0);
		bool v6 = rand() % 3 == 0;

		for (unsigned int i = 0; i < n; i++) {
			be[i].weight = (__u16)(r % 2 ? 1 + rand() % 50 : 1);
			be[i].addr.port = htons((__u16)(1 + rand() % 65535));
			be[i].scope = (__u8)(rand() % 4 == 0);
			if (v6) {
				be[i].addr.family = KPR_FAM_V6;
				be[i].addr.addr.b[0] = 0xfd;
				be[i].addr.addr.b[15] = (__u8)i;
				be[i].addr.addr.b[14] = (__u8)(i >> 8);
			}
		}
		naive_build(be, n, m, t);
		if (kpr_maglev_build(be, n, m, seed, t2) || memcmp(t, t2, m * sizeof(*t))) {
			bad++;
			printf("# differs: M=%u N=%u %s\n", m, n, v6 ? "IPv6" : "IPv4");
		}
		runs++;
		free(be);
	}
	ok(!bad, "the fast build equals the plain algorithm on %u random sets (sizes, weights, IPv6, scope)", runs);
	free(t);
	free(t2);
}

static void test_weights(void)
{
	static const unsigned int w[] = { 1, 2, 3, 4, 10 };
	struct kpr_maglev_be *be = synthetic(5, 0), *eq1 = synthetic(50, 0), *eq100 = synthetic(50, 100);
	__u32 m = 65521, *t = malloc(m * sizeof(*t)), *t2 = malloc(m * sizeof(*t2));
	unsigned int cnt[5], wsum = 0;
	double worst = 0;

	for (int i = 0; i < 5; i++) {
		be[i].weight = (__u16)w[i];
		wsum += w[i];
	}
	ok(!kpr_maglev_build(be, 5, m, seed, t), "weighted table built");
	count(t, m, 5, cnt);
	for (int i = 0; i < 5; i++) {
		double d = (double)cnt[i] / m - (double)w[i] / wsum;

		worst = d < 0 ? (-d > worst ? -d : worst) : (d > worst ? d : worst);
		printf("# weight %u: %u slots, %.2f%% (weight share %.2f%%)\n", w[i], cnt[i],
		       100.0 * cnt[i] / m, 100.0 * w[i] / wsum);
	}
	ok(worst < 0.005, "weighted shares follow the weights within 0.5 points (worst %.3f)", 100 * worst);

	ok(!kpr_maglev_build(eq1, 50, m, seed, t) && !kpr_maglev_build(eq100, 50, m, seed, t2) &&
	   !memcmp(t, t2, m * sizeof(*t)), "all weights 100 give the same table as no weights");

	/* Cilium weighs only when sum / count > 1: 1, 1, 3 is 5 / 3 = 1. */
	eq1[2].weight = 3;
	ok(!kpr_maglev_build(eq1, 3, 251, seed, t) && (eq1[2].weight = 1, 1) &&
	   !kpr_maglev_build(eq1, 3, 251, seed, t2) && !memcmp(t, t2, 251 * sizeof(*t)),
	   "weights 1, 1, 3 are ignored, as in Cilium (5 / 3 is not above 1)");
	eq1[2].weight = 4;
	ok(!kpr_maglev_build(eq1, 3, 251, seed, t) && (eq1[2].weight = 1, 1) &&
	   !kpr_maglev_build(eq1, 3, 251, seed, t2) && memcmp(t, t2, 251 * sizeof(*t)),
	   "weights 1, 1, 4 count (6 / 3 is above 1)");

	ok(kpr_maglev_build(be, 5, 16383, seed, t) == -EINVAL, "size 16383 refused");
	ok(kpr_maglev_build(be, 5, 250, seed, t) == -EINVAL, "size 250 refused");
	ok(kpr_maglev_build(be, 0, 251, seed, t) == -EINVAL, "no backends refused");
	ok(kpr_maglev_size_ok(131071) && kpr_maglev_size_ok(251) && !kpr_maglev_size_ok(0) &&
	   !kpr_maglev_size_ok(262139), "size list is the ten primes");
	free(be);
	free(eq1);
	free(eq100);
	free(t);
	free(t2);
}

int main(void)
{
	if (kpr_maglev_seed_parse(KPR_MAGLEV_DEFAULT_SEED, seed))
		return 1;
	test_murmur3();
	test_base64();
	test_hash_strings();
	test_reference();
	test_balance();
	test_weights();
	test_oracle();
	return tap_done();
}
