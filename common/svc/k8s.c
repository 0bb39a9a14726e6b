// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kubectl's JSON to the service list of a batch file, as kube-proxy maps it:
 * every Service port times every cluster IP, node port, load balancer IP and
 * external IP is a frontend; its backends are the endpoints of the Service's
 * EndpointSlices of the frontend's family, matched by port name and
 * protocol, with the slice's port.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/out.h"
#include "svc/k8s.h"
#include "core/util.h"

#define MAX_REPORTED 20
/* kube-proxy's timeout when a ClientIP affinity gives none */
#define DEFAULT_AFFINITY 10800
#define SVC_LABEL "kubernetes.io/service-name"

const struct kpr_enum kpr_input_formats[] = {
	{ "lines", KPR_INPUT_LINES },
	{ "kubernetes", KPR_INPUT_KUBERNETES },
	{ NULL },
};

struct k8s_port {
	const char *name;
	__be16 port;
	__u8 proto;		/* 0: a protocol kpr does not carry */
};

struct k8s_ep {
	union kpr_addr addr;
	__u8 state;
};

struct k8s_slice {
	const char *ns, *svc, *name;
	__u8 family;
	struct k8s_port *ports;
	size_t n_ports;
	struct k8s_ep *eps;
	size_t n_eps;
};

struct k8s_ctx {
	const char *src;
	int bad;
	struct kpr_k8s_counts *cnt;
	struct k8s_slice *sl;
	size_t n_sl;
	struct kpr_svc_spec *v;
	char **owner;		/* per spec: "namespace/name" of its Service */
	size_t n, cap;
};

static void bad(struct k8s_ctx *c, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct k8s_ctx *c, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->bad++ < MAX_REPORTED)
		kpr_err("%s: %s: %s", c->src, where, msg);
}

static void warn(struct k8s_ctx *c, const char *obj, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn(struct k8s_ctx *c, const char *obj, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->cnt->warnings++;
	kpr_warn("%s: %s", obj, msg);
	out_obj_open(NULL);
	out_str("object", NULL, obj);
	out_str("message", NULL, msg);
	out_obj_close();
}

/* o[key], NULL when absent or null; of another type than t it is reported. */
static json_t *get(struct k8s_ctx *c, const char *where, json_t *o, const char *path,
		   const char *key, json_type t)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
		[JSON_STRING] = "a string", [JSON_INTEGER] = "an integer",
		[JSON_TRUE] = "true or false",
	};
	json_t *x = json_is_object(o) ? json_object_get(o, key) : NULL;

	if (!x || json_is_null(x))
		return NULL;
	if (t == JSON_TRUE ? !json_is_boolean(x) : json_typeof(x) != t) {
		bad(c, where, "%s%s%s: expected %s", path, *path ? "." : "", key, names[t]);
		return NULL;
	}
	return x;
}

static const char *get_str(struct k8s_ctx *c, const char *where, json_t *o, const char *path,
			   const char *key)
{
	return json_string_value(get(c, where, o, path, key, JSON_STRING));
}

/* -1 when absent, else 0 or 1 */
static int get_bool(struct k8s_ctx *c, const char *where, json_t *o, const char *path,
		    const char *key)
{
	json_t *x = get(c, where, o, path, key, JSON_TRUE);

	return x ? json_is_true(x) : -1;
}

/* 0 when absent, 1 with *out set, -1 when out of [min, max] (reported) */
static int get_int(struct k8s_ctx *c, const char *where, json_t *o, const char *path,
		   const char *key, long long min, long long max, long long *out)
{
	json_t *x = get(c, where, o, path, key, JSON_INTEGER);

	if (!x)
		return 0;
	*out = json_integer_value(x);
	if (*out < min || *out > max) {
		bad(c, where, "%s.%s: %lld is out of range %lld-%lld", path, key, *out, min, max);
		return -1;
	}
	return 1;
}

static __u8 parse_ip(const char *s, union kpr_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s && inet_pton(AF_INET, s, a->b) == 1)
		return KPR_FAM_V4;
	if (s && inet_pton(AF_INET6, s, a->b) == 1)
		return KPR_FAM_V6;
	return 0;
}

