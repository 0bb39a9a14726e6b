// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "kpr_sock.skel.h"
#include "core/out.h"
#include "core/util.h"
#include "svc/svc.h"
#include "svc/maglev_map.h"
#include "dev/attach.h"
#include "dev/sock.h"

int kpr_sock_default_cgroup(char *buf, size_t len)
{
	if (kpr_cgroup2_mount(buf, len)) {
		kpr_err("no cgroup2 mount in /proc/self/mounts: mount one, or give --cgroup PATH");
		return -ENOENT;
	}
	return 0;
}

static int cgroup_ino(const char *cgroup, unsigned long long *ino)
{
	struct statfs sf;
	struct stat s;

	if (stat(cgroup, &s) || statfs(cgroup, &sf) || !S_ISDIR(s.st_mode) ||
	    sf.f_type != CGROUP2_SUPER_MAGIC) {
		kpr_err("--cgroup %s: not a cgroup2 directory (see mount -t cgroup2)", cgroup);
		return -EINVAL;
	}
	*ino = s.st_ino;
	return 0;
}

int kpr_sock_list(struct kpr_state *st, struct kpr_sock_cg **out, size_t *n)
{
	struct kpr_sock_cg *v = NULL, *c;
	struct kpr_attachment *a;
	size_t na, nv = 0, j;
	int err;

	*out = NULL;
	*n = 0;
	err = kpr_attach_list(st->root, true, &a, &na);
	if (err)
		return err;
	for (size_t i = 0; i < na; i++) {
		if (a[i].hook != KPR_HOOK_CGROUP)
			continue;
		for (j = 0; j < nv && v[j].ino != a[i].cgroup; j++)
			;
		if (j == nv) {
			c = kpr_push((void **)&v, &nv, sizeof(*c));
			if (!c) {
				err = -ENOMEM;
				break;
			}
			c->ino = a[i].cgroup;
			snprintf(c->path, sizeof(c->path), "%s", a[i].cgroup_path);
		}
		v[j].hooks++;
	}
	free(a);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*n = nv;
	return 0;
}

/* How many hooks are pinned for the cgroup with inode ino. */
static int hooks_of(struct kpr_state *st, unsigned long long ino)
{
	struct kpr_sock_cg *v;
	size_t n;
	int err = kpr_sock_list(st, &v, &n), cnt = 0;

	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		if (v[i].ino == ino)
			cnt = (int)v[i].hooks;
	free(v);
	return cnt;
}

int kpr_sock_attach(struct kpr_state *st, const char *cgroup, bool dry_run)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = st->root);
	enum bpf_attach_type added[KPR_SOCK_HOOKS];
	unsigned long long ino;
	struct kpr_attachment a;
	struct bpf_program *prog;
	struct kpr_sock_bpf *skel;
	int err, ret = KPR_UNCHANGED, n_added = 0;

	err = cgroup_ino(cgroup, &ino);
	if (err)
		return err;
	if (dry_run) {
		err = hooks_of(st, ino);
		return err < 0 ? err : err == KPR_SOCK_HOOKS ? KPR_UNCHANGED : KPR_ADDED;
	}
	skel = kpr_sock_bpf__open_opts(&opts);
	if (!skel) {
		err = -errno;
		kpr_err("cannot open the embedded socket LB programs: %s", strerror(errno));
		return err;
	}
	err = kpr_obj_use_pins(st->root, skel->obj);
	if (!err && (err = kpr_sock_bpf__load(skel)))
		kpr_err("the kernel refused the socket LB programs: %s (-v shows the verifier log)",
			strerror(-err));
	bpf_object__for_each_program(prog, skel->obj) {
		enum bpf_attach_type type = bpf_program__expected_attach_type(prog);
		int r;

		if (err)
			break;
		r = kpr_attach_cgroup(st->root, cgroup, true, bpf_program__fd(prog), type, &a);
		if (r < 0)
			err = r;
		else if (r == KPR_ADDED && n_added < KPR_SOCK_HOOKS)
			added[n_added++] = type;
		if (r > ret)
			ret = r == KPR_ADDED || ret == KPR_ADDED ? KPR_ADDED : r;
	}
	/* the links hold the programs; the object can go */
	kpr_sock_bpf__destroy(skel);
	if (err) {
		for (int i = 0; i < n_added; i++)
			kpr_detach_cgroup(st->root, cgroup, added[i]);
		return err;
	}
	return ret;
}

int kpr_sock_detach(struct kpr_state *st, const char *keep, bool dry_run)
{
	struct kpr_attachment *a;
	unsigned long long ino = 0;
	size_t n;
	int err, ret = KPR_UNCHANGED;

	if (keep && (err = cgroup_ino(keep, &ino)))
		return err;
	err = kpr_attach_list(st->root, true, &a, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++) {
		if (a[i].hook != KPR_HOOK_CGROUP || (keep && a[i].cgroup == ino))
			continue;
		ret = KPR_DELETED;
		if (!dry_run)
			err = kpr_detach_attachment(&a[i]);
	}
	free(a);
	return err ?: ret;
}

/* The switches, and the cgroups whose hooks are pinned (one, unless a
 * change was cut short) with how many of the hooks each has. */
int kpr_sock_show(struct kpr_state *st, const struct kpr_config *cfg)
{
	struct kpr_sock_cg *cgs;
	size_t n;
	int ret = kpr_sock_list(st, &cgs, &n);

	if (ret)
		return ret;
	out_line_bool("socket_lb", "Socket LB:", cfg->flags & KPR_CFG_SOCKET_LB);
	out_arr_open("socket_lb_cgroups");
	for (size_t i = 0; i < n; i++) {
		out_obj_open(NULL);
		out_text("%-28s", i ? "" : "Socket LB cgroup:");
		out_str("path", "%s", *cgs[i].path ? cgs[i].path : "(removed)");
		out_uint("hooks", " (%llu", cgs[i].hooks);
		out_text(" of %d hooks)\n", KPR_SOCK_HOOKS);
		out_obj_close();
	}
	out_arr_close();
	out_line_bool("sock_hostns_only", "Socket LB host netns only:",
		      cfg->flags & KPR_CFG_SOCK_HOSTNS_ONLY);
	out_uint("hostns_cookie", "Socket LB host netns cookie: %llu\n", cfg->hostns_cookie);
	free(cgs);
	return 0;
}

int kpr_sock_config_apply(struct kpr_state *st, const struct kpr_config *old,
			  const struct kpr_config *cfg, int socket_lb, const char *cgroup,
			  bool dry_run, bool *changed)
{
	char root[PATH_MAX];
	int ret;

	if (socket_lb == 1 && !cgroup) {
		ret = kpr_sock_default_cgroup(root, sizeof(root));
		if (ret)
			return ret;
		cgroup = root;
	}
	if (socket_lb == 1) {
		ret = kpr_sock_attach(st, cgroup, dry_run);
		if (ret < 0)
			return ret;
		*changed |= ret != KPR_UNCHANGED;
	}
	if (*changed && !dry_run) {
		ret = kpr_config_apply(st, old, cfg);
		if (ret)
			return ret;
	}
	if (socket_lb < 0)
		return 0;
	ret = kpr_sock_detach(st, socket_lb ? cgroup : NULL, dry_run);
	if (ret < 0)
		return ret;
	*changed |= ret != KPR_UNCHANGED;
	return 0;
}
