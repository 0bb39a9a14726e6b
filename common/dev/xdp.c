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

#include "kpr_tc.skel.h"
#include "kpr_xdp.skel.h"
#include "state/mapio.h"
#include "svc/svc.h"
#include "core/out.h"
#include "core/util.h"
#include "dev/xdp.h"
#include "svc/addr.h"

int kpr_xdp_dev_check(const char *dev)
{
	if (strlen(dev) >= IF_NAMESIZE || strchr(dev, '/') || !if_nametoindex(dev)) {
		kpr_err("no such device: %s (see ip link)", dev);
		return -EINVAL;
	}
	return 0;
}

static void dev_from(struct kpr_xdp_dev *d, const struct kpr_attachment *a)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", a->dev);
	d->ifindex = a->ifindex;
	d->mode = a->mode;
	d->prog_id = a->prog_id;
	d->link_id = a->link_id;
	d->fallback = a->fallback;
	d->ours = true;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

/* Opens obj's maps onto the pins (opened with pin_root_path) and loads it. */
static int load_obj(struct kpr_xdp *x, struct bpf_object *obj, const char *what)
{
	int err = kpr_obj_use_pins(x->st->root, obj);

	if (err)
		return err;
	err = bpf_object__load(obj);
	if (err) {
		kpr_err("the kernel refused the datapath's %s program: %s (-v shows the verifier log)",
			what, strerror(-err));
		return err;
	}
	return 0;
}

static int load(struct kpr_xdp *x)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = x->st->root);
	int err;

	if (x->skel && x->tc_skel)
		return 0;
	/* -v: libbpf's messages, the verifier log among them */
	if (kpr_verbose)
		libbpf_set_print(print_libbpf);
	x->skel = kpr_xdp_bpf__open_opts(&opts);
	x->tc_skel = x->skel ? kpr_tc_bpf__open_opts(&opts) : NULL;
	if (!x->skel || !x->tc_skel) {
		err = -errno;
		kpr_err("cannot open the embedded datapath: %s", strerror(errno));
		return err;
	}
	err = load_obj(x, x->skel->obj, "XDP");
	if (!err)
		err = load_obj(x, x->tc_skel->obj, "tc");
	return err;
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

/* The KPR_DEV_F_* of device ifindex as last attached, 0 when none. */
static __u8 dev_flags(struct kpr_state *st, unsigned int ifindex)
{
	struct kpr_dev_addrs da;
	__u32 idx = ifindex;

	return bpf_map_lookup_elem(st->dev_addrs, &idx, &da) ? 0 : da.flags;
}

int kpr_xdp_attach(struct kpr_xdp *x, const char *dev, enum kpr_xdp_mode mode, bool dry_run,
		   struct kpr_xdp_dev *out)
{
	struct kpr_attachment a = {}, t = {};
	__u8 flags = x->internal ? KPR_DEV_F_INTERNAL : 0;
	unsigned int ifindex;
	int ret, tc, err, upd;

	memset(out, 0, sizeof(*out));
	ret = kpr_xdp_dev_check(dev);
	if (ret)
		return ret;
	ifindex = if_nametoindex(dev);
	/* becoming internal or external is an update, links unchanged or not */
	upd = dev_flags(x->st, ifindex) != flags ? KPR_UPDATED : KPR_UNCHANGED;
	if (!dry_run) {
		ret = load(x);
		if (ret)
			return ret;
	}
	ret = kpr_attach_xdp(x->st->root, dev,
			     dry_run ? -1 : bpf_program__fd(x->skel->progs.kpr_xdp_ingress),
			     mode, dry_run, &a);
	if (ret < 0)
		return ret;
	dev_from(out, &a);
	tc = kpr_attach_tc_egress(x->st->root, dev,
				  dry_run ? -1 : bpf_program__fd(x->tc_skel->progs.kpr_tc_egress),
				  dry_run, &t);
	if (tc < 0) {
		/* a device this attach hooked is not left half done; one
		 * attached before keeps its XDP and says what to do */
		if (ret == KPR_ADDED && !dry_run) {
			kpr_detach_dev(x->st->root, dev, false);
			kpr_err("%s: tc egress refused, so XDP ingress was not kept either", dev);
		} else {
			kpr_err("%s has XDP ingress but no tc egress: attach it again", dev);
		}
		return tc;
	}
	out->internal = x->internal;
	if (dry_run)
		return ret ?: tc ?: upd;
	/* the addresses may have moved since the last attach */
	err = kpr_dev_addrs_sync(x->st, dev, ifindex, flags);
	if (err)
		return err;
	if (ret == KPR_ADDED)
		accept_local(dev);
	return ret == KPR_ADDED || tc == KPR_ADDED ? KPR_ADDED : ret ?: tc ?: upd;
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
	struct kpr_attachment a;
	int ret, known;