/* TCP or UDP; 0 for SCTP, which kpr does not carry; -1 for anything else */
static int parse_proto(struct k8s_ctx *c, const char *where, json_t *o, const char *path)
{
	const char *p = get_str(c, where, o, path, "protocol");

	if (!p || !strcmp(p, "TCP"))
		return IPPROTO_TCP;
	if (!strcmp(p, "UDP"))
		return IPPROTO_UDP;
	if (!strcmp(p, "SCTP"))
		return 0;
	bad(c, where, "%s.protocol: '%s' is not TCP, UDP or SCTP", path, p);
	return -1;
}

static int cmp_slice(const void *a, const void *b)
{
	const struct k8s_slice *x = a, *y = b;
	int r = strcmp(x->ns, y->ns);

	r = r ?: strcmp(x->svc, y->svc);
	return r ?: strcmp(x->name, y->name);
}

static bool has_kind(json_t *it, const char *kind)
{
	const char *k = json_string_value(json_object_get(it, "kind"));

	return k && !strcmp(k, kind);
}

/* metadata's namespace and name, and the item named for messages */
static bool meta_names(struct k8s_ctx *c, json_t *it, int idx, const char *kind,
		       const char **ns, const char **name, char *where, size_t len)
{
	json_t *meta;

	snprintf(where, len, "items[%d] (%s)", idx, kind);
	meta = get(c, where, it, "", "metadata", JSON_OBJECT);
	*name = get_str(c, where, meta, "metadata", "name");
	*ns = get_str(c, where, meta, "metadata", "namespace");
	if (!*ns)
		*ns = "default";
	if (!*name) {
		bad(c, where, "metadata.name: missing");
		return false;
	}
	snprintf(where, len, "items[%d] (%s %s/%s)", idx, kind, *ns, *name);
	return true;
}

static void slice_endpoint(struct k8s_ctx *c, const char *where, struct k8s_slice *s,
			   json_t *e, size_t j)
{
	char path[48];
	json_t *addrs, *cond;
	const char *a0;
	union kpr_addr a;
	int ready, serving, term;
	struct k8s_ep *ep;
	__u8 state;

	snprintf(path, sizeof(path), "endpoints[%zu]", j);
	if (!json_is_object(e)) {
		bad(c, where, "%s: expected an object", path);
		return;
	}
	addrs = get(c, where, e, path, "addresses", JSON_ARRAY);
	a0 = json_string_value(json_array_get(addrs, 0));
	if (!a0) {
		bad(c, where, "%s.addresses: expected at least one address", path);
		return;
	}
	if (parse_ip(a0, &a) != s->family) {
		bad(c, where, "%s.addresses[0]: '%s' is not an IPv%u address (addressType)", path,
		    a0, s->family);
		return;
	}
	/* The API's defaults for a condition not given: ready and serving
	 * true, terminating false. */
	cond = get(c, where, e, path, "conditions", JSON_OBJECT);
	snprintf(path, sizeof(path), "endpoints[%zu].conditions", j);
	ready = get_bool(c, where, cond, path, "ready");
	serving = get_bool(c, where, cond, path, "serving");
	term = get_bool(c, where, cond, path, "terminating");
	if (ready != 0)
		state = KPR_BE_ACTIVE;
	else if (serving != 0 && term == 1)
		state = KPR_BE_TERMINATING;
	else
		return;		/* not ready: kube-proxy leaves it out too */
	ep = kpr_push((void **)&s->eps, &s->n_eps, sizeof(*ep));
	if (!ep) {
		bad(c, where, "out of memory");
		return;
	}
	ep->addr = a;
	ep->state = state;
}

