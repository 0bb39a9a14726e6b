// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/if_link.h>
#include <mntent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/util.h"
#include "svc/svc.h"
#include "dev/attach.h"

/* Debian 12's headers (Linux 6.1) predate tcx (Linux 6.6): the values of
 * the kernel's uapi, used only when the kernel knows them. */
#ifndef BPF_TCX_EGRESS
#define KPR_TCX_EGRESS		47
#define KPR_LINK_TYPE_TCX	11
#else
#define KPR_TCX_EGRESS		BPF_TCX_EGRESS
#define KPR_LINK_TYPE_TCX	BPF_LINK_TYPE_TCX
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

/* The clsact filter of kernels without tcx: one handle and priority of our
 * own, so that it is found again and never taken for someone else's. */
#define TC_HANDLE	0x6b7072	/* "kpr" */
#define TC_PRIO		0xc000

#define PFX_XDP		"xdp-"
#define PFX_TC		"tc-egress-"
#define PFX_TCF		"tcf-egress-"	/* pinned program: a clsact filter */
#define PFX_CGROUP	"cgroup-"

/* The names of the modes: xdp-attach's --mode values and what --status prints. */
const struct kpr_enum kpr_xdp_modes[] = {
	{ "native", KPR_XDP_NATIVE },
	{ "generic", KPR_XDP_GENERIC },
	{ "best-effort", KPR_XDP_BEST_EFFORT },
	{ NULL },
};

const char *kpr_xdp_mode_name(enum kpr_xdp_mode m)
{
	const char *name = kpr_enum_name(kpr_xdp_modes, m);

	return name ? name : "none";
}

const char *kpr_hook_name(enum kpr_hook h)
{
	switch (h) {
	case KPR_HOOK_XDP:
		return "xdp";
	case KPR_HOOK_TC_EGRESS:
		return "tc-egress";
	case KPR_HOOK_CGROUP:
		return "cgroup";
	}
	return "none";
}

static const struct {
	enum bpf_attach_type type;
	const char *name;
} cgroup_types[] = {
	{ BPF_CGROUP_INET4_CONNECT, "connect4" },
	{ BPF_CGROUP_INET6_CONNECT, "connect6" },
	{ BPF_CGROUP_UDP4_SENDMSG, "sendmsg4" },
	{ BPF_CGROUP_UDP6_SENDMSG, "sendmsg6" },
	{ BPF_CGROUP_UDP4_RECVMSG, "recvmsg4" },
	{ BPF_CGROUP_UDP6_RECVMSG, "recvmsg6" },
	{ BPF_CGROUP_INET4_GETPEERNAME, "getpeername4" },
	{ BPF_CGROUP_INET6_GETPEERNAME, "getpeername6" },
	{ BPF_CGROUP_INET4_POST_BIND, "post_bind4" },
	{ BPF_CGROUP_INET6_POST_BIND, "post_bind6" },
	{ BPF_CGROUP_INET_SOCK_RELEASE, "sock_release" },
};

const char *kpr_cgroup_type_name(enum bpf_attach_type t)
{
	for (size_t i = 0; i < sizeof(cgroup_types) / sizeof(cgroup_types[0]); i++)
		if (cgroup_types[i].type == t)
			return cgroup_types[i].name;
	return NULL;
}

int kpr_cgroup_type_parse(const char *s, enum bpf_attach_type *out)
{
	for (size_t i = 0; i < sizeof(cgroup_types) / sizeof(cgroup_types[0]); i++)
		if (!strcmp(cgroup_types[i].name, s)) {
			*out = cgroup_types[i].type;
			return 0;
		}
	return -EINVAL;
}

int kpr_netns_ino(unsigned long long *ino)
{
	struct stat s;

	if (stat("/proc/self/ns/net", &s)) {
		int err = -errno;

		kpr_err("cannot read /proc/self/ns/net: %s (is /proc mounted?)", strerror(errno));
		return err;
	}
	*ino = s.st_ino;
	return 0;
}

static void ns_dir(const char *root, unsigned long long ino, char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/%llu", root, ino);
}

