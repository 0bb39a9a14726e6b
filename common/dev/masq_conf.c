// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ip-masq-agent's configuration, read as ip-masq-agent reads it: its
 * defaults, then the fields the file gives (a field it lacks keeps its
 * default; an empty file changes nothing), CIDRs aligned to their prefix,
 * at most 64 of them. The defaults are the eleven ranges of its
 * --nomasq-all-reserved-ranges, and link-local (169.254.0.0/16, fe80::/10)
 * stays unmasqueraded unless masqLinkLocal / masqLinkLocalIPv6 say
 * otherwise. JSON goes through jansson, YAML through libyaml.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/util.h"
#include "svc/addr.h"
#include "dev/masq.h"

static const char *const agent_ranges[] = {
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "192.0.0.0/24",
	"192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15", "198.51.100.0/24",
	"203.0.113.0/24", "240.0.0.0/4",
};

/* What a file gives, before the link-local switches are applied. */
struct agent_conf {
	const char *path;
	bool has_cidrs;
	size_t n;
	char *cidrs[KPR_MASQ_AGENT_MAX];
	bool masq_ll, masq_ll6;
};

static void conf_free(struct agent_conf *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->cidrs[i]);
}

static int conf_cidr(struct agent_conf *a, const char *s)
{
	if (a->n >= KPR_MASQ_AGENT_MAX) {
		kpr_err("%s: more than %d nonMasqueradeCIDRs (ip-masq-agent refuses that too)",
			a->path, KPR_MASQ_AGENT_MAX);
		return -EINVAL;
	}
	a->cidrs[a->n] = strdup(s);
	if (!a->cidrs[a->n])
		return -ENOMEM;
	a->n++;
	return 0;
}

void kpr_masq_agent_defaults(struct kpr_cidr_list *l, bool masq_ll, bool masq_ll6)
{
	l->n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(agent_ranges); i++)
		kpr_masq_cidr_add(l, agent_ranges[i], "defaults");
	if (!masq_ll)
		kpr_masq_cidr_add(l, "169.254.0.0/16", "defaults");
	if (!masq_ll6)
		kpr_masq_cidr_add(l, "fe80::/10", "defaults");
}

static int json_bool(struct agent_conf *a, json_t *v, const char *key, bool *out)
{
	if (!json_is_boolean(v)) {
		kpr_err("%s: %s must be true or false", a->path, key);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

static int read_json(struct agent_conf *a, const char *text)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr), *v;
	const char *key;
	int ret = 0;

	if (!root) {
		kpr_err("%s:%d: not valid JSON: %s", a->path, jerr.line, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		kpr_err("%s: not a JSON object of ip-masq-agent's fields", a->path);
		json_decref(root);
		return -EINVAL;
	}
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "nonMasqueradeCIDRs")) {
			size_t i;
			json_t *e;

			a->has_cidrs = true;
			if (json_is_null(v))
				continue;
			if (!json_is_array(v)) {
				kpr_err("%s: nonMasqueradeCIDRs must be a list of CIDRs", a->path);
				ret = -EINVAL;
				break;
			}
			json_array_foreach(v, i, e) {
				if (!json_is_string(e)) {
					kpr_err("%s: nonMasqueradeCIDRs[%zu] is not a string", a->path, i);
					ret = -EINVAL;
					break;
				}
				ret = conf_cidr(a, json_string_value(e));
				if (ret)
					break;
			}
		} else if (!strcmp(key, "masqLinkLocal")) {
			ret = json_bool(a, v, key, &a->masq_ll);
		} else if (!strcmp(key, "masqLinkLocalIPv6")) {
			ret = json_bool(a, v, key, &a->masq_ll6);
		} else if (strcmp(key, "resyncInterval")) {
			kpr_warn("%s: '%s' is not a field of ip-masq-agent's; ignored, as ip-masq-agent does",
				 a->path, key);
		}
		if (ret)
			break;
	}
	json_decref(root);
	return ret;
}

/* YAML 1.1's booleans, as ip-masq-agent's YAML reader takes them. */
static int yaml_bool(struct agent_conf *a, const char *s, const char *key, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i]))
			return *out = true, 0;
		if (!strcmp(s, no[i]))
			return *out = false, 0;
	}
	kpr_err("%s: %s must be true or false, not '%s'", a->path, key, s);
	return -EINVAL;
}

static bool yaml_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
		!strcmp(s, "NULL"));
}