static void parse_slice(struct k8s_ctx *c, json_t *it, int idx)
{
	const char *ns, *name, *svc, *at;
	char where[320], path[32];
	json_t *ports, *eps, *x;
	struct k8s_slice *s;
	size_t j;
	__u8 fam;

	c->cnt->slices++;
	if (!meta_names(c, it, idx, "EndpointSlice", &ns, &name, where, sizeof(where)))
		return;
	svc = get_str(c, where, get(c, where, json_object_get(it, "metadata"), "metadata",
				   "labels", JSON_OBJECT), "metadata.labels", SVC_LABEL);
	at = get_str(c, where, it, "", "addressType");
	if (!at) {
		bad(c, where, "addressType: missing");
		return;
	}
	if (!strcmp(at, "IPv4"))
		fam = KPR_FAM_V4;
	else if (!strcmp(at, "IPv6"))
		fam = KPR_FAM_V6;
	else if (!strcmp(at, "FQDN"))
		return;		/* names, which kube-proxy does not serve either */
	else {
		bad(c, where, "addressType: '%s' is not IPv4, IPv6 or FQDN", at);
		return;
	}
	ports = get(c, where, it, "", "ports", JSON_ARRAY);
	eps = get(c, where, it, "", "endpoints", JSON_ARRAY);
	if (!svc) {
		kpr_dbg("%s: no label " SVC_LABEL ": no Service's", where);
		return;
	}
	s = kpr_push((void **)&c->sl, &c->n_sl, sizeof(*s));
	if (!s) {
		bad(c, where, "out of memory");
		return;
	}
	s->ns = ns;
	s->svc = svc;
	s->name = name;
	s->family = fam;
	json_array_foreach(ports, j, x) {
		struct k8s_port *p;
		long long port;
		int proto;

		snprintf(path, sizeof(path), "ports[%zu]", j);
		if (!json_is_object(x)) {
			bad(c, where, "%s: expected an object", path);
			continue;
		}
		proto = parse_proto(c, where, x, path);
		/* a port of null means "every port", which a consumer that
		 * translates ports cannot use (kube-proxy skips it) */
		if (get_int(c, where, x, path, "port", 1, 65535, &port) != 1 || proto < 0)
			continue;
		p = kpr_push((void **)&s->ports, &s->n_ports, sizeof(*p));
		if (!p) {
			bad(c, where, "out of memory");
			return;
		}
		p->name = get_str(c, where, x, path, "name");
		if (!p->name)
			p->name = "";
		p->port = htons((__u16)port);
		p->proto = (__u8)proto;
	}
	json_array_foreach(eps, j, x)
		slice_endpoint(c, where, s, x, j);
}

static int cmp_be(const void *a, const void *b)
{
	const struct kpr_be_spec *x = a, *y = b;
	int r = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	return r ?: (int)x->state - (int)y->state;
}

/* The slices of one Service: [*first, *first + return value) */
static size_t slices_of(struct k8s_ctx *c, const char *ns, const char *name, size_t *first)
{
	size_t lo = 0, hi = c->n_sl, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->sl[mid].ns, ns) ?: strcmp(c->sl[mid].svc, name);

		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < c->n_sl && !strcmp(c->sl[end].ns, ns) &&
	     !strcmp(c->sl[end].svc, name); end++)
		;
	*first = lo;
	return end - lo;
}

struct k8s_svc {
	const char *ns, *name;
	const char *where;
	int idx;
	__u32 affinity;
};

/* One frontend and its backends: the endpoints of the slices of be_family
 * whose port has this name and protocol. */
