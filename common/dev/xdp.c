// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpr_xdp.skel.h"
#include "state/mapio.h"
#include "svc/svc.h"
#include "core/util.h"
#include "dev/xdp.h"

#define LINK_PREFIX "xdp-"

static const char *const mode_names[] = {
	[KPR_XDP_NATIVE] = "native",
	[KPR_XDP_GENERIC] = "generic",
	[KPR_XDP_BEST_EFFORT] = "best-effort",
};

const char *kpr_xdp_mode_name(enum kpr_xdp_mode m)
{
	return m >= KPR_XDP_NATIVE && m <= KPR_XDP_BEST_EFFORT ? mode_names[m] : "none";
}

int kpr_xdp_mode_parse(const char *s, enum kpr_xdp_mode *out)
{
	for (int m = KPR_XDP_NATIVE; m <= KPR_XDP_BEST_EFFORT; m++)
		if (!strcmp(s, mode_names[m])) {
			*out = m;
			return 0;
		}
	return -EINVAL;
}

int kpr_xdp_dev_check(const char *dev)
{
	if (strlen(dev) >= IF_NAMESIZE || strchr(dev, '/') || !if_nametoindex(dev)) {
		kpr_err("no such device: %s (see ip link)", dev);
		return -EINVAL;
	}
	return 0;
}

static void link_path(const struct kpr_state *st, const char *dev, char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/" LINK_PREFIX "%s", st->root, dev);
}

/* What is attached to ifindex now: mode and program, 0 when nothing. */
static enum kpr_xdp_mode query_mode(unsigned int ifindex, unsigned int *prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	*prog_id = 0;
	if (bpf_xdp_query(ifindex, 0, &q))
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

/* The pinned link of dev if it still drives dev; fills d. */
static int pinned_link(const struct kpr_state *st, const char *dev, struct kpr_xdp_dev *d)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX + 64];
	int fd, err = 0;

	link_path(st, dev, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	snprintf(d->name, sizeof(d->name), "%s", dev);
	d->link_id = info.id;
	d->prog_id = info.prog_id;
	d->ifindex = info.xdp.ifindex;
	d->ours = true;
	if (!d->ifindex)
		err = -ENOLINK;	/* the device went away under the link */
	else
		d->mode = query_mode(d->ifindex, &(unsigned int){ 0 });
out:
	close(fd);
	return err;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static int load(struct kpr_xdp *x)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = x->st->root);
	int err;

	if (x->skel)
		return 0;
	x->skel = kpr_xdp_bpf__open_opts(&opts);
	if (!x->skel) {
		err = -errno;
		kpr_err("cannot open the embedded datapath: %s", strerror(errno));
		return err;
	}
	err = kpr_obj_use_pins(x->st->root, x->skel->obj);
	if (err)
		return err;
	/* -v: libbpf's messages, the verifier log among them */
	if (kpr_verbose)
		libbpf_set_print(print_libbpf);
	err = kpr_xdp_bpf__load(x->skel);
	if (err) {
		kpr_err("the kernel refused the datapath program: %s (-v shows the verifier log)",
			strerror(-err));
		return err;
	}
	return 0;
}

/* 1 when prog_id runs the very program this kpr loaded (same tag), else 0. */
static int same_prog(struct kpr_xdp *x, unsigned int prog_id)
{
	struct bpf_prog_info a = {}, b = {};
	__u32 la = sizeof(a), lb = sizeof(b);
	int fd = bpf_prog_get_fd_by_id(prog_id), ret = 1;

	if (fd < 0)
		return 1;	/* cannot tell: leave it */
	if (!bpf_obj_get_info_by_fd(fd, &a, &la) &&
	    !bpf_obj_get_info_by_fd(bpf_program__fd(x->skel->progs.kpr_xdp_ingress), &b, &lb))
		ret = !memcmp(a.tag, b.tag, sizeof(a.tag));
	close(fd);
	return ret;
}

static int update_link(struct kpr_xdp *x, const char *dev, struct kpr_xdp_dev *out)
{
	char path[PATH_MAX + 64];
	int fd, err = 0;

	link_path(x->st, dev, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_link_update(fd, bpf_program__fd(x->skel->progs.kpr_xdp_ingress), NULL)) {
		err = -errno;
		kpr_err("cannot switch %s to the new datapath program: %s", dev, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	if (!err)
		pinned_link(x->st, dev, out);
	return err;
}

static int link_create(struct kpr_xdp *x, unsigned int ifindex, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);

	return bpf_link_create(bpf_program__fd(x->skel->progs.kpr_xdp_ingress), ifindex,
			       BPF_XDP, &lo);
}

/*
 * When the neighbour of a translated packet is not resolved yet, the
 * datapath hands the packet to the stack, which resolves it; the packet's
 * source is then the node's own address, a martian unless accept_local.
 */
static int accept_local(const char *dev)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", dev);
	f = fopen(path, "w");
	if (f && fputs("1\n", f) < 0) {
		fclose(f);
		f = NULL;
	}
	if (!f || fclose(f)) {
		int err = errno;

		kpr_warn("cannot set %s: %s (first packets to an unresolved neighbour will be lost)",
			 path, strerror(err));
		return -err;
	}
	return 0;
}

