/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * MurmurHash3, the x64 128-bit variant (Austin Appleby's public-domain
 * algorithm), as Cilium's Maglev uses it: the 32-bit seed initialises both
 * 64-bit lanes, blocks and tail are read little-endian on any host.
 */
#ifndef KPR_MURMUR3_H
#define KPR_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

void kpr_murmur3_x64_128(const void *data, size_t len, uint32_t seed,
			 uint64_t *h1, uint64_t *h2);

#endif