static void add_spec(struct k8s_ctx *c, const struct k8s_svc *ks, const char *pname,
		     const struct kpr_l4addr *fe, __u8 type, __u8 be_family)
{
	struct kpr_svc_spec *sp;
	size_t first, n_sl = slices_of(c, ks->ns, ks->name, &first);
	size_t n_be = 0, cap = 0;
	struct kpr_be_spec *be = NULL;

	for (size_t i = first; i < first + n_sl; i++) {
		const struct k8s_slice *s = &c->sl[i];
		const struct k8s_port *p = NULL;

		if (s->family != be_family)
			continue;
		for (size_t j = 0; j < s->n_ports && !p; j++)
			if (s->ports[j].proto == fe->proto && !strcmp(s->ports[j].name, pname))
				p = &s->ports[j];
		if (!p)
			continue;
		if (n_be + s->n_eps > cap) {
			struct kpr_be_spec *nb;

			cap = (n_be + s->n_eps) * 2;
			nb = realloc(be, cap * sizeof(*be));
			if (!nb) {
				free(be);
				bad(c, ks->where, "out of memory");
				return;
			}
			be = nb;
		}
		for (size_t j = 0; j < s->n_eps; j++) {
			struct kpr_be_spec *b = &be[n_be++];

			memset(b, 0, sizeof(*b));
			b->addr.addr = s->eps[j].addr;
			b->addr.port = p->port;
			b->addr.proto = fe->proto;
			b->addr.family = be_family;
			b->state = s->eps[j].state;
			b->weight = 1;
		}
	}
	/* In address order, so that the same endpoints in another order are
	 * the same service; an endpoint in two slices counts once, ready
	 * over terminating. */
	if (n_be)
		qsort(be, n_be, sizeof(*be), cmp_be);
	for (size_t i = 1, w = 1; i <= n_be; i++) {
		if (i == n_be) {
			n_be = w;
			break;
		}
		if (memcmp(&be[i].addr, &be[w - 1].addr, sizeof(be[i].addr)))
			be[w++] = be[i];
	}
	if (n_be > KPR_MAX_BACKENDS_PER_SVC) {
		bad(c, ks->where, "%zu endpoints: at most %u per service", n_be,
		    KPR_MAX_BACKENDS_PER_SVC);
		free(be);
		return;
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct kpr_svc_spec *nv = realloc(c->v, ncap * sizeof(*nv));
		char **no = nv ? realloc(c->owner, ncap * sizeof(*no)) : NULL;

		if (nv)
			c->v = nv;
		if (!nv || !no) {
			free(be);
			bad(c, ks->where, "out of memory");
			return;
		}
		c->owner = no;
		c->cap = ncap;
	}
	sp = &c->v[c->n];
	kpr_svc_spec_init(sp);
	sp->key.fe = *fe;
	sp->type = type;
	sp->affinity = ks->affinity;
	sp->n_be = (unsigned int)n_be;
	sp->be = be;
	sp->line = ks->idx + 1;
	if (asprintf(&c->owner[c->n], "%s/%s", ks->ns, ks->name) < 0) {
		kpr_svc_spec_free(sp);
		bad(c, ks->where, "out of memory");
		return;
	}
	c->n++;
}

/* A list of IP strings (clusterIPs, externalIPs) into addrs[]. */
static size_t ip_list(struct k8s_ctx *c, const char *where, json_t *arr, const char *path,
		      union kpr_addr *addrs, __u8 *fams, size_t max)
{
	size_t n = 0, j;
	json_t *x;

	json_array_foreach(arr, j, x) {
		const char *s = json_string_value(x);

		if (n == max) {
			bad(c, where, "%s: more than %zu addresses", path, max);
			break;
		}
		fams[n] = parse_ip(s, &addrs[n]);
		if (!fams[n]) {
			bad(c, where, "%s[%zu]: '%s' is not an IP address", path, j, s ? s : "(not a string)");
			continue;
		}
		n++;
	}
	return n;
}

#define MAX_IPS 64

/* What a Service asks that kpr cannot do, gathered into one warning. */
struct unsaid {
	char buf[900];
	size_t len;
};