static void hook_path(const char *root, unsigned long long ino, const char *pfx, const char *dev,
		      char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/%llu/%s%s", root, ino, pfx, dev);
}

static int mkdir_one(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST) {
		int err = -errno;

		kpr_err("cannot create %s: %s", path, strerror(errno));
		return err;
	}
	return 0;
}

static int mkdir_ns(const char *root, unsigned long long ino)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/links", root);
	err = mkdir_one(path);
	if (err)
		return err;
	ns_dir(root, ino, path, sizeof(path));
	return mkdir_one(path);
}

/* What XDP runs on ifindex now: its mode (0: none) and program. */
static enum kpr_xdp_mode xdp_query(unsigned int ifindex, unsigned int *prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	*prog_id = 0;
	if (!ifindex || bpf_xdp_query(ifindex, 0, &q))
		return 0;
	*prog_id = q.prog_id;
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
		return KPR_XDP_NATIVE;
	case XDP_ATTACHED_SKB:
		return KPR_XDP_GENERIC;
	default:
		return 0;
	}
}

/* The kernel's information on the object pinned at path: 0 or -errno. */
static int pin_info(const char *path, void *info, __u32 len)
{
	int fd = bpf_obj_get(path), err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, info, &len))
		err = -errno;
	close(fd);
	return err;
}

/* Fills a's ids from the pinned link at path: 0, or -errno (-ENOENT none). */
static int read_link(const char *path, struct kpr_attachment *a)
{
	struct bpf_link_info info = {};
	int err = pin_info(path, &info, sizeof(info));

	if (err)
		return err;
	a->link_id = info.id;
	a->prog_id = info.prog_id;
	if (info.type == BPF_LINK_TYPE_CGROUP) {
		a->cgroup = info.cgroup.cgroup_id;
		a->type = info.cgroup.attach_type;
	} else {
		/* xdp and tcx both begin with the ifindex, 0 once the
		 * device is gone */
		a->ifindex = info.xdp.ifindex;
	}
	snprintf(a->pin, sizeof(a->pin), "%.*s", (int)sizeof(a->pin) - 1, path);
	return 0;
}

/* A pinned program, the record of a clsact filter: its id. */
static int read_prog(const char *path, struct kpr_attachment *a)
{
	struct bpf_prog_info info = {};
	int err = pin_info(path, &info, sizeof(info));

	if (err)
		return err;
	a->prog_id = info.id;
	a->tc_filter = true;
	snprintf(a->pin, sizeof(a->pin), "%.*s", (int)sizeof(a->pin) - 1, path);
	return 0;
}

/* 1 when prog_id is the program of prog_fd (same tag), else 0. */
static int same_prog(unsigned int prog_id, int prog_fd)
{
	struct bpf_prog_info a = {}, b = {};
	__u32 la = sizeof(a), lb = sizeof(b);
	int fd = bpf_prog_get_fd_by_id(prog_id), ret = 0;

	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &a, &la) && !bpf_obj_get_info_by_fd(prog_fd, &b, &lb))
		ret = !memcmp(a.tag, b.tag, sizeof(a.tag));
	close(fd);
	return ret;
}

/*
 * Pins fd at path in one step: pinned beside it as tmp-NAME, then renamed
 * over it, so that the path never names nothing while an old pin is
 * replaced.
 */
static int pin_at(int fd, const char *path)
{
	char tmp[PATH_MAX + 8];
	const char *base = strrchr(path, '/');
	int err;

	/* bpffs refuses dots in names: a prefix no listing matches */
	base = base ? base + 1 : path;
	snprintf(tmp, sizeof(tmp), "%.*stmp-%s", (int)(base - path), path, base);
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp)) {
		err = -errno;
		kpr_err("cannot pin %s: %s", tmp, strerror(errno));
		return err;
	}
	if (rename(tmp, path)) {
		err = -errno;
		kpr_err("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return err;
	}
	return 0;
}

/*
 * Detaches a pinned link now and removes its pin. Removing the pin alone
 * detaches only once bpffs frees the inode, after an RCU grace period: an
 * attach right after it would still find the hook taken (EEXIST).
 */
