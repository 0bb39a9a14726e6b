/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef KPR_MAPIO_H
#define KPR_MAPIO_H

#include <linux/types.h>

/*
 * Calls fn for every entry of a (non per-CPU) map, read with
 * BPF_MAP_LOOKUP_BATCH a few thousand entries per syscall. fn returning
 * non-zero stops the walk and is returned.
 */
typedef int (*kpr_map_fn)(const void *key, const void *value, void *ctx);
int kpr_map_walk(int fd, kpr_map_fn fn, void *ctx);

/* Writes n entries in one BPF_MAP_UPDATE_BATCH; what names the map in errors. */
int kpr_map_update_n(int fd, const void *keys, const void *values, __u32 n, const char *what);
int kpr_map_delete_n(int fd, const void *keys, __u32 n);

#endif