static int yaml_field(struct agent_conf *a, yaml_document_t *doc, const char *key,
		      yaml_node_t *v)
{
	if (!strcmp(key, "nonMasqueradeCIDRs")) {
		a->has_cidrs = true;
		if (yaml_null(v))
			return 0;
		if (v->type != YAML_SEQUENCE_NODE) {
			kpr_err("%s:%zu: nonMasqueradeCIDRs must be a list of CIDRs", a->path,
				v->start_mark.line + 1);
			return -EINVAL;
		}
		for (yaml_node_item_t *i = v->data.sequence.items.start;
		     i < v->data.sequence.items.top; i++) {
			yaml_node_t *e = yaml_document_get_node(doc, *i);
			int ret;

			if (!e || e->type != YAML_SCALAR_NODE) {
				kpr_err("%s:%zu: nonMasqueradeCIDRs holds something that is not a CIDR",
					a->path, e ? e->start_mark.line + 1 : 0);
				return -EINVAL;
			}
			ret = conf_cidr(a, (const char *)e->data.scalar.value);
			if (ret)
				return ret;
		}
		return 0;
	}
	if (!strcmp(key, "masqLinkLocal") || !strcmp(key, "masqLinkLocalIPv6")) {
		if (v->type != YAML_SCALAR_NODE) {
			kpr_err("%s:%zu: %s must be true or false", a->path, v->start_mark.line + 1, key);
			return -EINVAL;
		}
		return yaml_bool(a, (const char *)v->data.scalar.value, key,
				 strcmp(key, "masqLinkLocal") ? &a->masq_ll6 : &a->masq_ll);
	}
	if (strcmp(key, "resyncInterval"))
		kpr_warn("%s: '%s' is not a field of ip-masq-agent's; ignored, as ip-masq-agent does",
			 a->path, key);
	return 0;
}

static int read_yaml(struct agent_conf *a, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		kpr_err("%s:%zu: not valid YAML: %s", a->path, parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	/* no document, or a bare null: ip-masq-agent keeps its defaults */
	if (!root || yaml_null(root))
		goto out;
	if (root->type != YAML_MAPPING_NODE) {
		kpr_err("%s: not a mapping of ip-masq-agent's fields", a->path);
		ret = -EINVAL;
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top && !ret; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);

		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			kpr_err("%s: a key that is not a field name", a->path);
			ret = -EINVAL;
			break;
		}
		ret = yaml_field(a, &doc, (const char *)k->data.scalar.value, v);
	}
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

static int read_file(const char *path, char **out, size_t *len)
{
	struct kpr_buf b;
	int ret;

	ret = kpr_buf_read_input(path, &b);
	if (ret)
		return ret;
	if (b.len > (1u << 20)) {
		kpr_err("%s: larger than 1 MiB: not an ip-masq-agent configuration", path);
		kpr_buf_free(&b);
		return -EINVAL;
	}
	*out = b.s;
	*len = b.len;
	return 0;
}

int kpr_masq_agent_load(struct kpr_masq_change *c, const char *src)
{
	struct agent_conf a = { .path = src };
	char *text = NULL, where[300];
	const char *s;
	size_t len = 0;
	int ret;

	if (!strcmp(src, "defaults")) {
		kpr_masq_agent_defaults(&c->nonmasq, false, false);
		c->set_nonmasq = true;
		return 0;
	}
	ret = read_file(src, &text, &len);
	if (ret)
		return ret;
	s = text + strspn(text, " \t\r\n");
	ret = *s == '{' ? read_json(&a, text) : read_yaml(&a, text, len);
	if (ret)
		goto out;
	if (!a.has_cidrs && *s)
		kpr_warn("%s names no nonMasqueradeCIDRs: ip-masq-agent's default ranges apply", src);
	kpr_masq_agent_defaults(&c->nonmasq, a.masq_ll, a.masq_ll6);
	if (a.has_cidrs) {
		/* the file's list replaces the default ranges, not link-local */
		struct kpr_cidr_list ll = c->nonmasq;

		c->nonmasq.n = 0;
		for (size_t i = ARRAY_SIZE(agent_ranges); i < ll.n; i++)
			c->nonmasq.v[c->nonmasq.n++] = ll.v[i];
		snprintf(where, sizeof(where), "%s: nonMasqueradeCIDRs", src);
		for (size_t i = 0; i < a.n && !ret; i++)
			ret = kpr_masq_cidr_add(&c->nonmasq, a.cidrs[i], where);
	}
	c->set_nonmasq = true;
out:
	conf_free(&a);
	free(text);
	return ret;
}
