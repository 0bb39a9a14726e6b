// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kp-cleanup against the kernel: find kube-proxy's leftovers (iptables of
 * both backends and both families, ipsets, nftables tables, the kube-ipvs0
 * link, IPVS services), print the plan, back them up, remove them; and put
 * a backup back. The decisions about iptables are kpcleanup.c's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/ip_vs.h>

#include "core/exec.h"
#include "nl/ipvs.h"
#include "kpcleanup/kpcleanup.h"
#include "core/lock.h"
#include "core/out.h"
#include "nl/rtnl.h"
#include "core/util.h"

#define KPC_LINK_NAME	"kube-ipvs0"
#define KPC_LOCK	"/run/kpr-kp-cleanup.lock"

struct ipt_variant {
	const char *save;
	const char *restore;
	const char *name;	/* "iptables-nft", for messages */
	const char *family;
	const char *file;	/* in the backup directory */
};

static const struct ipt_variant variants[] = {
	{ "iptables-nft-save", "iptables-nft-restore", "iptables-nft", "ipv4", "iptables-nft.save" },
	{ "ip6tables-nft-save", "ip6tables-nft-restore", "ip6tables-nft", "ipv6", "ip6tables-nft.save" },
	{ "iptables-legacy-save", "iptables-legacy-restore", "iptables-legacy", "ipv4", "iptables-legacy.save" },
	{ "ip6tables-legacy-save", "ip6tables-legacy-restore", "ip6tables-legacy", "ipv6", "ip6tables-legacy.save" },
};
#define NVARIANTS ARRAY_SIZE(variants)

static const char *const nft_tables[] = { "ip kube-proxy", "ip6 kube-proxy" };
static const char *const nft_files[] = { "nft-ip-kube-proxy.nft", "nft-ip6-kube-proxy.nft" };

struct plan {
	struct kpr_buf ipt_text[NVARIANTS];	/* iptables-save output */
	struct kpc_dump ipt[NVARIANTS];
	int ipt_n[NVARIANTS];			/* chains + rules to remove */
	char **sets;
	size_t nsets;
	size_t nsets_seen;	/* kube-proxy's sets, kept ones too: a sign of IPVS mode */
	bool nft[2];
	bool link;
	struct kpr_link lk;
	bool ipvs_avail;
	uint16_t ipvs_family;
	struct kpr_ipvs_svc *svcs;
	size_t nsvcs;
	/* totals */
	int chains, rules, nnft, total;
};

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < NVARIANTS; i++) {
		kpr_buf_free(&p->ipt_text[i]);
		kpc_dump_free(&p->ipt[i]);
	}
	for (size_t i = 0; i < p->nsets; i++)
		free(p->sets[i]);
	free(p->sets);
	kpr_link_free(&p->lk);
	kpr_ipvs_free(p->svcs, p->nsvcs);
}

/* Runs a helper program; on failure reports its first line of errors. */
static int run_tool(const char *const argv[], const char *in, size_t len, struct kpr_buf *out)
{
	struct kpr_buf err = {};
	int ret = kpr_run(argv, in, len, out, &err);

	if (ret == -ENOENT)
		kpr_err("%s is not installed (apt-get install iptables ipset nftables)", argv[0]);
	else if (ret < 0)
		kpr_err("cannot run %s: %s", argv[0], strerror(-ret));
	else if (ret > 0)
		kpr_err("%s %s failed (exit %d): %s", argv[0], argv[1] ? argv[1] : "", ret,
			kpr_first_line(&err));
	kpr_buf_free(&err);
	return ret > 0 ? -EIO : ret;
}

/* ---- is kube-proxy running? ---- */

static bool is_kube_proxy(const char *pid)
{
	char path[64], buf[256];
	const char *base;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;	/* kernel threads have no command line */
	buf[n] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	return !strcmp(base, "kube-proxy");
}

