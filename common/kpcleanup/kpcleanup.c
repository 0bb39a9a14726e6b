// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE	/* qsort_r */
/* kp-cleanup's planning from iptables-save text: see kpcleanup.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "kpcleanup/kpcleanup.h"
#include "core/util.h"

const struct kpr_enum kpc_kinds[] = {
	{ "iptables", KPC_IPTABLES },
	{ "ipvs", KPC_IPVS },
	{ "ipset", KPC_IPSET },
	{ "nft", KPC_NFT },
	{ "link", KPC_LINK },
	{ NULL },
};

/* ---- parsing ---- */

/*
 * Next word of a rule as iptables-restore reads it: double quotes group, a
 * backslash escapes the next character. Returns false at the end.
 */
static bool next_word(const char **pp, char *out, size_t len)
{
	const char *p = *pp;
	size_t n = 0;
	bool quoted = false;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return false;
	while (*p && (quoted || (*p != ' ' && *p != '\t'))) {
		if (*p == '"') {
			quoted = !quoted;
			p++;
			continue;
		}
		if (*p == '\\' && p[1])
			p++;
		if (n + 1 < len)
			out[n++] = *p;
		p++;
	}
	out[n] = '\0';
	*pp = p;
	return true;
}

/* The value that follows the first occurrence of any of OPTS in SPEC. */
static char *word_after(const char *spec, const char *const *opts)
{
	char w[512];
	const char *p = spec;
	bool take = false;

	while (next_word(&p, w, sizeof(w))) {
		if (take)
			return strdup(w);
		for (const char *const *o = opts; *o; o++)
			if (!strcmp(w, *o))
				take = true;
	}
	return NULL;
}

static int cmp_chain_name(const void *a, const void *b, void *chains)
{
	const struct kpc_chain *c = chains;

	return strcmp(c[*(const size_t *)a].name, c[*(const size_t *)b].name);
}