static void unsaid_add(struct unsaid *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void unsaid_add(struct unsaid *u, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (u->len + 3 >= sizeof(u->buf))
		return;
	if (u->len) {
		memcpy(u->buf + u->len, "; ", 3);
		u->len += 2;
	}
	va_start(ap, fmt);
	r = vsnprintf(u->buf + u->len, sizeof(u->buf) - u->len, fmt, ap);
	va_end(ap);
	if (r > 0)
		u->len = u->len + (size_t)r < sizeof(u->buf) ? u->len + (size_t)r : sizeof(u->buf) - 1;
}

static void service_unsaid(struct k8s_ctx *c, const char *where, json_t *it, json_t *spec,
			   struct unsaid *u)
{
	static const char *const topo[] = {
		"service.kubernetes.io/topology-mode",
		"service.kubernetes.io/topology-aware-hints",
	};
	json_t *ann = get(c, where, json_object_get(it, "metadata"), "metadata", "annotations",
			  JSON_OBJECT);
	json_t *ranges = get(c, where, spec, "spec", "loadBalancerSourceRanges", JSON_ARRAY);
	const char *s;
	long long hc;

	s = get_str(c, where, spec, "spec", "externalTrafficPolicy");
	if (s && !strcmp(s, "Local"))
		unsaid_add(u, "externalTrafficPolicy Local (external traffic goes to every endpoint, as with Cluster)");
	s = get_str(c, where, spec, "spec", "internalTrafficPolicy");
	if (s && !strcmp(s, "Local"))
		unsaid_add(u, "internalTrafficPolicy Local (traffic goes to every endpoint, as with Cluster)");
	if (json_array_size(ranges))
		unsaid_add(u, "loadBalancerSourceRanges (not enforced: every source is let in)");
	if (get_int(c, where, spec, "spec", "healthCheckNodePort", 0, 65535, &hc) == 1 && hc)
		unsaid_add(u, "healthCheckNodePort %lld (nothing answers on it)", hc);
	for (size_t i = 0; i < ARRAY_SIZE(topo); i++) {
		s = get_str(c, where, ann, "metadata.annotations", topo[i]);
		if (s)
			unsaid_add(u, "topology (%s: %s; endpoints of every zone are used)", topo[i], s);
	}
	s = get_str(c, where, spec, "spec", "trafficDistribution");
	if (s)
		unsaid_add(u, "topology (trafficDistribution %s; endpoints of every zone are used)", s);
}

static void parse_service(struct k8s_ctx *c, json_t *it, int idx)
{
	union kpr_addr cip[MAX_IPS], xip[MAX_IPS], lip[MAX_IPS];
	__u8 cfam[MAX_IPS], xfam[MAX_IPS], lfam[MAX_IPS], primary;
	size_t n_cip, n_xip, n_lip = 0, j;
	json_t *spec, *ports, *ing, *x, *fams;
	const char *type, *ns, *name, *s;
	struct k8s_svc ks = { .idx = idx };
	char where[320], path[64];
	struct unsaid u = { .len = 0 };
	__u8 kt;
	int errs = c->bad;

	c->cnt->services++;
	if (!meta_names(c, it, idx, "Service", &ns, &name, where, sizeof(where)))
		return;
	ks.ns = ns;
	ks.name = name;
	ks.where = where;
	spec = get(c, where, it, "", "spec", JSON_OBJECT);
	if (!spec) {
		if (c->bad == errs)
			bad(c, where, "spec: missing");
		return;
	}
	type = get_str(c, where, spec, "spec", "type");
	if (!type)
		type = "ClusterIP";
	if (!strcmp(type, "ExternalName")) {
		c->cnt->external_name++;
		kpr_dbg("%s: ExternalName, skipped", where);
		return;
	}
	if (!strcmp(type, "ClusterIP"))
		kt = KPR_SVC_CLUSTERIP;
	else if (!strcmp(type, "NodePort"))
		kt = KPR_SVC_NODEPORT;
	else if (!strcmp(type, "LoadBalancer"))
		kt = KPR_SVC_LOADBALANCER;
	else {
		bad(c, where, "spec.type: '%s' is not ClusterIP, NodePort, LoadBalancer or ExternalName", type);
		return;
	}

	x = get(c, where, spec, "spec", "clusterIPs", JSON_ARRAY);
	s = x ? json_string_value(json_array_get(x, 0)) : get_str(c, where, spec, "spec", "clusterIP");
	if (!s || !*s || !strcmp(s, "None")) {
		c->cnt->headless++;
		kpr_dbg("%s: headless (no cluster IP), skipped", where);
		return;
	}
	if (x) {
		n_cip = ip_list(c, where, x, "spec.clusterIPs", cip, cfam, 2);
	} else {
		n_cip = 1;
		cfam[0] = parse_ip(s, &cip[0]);
		if (!cfam[0])
			bad(c, where, "spec.clusterIP: '%s' is not an IP address", s);
	}
	fams = get(c, where, spec, "spec", "ipFamilies", JSON_ARRAY);
	s = json_string_value(json_array_get(fams, 0));
	primary = s && !strcmp(s, "IPv6") ? KPR_FAM_V6 : s && !strcmp(s, "IPv4") ? KPR_FAM_V4 : cfam[0];
	n_xip = ip_list(c, where, get(c, where, spec, "spec", "externalIPs", JSON_ARRAY),
			"spec.externalIPs", xip, xfam, MAX_IPS);

	s = get_str(c, where, spec, "spec", "sessionAffinity");
	if (s && !strcmp(s, "ClientIP")) {
		json_t *cfg = get(c, where, spec, "spec", "sessionAffinityConfig", JSON_OBJECT);
		long long t = DEFAULT_AFFINITY;

		cfg = get(c, where, cfg, "spec.sessionAffinityConfig", "clientIP", JSON_OBJECT);
		get_int(c, where, cfg, "spec.sessionAffinityConfig.clientIP", "timeoutSeconds",
			1, 86400, &t);
		ks.affinity = (__u32)t;
	} else if (s && strcmp(s, "None")) {
		bad(c, where, "spec.sessionAffinity: '%s' is not None or ClientIP", s);
	}

	ing = get(c, where, get(c, where, get(c, where, it, "", "status", JSON_OBJECT), "status",
				"loadBalancer", JSON_OBJECT), "status.loadBalancer", "ingress", JSON_ARRAY);
	json_array_foreach(ing, j, x) {
		const char *ip, *host, *mode;

		snprintf(path, sizeof(path), "status.loadBalancer.ingress[%zu]", j);
		ip = get_str(c, where, x, path, "ip");
		host = get_str(c, where, x, path, "hostname");
		mode = get_str(c, where, x, path, "ipMode");
		if (!ip) {
			if (host)
				unsaid_add(&u, "load balancer %s (a name, not an IP)", host);
			continue;
		}
		/* ipMode Proxy: the load balancer delivers to the node ports, and
		 * kube-proxy leaves the IP alone */
		if (mode && !strcmp(mode, "Proxy"))
			continue;
		if (n_lip < MAX_IPS && (lfam[n_lip] = parse_ip(ip, &lip[n_lip])))
			n_lip++;
		else
			bad(c, where, "%s.ip: '%s' is not an IP address", path, ip);
	}
	if (kt != KPR_SVC_LOADBALANCER)
		n_lip = 0;
	service_unsaid(c, where, it, spec, &u);

	ports = get(c, where, spec, "spec", "ports", JSON_ARRAY);
	/* nothing is added from a Service with a bad field */
	json_array_foreach(ports, j, x) {
		long long port, np = 0;
		const char *pname;
		int before;
		struct kpr_l4addr fe = {};
		int proto;

		snprintf(path, sizeof(path), "spec.ports[%zu]", j);
		if (!json_is_object(x)) {
			bad(c, where, "%s: expected an object", path);
			continue;
		}
		proto = parse_proto(c, where, x, path);
		before = c->bad;
		if (get_int(c, where, x, path, "port", 1, 65535, &port) != 1) {
			if (c->bad == before)
				bad(c, where, "%s.port: missing", path);
			continue;
		}
		get_int(c, where, x, path, "nodePort", 0, 65535, &np);
		pname = get_str(c, where, x, path, "name");
		if (proto < 0 || c->bad > errs)
			continue;
		if (!proto) {
			unsaid_add(&u, "port %lld/SCTP (kpr carries TCP and UDP)", port);
			continue;
		}
		fe.proto = (__u8)proto;
		fe.port = htons((__u16)port);
		for (size_t k = 0; k < n_cip; k++) {
			fe.addr = cip[k];
			fe.family = cfam[k];
			add_spec(c, &ks, pname ? pname : "", &fe, KPR_SVC_CLUSTERIP, cfam[k]);
		}
		/* a NodePort of each of the Service's families: "*:PORT" and
		 * "[*]:PORT", each with its family's endpoints */
		for (size_t k = 0; np && kt != KPR_SVC_CLUSTERIP && k < (n_cip ? n_cip : 1); k++) {
			__u8 fam = n_cip ? cfam[k] : primary;
			struct kpr_l4addr any = { .port = htons((__u16)np), .proto = (__u8)proto,
						  .family = KPR_FAM_ANY };

			KPR_ANY_FAMILY(&any.addr) = fam;
			add_spec(c, &ks, pname ? pname : "", &any, KPR_SVC_NODEPORT, fam);
		}
		for (size_t k = 0; k < n_lip; k++) {
			fe.addr = lip[k];
			fe.family = lfam[k];
			add_spec(c, &ks, pname ? pname : "", &fe, KPR_SVC_LOADBALANCER, lfam[k]);
		}
		for (size_t k = 0; k < n_xip; k++) {
			fe.addr = xip[k];
			fe.family = xfam[k];
			add_spec(c, &ks, pname ? pname : "", &fe, KPR_SVC_EXTERNALIP, xfam[k]);
		}
	}
	if (u.len) {
		char obj[300];

		snprintf(obj, sizeof(obj), "Service %s/%s", ns, name);
		warn(c, obj, "kpr cannot express %s", u.buf);
	}
}

static void drop_spec(struct k8s_ctx *c, size_t i)
{
	kpr_svc_spec_free(&c->v[i]);
	free(c->owner[i]);
	c->owner[i] = NULL;
}

static int cmp_ref_key(const void *a, const void *b, void *arg)
{
	const struct kpr_svc_spec *v = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = memcmp(&v[x].key, &v[y].key, sizeof(v[x].key));

	return r ?: (x > y) - (x < y);
}

/* Two Services on one frontend (external IPs are not checked by the API):
 * the first keeps it. */
static int dedup_frontends(struct k8s_ctx *c)
{
	size_t *ord = calloc(c->n + 1, sizeof(*ord)), w = 0;

	if (!ord)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		ord[i] = i;
	qsort_r(ord, c->n, sizeof(*ord), cmp_ref_key, c->v);
	for (size_t i = 1; i < c->n; i++) {
		size_t keep = ord[i - 1], dup = ord[i];
		char a[KPR_ADDRSTRLEN], obj[300];

		if (!c->owner[keep] || memcmp(&c->v[keep].key, &c->v[dup].key, sizeof(c->v[dup].key)))
			continue;
		snprintf(obj, sizeof(obj), "Service %s", c->owner[dup]);
		warn(c, obj, "frontend %s is Service %s's already, which keeps it",
		     kpr_fmt_l4addr(&c->v[dup].key.fe, false, a, sizeof(a)), c->owner[keep]);
		drop_spec(c, dup);
		ord[i] = keep;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!c->owner[i])
			continue;
		c->v[w] = c->v[i];
		c->owner[w++] = c->owner[i];
	}
	c->n = w;
	free(ord);
	return 0;
}