int kpc_find_kube_proxy(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if (is_kube_proxy(e->d_name) && atoi(e->d_name) != getpid())
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* ---- finding the leftovers ---- */

static int find_iptables(struct plan *p, const struct kpc_opts *o)
{
	for (size_t i = 0; i < NVARIANTS; i++) {
		const char *argv[] = { variants[i].save, NULL };
		struct kpr_buf err = {};
		int ret;

		if (!kpr_have_prog(variants[i].save)) {
			kpr_dbg("%s not installed: skipped", variants[i].save);
			continue;
		}
		ret = kpr_run(argv, NULL, 0, &p->ipt_text[i], &err);
		if (ret) {
			/* A backend the kernel lacks is not an error: say so, go on. */
			kpr_warn("%s failed, %s skipped: %s", variants[i].save, variants[i].name,
				 ret < 0 ? strerror(-ret) : kpr_first_line(&err));
			kpr_buf_free(&err);
			kpr_buf_free(&p->ipt_text[i]);
			continue;
		}
		kpr_buf_free(&err);
		ret = kpc_dump_parse(p->ipt_text[i].s, &p->ipt[i]);
		if (ret)
			return ret == -EINVAL ? -EIO : ret;
		if (!(o->kinds & KPC_IPTABLES))
			continue;
		p->ipt_n[i] = kpc_plan(&p->ipt[i]);
		p->total += p->ipt_n[i];
		for (size_t j = 0; j < p->ipt[i].ntables; j++) {
			int jumps, chains;

			kpc_table_counts(&p->ipt[i].tables[j], &jumps, &chains);
			p->rules += jumps;
			p->chains += chains;
		}
	}
	return 0;
}

/* Kube-proxy's ipsets that no remaining rule uses; RULES_PLANNED: the
 * iptables plan ran, so rules that go do not count as users. */
static int find_ipsets(struct plan *p, bool rules_planned)
{
	const char *argv[] = { "ipset", "list", "-n", NULL };
	struct kpr_buf out = {}, err = {};
	const char *s, *l;
	size_t len;
	int ret;

	if (!kpr_have_prog("ipset")) {
		kpr_warn("ipset is not installed: ipsets skipped");
		return 0;
	}
	ret = kpr_run(argv, NULL, 0, &out, &err);
	if (ret) {
		kpr_warn("ipset list failed, ipsets skipped: %s",
			 ret < 0 ? strerror(-ret) : kpr_first_line(&err));
		ret = 0;
		goto out;
	}
	for (s = out.s; kpr_next_line(&s, &l, &len); ) {
		char *name = strndup(l, len), **slot, where[128];
		bool used = false;

		if (!name) {
			ret = -ENOMEM;
			break;
		}
		if (!kpc_ipset_is_kube_proxy(name)) {
			free(name);
			continue;
		}
		p->nsets_seen++;
		for (size_t i = 0; i < NVARIANTS && !used; i++)
			used = kpc_set_in_use(&p->ipt[i], name, where, sizeof(where));
		if (used) {
			kpr_warn("keeping ipset %s: a rule that stays matches on it (table and chain %s)%s",
				 name, where, rules_planned ? "" :
				 "; add iptables to --only to remove kube-proxy's rules first");
			free(name);
			continue;
		}
		slot = kpr_push((void **)&p->sets, &p->nsets, sizeof(*slot));
		if (!slot) {
			free(name);
			ret = -ENOMEM;
			break;
		}
		*slot = name;
		p->total++;
	}
out:
	kpr_buf_free(&out);
	kpr_buf_free(&err);
	return ret;
}

static bool nft_has(const struct kpr_buf *list, const char *table)
{
	char line[64];
	const char *s = list->s ? list->s : "", *l;
	size_t len;

	snprintf(line, sizeof(line), "table %s", table);
	while (kpr_next_line(&s, &l, &len))
		if (len == strlen(line) && !strncmp(l, line, len))
			return true;
	return false;
}

static int nft_list(struct kpr_buf *out)
{
	const char *argv[] = { "nft", "list", "tables", NULL };

	return run_tool(argv, NULL, 0, out);
}

static int find_nft(struct plan *p)
{
	struct kpr_buf out = {};
	int ret;

	if (!kpr_have_prog("nft")) {
		kpr_warn("nft is not installed: nftables skipped");
		return 0;
	}
	ret = nft_list(&out);
	for (size_t i = 0; !ret && i < ARRAY_SIZE(nft_tables); i++) {
		p->nft[i] = nft_has(&out, nft_tables[i]);
		p->nnft += p->nft[i];
		p->total += p->nft[i];
	}
	kpr_buf_free(&out);
	return ret;
}

static int find_link(struct plan *p)
{
	int ret = kpr_link_get(KPC_LINK_NAME, &p->lk);

	if (ret == -ENODEV)
		return 0;
	if (ret) {
		kpr_err("cannot read link %s: %s", KPC_LINK_NAME, strerror(-ret));
		return ret;
	}
	if (strcmp(p->lk.kind, "dummy")) {
		kpr_warn("keeping link %s: it is of kind '%s', kube-proxy makes a dummy",
			 KPC_LINK_NAME, p->lk.kind[0] ? p->lk.kind : "none");
		return 0;
	}
	p->link = true;
	p->total++;
	return 0;
}

static int find_ipvs(struct plan *p, bool kube_proxy_ipvs)
{
	int ret = kpr_ipvs_family(&p->ipvs_family);

	if (ret == -ENOENT) {
		out_str("ipvs", NULL, "unavailable");
		out_text("ipvs: not available in this kernel (no generic netlink family IPVS: the ip_vs module is not loaded): no IPVS services to remove\n");
		return 0;
	}
	if (ret) {
		kpr_err("cannot query IPVS: %s", strerror(-ret));
		return ret;
	}
	p->ipvs_avail = true;
	out_str("ipvs", NULL, "available");
	ret = kpr_ipvs_list(p->ipvs_family, &p->svcs, &p->nsvcs);
	if (ret) {
		kpr_err("cannot list IPVS services: %s", strerror(-ret));
		return ret;
	}
	if (p->nsvcs && !kube_proxy_ipvs) {
		/* IPVS has no owner field: without kube-proxy's marks, not ours. */
		kpr_warn("keeping %zu IPVS services: no sign of kube-proxy's IPVS mode (no %s link, no KUBE- ipsets)",
			 p->nsvcs, KPC_LINK_NAME);
		kpr_ipvs_free(p->svcs, p->nsvcs);
		p->svcs = NULL;
		p->nsvcs = 0;
	}
	p->total += (int)p->nsvcs;
	return 0;
}

static int find_all(struct plan *p, const struct kpc_opts *o)
{
	int ret = find_iptables(p, o);

	if (!ret && (o->kinds & KPC_IPSET))
		ret = find_ipsets(p, o->kinds & KPC_IPTABLES);
	if (!ret && (o->kinds & KPC_NFT))
		ret = find_nft(p);
	/* The link and ipsets tell whether IPVS services are kube-proxy's. */
	if (!ret && (o->kinds & (KPC_LINK | KPC_IPVS)))
		ret = find_link(p);
	if (!ret && (o->kinds & KPC_IPVS)) {
		/* kube-proxy's sets count whether or not this run removes them */
		size_t sets = p->nsets_seen;

		if (!(o->kinds & KPC_IPSET)) {
			struct plan q = {};

			ret = find_ipsets(&q, false);
			sets = q.nsets_seen;
			plan_free(&q);
		}
		if (!ret)
			ret = find_ipvs(p, p->link || sets);
	}
	if (!(o->kinds & KPC_LINK) && p->link) {
		p->link = false;
		p->total--;
	}
	return ret;
}

/* ---- printing the plan ---- */

/* One rule as iptables-save prints it, in text and JSON. */
static void print_rule(const char *prefix, const struct kpc_rule *r)
{
	char *line;

	if (asprintf(&line, "-A %s %s", r->chain, r->spec) < 0)
		return;
	out_text("%s%s\n", prefix, line);
	out_str("rule", NULL, line);
	free(line);
}

static void print_table(const struct ipt_variant *v, const struct kpc_table *t, const char *verb)
{
	char prefix[128];

	out_obj_open(NULL);
	out_str("backend", NULL, v->name);
	out_str("family", NULL, v->family);
	out_str("table", NULL, t->name);
	snprintf(prefix, sizeof(prefix), "%s %s %s: %s rule ", v->name, v->family, t->name, verb);
	out_arr_open("rules");
	for (size_t i = 0; i < t->nrules; i++)
		if (t->rules[i].remove)
			print_rule(prefix, &t->rules[i]);
	out_arr_close();
	out_arr_open("chains");
	for (size_t i = 0; i < t->nchains; i++) {
		const struct kpc_chain *c = &t->chains[i];

		if (!c->remove)
			continue;
		out_obj_open(NULL);
		out_str("name", NULL, c->name);
		out_text("%s %s %s: %s chain %s (%d rule%s)\n", v->name, v->family, t->name, verb,
			 c->name, c->nrules, c->nrules == 1 ? "" : "s");
		out_arr_open("rules");
		for (size_t j = 0; j < t->nrules; j++)
			if (!strcmp(t->rules[j].chain, c->name))
				print_rule("    ", &t->rules[j]);
		out_arr_close();
		out_obj_close();
	}
	out_arr_close();
	out_obj_close();
}

static void print_plan(const struct plan *p, const char *verb)
{
	out_arr_open("iptables");
	for (size_t i = 0; i < NVARIANTS; i++) {
		for (size_t j = 0; p->ipt_n[i] && j < p->ipt[i].ntables; j++) {
			const struct kpc_table *t = &p->ipt[i].tables[j];
			int jumps, chains;

			kpc_table_counts(t, &jumps, &chains);
			if (jumps || chains)
				print_table(&variants[i], t, verb);
		}
	}
	out_arr_close();
	out_arr_open("ipsets");
	for (size_t i = 0; i < p->nsets; i++) {
		out_text("ipset: %s set %s\n", verb, p->sets[i]);
		out_str("set", NULL, p->sets[i]);
	}
	out_arr_close();
	out_arr_open("nft_tables");
	for (size_t i = 0; i < ARRAY_SIZE(nft_tables); i++) {
		if (!p->nft[i])
			continue;
		out_text("nft: %s table %s\n", verb, nft_tables[i]);
		out_str("table", NULL, nft_tables[i]);
	}
	out_arr_close();
	out_arr_open("links");
	if (p->link) {
		out_text("link: %s %s (%s, %zu address%s)\n", verb, p->lk.name, p->lk.kind,
			 p->lk.naddrs, p->lk.naddrs == 1 ? "" : "es");
		out_str("link", NULL, p->lk.name);
	}
	out_arr_close();
	out_arr_open("ipvs_services");
	for (size_t i = 0; i < p->nsvcs; i++) {
		char name[96];

		kpr_ipvs_svc_name(&p->svcs[i], name, sizeof(name));
		out_text("ipvs: %s service %s (%s, %zu real server%s)\n", verb, name,
			 p->svcs[i].sched, p->svcs[i].ndests, p->svcs[i].ndests == 1 ? "" : "s");
		out_str("service", NULL, name);
	}
	out_arr_close();
}

/* ---- the backup ---- */

static int mkdir_p(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static bool dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

static int write_file(const char *dir, const char *name, const char *s, size_t len)
{
	char path[4096];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		kpr_err("cannot write the backup %s: %s", path, strerror(errno));
		return ret;
	}
	if (write(fd, s, len) != (ssize_t)len || fsync(fd)) {
		ret = -EIO;
		kpr_err("cannot write the backup %s: %s", path, strerror(errno));
	}
	close(fd);
	return ret;
}

static int backup_ipsets(const struct plan *p, const char *dir)
{
	struct kpr_buf all = {};
	int ret = 0;

	for (size_t i = 0; i < p->nsets && !ret; i++) {
		const char *argv[] = { "ipset", "save", p->sets[i], NULL };

		ret = run_tool(argv, NULL, 0, &all);
	}
	if (!ret && all.s)
		ret = write_file(dir, "ipset.save", all.s, all.len);
	kpr_buf_free(&all);
	return ret;
}

static int backup_nft(const struct plan *p, const char *dir)
{
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(nft_tables) && !ret; i++) {
		char fam[8];
		const char *argv[] = { "nft", "list", "table", fam, strchr(nft_tables[i], ' ') + 1, NULL };
		struct kpr_buf out = {};

		if (!p->nft[i])
			continue;
		snprintf(fam, sizeof(fam), "%.*s", (int)strcspn(nft_tables[i], " "), nft_tables[i]);
		ret = run_tool(argv, NULL, 0, &out);
		if (!ret)
			ret = write_file(dir, nft_files[i], out.s, out.len);
		kpr_buf_free(&out);
	}
	return ret;
}

