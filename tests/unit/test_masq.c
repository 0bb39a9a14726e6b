// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ip-masq-agent's configuration as masq-ctl reads it (common/dev/masq_conf.c),
 * and the CIDR lists of its options, with no privileges. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/masq.h"
#include "tap.h"

static char dir[] = "/tmp/kpr-test-masq-XXXXXX";

static const char *file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static bool has(const struct kpr_cidr_list *l, const char *want)
{
	char buf[80];

	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(kpr_fmt_cidr(&l->v[i], buf, sizeof(buf)), want))
			return true;
	return false;
}

static int load(struct kpr_masq_change *c, const char *name, const char *text)
{
	kpr_masq_change_init(c);
	return kpr_masq_agent_load(c, file(name, text));
}

int main(void)
{
	static struct kpr_masq_change c;
	struct kpr_cidr_list *l = &c.nonmasq;

	if (!mkdtemp(dir))
		return 1;

	kpr_masq_change_init(&c);
	ok(!kpr_masq_agent_load(&c, "defaults") && c.set_nonmasq, "defaults load");
	ok(l->n == 13 && has(l, "10.0.0.0/8") && has(l, "240.0.0.0/4") && has(l, "198.18.0.0/15") &&
	   has(l, "169.254.0.0/16") && has(l, "fe80::/10"),
	   "defaults: eleven ranges and both link-local ranges (%zu)", l->n);

	ok(!load(&c, "a.yaml", "nonMasqueradeCIDRs:\n  - 10.32.0.0/16\n  - fd00:32::/64\n") &&
	   l->n == 4 && has(l, "10.32.0.0/16") && has(l, "fd00:32::/64") && !has(l, "10.0.0.0/8") &&
	   has(l, "169.254.0.0/16") && has(l, "fe80::/10"),
	   "a YAML list replaces the ranges, not link-local (%zu)", l->n);
	ok(!load(&c, "b.yaml", "nonMasqueradeCIDRs: [10.1.0.0/16]\nmasqLinkLocal: true\nmasqLinkLocalIPv6: yes\n") &&
	   l->n == 1 && has(l, "10.1.0.0/16"), "masqLinkLocal/IPv6 true: link-local is masqueraded");
	ok(!load(&c, "c.json", "{\"nonMasqueradeCIDRs\": [\"192.168.0.0/16\"], \"masqLinkLocal\": false, \"masqLinkLocalIPv6\": true}") &&
	   l->n == 2 && has(l, "192.168.0.0/16") && has(l, "169.254.0.0/16"), "JSON, through jansson");
	ok(!load(&c, "d.yaml", "masqLinkLocal: true\n") && l->n == 12 && has(l, "10.0.0.0/8") &&
	   !has(l, "169.254.0.0/16"), "no nonMasqueradeCIDRs: the default ranges stay, as in ip-masq-agent");
	ok(!load(&c, "e.yaml", "") && l->n == 13, "an empty file: the defaults");
	ok(!load(&c, "f.json", "{\"nonMasqueradeCIDRs\": []}") && l->n == 2, "an empty list: link-local only");
	ok(!load(&c, "g.yaml", "nonMasqueradeCIDRs:\n") && l->n == 2, "a null list: link-local only");

	ok(load(&c, "h.yaml", "nonMasqueradeCIDRs: [10.0.0.1/8]\n") == -EINVAL, "bits past the prefix: refused");
	ok(load(&c, "i.yaml", "nonMasqueradeCIDRs: [10.0.0.0/33]\n") == -EINVAL, "a bad prefix: refused");
	ok(load(&c, "j.yaml", "nonMasqueradeCIDRs: 10.0.0.0/8\n") == -EINVAL, "not a list: refused");
	ok(load(&c, "k.yaml", "nonMasqueradeCIDRs: [10.0.0.0/8\n") == -EINVAL, "broken YAML: refused");
	ok(load(&c, "l.json", "{\"nonMasqueradeCIDRs\": [\"10.0.0.0/8\",]}") == -EINVAL, "broken JSON: refused");
	ok(load(&c, "m.yaml", "masqLinkLocal: maybe\n") == -EINVAL, "a bad boolean: refused");
	ok(load(&c, "n.yaml", "- 10.0.0.0/8\n") == -EINVAL, "a list, not a mapping: refused");
	kpr_masq_change_init(&c);
	ok(kpr_masq_agent_load(&c, "/nonexistent/ip-masq-agent") == -EINVAL, "a missing file is bad input");

	{
		char big[8192] = "nonMasqueradeCIDRs:\n";

		for (int i = 0; i < 65; i++)
			snprintf(big + strlen(big), sizeof(big) - strlen(big), "  - 10.%d.0.0/16\n", i);
		ok(load(&c, "o.yaml", big) == -EINVAL, "65 CIDRs: refused, as ip-masq-agent does");
	}

	kpr_masq_change_init(&c);
	ok(!kpr_masq_cidr_add(&c.pod, "10.32.0.0/16", "t") && !kpr_masq_cidr_add(&c.pod, "10.32.0.0/16", "t") &&
	   c.pod.n == 1, "a CIDR given twice is listed once");
	ok(kpr_masq_add_dev(&c, "all") == 0 && c.set_devs && c.n_devs == 0, "--dev all: every device");
	ok(kpr_masq_add_dev(&c, "a/b") == -EINVAL, "--dev with a slash: refused");

	for (char n = 'a'; n <= 'o'; n++) {
		char p[300];

		snprintf(p, sizeof(p), "%s/%c.%s", dir, n, strchr("cfl", n) ? "json" : "yaml");
		unlink(p);
	}
	rmdir(dir);
	return tap_done();
}