struct be_ref {
	struct kpr_l4addr addr;
	__u8 state;
	size_t spec, be;
};

static int cmp_be_ref(const void *a, const void *b)
{
	const struct be_ref *x = a, *y = b;
	int r = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	return r ?: (int)x->state - (int)y->state;
}

/*
 * A backend has one state, whichever service names it. Two Services' slices
 * may disagree for a moment while a pod goes away (each slice is updated on
 * its own): the backend is then terminating in both.
 */
static int unify_states(struct k8s_ctx *c)
{
	struct be_ref *r;
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->v[i].n_be;
	r = calloc(n + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->v[i].n_be; j++)
			r[n++] = (struct be_ref){ c->v[i].be[j].addr, c->v[i].be[j].state, i, j };
	qsort(r, n, sizeof(*r), cmp_be_ref);
	for (size_t i = 0, end; i < n; i = end) {
		char a[KPR_ADDRSTRLEN], obj[300];

		for (end = i + 1; end < n && !memcmp(&r[end].addr, &r[i].addr, sizeof(r[i].addr)); end++)
			;
		if (r[end - 1].state == r[i].state)
			continue;
		snprintf(obj, sizeof(obj), "Service %s", c->owner[r[end - 1].spec]);
		warn(c, obj, "endpoint %s is terminating here and ready in Service %s: terminating in both",
		     kpr_fmt_l4addr(&r[i].addr, false, a, sizeof(a)), c->owner[r[i].spec]);
		for (size_t k = i; k < end; k++)
			c->v[r[k].spec].be[r[k].be].state = r[end - 1].state;
	}
	free(r);
	return 0;
}