static int unpin_link(const char *path)
{
	int fd = bpf_obj_get(path), err = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	bpf_link_detach(fd);
	if (unlink(path)) {
		err = -errno;
		kpr_err("cannot remove %s: %s", path, strerror(errno));
	}
	close(fd);
	return err;
}

/*
 * An old-layout pin links/xdp-DEV that drives DEV of this netns: same
 * ifindex, and the device's XDP program is the link's. With move, it is
 * renamed to the new layout. Returns 1 when it is ours, else 0.
 */
static int legacy_claim(const char *root, unsigned long long ino, const char *dev, bool move)
{
	struct kpr_attachment a = {};
	char old[PATH_MAX], path[PATH_MAX];
	unsigned int ifindex = if_nametoindex(dev), prog;

	snprintf(old, sizeof(old), "%s/links/" PFX_XDP "%s", root, dev);
	if (!ifindex || read_link(old, &a) || a.ifindex != ifindex ||
	    !xdp_query(ifindex, &prog) || prog != a.prog_id)
		return 0;
	if (!move)
		return 1;
	hook_path(root, ino, PFX_XDP, dev, path, sizeof(path));
	if (mkdir_ns(root, ino) || rename(old, path)) {
		kpr_warn("cannot move the old pin %s to %s: %s (detach and attach %s again)",
			 old, path, strerror(errno), dev);
		return 0;
	}
	return 1;
}

static int xdp_link(int prog_fd, unsigned int ifindex, enum kpr_xdp_mode mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo,
		    .flags = mode == KPR_XDP_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);

	return bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
}

/* 1 when our clsact egress filter is on ifindex, else 0. */
static int tc_filter_present(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO);

	return ifindex && !bpf_tc_query(&hook, &o);
}