	known = !kpr_attach_get(x->st->root, KPR_HOOK_XDP, dev, &a) && a.ifindex;
	ret = kpr_detach_dev(x->st->root, dev, dry_run);
	if (ret == KPR_DELETED && !dry_run && known)
		dev_addrs_forget(x->st, a.ifindex);
	return ret;
}

void kpr_xdp_close(struct kpr_xdp *x)
{
	if (x->skel)
		kpr_xdp_bpf__destroy(x->skel);
	if (x->tc_skel)
		kpr_tc_bpf__destroy(x->tc_skel);
	x->skel = NULL;
	x->tc_skel = NULL;
}

int kpr_xdp_list(struct kpr_state *st, struct kpr_xdp_dev **out, size_t *n)
{
	struct kpr_attachment *v;
	size_t cnt, k = 0;
	int err;

	*out = NULL;
	*n = 0;
	err = kpr_attach_list(st->root, false, &v, &cnt);
	if (err)
		return err;
	*out = calloc(cnt ?: 1, sizeof(**out));
	if (!*out) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cnt; i++)
		if (v[i].hook == KPR_HOOK_XDP) {
			dev_from(&(*out)[k], &v[i]);
			(*out)[k++].internal = dev_flags(st, v[i].ifindex) & KPR_DEV_F_INTERNAL;
		}
	*n = k;
	free(v);
	return 0;
}

int kpr_dev_addrs_sync(struct kpr_state *st, const char *dev, unsigned int ifindex, __u8 flags)
{
	struct kpr_dev_addrs da = { .flags = flags };
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

/* "KubeProxyReplacement: Strict [eth0 10.0.0.1 (native XDP, SNAT), ...]" */
int kpr_xdp_show_kpr_line(struct kpr_state *st, const char *fwd)
{
	struct kpr_node_addr_ent *addrs;
	struct kpr_xdp_dev *devs;
	size_t n, na;
	int ret;

	ret = kpr_xdp_list(st, &devs, &n);
	if (ret)
		return ret;
	ret = kpr_node_addrs_list(st, &addrs, &na);
	if (ret) {
		free(devs);
		return ret;
	}
	out_str(NULL, "%-28s", "KubeProxyReplacement:");
	out_str(NULL, "%s", n ? "Strict   [" : "Disabled (no device attached: xdp-attach DEV)");
	out_str("kube_proxy_replacement", NULL, n ? "Strict" : "Disabled");
	out_arr_open("devices");
	for (size_t i = 0; i < n; i++) {
		out_obj_open(NULL);
		out_str("dev", "%s", devs[i].name);
		out_arr_open("addrs");
		for (size_t j = 0; j < na; j++) {
			char a[KPR_ADDRSTRLEN];

			if (addrs[j].val.ifindex != devs[i].ifindex)
				continue;
			kpr_fmt_addr(&addrs[j].key.addr, addrs[j].key.family, a, sizeof(a));
			out_obj_open(NULL);
			out_str("addr", " %s", a);
			out_obj_close();
		}
		out_arr_close();
		out_str("xdp", " (%s XDP", kpr_xdp_mode_name(devs[i].mode));
		out_str(NULL, ", %s)", fwd);
		out_str(NULL, "%s", i + 1 < n ? ", " : "]");
		out_obj_close();
	}
	out_arr_close();
	out_text("\n");
	free(devs);
	free(addrs);
	return 0;
}
