// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Parsers and formatters of common/: addresses, backends, service lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "svc/addr.h"
#include "svc/svc.h"
#include "core/util.h"
#include "../tests/unit/tap.h"

static void frontend_ok(const char *in, bool any, const char *want)
{
	struct kpr_l4addr a;
	char err[KPR_ERRLEN] = "", buf[KPR_ADDRSTRLEN] = "";
	int ret = kpr_parse_frontend(in, any, &a, err, sizeof(err));

	if (!ret)
		kpr_fmt_l4addr(&a, false, buf, sizeof(buf));
	ok(!ret && !strcmp(buf, want), "frontend %s -> %s (got '%s' %s)", in, want, buf, err);
}

static void frontend_bad(const char *in, bool any, const char *msg)
{
	struct kpr_l4addr a;
	char err[KPR_ERRLEN] = "";
	int ret = kpr_parse_frontend(in, any, &a, err, sizeof(err));

	ok(ret == -EINVAL && strstr(err, msg), "frontend '%s' refused: %s", in, err);
}

static void backend_ok(const char *in, const char *want, unsigned w, __u8 state)
{
	struct kpr_be_spec b;
	char err[KPR_ERRLEN] = "", buf[KPR_ADDRSTRLEN] = "";
	int ret = kpr_parse_backend(in, IPPROTO_TCP, &b, err, sizeof(err));

	if (!ret)
		kpr_fmt_l4addr(&b.addr, false, buf, sizeof(buf));
	ok(!ret && !strcmp(buf, want) && b.weight == w && b.state == state,
	   "backend %s -> %s weight %u state %u (got '%s' %s)", in, want, w, state, buf, err);
}

static void backend_bad(const char *in, const char *msg)
{
	struct kpr_be_spec b;
	char err[KPR_ERRLEN] = "";
	int ret = kpr_parse_backend(in, IPPROTO_TCP, &b, err, sizeof(err));

	ok(ret == -EINVAL && strstr(err, msg), "backend '%s' refused: %s", in, err);
}

/* parse, then format: the canonical spelling svc-list -o save prints */
static void backend_roundtrip(const char *in, const char *want)
{
	struct kpr_backend v = {};
	struct kpr_be_spec b;
	char err[KPR_ERRLEN] = "", buf[KPR_BACKENDSTRLEN] = "";

	if (!kpr_parse_backend(in, IPPROTO_TCP, &b, err, sizeof(err))) {
		v.be = b.addr;
		v.weight = b.weight;
		v.state = b.state;
		kpr_fmt_backend(&v, buf, sizeof(buf));
	}
	ok(!strcmp(buf, want), "backend %s spelled %s (got '%s' %s)", in, want, buf, err);
}

static void line_ok(const char *in, int n_be, __u8 type, __u32 id)
{
	struct kpr_svc_spec sp;
	char err[KPR_ERRLEN] = "", *l = strdup(in);
	int ret = kpr_svc_parse_line(l, &sp, err, sizeof(err));

	ok(ret == 0 && (int)sp.n_be == n_be && sp.type == type && sp.id == id,
	   "line '%s' (%d %s)", in, ret, err);
	kpr_svc_spec_free(&sp);
	free(l);
}

static void line_bad(const char *in, const char *msg)
{
	struct kpr_svc_spec sp;
	char err[KPR_ERRLEN] = "", *l = strdup(in);
	int ret = kpr_svc_parse_line(l, &sp, err, sizeof(err));

	ok(ret == -EINVAL && strstr(err, msg), "line '%s' refused: %s", in, err);
	kpr_svc_spec_free(&sp);
	free(l);
}