int kpr_attach_get(const char *root, enum kpr_hook hook, const char *dev,
		   struct kpr_attachment *out)
{
	unsigned long long ino;
	char path[PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	if (strlen(dev) >= IF_NAMESIZE || strchr(dev, '/')) {
		kpr_err("bad device name '%s'", dev);
		return -EINVAL;
	}
	err = kpr_netns_ino(&ino);
	if (err)
		return err;
	out->hook = hook;
	out->netns = ino;
	snprintf(out->dev, sizeof(out->dev), "%s", dev);
	if (hook == KPR_HOOK_XDP) {
		hook_path(root, ino, PFX_XDP, dev, path, sizeof(path));
		err = read_link(path, out);
		if (err == -ENOENT && legacy_claim(root, ino, dev, false)) {
			snprintf(path, sizeof(path), "%s/links/" PFX_XDP "%s", root, dev);
			err = read_link(path, out);
			out->legacy = true;
		}
		if (!err)
			out->mode = xdp_query(out->ifindex, &(unsigned int){ 0 });
		return err;
	}
	if (hook == KPR_HOOK_TC_EGRESS) {
		hook_path(root, ino, PFX_TC, dev, path, sizeof(path));
		err = read_link(path, out);
		if (err == -ENOENT) {
			hook_path(root, ino, PFX_TCF, dev, path, sizeof(path));
			err = read_prog(path, out);
			out->ifindex = if_nametoindex(dev);
			if (!tc_filter_present(out->ifindex))
				out->ifindex = 0;	/* the filter is gone */
		}
		return err;
	}
	return -EINVAL;
}

int kpr_attach_xdp(const char *root, const char *dev, int prog_fd, enum kpr_xdp_mode mode,
		   bool dry_run, struct kpr_attachment *out)
{
	unsigned int ifindex = if_nametoindex(dev), cur_prog;
	enum kpr_xdp_mode cur, want;
	int fd = -1, lfd = -1, old_prog = -1, err;
	unsigned long long ino;
	char path[PATH_MAX];
	bool have;

	if (!ifindex) {
		kpr_err("no such device: %s (see ip link)", dev);
		return -EINVAL;
	}
	err = kpr_netns_ino(&ino);
	if (err)
		return err;
	if (!dry_run)
		legacy_claim(root, ino, dev, true);
	err = kpr_attach_get(root, KPR_HOOK_XDP, dev, out);
	have = !err && out->ifindex == ifindex;
	hook_path(root, ino, PFX_XDP, dev, path, sizeof(path));
	if (out->legacy)	/* dry run: the old pin stays where it is */
		snprintf(path, sizeof(path), "%s", out->pin);
	cur = xdp_query(ifindex, &cur_prog);
	if (!have && cur) {
		kpr_err("%s already runs XDP program %u that kpr did not attach: detach it first (ip link set dev %s xdp off)",
			dev, cur_prog, dev);
		return -EBUSY;
	}
	if (have && (mode == KPR_XDP_BEST_EFFORT || cur == mode)) {
		/* attaching twice is a no-op, unless prog_fd is another
		 * program (an upgrade): the link switches in one step */
		if (dry_run || same_prog(out->prog_id, prog_fd))
			return KPR_UNCHANGED;
		lfd = bpf_obj_get(path);
		if (lfd < 0 || bpf_link_update(lfd, prog_fd, NULL)) {
			err = -errno;
			kpr_err("cannot switch %s to the new datapath program: %s (it keeps the old one)",
				dev, strerror(errno));
			goto out;
		}
		err = KPR_UPDATED;
		goto out;
	}
	if (dry_run) {
		out->mode = mode == KPR_XDP_GENERIC ? KPR_XDP_GENERIC : KPR_XDP_NATIVE;
		out->ifindex = ifindex;
		return KPR_ADDED;
	}
	err = mkdir_ns(root, ino);
	if (err)
		return err;
	if (have) {
		/* another mode: the kernel holds one mode at a time, so the old
		 * link goes first, and comes back if the new mode is refused */
		old_prog = bpf_prog_get_fd_by_id(out->prog_id);
		lfd = bpf_obj_get(path);
		if (old_prog < 0 || lfd < 0) {
			err = -errno;
			kpr_err("cannot read the link of %s at %s: %s", dev, path, strerror(errno));
			goto out;
		}
		bpf_link_detach(lfd);
	} else {
		unpin_link(path);	/* stale: its device went away */
	}

	want = mode == KPR_XDP_GENERIC ? KPR_XDP_GENERIC : KPR_XDP_NATIVE;
	fd = xdp_link(prog_fd, ifindex, want);
	if (fd < 0 && mode == KPR_XDP_BEST_EFFORT) {
		kpr_warn("%s: native XDP refused (%s): using generic XDP", dev, strerror(errno));
		want = KPR_XDP_GENERIC;
		fd = xdp_link(prog_fd, ifindex, want);
	}
	if (fd < 0) {
		err = -errno;
		kpr_err("cannot attach %s XDP to %s: %s%s", kpr_xdp_mode_name(want), dev,
			strerror(errno),
			errno == EOPNOTSUPP ? " (the driver has no native XDP: use --mode generic)" : "");
	} else {
		err = pin_at(fd, path);
		if (err) {
			close(fd);	/* unpinned: this detaches it */
			fd = -1;
		}
	}
	if (err && have) {
		int rfd = xdp_link(old_prog, ifindex, cur);

		if (rfd < 0 || pin_at(rfd, path))
			kpr_err("%s lost its XDP program: %s; attach it again", dev,
				strerror(errno));
		else
			kpr_warn("%s keeps its %s XDP program %u", dev, kpr_xdp_mode_name(cur),
				 out->prog_id);
		if (rfd >= 0)
			close(rfd);
	}
	if (err)
		goto out;
	kpr_attach_get(root, KPR_HOOK_XDP, dev, out);
	out->fallback = mode == KPR_XDP_BEST_EFFORT && want == KPR_XDP_GENERIC;
	err = KPR_ADDED;
out:
	if (err == KPR_UPDATED)
		kpr_attach_get(root, KPR_HOOK_XDP, dev, out);
	if (fd >= 0)
		close(fd);	/* the pin holds the link now, or nothing does */
	if (lfd >= 0)
		close(lfd);
	if (old_prog >= 0)
		close(old_prog);
	return err;
}

/* The clsact egress filter of kernels without tcx, replaced in one step. */
static int tc_filter_attach(unsigned int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog_fd, .handle = TC_HANDLE,
		    .priority = TC_PRIO, .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &o);
}

