// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state/mapio.h"
#include "core/util.h"

#define WALK_CHUNK 4096

int kpr_map_walk(int fd, kpr_map_fn fn, void *ctx)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), batch = 0, count;
	void *keys = NULL, *vals = NULL;
	bool first = true, done = false;
	int ret = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	keys = malloc((size_t)WALK_CHUNK * info.key_size);
	vals = malloc((size_t)WALK_CHUNK * info.value_size);
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!done) {
		count = WALK_CHUNK;
		/* the batch token of hash maps is a bucket index (u32) */
		if (bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals,
					 &count, NULL)) {
			if (errno != ENOENT) {
				ret = -errno;
				kpr_err("cannot read map %s: %s", info.name, strerror(errno));
				goto out;
			}
			done = true;	/* ENOENT: this was the last chunk */
		}
		first = false;
		for (__u32 i = 0; i < count && !ret; i++)
			ret = fn((char *)keys + (size_t)i * info.key_size,
				 (char *)vals + (size_t)i * info.value_size, ctx);
		if (ret)
			goto out;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

int kpr_map_update_n(int fd, const void *keys, const void *values, __u32 n, const char *what)
{
	__u32 count = n;

	if (!n)
		return 0;
	if (bpf_map_update_batch(fd, keys, values, &count, NULL)) {
		int err = -errno;

		kpr_err("cannot write %s: %s%s", what, strerror(errno),
			errno == E2BIG || errno == ENOMEM ? " (map full?)" : "");
		return err;
	}
	return 0;
}

int kpr_map_delete_n(int fd, const void *keys, __u32 n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), done = 0, count;

	if (!n)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	/* A batch stops at the first key that is absent: skip it, go on. */
	while (done < n) {
		count = n - done;
		if (!bpf_map_delete_batch(fd, (const char *)keys + (size_t)done * info.key_size,
					  &count, NULL))
			return 0;
		if (errno != ENOENT)
			return -errno;
		done += count + 1;
	}
	return 0;
}
