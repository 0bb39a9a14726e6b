// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "kpr_state.skel.h"
#include "core/lock.h"
#include "state/state.h"
#include "core/util.h"

/*
 * KPR_MAPS (bpf/kpr_maps.h) and the declarations of bpf/lib/maps.h must name
 * the same maps. A name of the list that is not declared fails to compile in
 * kpr_state_open (st->skel->maps.NAME); a declared map the list lacks would
 * get no descriptor, and fails here.
 */
_Static_assert(sizeof(((struct kpr_state_bpf *)0)->maps) == KPR_NR_MAPS * sizeof(struct bpf_map *),
	       "KPR_MAPS in bpf/kpr_maps.h and the maps of bpf/lib/maps.h differ");

static bool is_bpffs(const char *path)
{
	struct statfs sfs;

	return !statfs(path, &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

/* Creates the pin root (0700) on a bpffs, mounting /sys/fs/bpf if needed. */
static int make_root(const char *root)
{
	char buf[PATH_MAX], *p;

	if (!strncmp(root, "/sys/fs/bpf/", 12) && !is_bpffs("/sys/fs/bpf") &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		kpr_err("cannot mount bpffs on /sys/fs/bpf: %s (are you root?)", strerror(errno));
		return -errno;
	}
	if (strlen(root) >= sizeof(buf)) {
		kpr_err("pin root too long: %s", root);
		return -ENAMETOOLONG;
	}
	strcpy(buf, root);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST) {
			kpr_err("cannot create %s: %s", buf, strerror(errno));
			return -errno;
		}
		*p = c;
		if (!c)
			break;
	}
	if (!is_bpffs(root)) {
		kpr_err("pin root %s is not on a bpffs: mount one (mount -t bpf bpf DIR) or choose a path under /sys/fs/bpf",
			root);
		return -EINVAL;
	}
	chmod(root, 0700);
	return 0;
}

/*
 * Checks a pinned map against what this build expects, and makes the
 * skeleton's map the size of the pinned one so that libbpf reuses it.
 */
static int check_pin(const char *root, struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX + 32];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", root, bpf_map__name(map));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.map_flags != bpf_map__map_flags(map)) {
		kpr_err("pinned map %s has another layout (type %u, key %u, value %u bytes, flags %#x; this kpr expects %u, %u, %u, %#x): "
			"it was made by another kpr version; remove %s (svc-del --all, xdp-attach --detach) with that version first",
			path, info.type, info.key_size, info.value_size, info.map_flags,
			bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map),
			bpf_map__map_flags(map), root);
		err = -EPROTO;
		goto out;
	}
	bpf_map__set_max_entries(map, info.max_entries);
out:
	close(fd);
	return err;
}

int kpr_obj_use_pins(const char *root, struct bpf_object *obj)
{
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, obj) {
		if (!bpf_map__is_pinned(map) && !bpf_map__pin_path(map))
			continue;	/* .rodata, .bss: the object's own */
		err = check_pin(root, map);
		if (err)
			return err;
	}
	return 0;
}

static int check_stamp(struct kpr_state *st)
{
	struct kpr_config cfg;
	int err = kpr_config_read(st, &cfg);

	if (err)
		return err;
	if (cfg.magic == 0)
		return 1;	/* created, never stamped: a first run died early */
	if (cfg.magic != KPR_MAGIC || cfg.layout != KPR_LAYOUT_VERSION) {
		kpr_err("state under %s has layout %u (magic %#x); this kpr reads layout %u: remove it with the kpr that made it",
			st->root, cfg.layout, cfg.magic, KPR_LAYOUT_VERSION);
		return -EPROTO;
	}
	return 0;
}

int kpr_state_open(struct kpr_state *st, const char *pin_root, unsigned int flags, int wait)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_map *map;
	struct stat sb;
	char path[PATH_MAX + 32];
	bool exists;
	int err;

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (snprintf(st->root, sizeof(st->root), "%s", pin_root) >= (int)sizeof(st->root))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/config", st->root);
	exists = !stat(path, &sb);

	if (!exists && !(flags & KPR_OPEN_WRITE)) {
		kpr_err("no kpr state under %s: create it with svc-add or xdp-attach (or give --pin-root)",
			st->root);
		return -ENODATA;
	}
	if (!exists && (flags & KPR_OPEN_DRY_RUN)) {
		st->ephemeral = true;
	} else if (flags & (KPR_OPEN_WRITE | KPR_OPEN_LOCK)) {
		err = flags & KPR_OPEN_WRITE ? make_root(st->root) : 0;
		if (err)
			return err;
		err = kpr_lock(st->root, wait);
		st->lock_fd = err < 0 ? -1 : err;
		if (err < 0)
			goto fail;
	}

	libbpf_set_print(NULL);
	if (!st->ephemeral)
		opts.pin_root_path = st->root;
	st->skel = kpr_state_bpf__open_opts(&opts);
	if (!st->skel) {
		err = -errno;
		kpr_err("cannot open the embedded map definitions: %s", strerror(errno));
		goto fail;
	}
	bpf_object__for_each_map(map, st->skel->obj) {
		if (st->ephemeral) {
			bpf_map__set_pin_path(map, NULL);
			continue;
		}
		err = check_pin(st->root, map);
		if (err)
			goto fail;
	}
	err = kpr_state_bpf__load(st->skel);
	if (err) {
		kpr_err("cannot create or open the maps under %s: %s", st->root, strerror(-err));
		goto fail;
	}

#define KPR_MAP_FD(name) st->name = bpf_map__fd(st->skel->maps.name);
	KPR_MAPS(KPR_MAP_FD)
#undef KPR_MAP_FD

	err = check_stamp(st);
	if (err < 0)
		goto fail;
	if (err == 1) {
		struct kpr_config cfg;

		kpr_config_defaults(&cfg);
		err = kpr_config_write(st, &cfg);
		if (err)
			goto fail;
	}
	return 0;
fail:
	kpr_state_close(st);
	return err;
}

void kpr_state_close(struct kpr_state *st)
{
	if (st->skel)
		kpr_state_bpf__destroy(st->skel);
	st->skel = NULL;
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = -1;
}

unsigned int kpr_map_size(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}