static void tc_filter_detach(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO);

	if (ifindex)
		bpf_tc_detach(&hook, &o);
}

int kpr_attach_tc_egress(const char *root, const char *dev, int prog_fd, bool dry_run,
			 struct kpr_attachment *out)
{
	unsigned int ifindex = if_nametoindex(dev);
	char path[PATH_MAX], rec[PATH_MAX];
	unsigned long long ino;
	int fd = -1, err;

	if (!ifindex) {
		kpr_err("no such device: %s (see ip link)", dev);
		return -EINVAL;
	}
	err = kpr_netns_ino(&ino);
	if (err)
		return err;
	hook_path(root, ino, PFX_TC, dev, path, sizeof(path));
	hook_path(root, ino, PFX_TCF, dev, rec, sizeof(rec));
	err = kpr_attach_get(root, KPR_HOOK_TC_EGRESS, dev, out);
	if (!err && out->ifindex == ifindex) {
		if (dry_run || same_prog(out->prog_id, prog_fd))
			return KPR_UNCHANGED;
		if (out->tc_filter) {
			err = tc_filter_attach(ifindex, prog_fd) ?: pin_at(prog_fd, rec);
		} else {
			fd = bpf_obj_get(path);
			err = fd < 0 || bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		}
		if (err) {
			kpr_err("cannot switch tc egress of %s to the new program: %s (it keeps the old one)",
				dev, strerror(-err));
			goto out;
		}
		err = KPR_UPDATED;
		goto out;
	}
	if (dry_run)
		return KPR_ADDED;
	err = mkdir_ns(root, ino);
	if (err)
		return err;
	/* stale: the device went away, or the filter of a kernel since
	 * upgraded to tcx */
	unpin_link(path);
	if (!unlink(rec))
		tc_filter_detach(ifindex);

	fd = getenv("KPR_TEST_NO_TCX") ? -1 : bpf_link_create(prog_fd, ifindex, KPR_TCX_EGRESS, NULL);
	if (fd >= 0) {
		err = pin_at(fd, path);
	} else if (errno == EINVAL || getenv("KPR_TEST_NO_TCX")) {
		/* no tcx (Linux < 6.6): a clsact filter, its program pinned
		 * as the record that --status and --detach find */
		err = tc_filter_attach(ifindex, prog_fd);
		if (err)
			kpr_err("cannot attach tc egress to %s: %s", dev, strerror(-err));
		else
			err = pin_at(prog_fd, rec);
		if (err)
			tc_filter_detach(ifindex);
	} else {
		err = -errno;
		kpr_err("cannot attach tc egress (tcx) to %s: %s", dev, strerror(errno));
	}
	if (err)
		goto out;
	err = KPR_ADDED;
out:
	if (err >= 0)
		kpr_attach_get(root, KPR_HOOK_TC_EGRESS, dev, out);
	if (fd >= 0)
		close(fd);
	return err;
}

int kpr_detach_dev(const char *root, const char *dev, bool dry_run)
{
	static const char *const pfx[] = { PFX_XDP, PFX_TC };
	unsigned long long ino;
	char path[PATH_MAX];
	bool found = false;
	int err, ret = 0;

	err = kpr_netns_ino(&ino);
	if (err)
		return err;
	if (strlen(dev) >= IF_NAMESIZE || strchr(dev, '/')) {
		kpr_err("bad device name '%s'", dev);
		return -EINVAL;
	}
	if (legacy_claim(root, ino, dev, !dry_run) && dry_run)
		return KPR_DELETED;
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		hook_path(root, ino, pfx[i], dev, path, sizeof(path));
		if (access(path, F_OK))
			continue;
		found = true;
		if (!dry_run)
			ret = unpin_link(path) ?: ret;
	}
	hook_path(root, ino, PFX_TCF, dev, path, sizeof(path));
	if (!access(path, F_OK)) {
		found = true;
		if (!dry_run) {
			tc_filter_detach(if_nametoindex(dev));
			if (unlink(path)) {
				ret = -errno;
				kpr_err("cannot remove %s: %s", path, strerror(errno));
			}
		}
	}
	if (ret)
		return ret;
	if (found && !dry_run) {
		ns_dir(root, ino, path, sizeof(path));
		rmdir(path);	/* when it was the last hook of this netns */
	}
	return found ? KPR_DELETED : KPR_UNCHANGED;
}