static void ctx_free(struct k8s_ctx *c)
{
	for (size_t i = 0; i < c->n_sl; i++) {
		free(c->sl[i].ports);
		free(c->sl[i].eps);
	}
	free(c->sl);
	for (size_t i = 0; i < c->n; i++)
		free(c->owner[i]);
	free(c->owner);
}

static int parse_items(struct k8s_ctx *c, json_t *root)
{
	const char *kind = json_string_value(json_object_get(root, "kind"));
	json_t *items, *it, *one = NULL;
	size_t i;
	int ret = 0;

	if (!json_is_object(root)) {
		bad(c, "top level", "expected an object (a List, a Service or an EndpointSlice)");
		return -EINVAL;
	}
	if (kind && strlen(kind) >= 4 && !strcmp(kind + strlen(kind) - 4, "List")) {
		items = json_object_get(root, "items");
		if (!json_is_array(items)) {
			bad(c, kind, "items: expected an array");
			return -EINVAL;
		}
	} else {
		items = one = json_array();
		if (!one || json_array_append(one, root))
			return -ENOMEM;
	}
	/* Slices first, so that each Service finds its endpoints. */
	json_array_foreach(items, i, it) {
		if (!json_is_object(it)) {
			char w[48];

			snprintf(w, sizeof(w), "items[%zu]", i);
			bad(c, w, "expected an object");
		} else if (!json_is_string(json_object_get(it, "kind"))) {
			char w[48];

			snprintf(w, sizeof(w), "items[%zu]", i);
			bad(c, w, "kind: missing (kubectl -o json names every item's kind)");
		} else if (has_kind(it, "EndpointSlice")) {
			parse_slice(c, it, (int)i);
		} else if (!has_kind(it, "Service")) {
			c->cnt->other++;
			kpr_dbg("items[%zu]: a %s, ignored", i,
				json_string_value(json_object_get(it, "kind")));
		}
	}
	if (c->n_sl)
		qsort(c->sl, c->n_sl, sizeof(*c->sl), cmp_slice);
	json_array_foreach(items, i, it)
		if (json_is_object(it) && has_kind(it, "Service"))
			parse_service(c, it, (int)i);
	if (!c->bad)
		ret = dedup_frontends(c) ?: unify_states(c);
	json_decref(one);
	return ret;
}

