// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Maglev tables in real pinned maps: what svc-add writes and what
 * kpr_maglev_regen_all() (lb-mode's call when size, seed or the node's
 * algorithm change) rewrites. Needs root and BPF: without them it skips,
 * except under CI=true, where that is a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "svc/maglev.h"
#include "svc/maglev_map.h"
#include "core/out.h"
#include "svc/svc.h"
#include "tap.h"
#include "core/util.h"

static char root[128];

/* Adds or updates one service from svc-add's words. */
static int add(struct kpr_state *st, const char *alg, int argc, char **argv)
{
	struct kpr_svc_spec sp;
	struct kpr_batch_result res;
	char err[KPR_ERRLEN];
	int ret;

	kpr_svc_spec_init(&sp);
	ret = 0;
	if (alg) {
		const struct kpr_opt *o = kpr_opt_by_id(kpr_svc_opts, KPR_SVC_OPT_ALGORITHM);
		struct kpr_optval v;

		ret = kpr_opt_parse(o, alg, &v, err, sizeof(err));
		if (!ret)
			kpr_svc_set_opt(&sp, o->id, &v);
	}
	if (!ret)
		ret = kpr_svc_set_endpoints(&sp, argc, argv, err, sizeof(err));
	if (!ret)
		ret = kpr_svc_apply(st, &sp, 1, false, false, kpr_svc_report, &res);
	kpr_svc_spec_free(&sp);
	return ret;
}

static struct kpr_svc_key key_of(const char *fe)
{
	struct kpr_svc_key k = {};
	char err[KPR_ERRLEN];

	kpr_parse_frontend(fe, false, &k.fe, err, sizeof(err));
	return k;
}

/* 1: the live table is the one cfg asks for; 0: it is not; -ENOENT: none. */
static int live_ok(struct kpr_state *st, const char *fe, const struct kpr_config *cfg)
{
	struct kpr_svc_key k = key_of(fe);
	struct kpr_svc_info info;
	struct kpr_maglev_be *mbe = NULL;
	__u32 *live = NULL, *want = NULL, m = 0;
	int ret = kpr_svc_get(st, &k, &info);

	if (ret)
		goto out;
	ret = kpr_maglev_read_service(st, info.svc.id, &live, &m);
	if (ret)
		goto out;
	mbe = calloc(info.svc.active + 1u, sizeof(*mbe));
	want = calloc(cfg->maglev_size, sizeof(*want));
	for (unsigned int i = 0; mbe && i < info.svc.active; i++) {
		mbe[i].addr = info.be[i].be;
		mbe[i].weight = info.be[i].weight;
	}
	ret = mbe && want && m == cfg->maglev_size &&
	      !kpr_maglev_build(mbe, info.svc.active, m, cfg->maglev_seed, want);
	for (__u32 k2 = 0; ret && k2 < m; k2++)
		ret = live[k2] == info.be_ids[want[k2]];
out:
	free(info.be_ids);
	free(info.be);
	free(mbe);
	free(live);
	free(want);
	return ret;
}

static void rm_root(void)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", root, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(root);
}

int main(void)
{
	char *a[] = { "10.96.0.1:80", "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80,weight=4" };
	char *b[] = { "10.96.0.2:80", "10.0.0.1:80", "10.0.0.4:80" };
	char *c[] = { "10.96.0.3:80", "10.0.0.5:80", "10.0.0.6:80,state=terminating", "10.0.0.7:80" };
	struct kpr_state st = { .lock_fd = -1 };
	struct kpr_config cfg, big, bad;
	const char *ci = getenv("CI");

	if (geteuid() != 0) {
		if (ci && !strcmp(ci, "true"))
			ok(0, "needs root, and CI runs as root: this is a failure");
		else
			printf("ok %d # skip needs root and BPF\n", ++tap_n);
		return tap_done();
	}
	snprintf(root, sizeof(root), "/sys/fs/bpf/kpr-unit-maglev-%d", (int)getpid());
	out_init(OUT_TEXT, true);
	if (kpr_state_open(&st, root, KPR_OPEN_WRITE, 10)) {
		ok(0, "state opened under %s", root);
		rm_root();
		return tap_done();
	}
	kpr_config_read(&st, &cfg);
	ok(!add(&st, "maglev", 4, a) && !add(&st, "random", 3, b) && !add(&st, NULL, 4, c),
	   "three services: maglev, random, the node's algorithm (random)");
	ok(live_ok(&st, "10.96.0.1:80", &cfg) == 1, "the maglev service has its table at the default size");
	ok(live_ok(&st, "10.96.0.2:80", &cfg) == -ENOENT, "the random service has none");
	ok(live_ok(&st, "10.96.0.3:80", &cfg) == -ENOENT, "the default-algorithm service has none");

	cfg.maglev_size = 251;
	kpr_maglev_seed_new(cfg.maglev_seed);
	kpr_config_write(&st, &cfg);
	ok(live_ok(&st, "10.96.0.1:80", &cfg) == 0, "after a size and seed change the table is stale");
	ok(kpr_maglev_regen_all(&st, NULL) == 1, "regen_all rewrites one table");
	ok(live_ok(&st, "10.96.0.1:80", &cfg) == 1, "it has the new size 251 and the new seed");

	cfg.algorithm = KPR_ALG_MAGLEV;
	kpr_config_write(&st, &cfg);
	ok(kpr_maglev_regen_all(&st, NULL) == 2, "node algorithm maglev: two tables");
	ok(live_ok(&st, "10.96.0.3:80", &cfg) == 1, "the default-algorithm service gains one (active backends only)");
	ok(live_ok(&st, "10.96.0.2:80", &cfg) == -ENOENT, "the random service still has none");

	big = cfg;
	big.maglev_size = 131071;
	ok(kpr_maglev_regen_all(&st, &big) == 2, "regen_all with a given config (M=131071)");
	ok(live_ok(&st, "10.96.0.1:80", &big) == 1 && live_ok(&st, "10.96.0.3:80", &big) == 1,
	   "both tables have 131071 entries in the outer map made for any size");

	bad = big;
	bad.maglev_size = 16383;
	ok(kpr_maglev_regen_all(&st, &bad) == -EINVAL, "a size that is not one of the primes is refused");
	ok(live_ok(&st, "10.96.0.1:80", &big) == 1 && live_ok(&st, "10.96.0.3:80", &big) == 1,
	   "and the tables in place stay");

	cfg.algorithm = KPR_ALG_RANDOM;
	kpr_config_write(&st, &cfg);
	ok(kpr_maglev_regen_all(&st, NULL) == 1, "node algorithm random again: one table");
	ok(live_ok(&st, "10.96.0.3:80", &cfg) == -ENOENT, "the default-algorithm service lost its table");
	ok(live_ok(&st, "10.96.0.1:80", &cfg) == 1, "the maglev service kept its own");

	kpr_state_close(&st);
	rm_root();
	return tap_done();
}