static int cgroup_open(const char *cgroup, bool allow_root, unsigned long long *ino)
{
	struct statfs sf;
	struct stat s;
	int fd, err;

	fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		kpr_err("cannot open cgroup %s: %s", cgroup, strerror(errno));
		return err;
	}
	if (fstatfs(fd, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC || fstat(fd, &s)) {
		kpr_err("%s is not a cgroup2 directory (see mount -t cgroup2)", cgroup);
		err = -EINVAL;
		goto err;
	}
	if (s.st_ino == 1 && !allow_root) {
		kpr_err("refusing the cgroup2 root %s: give a child cgroup", cgroup);
		err = -EINVAL;
		goto err;
	}
	*ino = s.st_ino;
	return fd;
err:
	close(fd);
	return err;
}

static void cgroup_pin(const char *root, unsigned long long ino, enum bpf_attach_type type,
		       char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/" PFX_CGROUP "%llu-%s", root, ino, kpr_cgroup_type_name(type));
}

int kpr_attach_cgroup(const char *root, const char *cgroup, bool allow_root, int prog_fd,
		      enum bpf_attach_type type, struct kpr_attachment *out)
{
	char path[PATH_MAX];
	unsigned long long ino;
	int cg, fd = -1, err;

	memset(out, 0, sizeof(*out));
	if (!kpr_cgroup_type_name(type)) {
		kpr_err("cgroup attach type %d is not one kpr attaches", type);
		return -EINVAL;
	}
	cg = cgroup_open(cgroup, allow_root, &ino);
	if (cg < 0)
		return cg;
	snprintf(path, sizeof(path), "%s/links", root);
	err = mkdir_one(path);
	if (err)
		goto out;
	cgroup_pin(root, ino, type, path, sizeof(path));
	if (!read_link(path, out)) {
		if (same_prog(out->prog_id, prog_fd)) {
			err = KPR_UNCHANGED;
			goto out;
		}
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_link_update(fd, prog_fd, NULL)) {
			err = -errno;
			kpr_err("cannot switch %s of %s to the new program: %s (it keeps the old one)",
				kpr_cgroup_type_name(type), cgroup, strerror(errno));
			goto out;
		}
		err = KPR_UPDATED;
		goto out;
	}
	fd = bpf_link_create(prog_fd, cg, type, NULL);
	if (fd < 0) {
		err = -errno;
		kpr_err("cannot attach %s to cgroup %s: %s", kpr_cgroup_type_name(type), cgroup,
			strerror(errno));
		goto out;
	}
	err = pin_at(fd, path) ?: KPR_ADDED;
out:
	if (err >= 0) {
		memset(out, 0, sizeof(*out));
		read_link(path, out);
		out->hook = KPR_HOOK_CGROUP;
		snprintf(out->cgroup_path, sizeof(out->cgroup_path), "%s", cgroup);
	}
	if (fd >= 0)
		close(fd);
	close(cg);
	return err;
}

int kpr_detach_cgroup(const char *root, const char *cgroup, enum bpf_attach_type type)
{
	char path[PATH_MAX];
	unsigned long long ino;
	int cg, err;

	if (!kpr_cgroup_type_name(type))
		return -EINVAL;
	cg = cgroup_open(cgroup, true, &ino);
	if (cg < 0)
		return cg;
	close(cg);
	cgroup_pin(root, ino, type, path, sizeof(path));
	if (access(path, F_OK))
		return KPR_UNCHANGED;
	err = unpin_link(path);
	return err ?: KPR_DELETED;
}

int kpr_detach_attachment(const struct kpr_attachment *a)
{
	return unpin_link(a->pin);
}

/* --- listing --- */

struct list {
	struct kpr_attachment *v;
	size_t n;
};

