/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maglev lookup tables identical to Cilium's (docs/maglev.md): the
 * same backends, seed and size give the same table, so a fleet of kpr and
 * Cilium nodes sends a flow to the same backend everywhere.
 *
 * Memory is O(M + N): a backend's preference list is walked on the fly from
 * its offset and skip instead of being stored as an N x M matrix.
 */
#ifndef KPR_MAGLEV_H
#define KPR_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>

#include "../bpf/kpr_maps.h"

#define KPR_MAGLEV_NSIZES	10
/* "[[ffff:...:ffff]:65535/TCP/i,State:active]" and room to spare */
#define KPR_MAGLEV_HASHSTRLEN	80
/* 12 bytes of seed in base64, and the NUL */
#define KPR_SEED_STRLEN		17
#define KPR_MAGLEV_DEFAULT_SEED	"JLfvgnHc2kaSUFaI"

extern const __u32 kpr_maglev_sizes[KPR_MAGLEV_NSIZES];

struct kpr_maglev_be {
	struct kpr_l4addr addr;
	__u16 weight;		/* 1 when not given */
	__u8 scope;		/* enum kpr_scope of the service's frontend */
};

bool kpr_maglev_size_ok(__u32 m);
/* Cilium's rule: weights count only when their sum (*wsum) divided by the
 * number of backends is above 1. */
bool kpr_maglev_weighted(const struct kpr_maglev_be *be, unsigned int n, __u64 *wsum);
/* "251, 509, ..., 131071", for messages. */
const char *kpr_maglev_sizes_str(void);

/* Base64 of exactly KPR_SEED_LEN bytes; -EINVAL for anything else. */
int kpr_maglev_seed_parse(const char *s, __u8 seed[KPR_SEED_LEN]);
const char *kpr_maglev_seed_fmt(const __u8 seed[KPR_SEED_LEN], char *buf, size_t len);
/* KPR_SEED_LEN bytes from getrandom(2). */
int kpr_maglev_seed_new(__u8 seed[KPR_SEED_LEN]);

/* The string Cilium hashes for a backend: "[10.0.0.1:80/TCP,State:active]". */
int kpr_maglev_hash_string(const struct kpr_maglev_be *be, char *buf, size_t len);

/*
 * Fills table[m] with indexes into be[n] (the order given). Returns 0,
 * -EINVAL for a size that is not one of the ten primes or n == 0, -ENOMEM.
 */
int kpr_maglev_build(const struct kpr_maglev_be *be, unsigned int n, __u32 m,
		     const __u8 seed[KPR_SEED_LEN], __u32 *table);

/*
 * What changes between two tables of size m. Entries index each table's own
 * backend set; old_to_new[i] is old backend i's index in the new set, or -1
 * for a backend that left (or takes no new flows there).
 */
struct kpr_maglev_diff {
	unsigned long changed;		/* slots whose owner changes */
	unsigned long removed;		/* of them, slots of backends that left */
	unsigned long surviving;	/* slots of backends in both sets */
	unsigned long moved;		/* of them, slots that change owner */
};

void kpr_maglev_diff(const __u32 *old_tab, const __u32 *new_tab, __u32 m,
		     const int *old_to_new, struct kpr_maglev_diff *d);

#endif