static int add_table(struct kpc_dump *d, const char *name)
{
	struct kpc_table *t = kpr_push((void **)&d->tables, &d->ntables, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->name = strdup(name);
	return t->name ? 0 : -ENOMEM;
}

static int add_chain(struct kpc_table *t, const char *line)
{
	char name[256], policy[64];
	struct kpc_chain *c;
	const char *p = line + 1;

	if (!next_word(&p, name, sizeof(name)) || !next_word(&p, policy, sizeof(policy)))
		return -EINVAL;
	c = kpr_push((void **)&t->chains, &t->nchains, sizeof(*c));
	if (!c)
		return -ENOMEM;
	free(t->by_name);	/* a chain after rules: index again */
	t->by_name = NULL;
	c->builtin = strcmp(policy, "-") != 0;
	c->name = strdup(name);
	return c->name ? 0 : -ENOMEM;
}

static int add_rule(struct kpc_table *t, const char *line)
{
	static const char *const jump[] = { "-j", "--jump", "-g", "--goto", NULL };
	static const char *const comment[] = { "--comment", NULL };
	char name[256];
	const char *p = line + 2;
	struct kpc_chain *c;
	struct kpc_rule *r;

	if (!next_word(&p, name, sizeof(name)))
		return -EINVAL;
	/* iptables-save declares every chain before the first rule: from
	 * then on, chains are found by name in log time, not by a scan per
	 * rule (a node in iptables mode has tens of thousands of each) */
	if (!t->by_name) {
		t->by_name = malloc((t->nchains + 1) * sizeof(*t->by_name));
		if (!t->by_name)
			return -ENOMEM;
		for (size_t i = 0; i < t->nchains; i++)
			t->by_name[i] = i;
		qsort_r(t->by_name, t->nchains, sizeof(*t->by_name), cmp_chain_name, t->chains);
	}
	c = kpc_chain_find(t, name);
	if (!c)
		return -EINVAL;
	while (*p == ' ')
		p++;
	r = kpr_push((void **)&t->rules, &t->nrules, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->chain = c->name;
	r->pos = ++c->nrules;
	r->spec = strdup(p);
	if (!r->spec)
		return -ENOMEM;
	r->target = word_after(p, jump);
	r->comment = word_after(p, comment);
	return 0;
}

int kpc_dump_parse(const char *text, struct kpc_dump *d)
{
	struct kpc_table *t = NULL;
	const char *p = text, *l;
	char *line = NULL;
	int ret = 0, lineno = 0;
	size_t len;

	memset(d, 0, sizeof(*d));
	while (!ret && kpr_next_line(&p, &l, &len)) {
		lineno++;
		free(line);
		line = strndup(l, len);
		if (!line) {
			ret = -ENOMEM;
			break;
		}
		if (!line[0] || line[0] == '#')
			continue;
		if (line[0] == '*') {
			if (t) {
				ret = -EINVAL;	/* no COMMIT before the next table */
				break;
			}
			ret = add_table(d, line + 1);
			t = ret ? NULL : &d->tables[d->ntables - 1];
		} else if (!t) {
			ret = -EINVAL;
		} else if (line[0] == ':') {
			ret = add_chain(t, line);
		} else if (!strncmp(line, "-A ", 3)) {
			ret = add_rule(t, line);
		} else if (!strcmp(line, "COMMIT")) {
			t = NULL;
		} else {
			ret = -EINVAL;
		}
	}
	if (!ret && t)
		ret = -EINVAL;	/* a table without COMMIT */
	if (ret) {
		if (ret == -EINVAL)
			kpr_err("cannot read iptables-save output at line %d: '%s'",
				lineno, line ? line : "");
		kpc_dump_free(d);
	}
	free(line);
	return ret;
}

void kpc_dump_free(struct kpc_dump *d)
{
	for (size_t i = 0; i < d->ntables; i++) {
		struct kpc_table *t = &d->tables[i];

		for (size_t j = 0; j < t->nchains; j++)
			free(t->chains[j].name);
		for (size_t j = 0; j < t->nrules; j++) {
			free(t->rules[j].spec);
			free(t->rules[j].target);
			free(t->rules[j].comment);
		}
		free(t->chains);
		free(t->by_name);
		free(t->rules);
		free(t->name);
	}
	free(d->tables);
	memset(d, 0, sizeof(*d));
}

struct kpc_table *kpc_table_find(const struct kpc_dump *d, const char *name)
{
	for (size_t i = 0; i < d->ntables; i++)
		if (!strcmp(d->tables[i].name, name))
			return &d->tables[i];
	return NULL;
}

struct kpc_chain *kpc_chain_find(const struct kpc_table *t, const char *name)
{
	size_t lo = 0, hi = t->nchains;

	if (!t->by_name) {
		for (size_t i = 0; i < t->nchains; i++)
			if (!strcmp(t->chains[i].name, name))
				return &t->chains[i];
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, t->chains[t->by_name[mid]].name);

		if (!c)
			return &t->chains[t->by_name[mid]];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- what is kube-proxy's ---- */

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static bool has_prefix(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strncmp(s, *list, strlen(*list)))
			return true;
	return false;
}

/* IPVS mode's chains; filter or nat depending on the version. */
static const char *const ipvs_chains[] = {
	"KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-SOURCE-RANGES-FIREWALL",
	"KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER", NULL,
};
static const char *const nat_chains[] = {
	"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-PROXY-CANARY", NULL,
};
static const char *const nat_prefixes[] = {
	"KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-", "KUBE-FW-", "KUBE-EXT-", "KUBE-XLB-", NULL,
};
/* Also made by kubelet < 1.28 (KUBE-FIREWALL: only in filter, nat's is IPVS mode's). */
static const char *const nat_shared[] = {
	"KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-FIREWALL", NULL,
};
static const char *const filter_chains[] = {
	"KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS",
	"KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY", NULL,
};
static const char *const mangle_chains[] = { "KUBE-PROXY-CANARY", NULL };

/* The comments of kube-proxy's jumps from the built-in chains. */
static const char *const jump_comments[] = {
	"kubernetes service portals",
	"kubernetes postrouting rules",
	"kubernetes forwarding rules",
	"kubernetes externally-visible service portals",
	"kubernetes health check service ports",
	"kubernetes load balancer firewall",
	"kubernetes health check rules",
	"kube-proxy firewall rules",
	"kubernetes ipvs access filter",
	NULL,
};

static bool exclusive(const char *table, const char *chain)
{
	if (!strcmp(table, "nat"))
		return in_list(chain, nat_chains) || has_prefix(chain, nat_prefixes) ||
		       in_list(chain, ipvs_chains);
	if (!strcmp(table, "filter"))
		return in_list(chain, filter_chains) || in_list(chain, ipvs_chains);
	if (!strcmp(table, "mangle"))
		return in_list(chain, mangle_chains);
	return false;
}

bool kpc_chain_is_kube_proxy(const char *table, const char *chain, bool kube_proxy_table)
{
	if (exclusive(table, chain))
		return true;
	return kube_proxy_table && !strcmp(table, "nat") && in_list(chain, nat_shared);
}

static bool rule_kept(const struct kpc_table *t, const struct kpc_rule *r)
{
	return !r->remove && !kpc_chain_find(t, r->chain)->remove;
}

static int plan_table(struct kpc_table *t)
{
	bool evidence = false, again = true;
	int n = 0;

	for (size_t i = 0; i < t->nchains; i++)
		if (!t->chains[i].builtin && exclusive(t->name, t->chains[i].name))
			evidence = true;
	for (size_t i = 0; i < t->nchains; i++) {
		struct kpc_chain *c = &t->chains[i];

		c->remove = !c->builtin && kpc_chain_is_kube_proxy(t->name, c->name, evidence);
	}
	for (size_t i = 0; i < t->nrules; i++) {
		struct kpc_rule *r = &t->rules[i];
		struct kpc_chain *from = kpc_chain_find(t, r->chain);
		struct kpc_chain *to = r->target ? kpc_chain_find(t, r->target) : NULL;

		r->remove = from->builtin && to && to->remove && r->comment &&
			    in_list(r->comment, jump_comments);
	}
	/* A chain that a rule staying behind still uses stays too, with
	 * whatever it uses in turn: the table must load without it. */
	while (again) {
		again = false;
		for (size_t i = 0; i < t->nrules; i++) {
			struct kpc_rule *r = &t->rules[i];
			struct kpc_chain *to;

			if (!r->target || !rule_kept(t, r))
				continue;
			to = kpc_chain_find(t, r->target);
			if (!to || !to->remove)
				continue;
			kpr_warn("keeping chain %s in table %s: a rule of chain %s that is not kube-proxy's jumps to it",
				 to->name, t->name, r->chain);
			to->remove = false;
			again = true;
		}
	}
	for (size_t i = 0; i < t->nchains; i++)
		n += t->chains[i].remove;
	for (size_t i = 0; i < t->nrules; i++)
		n += t->rules[i].remove;
	return n;
}

int kpc_plan(struct kpc_dump *d)
{
	int n = 0;

	for (size_t i = 0; i < d->ntables; i++)
		n += plan_table(&d->tables[i]);
	return n;
}

void kpc_table_counts(const struct kpc_table *t, int *jumps, int *chains)
{
	*jumps = *chains = 0;
	for (size_t i = 0; i < t->nrules; i++)
		*jumps += t->rules[i].remove;
	for (size_t i = 0; i < t->nchains; i++)
		*chains += t->chains[i].remove;
}

/* ---- restore inputs ---- */

int kpc_delta(const struct kpc_dump *d, struct kpr_buf *b)
{
	int ret = 0;

	for (size_t i = 0; i < d->ntables && !ret; i++) {
		const struct kpc_table *t = &d->tables[i];
		int jumps, chains;

		kpc_table_counts(t, &jumps, &chains);
		if (!jumps && !chains)
			continue;
		ret |= kpr_buf_printf(b, "*%s\n", t->name);
		for (size_t j = 0; j < t->nrules; j++)
			if (t->rules[j].remove)
				ret |= kpr_buf_printf(b, "-D %s %s\n", t->rules[j].chain,
						      t->rules[j].spec);
		for (size_t j = 0; j < t->nchains; j++)
			if (t->chains[j].remove)
				ret |= kpr_buf_printf(b, "-F %s\n", t->chains[j].name);
		for (size_t j = 0; j < t->nchains; j++)
			if (t->chains[j].remove)
				ret |= kpr_buf_printf(b, "-X %s\n", t->chains[j].name);
		ret |= kpr_buf_printf(b, "COMMIT\n");
	}
	return ret ? -ENOMEM : 0;
}

/* The rules of one chain as they are now, to find where a jump goes back. */
struct cur_chain {
	const char **spec;
	bool *used;
	size_t n;
};

/* Room for EXTRA more rules: each insert adds one. */
static int cur_load(struct cur_chain *cc, const struct kpc_table *ct, const char *chain,
		    size_t extra)
{
	size_t cap = 1 + extra;

	memset(cc, 0, sizeof(*cc));
	if (ct)
		cap += ct->nrules;
	cc->spec = calloc(cap, sizeof(*cc->spec));
	cc->used = calloc(cap, sizeof(*cc->used));
	if (!cc->spec || !cc->used)
		return -ENOMEM;
	for (size_t i = 0; ct && i < ct->nrules; i++)
		if (!strcmp(ct->rules[i].chain, chain))
			cc->spec[cc->n++] = ct->rules[i].spec;
	return 0;
}

static void cur_free(struct cur_chain *cc)
{
	free(cc->spec);
	free(cc->used);
}

/* A rule counts as present once: the same jump twice needs two copies. */
static bool cur_take(struct cur_chain *cc, const char *spec)
{
	for (size_t i = 0; i < cc->n; i++) {
		if (!cc->used[i] && !strcmp(cc->spec[i], spec)) {
			cc->used[i] = true;
			return true;
		}
	}
	return false;
}

/* Inserts at 1-based POS (at the end when the chain is shorter now);
 * returns the position used. cc has room: it holds at most all rules. */
static size_t cur_insert(struct cur_chain *cc, size_t pos, const char *spec)
{
	if (pos > cc->n + 1)
		pos = cc->n + 1;
	memmove(&cc->spec[pos], &cc->spec[pos - 1], (cc->n - (pos - 1)) * sizeof(*cc->spec));
	memmove(&cc->used[pos], &cc->used[pos - 1], (cc->n - (pos - 1)) * sizeof(*cc->used));
	cc->spec[pos - 1] = spec;
	cc->used[pos - 1] = true;
	cc->n++;
	return pos;
}

static int undo_jumps(const struct kpc_table *t, const struct kpc_table *ct,
		      const struct kpc_chain *c, struct kpr_buf *b, int *n)
{
	struct cur_chain cc;
	int ret;

	ret = cur_load(&cc, ct, c->name, t->nrules);
	/* Kept rules first, so that a jump is not mistaken for one. */
	for (size_t i = 0; !ret && i < t->nrules; i++)
		if (!strcmp(t->rules[i].chain, c->name) && !t->rules[i].remove)
			cur_take(&cc, t->rules[i].spec);
	for (size_t i = 0; !ret && i < t->nrules; i++) {
		const struct kpc_rule *r = &t->rules[i];
		size_t pos;

		if (strcmp(r->chain, c->name) || !r->remove || cur_take(&cc, r->spec))
			continue;
		pos = cur_insert(&cc, (size_t)r->pos, r->spec);
		ret = kpr_buf_printf(b, "-I %s %zu %s\n", r->chain, pos, r->spec);
		(*n)++;
	}
	cur_free(&cc);
	return ret;
}

static int undo_table(const struct kpc_table *t, const struct kpc_table *ct,
		      struct kpr_buf *b, int *n)
{
	size_t start = b->len;
	int before = *n, ret = 0;

	ret |= kpr_buf_printf(b, "*%s\n", t->name);
	for (size_t i = 0; i < t->nchains; i++) {
		const struct kpc_chain *c = &t->chains[i];

		if (c->remove && !(ct && kpc_chain_find(ct, c->name))) {
			ret |= kpr_buf_printf(b, ":%s - [0:0]\n", c->name);
			(*n)++;
		}
	}
	for (size_t i = 0; i < t->nrules; i++) {
		const struct kpc_rule *r = &t->rules[i];
		const struct kpc_chain *c = kpc_chain_find(t, r->chain);

		if (c->remove && !(ct && kpc_chain_find(ct, c->name)))
			ret |= kpr_buf_printf(b, "-A %s %s\n", r->chain, r->spec);
	}
	for (size_t i = 0; i < t->nchains && !ret; i++)
		if (!t->chains[i].remove)
			ret = undo_jumps(t, ct, &t->chains[i], b, n);
	ret |= kpr_buf_printf(b, "COMMIT\n");
	if (!ret && *n == before) {
		/* Nothing missing here: no block for this table. */
		b->len = start;
		b->s[start] = '\0';
	}
	return ret ? -ENOMEM : 0;
}

int kpc_undo(const struct kpc_dump *saved, const struct kpc_dump *cur,
	     struct kpr_buf *b, int *n)
{
	int ret = 0;

	*n = 0;
	for (size_t i = 0; i < saved->ntables && !ret; i++)
		ret = undo_table(&saved->tables[i], kpc_table_find(cur, saved->tables[i].name),
				 b, n);
	return ret;
}

/* ---- ipsets ---- */

bool kpc_ipset_is_kube_proxy(const char *name)
{
	static const char *const exact[] = {
		"KUBE-CLUSTER-IP", "KUBE-LOOP-BACK", "KUBE-HEALTH-CHECK-NODE-PORT",
		"KUBE-IPVS-IPS", NULL,
	};
	static const char *const prefix[] = {
		"KUBE-NODE-PORT-", "KUBE-LOAD-BALANCER", "KUBE-EXTERNAL-IP", NULL,
	};
	char v4[64];

	/* IPv6: "KUBE-6-" for "KUBE-", cut to the 31 characters of an ipset name. */
	if (!strncmp(name, "KUBE-6-", 7)) {
		snprintf(v4, sizeof(v4), "KUBE-%s", name + 7);
		if (strlen(name) == 31)
			for (const char *const *e = exact; *e; e++)
				if (!strncmp(*e, v4, strlen(v4)))
					return true;
		name = v4;
	}
	return in_list(name, exact) || has_prefix(name, prefix);
}

bool kpc_set_in_use(const struct kpc_dump *d, const char *name, char *where, size_t len)
{
	static const char *const set_opts[] = { "--match-set", "--add-set", "--del-set", NULL };

	for (size_t i = 0; i < d->ntables; i++) {
		const struct kpc_table *t = &d->tables[i];

		for (size_t j = 0; j < t->nrules; j++) {
			const struct kpc_rule *r = &t->rules[j];
			const char *p = r->spec;
			char w[512];
			bool take = false;

			if (!rule_kept(t, r))
				continue;
			while (next_word(&p, w, sizeof(w))) {
				if (take && !strcmp(w, name)) {
					snprintf(where, len, "%s %s", t->name, r->chain);
					return true;
				}
				take = in_list(w, set_opts);
			}
		}
	}
	return false;
}