static struct kpr_attachment *list_add(struct list *l, enum kpr_hook hook,
				       unsigned long long netns, const char *dev)
{
	struct kpr_attachment *a = kpr_push((void **)&l->v, &l->n, sizeof(*a));

	if (!a)
		return NULL;
	a->hook = hook;
	a->netns = netns;
	if (dev)
		snprintf(a->dev, sizeof(a->dev), "%s", dev);
	return a;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The pins of one netns directory. */
static int list_ns(struct list *l, const char *dir, unsigned long long ino)
{
	char path[2 * PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		struct kpr_attachment *a;
		enum kpr_hook hook;
		const char *dev;

		if (!strncmp(n, PFX_XDP, strlen(PFX_XDP))) {
			hook = KPR_HOOK_XDP;
			dev = n + strlen(PFX_XDP);
		} else if (!strncmp(n, PFX_TC, strlen(PFX_TC))) {
			hook = KPR_HOOK_TC_EGRESS;
			dev = n + strlen(PFX_TC);
		} else if (!strncmp(n, PFX_TCF, strlen(PFX_TCF))) {
			hook = KPR_HOOK_TC_EGRESS;
			dev = n + strlen(PFX_TCF);
		} else {
			continue;
		}
		a = list_add(l, hook, ino, dev);
		if (!a) {
			err = -ENOMEM;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		if (!strncmp(n, PFX_TCF, strlen(PFX_TCF)))
			read_prog(path, a);
		else
			read_link(path, a);
	}
	closedir(d);
	return err;
}

/* What only the device's namespace knows: the ifindex of a clsact filter's
 * device, the XDP mode. Called inside it. */
static void fill_in_ns(struct list *l, unsigned long long ino, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		struct kpr_attachment *a = &l->v[i];

		if (a->netns != ino || a->hook == KPR_HOOK_CGROUP)
			continue;
		snprintf(a->netns_name, sizeof(a->netns_name), "%s", name);
		a->seen = true;
		if (a->tc_filter) {
			a->ifindex = if_nametoindex(a->dev);
			if (!tc_filter_present(a->ifindex))
				a->ifindex = 0;
		}
		if (a->hook == KPR_HOOK_XDP)
			a->mode = xdp_query(a->ifindex, &(unsigned int){ 0 });
	}
}

static bool owns_pin(const struct list *l, unsigned long long ino)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].netns == ino)
			return true;
	return false;
}

static void enter_and_fill(struct list *l, const char *path, unsigned long long ino,
			   const char *name, int home)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (!setns(fd, CLONE_NEWNET)) {
		fill_in_ns(l, ino, name);
		if (setns(home, CLONE_NEWNET))
			kpr_warn("cannot return to the tool's network namespace: %s", strerror(errno));
	}
	close(fd);
}

/* Enters each namespace that owns a pin, found by its inode among the
 * init namespace and /run/netns, and returns to ours. */
static void resolve_netns(struct list *l, unsigned long long self)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat s;
	int home;
	DIR *d;

	fill_in_ns(l, self, "");
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return;
	if (!stat("/proc/1/ns/net", &s)) {
		if (s.st_ino == self)
			fill_in_ns(l, self, "init");
		else if (owns_pin(l, s.st_ino))
			enter_and_fill(l, "/proc/1/ns/net", s.st_ino, "init", home);
	}
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (stat(path, &s) || !owns_pin(l, s.st_ino))
			continue;
		if (s.st_ino == self)
			fill_in_ns(l, self, de->d_name);
		else
			enter_and_fill(l, path, s.st_ino, de->d_name, home);
	}
	if (d)
		closedir(d);
	close(home);
}

static unsigned long long want_cg;
static char *found_cg;

static int find_cg(const char *path, const struct stat *s, int flag, struct FTW *f)
{
	if (flag != FTW_D || s->st_ino != want_cg)
		return 0;
	found_cg = strdup(path);
	return 1;
}

