// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A hashed index over an array's keys: open addressing, linear probing. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hidx.h"
#include "core/murmur3.h"

int kpr_hidx_init(struct kpr_hidx *h, const void *base, size_t stride, size_t klen,
		  unsigned int n)
{
	unsigned int size = 16;

	/* At most half full, so that probes stay short. */
	while (size < 2 * (size_t)n)
		size *= 2;
	memset(h, 0, sizeof(*h));
	h->slot = calloc(size, sizeof(*h->slot));
	if (!h->slot)
		return -ENOMEM;
	h->mask = size - 1;
	h->base = base;
	h->stride = stride;
	h->klen = klen;
	return 0;
}

void kpr_hidx_free(struct kpr_hidx *h)
{
	free(h->slot);
	h->slot = NULL;
}

static const void *key_of(const struct kpr_hidx *h, unsigned int i)
{
	return h->base + (size_t)i * h->stride;
}

/* The slot holding key, or the empty slot where it belongs. */
static unsigned int probe(const struct kpr_hidx *h, const void *key)
{
	uint64_t h1, h2;
	unsigned int s;

	kpr_murmur3_x64_128(key, h->klen, 0, &h1, &h2);
	for (s = (unsigned int)h1 & h->mask; h->slot[s]; s = (s + 1) & h->mask)
		if (!memcmp(key_of(h, h->slot[s] - 1), key, h->klen))
			break;
	return s;
}

int kpr_hidx_add(struct kpr_hidx *h, unsigned int i)
{
	unsigned int s = probe(h, key_of(h, i));

	if (h->slot[s])
		return (int)h->slot[s] - 1;
	h->slot[s] = i + 1;
	return -1;
}

int kpr_hidx_find(const struct kpr_hidx *h, const void *key)
{
	return (int)h->slot[probe(h, key)] - 1;
}
