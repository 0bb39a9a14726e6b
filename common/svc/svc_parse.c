// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The grammar of a service, shared by svc-add's command line and -f files. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hidx.h"
#include "svc/svc.h"
#include "core/util.h"

#define MAX_WORDS (KPR_MAX_BACKENDS_PER_SVC + 16)

const struct kpr_enum kpr_svc_types[] = {
	{ "clusterip", KPR_SVC_CLUSTERIP },
	{ "nodeport", KPR_SVC_NODEPORT },
	{ "loadbalancer", KPR_SVC_LOADBALANCER },
	{ "externalip", KPR_SVC_EXTERNALIP },
	{ NULL },
};

const struct kpr_enum kpr_algs[] = {
	{ "random", KPR_ALG_RANDOM },
	{ "maglev", KPR_ALG_MAGLEV },
	{ NULL },
};

const struct kpr_enum kpr_modes[] = {
	{ "snat", KPR_MODE_SNAT },
	{ "dsr", KPR_MODE_DSR },
	{ "hybrid", KPR_MODE_HYBRID },
	{ NULL },
};

const struct kpr_enum kpr_dsr_dispatches[] = {
	{ "opt", KPR_DISPATCH_OPT },
	{ "ipip", KPR_DISPATCH_IPIP },
	{ NULL },
};

/* hybrid is a node's choice between protocols; a service has one */
const struct kpr_enum kpr_svc_modes[] = {
	{ "snat", KPR_MODE_SNAT },
	{ "dsr", KPR_MODE_DSR },
	{ NULL },
};

const struct kpr_opt kpr_svc_opts[] = {
	{ "type", 't', "TYPE", "service type (default clusterip)", KPR_SVC_OPT_TYPE,
	  .type = KPR_OPT_ENUM, .names = kpr_svc_types, .what = "service type", .icase = true },
	{ "id", 0, "N", "service id (default: kept, or the lowest free one)", KPR_SVC_OPT_ID,
	  .type = KPR_OPT_UINT, .min = 1, .max = KPR_MAX_SERVICES - 1 },
	{ "affinity", 0, "SECONDS", "client-IP session affinity timeout, 0 (default) is off", KPR_SVC_OPT_AFFINITY,
	  .type = KPR_OPT_UINT, .min = 0, .max = 86400 },
	{ "algorithm", 0, "ALG", "backend selection (default: lb-mode's)", KPR_SVC_OPT_ALGORITHM,
	  .type = KPR_OPT_ENUM, .names = kpr_algs, .what = "algorithm" },
	{ "mode", 0, "MODE", "forwarding of the service's new flows (default: lb-mode's)", KPR_SVC_OPT_MODE,
	  .type = KPR_OPT_ENUM, .names = kpr_svc_modes, .what = "mode" },
	{ NULL },
};

static const char *const cilium_type_names[] = {
	[KPR_SVC_CLUSTERIP] = "ClusterIP",
	[KPR_SVC_NODEPORT] = "NodePort",
	[KPR_SVC_LOADBALANCER] = "LoadBalancer",
	[KPR_SVC_EXTERNALIP] = "ExternalIPs",
};

const char *kpr_svc_type_name(__u8 type, bool cilium)
{
	const char *name = kpr_enum_name(kpr_svc_types, type);

	if (!name)
		return "unknown";
	return cilium ? cilium_type_names[type] : name;
}

static const char *const mode_names[] = { "default", "snat", "dsr", "hybrid" };

const char *kpr_alg_name(__u8 alg)
{
	const char *name = kpr_enum_name(kpr_algs, alg);

	return alg == KPR_ALG_DEFAULT ? "default" : name ? name : "unknown";
}

const char *kpr_mode_name(__u8 mode)
{
	return mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "unknown";
}

const char *kpr_mode_label(__u8 mode)
{
	static const char *const labels[] = { "default", "SNAT", "DSR", "Hybrid" };

	return mode < ARRAY_SIZE(labels) ? labels[mode] : "unknown";
}

