// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* MurmurHash3_x64_128, written from the public description of the algorithm. */
#include "core/murmur3.h"

#define C1 0x87c37b91114253d5ULL
#define C2 0x4cf5ad432745937fULL

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/* Little-endian load of n <= 8 bytes, whatever the host order. */
static inline uint64_t load_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static inline uint64_t mix_k1(uint64_t k1)
{
	k1 *= C1;
	k1 = rotl64(k1, 31);
	return k1 * C2;
}

static inline uint64_t mix_k2(uint64_t k2)
{
	k2 *= C2;
	k2 = rotl64(k2, 33);
	return k2 * C1;
}

void kpr_murmur3_x64_128(const void *data, size_t len, uint32_t seed,
			 uint64_t *out1, uint64_t *out2)
{
	const uint8_t *p = data;
	size_t nblocks = len / 16, rest = len & 15;
	uint64_t h1 = seed, h2 = seed;

	for (size_t i = 0; i < nblocks; i++, p += 16) {
		h1 ^= mix_k1(load_le(p, 8));
		h1 = rotl64(h1, 27);
		h1 += h2;
		h1 = h1 * 5 + 0x52dce729;

		h2 ^= mix_k2(load_le(p + 8, 8));
		h2 = rotl64(h2, 31);
		h2 += h1;
		h2 = h2 * 5 + 0x38495ab5;
	}

	/* The tail: bytes 8..14 feed k2, bytes 0..7 feed k1. */
	if (rest > 8)
		h2 ^= mix_k2(load_le(p + 8, rest - 8));
	if (rest)
		h1 ^= mix_k1(load_le(p, rest > 8 ? 8 : rest));

	h1 ^= (uint64_t)len;
	h2 ^= (uint64_t)len;
	h1 += h2;
	h2 += h1;
	h1 = fmix64(h1);
	h2 = fmix64(h2);
	h1 += h2;
	h2 += h1;
	*out1 = h1;
	*out2 = h2;
}