static int backup(struct plan *p, const char *dir)
{
	struct kpr_buf b = {};
	int ret;

	ret = mkdir_p(dir);
	if (ret) {
		kpr_err("cannot create the backup directory %s: %s", dir, strerror(-ret));
		return ret;
	}
	if (!dir_empty(dir)) {
		kpr_err("the backup directory %s is not empty: give another --backup-dir", dir);
		return -EEXIST;
	}
	for (size_t i = 0; i < NVARIANTS && !ret; i++)
		if (p->ipt_n[i])
			ret = write_file(dir, variants[i].file, p->ipt_text[i].s, p->ipt_text[i].len);
	if (!ret && p->nsets)
		ret = backup_ipsets(p, dir);
	if (!ret && p->nnft)
		ret = backup_nft(p, dir);
	if (!ret && p->link) {
		ret = kpr_link_save(&p->lk, &b);
		if (!ret)
			ret = write_file(dir, "link-" KPC_LINK_NAME, b.s, b.len);
		kpr_buf_free(&b);
	}
	if (!ret && p->nsvcs) {
		ret = kpr_ipvs_save(p->svcs, p->nsvcs, &b);
		if (!ret)
			ret = write_file(dir, "ipvs.save", b.s, b.len);
		kpr_buf_free(&b);
	}
	return ret;
}