/*
 * Detaches a pinned link now and removes its pin. Removing the pin alone
 * detaches only once bpffs frees the inode, after an RCU grace period: an
 * attach right after it would still find the device taken (EEXIST).
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

int kpr_xdp_attach(struct kpr_xdp *x, const char *dev, enum kpr_xdp_mode mode, bool dry_run,
		   struct kpr_xdp_dev *out)
{
	char path[PATH_MAX + 64];
	unsigned int ifindex, other;
	int fd = -1, err;

	memset(out, 0, sizeof(*out));
	err = kpr_xdp_dev_check(dev);
	if (err)
		return err;
	ifindex = if_nametoindex(dev);
	err = pinned_link(x->st, dev, out);
	if (!err && out->ifindex == ifindex &&
	    (mode == KPR_XDP_BEST_EFFORT || out->mode == mode)) {
		/* attaching twice is a no-op, unless this kpr carries another
		 * program (an upgrade): then the link is switched to it in one
		 * step, no packet unserved. The addresses may have moved. */
		if (dry_run)
			return KPR_UNCHANGED;
		err = load(x);
		if (err)
			return err;
		err = same_prog(x, out->prog_id);
		if (err == 0) {
			err = update_link(x, dev, out);
			if (err)
				return err;
		}
		/* same_prog: 0 another program (now switched), 1 this one */
		return kpr_dev_addrs_sync(x->st, dev, ifindex) ?:
		       (err == 0 ? KPR_UPDATED : KPR_UNCHANGED);
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", dev);
	out->ifindex = ifindex;
	out->ours = true;
	out->mode = mode == KPR_XDP_GENERIC ? KPR_XDP_GENERIC : KPR_XDP_NATIVE;
	if (!err || err == -ENOLINK) {
		/* ours in another mode, or stale: replaced below */
	} else if (query_mode(ifindex, &other)) {
		kpr_err("%s already runs XDP program %u that kpr did not attach: detach it first (ip link set dev %s xdp off)",
			dev, other, dev);
		return -EBUSY;
	}
	if (dry_run)
		return KPR_ADDED;

	err = load(x);
	if (err)
		return err;
	link_path(x->st, dev, path, sizeof(path));
	unpin_link(path);	/* the old link, in another mode, or stale */
	if (mode == KPR_XDP_GENERIC) {
		fd = link_create(x, ifindex, XDP_FLAGS_SKB_MODE);
	} else {
		fd = link_create(x, ifindex, XDP_FLAGS_DRV_MODE);
		if (fd < 0 && mode == KPR_XDP_BEST_EFFORT) {
			kpr_warn("%s: native XDP refused (%s): using generic XDP", dev, strerror(errno));
			out->mode = KPR_XDP_GENERIC;
			out->fallback = true;
			fd = link_create(x, ifindex, XDP_FLAGS_SKB_MODE);
		}
	}
	if (fd < 0) {
		err = -errno;
		kpr_err("cannot attach %s XDP to %s: %s", kpr_xdp_mode_name(out->mode), dev,
			strerror(errno));
		return err;
	}
	snprintf(path, sizeof(path), "%s/links", x->st->root);
	if (mkdir(path, 0700) && errno != EEXIST) {
		err = -errno;
		kpr_err("cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	link_path(x->st, dev, path, sizeof(path));
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		kpr_err("cannot pin the link of %s at %s: %s", dev, path, strerror(errno));
		goto out;
	}
	err = kpr_dev_addrs_sync(x->st, dev, ifindex);
	if (err) {
		unlink(path);
		goto out;
	}
	accept_local(dev);
	pinned_link(x->st, dev, out);
	err = KPR_ADDED;
out:
	close(fd);	/* the pin holds the link now, or nothing does */
	return err;
}

/* Forgets the addresses that came from ifindex (--node-ip ones have 0). */
static void dev_addrs_forget(struct kpr_state *st, unsigned int ifindex)
{
	struct kpr_node_addr_ent *v = NULL;
	__u32 idx = ifindex;
	size_t n = 0;

	/* listed first: deleting while walking would restart the walk */
	if (!kpr_node_addrs_list(st, &v, &n))
		for (size_t i = 0; i < n; i++)
			if (v[i].val.ifindex == ifindex)
				bpf_map_delete_elem(st->node_addrs, &v[i].key);
	free(v);
	bpf_map_delete_elem(st->dev_addrs, &idx);
}