int kpr_cgroup2_mount(char *buf, size_t len)
{
	struct mntent *m;
	FILE *f = setmntent("/proc/self/mounts", "r");
	int err = -ENOENT;

	*buf = 0;
	while (f && (m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(buf, len, "%s", m->mnt_dir);
			err = 0;
			break;
		}
	if (f)
		endmntent(f);
	return err;
}

/* The path of the cgroup2 directory with inode ino, "" when not found. */
static void cgroup_path(unsigned long long ino, char *buf, size_t len)
{
	char mnt[PATH_MAX];

	*buf = 0;
	if (kpr_cgroup2_mount(mnt, sizeof(mnt)))
		return;
	want_cg = ino;
	found_cg = NULL;
	nftw(mnt, find_cg, 16, FTW_PHYS | FTW_MOUNT);
	if (found_cg)
		snprintf(buf, len, "%s", found_cg);
	free(found_cg);
}

static int cmp_att(const void *pa, const void *pb)
{
	const struct kpr_attachment *a = pa, *b = pb;

	if ((a->hook == KPR_HOOK_CGROUP) != (b->hook == KPR_HOOK_CGROUP))
		return a->hook == KPR_HOOK_CGROUP ? 1 : -1;
	if (a->netns != b->netns)
		return a->netns < b->netns ? -1 : 1;
	if (strcmp(a->dev, b->dev))
		return strcmp(a->dev, b->dev);
	if (a->hook != b->hook)
		return a->hook < b->hook ? -1 : 1;
	return a->cgroup < b->cgroup ? -1 : a->cgroup > b->cgroup;
}

int kpr_attach_list(const char *root, bool all_netns, struct kpr_attachment **out, size_t *n)
{
	char dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
	unsigned long long self;
	struct list l = {};
	struct dirent *de;
	int err;
	DIR *d;

	*out = NULL;
	*n = 0;
	err = kpr_netns_ino(&self);
	if (err)
		return err;
	snprintf(dir, sizeof(dir), "%s/links", root);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (de = readdir(d))) {
		const char *name = de->d_name;
		struct kpr_attachment *a;

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (is_number(name)) {
			unsigned long long ino = strtoull(name, NULL, 10);

			if (all_netns || ino == self)
				err = list_ns(&l, path, ino);
		} else if (!strncmp(name, PFX_XDP, strlen(PFX_XDP))) {
			/* the old layout: ours when it drives our device */
			bool mine = legacy_claim(root, self, name + strlen(PFX_XDP), false);

			if (!all_netns && !mine)
				continue;
			a = list_add(&l, KPR_HOOK_XDP, mine ? self : 0, name + strlen(PFX_XDP));
			if (!a) {
				err = -ENOMEM;
				break;
			}
			read_link(path, a);
			a->legacy = true;
		} else if (!strncmp(name, PFX_CGROUP, strlen(PFX_CGROUP)) && all_netns) {
			a = list_add(&l, KPR_HOOK_CGROUP, 0, NULL);
			if (!a) {
				err = -ENOMEM;
				break;
			}
			read_link(path, a);
			cgroup_path(a->cgroup, a->cgroup_path, sizeof(a->cgroup_path));
		}
	}
	closedir(d);
	if (err) {
		free(l.v);
		return err;
	}
	resolve_netns(&l, self);
	if (l.n)	/* l.v is NULL then, which qsort may not be given */
		qsort(l.v, l.n, sizeof(*l.v), cmp_att);
	*out = l.v;
	*n = l.n;
	return 0;
}

int kpr_attach_prune(const char *root, bool dry_run)
{
	struct kpr_attachment *v;
	char path[PATH_MAX];
	int err, cnt = 0;
	size_t n;

	err = kpr_attach_list(root, true, &v, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct kpr_attachment *a = &v[i];

		/* a clsact filter's record knows no more than its namespace
		 * tells: only links are judged */
		if (!a->link_id || (a->hook == KPR_HOOK_CGROUP ? a->cgroup : a->ifindex))
			continue;
		cnt++;
		if (dry_run)
			continue;
		if (unlink(a->pin)) {
			err = -errno;
			kpr_err("cannot remove %s: %s", a->pin, strerror(errno));
			break;
		}
		if (a->netns && !a->legacy) {
			ns_dir(root, a->netns, path, sizeof(path));
			rmdir(path);	/* when it was the last one */
		}
	}
	free(v);
	return err ?: cnt;
}