/* ---- removing ---- */

static int remove_iptables(const struct plan *p)
{
	int ret = 0;

	for (size_t i = 0; i < NVARIANTS && !ret; i++) {
		const char *argv[] = { variants[i].restore, "--noflush", "--wait", NULL };
		struct kpr_buf delta = {};

		if (!p->ipt_n[i])
			continue;
		ret = kpc_delta(&p->ipt[i], &delta);
		if (!ret) {
			kpr_dbg("%s input:\n%s", variants[i].restore, delta.s);
			ret = run_tool(argv, delta.s, delta.len, NULL);
			if (ret)
				kpr_err("%s could not apply the change: the %s %s tables are as they were (each table changes atomically); rerun kp-cleanup",
					variants[i].restore, variants[i].name, variants[i].family);
		}
		kpr_buf_free(&delta);
	}
	return ret;
}

static int remove_ipsets(const struct plan *p)
{
	int ret = 0;

	for (size_t i = 0; i < p->nsets && !ret; i++) {
		const char *argv[] = { "ipset", "destroy", p->sets[i], NULL };

		ret = run_tool(argv, NULL, 0, NULL);
	}
	return ret;
}

static int remove_nft(const struct plan *p)
{
	const char *argv[] = { "nft", "-f", "-", NULL };
	struct kpr_buf in = {};
	int ret = 0;

	/* One nft transaction for both tables. */
	for (size_t i = 0; i < ARRAY_SIZE(nft_tables); i++)
		if (p->nft[i])
			ret |= kpr_buf_printf(&in, "delete table %s\n", nft_tables[i]);
	if (!ret && in.len)
		ret = run_tool(argv, in.s, in.len, NULL);
	kpr_buf_free(&in);
	return ret;
}