/* The most backends a service takes, all distinct, then the last one again. */
static void many_backends(void)
{
	unsigned int n = KPR_MAX_BACKENDS_PER_SVC;
	char **argv = calloc(n + 1, sizeof(*argv)), *buf = malloc(24 * (size_t)(n + 1));
	char err[KPR_ERRLEN] = "";
	struct kpr_svc_spec sp;

	argv[0] = "10.96.0.1:80";
	for (unsigned int i = 1; i <= n; i++) {
		argv[i] = buf + 24 * (size_t)i;
		snprintf(argv[i], 24, "10.1.%u.%u:80", i >> 8 & 255, i & 255);
	}
	kpr_svc_spec_init(&sp);
	ok(!kpr_svc_set_endpoints(&sp, (int)n, argv, err, sizeof(err)) && sp.n_be == n - 1,
	   "%u distinct backends: %s", n - 1, err);
	snprintf(argv[n], 24, "%s", argv[1]);
	ok(kpr_svc_set_endpoints(&sp, (int)n + 1, argv, err, sizeof(err)) == -EINVAL &&
	   strstr(err, "given twice"), "the first of %u backends again at the end: %s", n, err);
	kpr_svc_spec_free(&sp);
	free(buf);
	free(argv);
}

int main(void)
{
	many_backends();
	unsigned long v;
	char *words[4], buf[64];

	frontend_ok("10.0.0.1:80", false, "10.0.0.1:80/tcp");
	frontend_ok("10.0.0.1:53/UDP", false, "10.0.0.1:53/udp");
	frontend_ok("10.0.0.1:65535/tcp", false, "10.0.0.1:65535/tcp");
	frontend_ok("[2001:db8::1]:443", false, "[2001:db8::1]:443/tcp");
	/* RFC 5952: lower case, longest zero run compressed, one zero group kept */
	frontend_ok("[2001:DB8:0:0:1:0:0:1]:80", false, "[2001:db8::1:0:0:1]:80/tcp");
	frontend_ok("[2001:db8:0:1:1:1:1:1]:80", false, "[2001:db8:0:1:1:1:1:1]:80/tcp");
	frontend_ok("*:30080", true, "*:30080/tcp");

	frontend_bad("10.0.0.1:80x", false, "bad port");
	frontend_bad("10.0.0.1:0", false, "bad port");
	frontend_bad("10.0.0.1:65536", false, "bad port");
	frontend_bad("10.0.0.1:", false, "port");
	frontend_bad("10.0.0.1:+80", false, "bad port");
	frontend_bad("300.1.1.1:80", false, "not an IPv4 address");
	frontend_bad("10.0.0:80", false, "not an IPv4 address");
	frontend_bad("010.0.0.1:80", false, "not an IPv4 address");
	frontend_bad("[::1:80", false, "missing ']'");
	frontend_bad("[::1]80", false, "expected ':PORT'");
	frontend_bad("[2001:db8::zz]:80", false, "not an IPv6 address");
	frontend_bad("::1:80", false, "brackets");
	frontend_bad("10.0.0.1", false, "missing ':PORT'");
	frontend_bad(":80", false, "missing address");
	frontend_bad("", false, "empty");
	frontend_bad("10.0.0.1:80/sctp", false, "unknown protocol");
	frontend_bad("10.0.0.1:80/", false, "unknown protocol");
	frontend_bad("*:80", false, "only for NodePort");
	frontend_bad("10.0.0.1:80,weight=2", false, "belong to backends");

	backend_ok("10.1.0.1:8080", "10.1.0.1:8080/tcp", 1, KPR_BE_ACTIVE);
	backend_ok("10.1.0.1:8080,weight=7", "10.1.0.1:8080/tcp", 7, KPR_BE_ACTIVE);
	backend_ok("[fd00::1]:80,state=terminating,weight=65535", "[fd00::1]:80/tcp", 65535, KPR_BE_TERMINATING);
	backend_ok("10.1.0.1:53/udp,state=maintenance", "10.1.0.1:53/udp", 1, KPR_BE_MAINTENANCE);
	backend_ok("10.1.0.1:1,state=quarantined", "10.1.0.1:1/tcp", 1, KPR_BE_QUARANTINED);
	backend_roundtrip("10.1.0.1:8080", "10.1.0.1:8080/tcp");
	backend_roundtrip("10.1.0.1:53/UDP,state=active,weight=1", "10.1.0.1:53/udp");
	backend_roundtrip("[FD00::1]:80,state=terminating,weight=3", "[fd00::1]:80/tcp,weight=3,state=terminating");
	backend_bad("10.1.0.1:80,weight=0", "bad weight");
	backend_bad("10.1.0.1:80,weight=65536", "bad weight");
	backend_bad("10.1.0.1:80,weight=", "bad weight");
	backend_bad("10.1.0.1:80,weight=1,weight=2", "twice");
	backend_bad("10.1.0.1:80,state=dead", "unknown state");
	backend_bad("10.1.0.1:80,color=red", "unknown option");
	backend_bad("*:80", "only for NodePort");

	line_ok("10.0.0.1:80 10.1.0.1:80 10.1.0.2:80", 2, KPR_SVC_CLUSTERIP, 0);
	line_ok("  -t nodeport --id 7 *:30080 10.1.0.1:80   # comment", 1, KPR_SVC_NODEPORT, 7);
	line_ok("svc-add -t loadbalancer [2001:db8::1]:80 [fd00::1]:80", 1, KPR_SVC_LOADBALANCER, 0);
	line_ok("10.0.0.1:80", 0, KPR_SVC_CLUSTERIP, 0);
	line_ok("10.0.0.1:53/udp 10.1.0.1:53 --affinity 60", 1, KPR_SVC_CLUSTERIP, 0);
	line_bad("10.0.0.1:80 10.1.0.1:80 10.1.0.1:80", "given twice");
	line_bad("10.0.0.1:80 [fd00::1]:80", "is IPv6 but frontend");
	line_bad("10.0.0.1:80/tcp 10.1.0.1:80/udp", "is udp but frontend");
	line_bad("-t nodeport *:80 10.1.0.1:80 [fd00::1]:80", "all IPv4 or all IPv6");
	line_bad("--bogus 10.0.0.1:80", "unknown option");
	line_bad("-t sideways 10.0.0.1:80", "unknown service type");
	line_bad("--id 0 10.0.0.1:80", "bad --id");
	line_bad("--affinity 86401 10.0.0.1:80", "bad --affinity");
	line_bad("--algorithm rr 10.0.0.1:80", "unknown algorithm");
	/* hybrid is the node's choice between protocols, not a service's */
	line_bad("--mode hybrid 10.0.0.1:80", "unknown mode 'hybrid'");
	line_bad("--mode fast 10.0.0.1:80", "unknown mode 'fast'");
	{
		struct kpr_svc_spec sp;
		char buf[] = "-t loadbalancer --mode dsr 10.0.0.1:80 10.1.0.1:80", e[KPR_ERRLEN];

		ok(!kpr_svc_parse_line(buf, &sp, e, sizeof(e)) && sp.mode == KPR_MODE_DSR,
		   "a line's --mode dsr is the service's mode");
		kpr_svc_spec_free(&sp);
	}
	line_bad("--id", "needs a value");
	line_bad("svc-add", "missing FRONTEND");
	{
		struct kpr_svc_spec sp;
		char err[KPR_ERRLEN], l[] = "   # only a comment";

		ok(kpr_svc_parse_line(l, &sp, err, sizeof(err)) == 1, "comment line holds no service");
	}

	ok(kpr_parse_uint("65535", 1, 65535, &v) == 0 && v == 65535, "uint at max");
	ok(kpr_parse_uint("99999999999999999999999", 0, ~0UL, &v) == -ERANGE, "uint overflow refused");
	ok(kpr_parse_uint("-1", 0, 10, &v) == -EINVAL, "uint sign refused");
	ok(kpr_parse_uint("", 0, 10, &v) == -EINVAL, "uint empty refused");
	strcpy(buf, " a  b\tc # d e");
	ok(kpr_split_words(buf, words, 4) == 3 && !strcmp(words[2], "c"), "split words, comment dropped");
	strcpy(buf, "a b c d e");
	ok(kpr_split_words(buf, words, 4) == -E2BIG, "split words refuses too many");

	ok(!strcmp(kpr_svc_type_name(KPR_SVC_EXTERNALIP, true), "ExternalIPs"), "Cilium's type names");
	ok(kpr_exit_code(-EINVAL) == 2 && kpr_exit_code(-ETIME) == 3 &&
	   kpr_exit_code(-EPROTO) == 4 && kpr_exit_code(-EIO) == 1, "exit codes");
	return tap_done();
}