int kpr_k8s_parse_file(const char *path, struct kpr_svc_spec **out, size_t *n,
		       struct kpr_k8s_counts *counts)
{
	struct k8s_ctx c = { .src = kpr_input_name(path), .cnt = counts };
	struct kpr_buf in;
	json_error_t je;
	json_t *root;
	int ret;

	memset(counts, 0, sizeof(*counts));
	ret = kpr_buf_read_input(path, &in);
	if (ret)
		return ret;
	root = json_loadb(in.s, in.len, JSON_REJECT_DUPLICATES, &je);
	kpr_buf_free(&in);
	if (!root) {
		/* an empty input is what a failed kubectl leaves */
		kpr_err("%s:%d:%d: not the JSON of kubectl get services,endpointslices -o json: %s; nothing was changed",
			c.src, je.line, je.column, je.text);
		return -EINVAL;
	}
	out_arr_open("warnings");
	ret = parse_items(&c, root);
	out_arr_close();
	if (!ret && c.bad)
		ret = -EINVAL;
	if (ret == -EINVAL && c.bad)
		kpr_err("%s: %d problem%s in all; nothing was changed", c.src, c.bad, c.bad == 1 ? "" : "s");
	ctx_free(&c);
	if (ret) {
		kpr_svc_specs_free(c.v, c.n);
		c.v = NULL;
		c.n = 0;
	}
	json_decref(root);
	*out = c.v;
	*n = c.n;
	return ret;
}
