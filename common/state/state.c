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

/*
 * Whoever owns a directory of the pin root, or may write to it, can swap
 * the pins and hold the lock: every one from the root up to the bpffs mount
 * must be the caller's (root's) and writable by no one else. The mount point
 * itself is bpffs' own, 1777 by default, and is not judged.
 */
static int check_dir(const char *root, const char *dir, const struct stat *sb)
{
	if (!S_ISDIR(sb->st_mode)) {
		kpr_err("pin root %s is not a directory (a pin?): give --pin-root a directory of its own",
			root);
		return -EINVAL;
	}
	if (sb->st_uid != geteuid() || (sb->st_mode & (S_IWGRP | S_IWOTH))) {
		kpr_err("%s belongs to uid %u with mode %04o: a pin root and its parents below the bpffs mount must be root's and writable by no one else; remove it (rm -r %s) or choose another --pin-root",
			dir, sb->st_uid, sb->st_mode & 07777, dir);
		return -EPERM;
	}
	return 0;
}

/* The mount point of the bpffs that dir (on one) is in: its parent lies on
 * another device, or it is /. */
static bool is_mount_point(char *dir, const struct stat *sb)
{
	char *slash = strrchr(dir, '/');
	struct stat up;
	bool top;

	if (!slash || slash == dir)
		return true;
	*slash = '\0';
	top = stat(dir, &up) || up.st_dev != sb->st_dev;
	*slash = '/';
	return top;
}

/*
 * Judges what exists of root, creating nothing: the deepest existing
 * directory must be on a bpffs, and every existing one below the mount
 * passes check_dir. *missing: root itself does not exist yet.
 */
static int check_root(const char *root, bool *missing)
{
	char buf[PATH_MAX], *slash;
	struct stat sb;
	int err;

	if (strlen(root) >= sizeof(buf)) {
		kpr_err("pin root too long: %s", root);
		return -ENAMETOOLONG;
	}
	strcpy(buf, root);
	*missing = false;
	for (bool first = true; ; first = false) {
		if (!stat(buf, &sb)) {
			if (!is_bpffs(buf)) {
				kpr_err("pin root %s is not on a bpffs: mount one (mount -t bpf bpf DIR) or choose a path under /sys/fs/bpf",
					root);
				return -EINVAL;
			}
			if (is_mount_point(buf, &sb))
				return 0;
			err = check_dir(root, buf, &sb);
			if (err)
				return err;
		} else if (errno == EACCES) {
			kpr_err("cannot read %s: permission denied: the kpr tools need root", buf);
			return -EACCES;
		} else if (errno == ENOENT) {
			*missing = *missing || first;
		} else {
			kpr_err("cannot read %s: %s", buf, strerror(errno));
			return -errno;
		}
		slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return 0;
		*slash = '\0';
	}
}

/* Creates the pin root (0700) on a bpffs, mounting /sys/fs/bpf if needed;
 * judges what exists first and creates nothing when it refuses. */
static int make_root(const char *root)
{
	char buf[PATH_MAX], *p;
	bool missing;
	int err;

	if (!strncmp(root, "/sys/fs/bpf/", 12) && !is_bpffs("/sys/fs/bpf") &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		kpr_err("cannot mount bpffs on /sys/fs/bpf: %s (are you root?)", strerror(errno));
		return -errno;
	}
	err = check_root(root, &missing);
	if (err)
		return err;
	if (!missing)
		return 0;
	strcpy(buf, root);	/* check_root measured it */
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
	return 0;
}

/* How a refused layout is cleared, given the pin root. Unpinning a
 * link releases it, which detaches its program; a tc filter of the clsact
 * fallback is no link and stays. */
#define KPR_CLEAR_HOW "remove it with the kpr that made it (svc-del --all, xdp-attach --detach), or detach " \
	"and drop it all at once with rm -r %s (its pinned links go with it; a clsact filter stays: " \
	"tc filter del dev DEV egress), then load the services again"

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
			"it was made by another kpr version; " KPR_CLEAR_HOW,
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

/* No service, no backend, no pinned link: what a first run leaves when it
 * dies between creating the maps and stamping the config. */
static bool state_is_fresh(const struct kpr_state *st)
{
	__u8 key[256];
	char path[PATH_MAX + 16];
	struct stat sb;

	if (!bpf_map_get_next_key(st->services, NULL, key) ||
	    !bpf_map_get_next_key(st->backends, NULL, key))
		return false;
	snprintf(path, sizeof(path), "%s/links", st->root);
	if (stat(path, &sb))
		return true;
	/* a links directory holds one directory per netns; empty ones do not count */
	return sb.st_nlink <= 2;
}

/* 1: created and never stamped; 0: stamped by this layout; < 0: refused. */
static int check_stamp(struct kpr_state *st)
{
	struct kpr_config cfg;
	int err = kpr_config_read(st, &cfg);

	if (err)
		return err;
	if (cfg.magic == 0 && state_is_fresh(st))
		return 1;
	if (cfg.magic == 0) {
		/* Defaults written over a live node would switch Maglev back to
		 * random, re-seed the tables and turn ICMP echo back on. */
		kpr_err("the config map under %s is zeroed (magic 0) while services or attachments exist: it was damaged, "
			"and kpr will not guess this node's settings (modes, Maglev size and seed, nat ports); "
			"drop the state with rm -r %s (its pinned links go with it, and the datapath with them), "
			"then load the services, set lb-mode and attach again",
			st->root, st->root);
		return -EPROTO;
	}
	if (cfg.magic != KPR_MAGIC || cfg.layout != KPR_LAYOUT_VERSION) {
		kpr_err("state under %s has layout %u (magic %#x); this kpr reads layout %u: " KPR_CLEAR_HOW,
			st->root, cfg.layout, cfg.magic, KPR_LAYOUT_VERSION, st->root);
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
	if (!exists && errno == EACCES) {
		kpr_err("cannot read %s: permission denied: the kpr tools need root", st->root);
		return -EACCES;
	}
	if (!exists && errno == ENOTDIR) {
		kpr_err("pin root %s is not a directory (a pin?): give --pin-root a directory of its own",
			st->root);
		return -EINVAL;
	}

	if (!(flags & KPR_OPEN_WRITE)) {
		bool missing;

		/* a reader trusts no state that someone else could have swapped */
		err = check_root(st->root, &missing);
		if (err)
			return err;
		if (!exists) {
			kpr_err("no kpr state under %s: create it with svc-add or xdp-attach (or give --pin-root)",
				st->root);
			return -ENODATA;
		}
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
	if (err == 1 && !(flags & KPR_OPEN_WRITE)) {
		/* a reader never writes: it sees the defaults the first writer stamps */
		st->unstamped = true;
	} else if (err == 1) {
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