int kpr_xdp_detach(struct kpr_xdp *x, const char *dev, bool dry_run)
{
	struct kpr_xdp_dev d = {};
	char path[PATH_MAX + 64];
	int err;

	link_path(x->st, dev, path, sizeof(path));
	if (access(path, F_OK))
		return KPR_UNCHANGED;
	err = pinned_link(x->st, dev, &d);
	if (dry_run)
		return KPR_DELETED;
	if (unpin_link(path))
		return -EIO;
	if (!err)
		dev_addrs_forget(x->st, d.ifindex);
	return KPR_DELETED;
}

void kpr_xdp_close(struct kpr_xdp *x)
{
	if (x->skel)
		kpr_xdp_bpf__destroy(x->skel);
	x->skel = NULL;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct kpr_xdp_dev *)a)->name, ((const struct kpr_xdp_dev *)b)->name);
}

int kpr_xdp_list(struct kpr_state *st, struct kpr_xdp_dev **out, size_t *n)
{
	char path[PATH_MAX + 16];
	struct kpr_xdp_dev *v = NULL, *nv;
	struct dirent *de;
	size_t cnt = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/links", st->root);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, LINK_PREFIX, strlen(LINK_PREFIX)))
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		memset(&v[cnt], 0, sizeof(v[cnt]));
		pinned_link(st, de->d_name + strlen(LINK_PREFIX), &v[cnt]);
		snprintf(v[cnt].name, sizeof(v[cnt].name), "%s", de->d_name + strlen(LINK_PREFIX));
		cnt++;
	}
	closedir(d);
	qsort(v, cnt, sizeof(*v), cmp_dev);
	*out = v;
	*n = cnt;
	return 0;
}

int kpr_dev_addrs_sync(struct kpr_state *st, const char *dev, unsigned int ifindex)
{
	struct kpr_dev_addrs da = {};
	struct ifaddrs *ifa, *i;
	__u32 idx = ifindex;
	int err = 0;

	if (getifaddrs(&ifa)) {
		err = -errno;
		kpr_err("cannot read the addresses of %s: %s", dev, strerror(errno));
		return err;
	}
	dev_addrs_forget(st, ifindex);
	for (i = ifa; i; i = i->ifa_next) {
		struct kpr_node_addr_key k = {};
		struct kpr_node_addr v = { .ifindex = ifindex };

		if (!i->ifa_addr || strcmp(i->ifa_name, dev))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			k.family = KPR_FAM_V4;
			memcpy(&k.addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			if (!da.has_v4) {
				da.v4 = k.addr;
				da.has_v4 = 1;
			}
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct in6_addr *a6 = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			/* link-local addresses name no node to a client */
			if (IN6_IS_ADDR_LINKLOCAL(a6))
				continue;
			k.family = KPR_FAM_V6;
			memcpy(&k.addr, a6, 16);
			if (!da.has_v6) {
				da.v6 = k.addr;
				da.has_v6 = 1;
			}
		} else {
			continue;
		}
		if (bpf_map_update_elem(st->node_addrs, &k, &v, BPF_ANY)) {
			err = -errno;
			kpr_err("cannot write node_addrs: %s", strerror(errno));
			goto out;
		}
	}
	if (bpf_map_update_elem(st->dev_addrs, &idx, &da, BPF_ANY)) {
		err = -errno;
		kpr_err("cannot write dev_addrs: %s", strerror(errno));
	}
out:
	freeifaddrs(ifa);
	return err;
}

int kpr_node_ip_add(struct kpr_state *st, const char *addr, bool dry_run)
{
	struct kpr_node_addr_key k = {};
	struct kpr_node_addr v = {}, old;

	if (inet_pton(AF_INET, addr, &k.addr) == 1) {
		k.family = KPR_FAM_V4;
	} else if (inet_pton(AF_INET6, addr, &k.addr) == 1) {
		k.family = KPR_FAM_V6;
	} else {
		kpr_err("bad node address '%s': give an IPv4 or IPv6 address", addr);
		return -EINVAL;
	}
	if (!bpf_map_lookup_elem(st->node_addrs, &k, &old))
		return KPR_UNCHANGED;
	if (dry_run)
		return KPR_ADDED;
	if (bpf_map_update_elem(st->node_addrs, &k, &v, BPF_ANY)) {
		kpr_err("cannot write node_addrs: %s", strerror(errno));
		return -errno;
	}
	return KPR_ADDED;
}

struct addr_list {
	struct kpr_node_addr_ent *v;
	size_t n;
};

static int collect_addr(const void *k, const void *val, void *ctx)
{
	struct addr_list *l = ctx;
	struct kpr_node_addr_ent *e = kpr_push((void **)&l->v, &l->n, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->key = *(const struct kpr_node_addr_key *)k;
	e->val = *(const struct kpr_node_addr *)val;
	return 0;
}

int kpr_node_addrs_list(struct kpr_state *st, struct kpr_node_addr_ent **out, size_t *n)
{
	struct addr_list l = {};
	int ret = kpr_map_walk(st->node_addrs, collect_addr, &l);

	if (ret) {
		free(l.v);
		return ret;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}
