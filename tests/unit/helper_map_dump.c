// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test helper, not a test: prints every entry of the pinned map PIN as one
 * line of hex, "key value", for maps_snapshot (tests/helpers.bash). An array
 * entry that is all zeros is left out: every index of an array exists, so
 * the non-zero ones say everything, and the 262144 slots of nat print in
 * milliseconds where bpftool takes twenty seconds.
 *   helper_map_dump PIN
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/mapio.h"

struct dump {
	size_t ksize, vsize;
	bool array;
};

static bool is_array(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static bool is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static void hex(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int entry(const void *key, const void *val, void *ctx)
{
	const struct dump *d = ctx;
	const unsigned char *k = key, *v = val;
	size_t i = 0;

	if (d->array) {
		while (i < d->vsize && !v[i])
			i++;
		if (i == d->vsize)
			return 0;
	}
	hex(k, d->ksize);
	putchar(' ');
	hex(v, d->vsize);
	putchar('\n');
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	unsigned char *k, *next, *v;
	struct dump d;
	bool first = true;
	int fd, ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: helper_map_dump PIN\n");
		return 2;
	}
	fd = bpf_obj_get(argv[1]);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "helper_map_dump: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	d.ksize = info.key_size;
	d.vsize = info.value_size;
	d.array = is_array(info.type);
	if (is_percpu(info.type))
		d.vsize = ((d.vsize + 7) & ~(size_t)7) * (size_t)libbpf_num_possible_cpus();
	k = calloc(1, d.ksize);
	next = calloc(1, d.ksize);
	v = calloc(1, d.vsize);
	if (!k || !next || !v) {
		ret = 1;
		goto out;
	}
	/* arrays in batches; the rest key by key, which every map type
	 * answers (LPM tries have no batch lookup) */
	if (d.array) {
		ret = kpr_map_walk(fd, entry, &d) ? 1 : 0;
		goto out;
	}
	while (!bpf_map_get_next_key(fd, first ? NULL : k, next)) {
		first = false;
		memcpy(k, next, d.ksize);
		if (bpf_map_lookup_elem(fd, k, v))
			continue;	/* deleted meanwhile */
		entry(k, v, &d);
	}
out:
	free(k);
	free(next);
	free(v);
	return ret;
}