static int remove_ipvs(const struct plan *p)
{
	for (size_t i = 0; i < p->nsvcs; i++) {
		int ret = kpr_ipvs_del(p->ipvs_family, &p->svcs[i]);
		char name[96];

		if (ret) {
			kpr_ipvs_svc_name(&p->svcs[i], name, sizeof(name));
			kpr_err("cannot delete IPVS service %s: %s", name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int remove_all(const struct plan *p)
{
	int ret = remove_ipvs(p);

	if (!ret)
		ret = remove_iptables(p);
	/* After the rules: a set in use cannot be destroyed. */
	if (!ret)
		ret = remove_ipsets(p);
	if (!ret)
		ret = remove_nft(p);
	if (!ret && p->link) {
		ret = kpr_link_del(&p->lk);
		if (ret)
			kpr_err("cannot delete link %s: %s", p->lk.name, strerror(-ret));
	}
	return ret;
}

static void summary(const struct plan *p, bool dry_run)
{
	out_obj_open("counts");
	out_int("chains", NULL, p->chains);
	out_int("rules", NULL, p->rules);
	out_uint("ipsets", NULL, p->nsets);
	out_int("nft_tables", NULL, p->nnft);
	out_int("links", NULL, p->link);
	out_uint("ipvs_services", NULL, p->nsvcs);
	out_obj_close();
	out_text("%s %d chains, %d rules, %zu ipsets, %d nft tables, %d links, %zu IPVS services%s\n",
		 dry_run ? "would remove" : "removed", p->chains, p->rules, p->nsets, p->nnft,
		 p->link, p->nsvcs, dry_run ? " (dry run: nothing was changed)" : "");
}

int kpc_cleanup(const struct kpc_opts *o)
{
	struct plan p = {};
	char dir[4096];
	int lock = -1, ret, pid;
	const char *verb = o->dry_run ? "would remove" : "remove";

	pid = kpc_find_kube_proxy();
	if (pid && !o->force && !o->dry_run) {
		kpr_err("kube-proxy is running (pid %d) and would put its rules back within seconds: stop it first (kubectl -n kube-system delete daemonset kube-proxy, or systemctl stop kube-proxy), or give --force",
			pid);
		ret = -EBUSY;
		goto out;
	}
	if (pid)
		kpr_warn("kube-proxy is running (pid %d): it will put its rules back", pid);
	if (!o->dry_run) {
		lock = kpr_lock(KPC_LOCK, o->wait);
		ret = lock < 0 ? lock : 0;
		if (ret)
			goto out;
	}
	ret = find_all(&p, o);
	if (ret)
		goto out;
	out_bool("dry_run", NULL, o->dry_run);
	if (!p.total) {
		out_changed(false);
		out_null("backup_dir");
		print_plan(&p, verb);
		out_text("nothing to do: no kube-proxy leftovers\n");
		goto out;
	}
	if (o->backup_dir) {
		snprintf(dir, sizeof(dir), "%s", o->backup_dir);
	} else {
		time_t now = time(NULL);
		char stamp[32];

		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
		snprintf(dir, sizeof(dir), "%s/%s", KPC_BACKUP_ROOT, stamp);
	}
	out_changed(true);
	if (o->dry_run)
		out_null("backup_dir");
	else
		out_str("backup_dir", NULL, dir);
	print_plan(&p, verb);
	if (!o->dry_run) {
		ret = backup(&p, dir);
		if (ret)
			goto out;
		out_text("backup: %s (kp-cleanup --restore %s puts it back)\n", dir, dir);
		ret = remove_all(&p);
		if (ret) {
			kpr_warn("stopped after the error above; everything it was to remove is saved in %s",
				 dir);
			goto out;
		}
	}
	summary(&p, o->dry_run);
out:
	if (lock >= 0)
		close(lock);
	plan_free(&p);
	return ret;
}

/* ---- putting a backup back ---- */

/* The file NAME of DIR in b; -ENOENT when there is none. */
static int read_file(const char *dir, const char *name, struct kpr_buf *b)
{
	char path[4096], chunk[8192];
	ssize_t n;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && !ret)
		ret = kpr_buf_add(b, chunk, (size_t)n);
	if (!ret && n < 0)
		ret = -errno;
	if (!ret)
		ret = kpr_buf_add(b, "", 0);
	close(fd);
	if (ret)
		kpr_err("cannot read %s: %s", path, strerror(-ret));
	return ret;
}

/* The name of an ipset save line ("create NAME ..." / "add NAME ..."). */
static bool set_line_of(const char *line, size_t len, const char *name)
{
	const char *sp = memchr(line, ' ', len);
	size_t n = strlen(name);

	return sp && (size_t)(line + len - sp - 1) >= n && !strncmp(sp + 1, name, n) &&
	       (sp[1 + n] == ' ' || sp + 1 + n == line + len);
}

static int restore_ipsets(const char *dir, bool dry_run, int *count)
{
	const char *argv[] = { "ipset", "restore", NULL };
	struct kpr_buf saved = {}, in = {};
	struct plan now = {};
	size_t len, tlen;
	int ret = read_file(dir, "ipset.save", &saved);

	if (ret == -ENOENT)
		return 0;
	if (!ret)
		ret = find_ipsets(&now, false);
	out_arr_open("ipsets");
	for (const char *s = saved.s, *l; !ret && kpr_next_line(&s, &l, &len); ) {
		bool exists = false;
		char name[64];

		if (len > 7 && !strncmp(l, "create ", 7)) {
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(l + 7, " \n"), l + 7);
			for (size_t i = 0; i < now.nsets; i++)
				exists |= !strcmp(now.sets[i], name);
			if (!exists) {
				out_text("ipset: %s set %s\n", dry_run ? "would restore" : "restore", name);
				out_str("set", NULL, name);
				(*count)++;
				/* Its lines: the create and every add of that set. */
				for (const char *t = saved.s, *tl; kpr_next_line(&t, &tl, &tlen); )
					if (set_line_of(tl, tlen, name))
						ret |= kpr_buf_printf(&in, "%.*s\n", (int)tlen, tl);
			}
		}
	}
	out_arr_close();
	if (!ret && in.len && !dry_run)
		ret = run_tool(argv, in.s, in.len, NULL);
	kpr_buf_free(&saved);
	kpr_buf_free(&in);
	plan_free(&now);
	return ret;
}

static int restore_nft(const char *dir, bool dry_run, int *count)
{
	struct kpr_buf list = {};
	int ret = 0;

	out_arr_open("nft_tables");
	for (size_t i = 0; i < ARRAY_SIZE(nft_tables) && !ret; i++) {
		char path[4096];
		const char *argv[] = { "nft", "-f", path, NULL };

		snprintf(path, sizeof(path), "%s/%s", dir, nft_files[i]);
		if (access(path, R_OK))
			continue;
		if (!list.s)
			ret = nft_list(&list);
		if (ret || nft_has(&list, nft_tables[i]))
			continue;
		out_text("nft: %s table %s\n", dry_run ? "would restore" : "restore", nft_tables[i]);
		out_str("table", NULL, nft_tables[i]);
		(*count)++;
		if (!dry_run)
			ret = run_tool(argv, NULL, 0, NULL);
	}
	out_arr_close();
	kpr_buf_free(&list);
	return ret;
}

static int restore_link(const char *dir, bool dry_run, int *count)
{
	struct kpr_buf saved = {};
	struct kpr_link l = {}, now;
	int ret = read_file(dir, "link-" KPC_LINK_NAME, &saved);

	out_arr_open("links");
	if (ret == -ENOENT) {
		ret = 0;
		goto out;
	}
	if (!ret) {
		ret = kpr_link_parse(KPC_LINK_NAME, saved.s, &l);
		if (ret)
			kpr_err("bad link backup %s/link-%s", dir, KPC_LINK_NAME);
	}
	if (ret)
		goto out;
	ret = kpr_link_get(KPC_LINK_NAME, &now);
	if (!ret) {
		kpr_link_free(&now);
		goto out;	/* there already */
	}
	if (ret != -ENODEV)
		goto out;
	out_text("link: %s %s (%s, %zu addresses)\n", dry_run ? "would restore" : "restore",
		 KPC_LINK_NAME, l.kind, l.naddrs);
	out_str("link", NULL, KPC_LINK_NAME);
	(*count)++;
	ret = dry_run ? 0 : kpr_link_create(&l);
	if (ret)
		kpr_err("cannot create link %s: %s", KPC_LINK_NAME, strerror(-ret));
out:
	out_arr_close();
	kpr_link_free(&l);
	kpr_buf_free(&saved);
	return ret;
}

static int restore_ipvs(const char *dir, bool dry_run, int *count)
{
	struct kpr_ipvs_svc *svcs = NULL, *now = NULL;
	size_t n = 0, nnow = 0;
	struct kpr_buf saved = {};
	uint16_t family;
	int ret = read_file(dir, "ipvs.save", &saved);

	out_arr_open("ipvs_services");
	if (ret == -ENOENT) {
		ret = 0;
		goto out;
	}
	if (!ret)
		ret = kpr_ipvs_restore_parse(saved.s, &svcs, &n);
	if (ret)
		goto out;
	ret = kpr_ipvs_family(&family);
	if (ret) {
		kpr_err("cannot restore %zu IPVS services: %s", n, ret == -ENOENT ?
			"this kernel has no IPVS (load ip_vs)" : strerror(-ret));
		ret = ret == -ENOENT ? -EOPNOTSUPP : ret;
		goto out;
	}
	ret = kpr_ipvs_list(family, &now, &nnow);
	for (size_t i = 0; !ret && i < n; i++) {
		char name[96];

		kpr_ipvs_svc_name(&svcs[i], name, sizeof(name));
		if (dry_run) {
			ret = 1;
			for (size_t j = 0; j < nnow; j++) {
				char other[96];

				kpr_ipvs_svc_name(&now[j], other, sizeof(other));
				if (!strcmp(other, name))
					ret = 0;	/* there already */
			}
		} else {
			ret = kpr_ipvs_add(family, &svcs[i]);
			if (ret < 0) {
				kpr_err("cannot restore IPVS service %s: %s", name, strerror(-ret));
				break;
			}
		}
		if (ret) {
			out_text("ipvs: %s service %s\n", dry_run ? "would restore" : "restore", name);
			out_str("service", NULL, name);
			(*count)++;
		}
		ret = 0;
	}
out:
	out_arr_close();
	kpr_ipvs_free(svcs, n);
	kpr_ipvs_free(now, nnow);
	kpr_buf_free(&saved);
	return ret;
}

static int restore_variant(const char *dir, size_t i, bool dry_run, int *count)
{
	const struct ipt_variant *v = &variants[i];
	const char *save[] = { v->save, NULL };
	const char *restore[] = { v->restore, "--noflush", "--wait", NULL };
	struct kpr_buf saved = {}, cur = {}, undo = {};
	struct kpc_dump sd = {}, cd = {};
	int ret = read_file(dir, v->file, &saved), n = 0;

	if (ret == -ENOENT)
		return 0;
	if (!ret) {
		ret = kpc_dump_parse(saved.s, &sd);
		if (ret)
			kpr_err("bad iptables backup %s/%s", dir, v->file);
	}
	if (!ret)
		ret = run_tool(save, NULL, 0, &cur);
	if (!ret)
		ret = kpc_dump_parse(cur.s, &cd);
	if (!ret) {
		kpc_plan(&sd);
		ret = kpc_undo(&sd, &cd, &undo, &n);
	}
	if (!ret && n) {
		out_obj_open(NULL);
		out_str("backend", NULL, v->name);
		out_str("family", NULL, v->family);
		out_int("count", NULL, n);
		out_obj_close();
		out_text("%s %s: %s %d chains and rules\n", v->name, v->family,
			 dry_run ? "would restore" : "restore", n);
		*count += n;
		kpr_dbg("%s input:\n%s", v->restore, undo.s);
		if (!dry_run)
			ret = run_tool(restore, undo.s, undo.len, NULL);
	}
	kpc_dump_free(&sd);
	kpc_dump_free(&cd);
	kpr_buf_free(&saved);
	kpr_buf_free(&cur);
	kpr_buf_free(&undo);
	return ret;
}

int kpc_restore(const struct kpc_opts *o, const char *dir)
{
	struct stat st;
	int lock = -1, count = 0, ret;

	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		kpr_err("no backup directory %s (kp-cleanup prints where it saved one)", dir);
		return -EINVAL;
	}
	if (dir_empty(dir)) {
		kpr_err("%s holds no kp-cleanup backup", dir);
		return -EINVAL;
	}
	if (!o->dry_run) {
		lock = kpr_lock(KPC_LOCK, o->wait);
		if (lock < 0)
			return lock;
	}
	out_bool("dry_run", NULL, o->dry_run);
	out_str("restore_dir", NULL, dir);
	/* Sets before the rules that match on them. */
	ret = (o->kinds & KPC_IPSET) ? restore_ipsets(dir, o->dry_run, &count) : 0;
	if (!ret && (o->kinds & KPC_NFT))
		ret = restore_nft(dir, o->dry_run, &count);
	if (!ret && (o->kinds & KPC_LINK))
		ret = restore_link(dir, o->dry_run, &count);
	if (!ret && (o->kinds & KPC_IPVS))
		ret = restore_ipvs(dir, o->dry_run, &count);
	out_arr_open("iptables");
	for (size_t i = 0; !ret && (o->kinds & KPC_IPTABLES) && i < NVARIANTS; i++)
		ret = restore_variant(dir, i, o->dry_run, &count);
	out_arr_close();
	if (!ret) {
		out_changed(count > 0);
		if (count)
			out_text("%s %d items from %s%s\n", o->dry_run ? "would restore" : "restored",
				 count, dir, o->dry_run ? " (dry run: nothing was changed)" : "");
		else
			out_text("nothing to do: everything in %s is in place\n", dir);
	}
	if (lock >= 0)
		close(lock);
	return ret;
}