const char *kpr_dsr_dispatch_name(__u8 d)
{
	const char *name = kpr_enum_name(kpr_dsr_dispatches, d ? d : KPR_DISPATCH_OPT);

	return name ? name : "unknown";
}

const char *kpr_fwd_label(__u8 mode, __u8 dispatch)
{
	if (mode == KPR_MODE_SNAT || mode == KPR_MODE_DEFAULT)
		return kpr_mode_label(mode);
	if (dispatch == KPR_DISPATCH_IPIP)
		return mode == KPR_MODE_DSR ? "DSR, IPIP" : "Hybrid, IPIP";
	return mode == KPR_MODE_DSR ? "DSR, IP option" : mode == KPR_MODE_HYBRID ? "Hybrid, IP option" : "unknown";
}

void kpr_svc_spec_init(struct kpr_svc_spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->type = KPR_SVC_CLUSTERIP;
}

void kpr_svc_spec_free(struct kpr_svc_spec *sp)
{
	free(sp->be);
	sp->be = NULL;
	sp->n_be = 0;
}

void kpr_svc_specs_free(struct kpr_svc_spec *sp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kpr_svc_spec_free(&sp[i]);
	free(sp);
}

#define fail(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)

void kpr_svc_set_opt(struct kpr_svc_spec *sp, int id, const struct kpr_optval *v)
{
	switch (id) {
	case KPR_SVC_OPT_TYPE:
		sp->type = (__u8)v->u;
		break;
	case KPR_SVC_OPT_ID:
		sp->id = (__u32)v->u;
		break;
	case KPR_SVC_OPT_AFFINITY:
		sp->affinity = (__u32)v->u;
		break;
	case KPR_SVC_OPT_ALGORITHM:
		sp->algorithm = (__u8)v->u;
		break;
	case KPR_SVC_OPT_MODE:
		sp->mode = (__u8)v->u;
		break;
	}
}

int kpr_svc_set_endpoints(struct kpr_svc_spec *sp, int argc, char **argv, char *err, size_t errlen)
{
	struct kpr_hidx seen = {};
	struct kpr_l4addr fe;
	__u8 be_family = 0;
	int ret;

	if (argc < 1)
		fail("missing FRONTEND: expected FRONTEND BACKEND..., as 10.96.0.10:53/udp 10.0.1.5:53");
	if (argc - 1 > KPR_MAX_BACKENDS_PER_SVC)
		fail("too many backends (%d): at most %u per service", argc - 1, KPR_MAX_BACKENDS_PER_SVC);
	ret = kpr_parse_frontend(argv[0], sp->type == KPR_SVC_NODEPORT, &fe, err, errlen);
	if (ret)
		return ret;
	if (kpr_addr_unusable(&fe))
		fail("frontend '%s' is %s: no client can reach a service there", argv[0],
		     kpr_addr_unusable(&fe));
	memset(&sp->key, 0, sizeof(sp->key));
	sp->key.fe = fe;

	free(sp->be);
	sp->n_be = 0;
	sp->be = calloc((size_t)argc, sizeof(*sp->be));
	if (!sp->be || kpr_hidx_init(&seen, sp->be, sizeof(*sp->be), sizeof(sp->be->addr),
				     (unsigned int)argc))
		fail("out of memory");
	for (int i = 1; i < argc && !ret; i++) {
		struct kpr_be_spec *b = &sp->be[sp->n_be];

		ret = kpr_parse_backend(argv[i], fe.proto, b, err, errlen);
		if (ret)
			break;
		ret = -EINVAL;
		if (b->addr.proto != fe.proto)
			snprintf(err, errlen, "backend '%s' is %s but frontend '%s' is %s", argv[i],
				 kpr_proto_name(b->addr.proto, false), argv[0],
				 kpr_proto_name(fe.proto, false));
		else if (fe.family != KPR_FAM_ANY && b->addr.family != fe.family)
			snprintf(err, errlen, "backend '%s' is IPv%u but frontend '%s' is IPv%u: no NAT46/64",
				 argv[i], b->addr.family, argv[0], fe.family);
		else if (fe.family == KPR_FAM_ANY && KPR_ANY_FAMILY(&fe.addr) == KPR_FAM_V6 &&
			 b->addr.family != KPR_FAM_V6)
			snprintf(err, errlen, "backend '%s' is IPv%u but frontend '%s' serves IPv6 node addresses: no NAT46/64",
				 argv[i], b->addr.family, argv[0]);
		else if (kpr_addr_unusable(&b->addr))
			snprintf(err, errlen, "backend '%s' is %s: no flow can be sent there", argv[i],
				 kpr_addr_unusable(&b->addr));
		else if (be_family && b->addr.family != be_family)
			snprintf(err, errlen, "backend '%s': a service's backends are all IPv4 or all IPv6",
				 argv[i]);
		else if (kpr_hidx_add(&seen, sp->n_be) >= 0)
			snprintf(err, errlen, "backend '%s' is given twice", argv[i]);
		else
			ret = 0;
		be_family = b->addr.family;
		sp->n_be += !ret;
	}
	kpr_hidx_free(&seen);
	/* "*:PORT" serves the node addresses of its backends' family, IPv4
	 * without backends; "[*]:PORT" the IPv6 ones */
	if (!ret && fe.family == KPR_FAM_ANY && !KPR_ANY_FAMILY(&fe.addr))
		KPR_ANY_FAMILY(&sp->key.fe.addr) = be_family ? be_family : KPR_FAM_V4;
	return ret;
}

