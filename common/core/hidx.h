/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A hashed index over the keys of an array: key i is klen bytes at
 * base + i * stride. Finds an equal key in O(1), so that checks over
 * thousands of backends (a duplicate, an id's position) stay linear.
 */
#ifndef KPR_HIDX_H
#define KPR_HIDX_H

#include <stddef.h>

struct kpr_hidx {
	unsigned int *slot;	/* an index + 1; 0: empty */
	unsigned int mask;
	const unsigned char *base;
	size_t stride, klen;
};

/* Room for at most n keys (add no more); none is added yet. 0 or -ENOMEM. */
int kpr_hidx_init(struct kpr_hidx *h, const void *base, size_t stride, size_t klen,
		  unsigned int n);
void kpr_hidx_free(struct kpr_hidx *h);
/* Adds key i, unless an equal key is there: returns that key's index, else -1. */
int kpr_hidx_add(struct kpr_hidx *h, unsigned int i);
/* The index of a key equal to key, or -1. */
int kpr_hidx_find(const struct kpr_hidx *h, const void *key);

#endif