static void build_line_opts(struct option *lo, char *so)
{
	int n = 0;

	memset(lo, 0, sizeof(*lo) * KPR_SVC_OPT_MAX);
	strcpy(so, ":");
	for (int i = 0; kpr_svc_opts[i].name; i++) {
		lo[n].name = kpr_svc_opts[i].name;
		lo[n].has_arg = required_argument;
		lo[n].val = kpr_svc_opts[i].id;
		n++;
		if (kpr_svc_opts[i].short_name) {
			char s[3] = { (char)kpr_svc_opts[i].short_name, ':', 0 };

			strcat(so, s);
		}
	}
	memset(&lo[n], 0, sizeof(lo[n]));
}

/* Accepts what svc-list -o save prints, and the same with "svc-add" before it. */
int kpr_svc_parse_line(char *line, struct kpr_svc_spec *sp, char *err, size_t errlen)
{
	struct option lo[KPR_SVC_OPT_MAX + 1];
	const struct kpr_opt *o;
	struct kpr_optval v;
	char so[32], **base, **words;
	int n, c, ret = 0;

	kpr_svc_spec_init(sp);
	build_line_opts(lo, so);
	base = calloc(MAX_WORDS + 2, sizeof(*base));
	if (!base)
		fail("out of memory");
	n = kpr_split_words(line, base + 1, MAX_WORDS);
	if (n <= 0) {
		if (n < 0)
			snprintf(err, errlen, "too many words on one line");
		ret = n < 0 ? -EINVAL : 1;
		goto out;
	}
	/* words[0] stands in for getopt's program name. */
	words = base;
	if (!strcmp(base[1], "svc-add")) {
		words++;
		n--;
	}
	words[0] = (char *)"svc-add";
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(n + 1, words, so, lo, NULL)) != -1) {
		if (c == '?' || c == ':') {
			snprintf(err, errlen, c == '?' ?
				 "unknown option '%s' (a line takes the options of svc-add --help that shape a service)" :
				 "option '%s' needs a value", words[optind - 1]);
			ret = -EINVAL;
			goto out;
		}
		o = kpr_opt_by_id(kpr_svc_opts, c == 't' ? KPR_SVC_OPT_TYPE : c);
		ret = kpr_opt_parse(o, optarg, &v, err, errlen);
		if (ret)
			goto out;
		kpr_svc_set_opt(sp, o->id, &v);
	}
	ret = kpr_svc_set_endpoints(sp, n + 1 - optind, words + optind, err, errlen);
out:
	free(base);
	return ret;
}

struct be_use {
	struct kpr_be_spec be;
	int line;
};

static int cmp_be_use(const void *a, const void *b)
{
	const struct be_use *x = a, *y = b;
	int r = memcmp(&x->be.addr, &y->be.addr, sizeof(x->be.addr));

	return r ?: x->line - y->line;
}

static void fmt_be_props(const struct kpr_be_spec *b, char *buf, size_t len)
{
	snprintf(buf, len, "state=%s,weight=%u", kpr_state_name(b->state), b->weight);
}

/*
 * State and weight belong to a backend, not to the line that names it: the
 * datapath keeps one of each per backend. Two lines that disagree would leave
 * the last one in force and the file never settled (every run an update), so
 * the input is refused, naming both lines. Returns the number of conflicts.
 */
static int check_backends(const char *name, const struct kpr_svc_spec *v, size_t cnt)
{
	struct be_use *u;
	size_t n = 0, i, j, end;
	int bad = 0;

	for (i = 0; i < cnt; i++)
		n += v[i].n_be;
	if (n < 2)
		return 0;
	u = calloc(n, sizeof(*u));
	if (!u) {
		kpr_err("out of memory reading %s", name);
		return 1;
	}
	n = 0;
	for (i = 0; i < cnt; i++)
		for (j = 0; j < v[i].n_be; j++)
			u[n++] = (struct be_use){ v[i].be[j], v[i].line };
	qsort(u, n, sizeof(*u), cmp_be_use);
	for (i = 0; i < n; i = end) {
		const struct be_use *first = &u[i];
		char a[KPR_ADDRSTRLEN], p1[64], p2[64];
		size_t k = n;

		for (end = i + 1; end < n && !memcmp(&u[end].be.addr, &first->be.addr, sizeof(first->be.addr)); end++)
			if (k == n && (u[end].be.state != first->be.state || u[end].be.weight != first->be.weight))
				k = end;
		if (k == n)
			continue;
		fmt_be_props(&u[k].be, p1, sizeof(p1));
		fmt_be_props(&first->be, p2, sizeof(p2));
		if (bad++ < 20)
			kpr_err("%s:%d: backend %s is %s here and %s on line %d: state and weight belong to the backend, whichever service names it; give it the same on both lines",
				name, u[k].line, kpr_fmt_l4addr(&first->be.addr, false, a, sizeof(a)),
				p1, p2, first->line);
	}
	free(u);
	return bad;
}

int kpr_svc_parse_file(const char *path, struct kpr_svc_spec **out, size_t *n)
{
	const char *name = kpr_input_name(path);
	struct kpr_svc_spec *v = NULL, sp;
	size_t cap = 0, cnt = 0;
	char err[KPR_ERRLEN], *line, *next;
	int lineno = 0, bad = 0, ret;
	struct kpr_buf in;

	ret = kpr_buf_read_input(path, &in);
	if (ret)
		return ret;
	for (line = in.s; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		ret = kpr_svc_parse_line(line, &sp, err, sizeof(err));
		if (ret == 1)
			continue;
		if (ret) {
			kpr_svc_spec_free(&sp);
			/* Every bad line is named, up to a screenful. */
			if (bad++ < 20)
				kpr_err("%s:%d: %s", name, lineno, err);
			continue;
		}
		sp.line = lineno;
		if (cnt == cap) {
			struct kpr_svc_spec *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				kpr_svc_spec_free(&sp);
				bad++;
				kpr_err("out of memory reading %s", name);
				break;
			}
			v = nv;
		}
		v[cnt++] = sp;
	}
	kpr_buf_free(&in);
	if (!bad)
		bad = check_backends(name, v, cnt);
	if (bad) {
		if (bad > 20)
			kpr_err("%s: %d bad lines in all; nothing was changed", name, bad);
		kpr_svc_specs_free(v, cnt);
		return -EINVAL;
	}
	*out = v;
	*n = cnt;
	return 0;
}
