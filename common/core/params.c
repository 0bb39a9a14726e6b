// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Typed option table entries: parsing a value, and naming the valid ones. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/params.h"
#include "core/util.h"

enum kpr_opt_type kpr_opt_type(const struct kpr_opt *o)
{
	if (o->type == KPR_OPT_FLAG && o->arg)
		return KPR_OPT_STRING;
	return o->type;
}

const struct kpr_opt *kpr_opt_by_id(const struct kpr_opt *tbl, int id)
{
	for (; tbl && tbl->name; tbl++)
		if (tbl->id == id)
			return tbl;
	return NULL;
}

const char *kpr_enum_name(const struct kpr_enum *e, unsigned int val)
{
	for (; e && e->name; e++)
		if (e->val == val)
			return e->name;
	return NULL;
}

static int enum_find(const struct kpr_enum *e, const char *s, size_t len, bool icase)
{
	for (; e && e->name; e++)
		if (strlen(e->name) == len &&
		    !(icase ? strncasecmp(e->name, s, len) : strncmp(e->name, s, len)))
			return (int)e->val;
	return -1;
}

int kpr_enum_parse(const struct kpr_enum *e, const char *name)
{
	return enum_find(e, name, strlen(name), false);
}

/* Appends s to buf, after sep unless buf is empty; truncates silently. */
static void join(char *buf, size_t len, const char *sep, const char *s)
{
	size_t used = strlen(buf);

	if (used + 1 >= len)
		return;
	snprintf(buf + used, len - used, "%s%s", used ? sep : "", s);
}

char *kpr_opt_values(const struct kpr_opt *o, const char *sep, char *buf, size_t len)
{
	char num[24];

	if (!len)
		return buf;
	buf[0] = '\0';
	switch (kpr_opt_type(o)) {
	case KPR_OPT_ONOFF:
		join(buf, len, sep, "on");
		join(buf, len, sep, "off");
		break;
	case KPR_OPT_ENUM:
	case KPR_OPT_ENUM_LIST:
		for (const struct kpr_enum *e = o->names; e && e->name; e++)
			join(buf, len, sep, e->name);
		break;
	case KPR_OPT_UINT:
		for (unsigned int i = 0; i < o->n_list; i++) {
			snprintf(num, sizeof(num), "%u", o->list[i]);
			join(buf, len, sep, num);
		}
		break;
	default:
		break;
	}
	return buf;
}

char *kpr_opt_range(const struct kpr_opt *o, char *buf, size_t len)
{
	enum kpr_opt_type t = kpr_opt_type(o);

	if ((t == KPR_OPT_UINT && !o->n_list) || t == KPR_OPT_RANGE)
		snprintf(buf, len, "%lu-%lu", o->min, o->max);
	else if (len)
		buf[0] = '\0';
	return buf;
}

const char *kpr_opt_metavar(const struct kpr_opt *o, char *buf, size_t len)
{
	if (o->arg || !kpr_opt_has_arg(o))
		return o->arg;
	return kpr_opt_values(o, "|", buf, len);
}

static bool uint_in_list(const struct kpr_opt *o, unsigned long v)
{
	for (unsigned int i = 0; i < o->n_list; i++)
		if (o->list[i] == v)
			return true;
	return false;
}

static int parse_uint(const struct kpr_opt *o, const char *arg, struct kpr_optval *v)
{
	if (o->n_list)
		return kpr_parse_uint(arg, 0, ~0UL, &v->u) || !uint_in_list(o, v->u) ? -EINVAL : 0;
	return kpr_parse_uint(arg, o->min, o->max, &v->u);
}

static int parse_range(const struct kpr_opt *o, const char *arg, struct kpr_optval *v)
{
	char buf[48], *dash;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	dash = strchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = '\0';
	if (kpr_parse_uint(buf, o->min, o->max, &v->u) ||
	    kpr_parse_uint(dash + 1, o->min, o->max, &v->hi) || v->hi < v->u)
		return -EINVAL;
	return 0;
}

static int parse_onoff(const char *arg, struct kpr_optval *v)
{
	static const char *const on[] = { "on", "yes", "true", "1" };
	static const char *const off[] = { "off", "no", "false", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(on); i++) {
		if (!strcasecmp(arg, on[i]) || !strcasecmp(arg, off[i])) {
			v->u = !strcasecmp(arg, on[i]);
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_enum_list(const struct kpr_opt *o, const char *arg, struct kpr_optval *v)
{
	const char *p = arg;

	v->u = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		int one = enum_find(o->names, p, len, o->icase);

		if (one < 0)
			return -EINVAL;
		v->u |= (unsigned int)one;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static int parse_addr(const char *arg, struct kpr_optval *v)
{
	if (inet_pton(AF_INET, arg, v->addr) == 1)
		v->family = AF_INET;
	else if (inet_pton(AF_INET6, arg, v->addr) == 1)
		v->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

static int parse_cidr(const char *arg, struct kpr_optval *v)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned long len;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (parse_addr(buf, v) ||
	    kpr_parse_uint(slash + 1, 0, v->family == AF_INET ? 32 : 128, &len))
		return -EINVAL;
	v->prefix = (unsigned int)len;
	return 0;
}

/* What to give instead of a bad value: "use one of a, b", "use 1 to 9", ... */
static void hint(const struct kpr_opt *o, char *buf, size_t len)
{
	char vals[512];

	switch (kpr_opt_type(o)) {
	case KPR_OPT_UINT:
		if (o->n_list)
			snprintf(buf, len, "use one of %s", kpr_opt_values(o, ", ", vals, sizeof(vals)));
		else
			snprintf(buf, len, "use %lu to %lu", o->min, o->max);
		break;
	case KPR_OPT_RANGE:
		snprintf(buf, len, "use MIN-MAX within %lu-%lu", o->min, o->max);
		break;
	case KPR_OPT_ONOFF:
		snprintf(buf, len, "use on or off");
		break;
	case KPR_OPT_ENUM:
		snprintf(buf, len, "use one of %s", kpr_opt_values(o, ", ", vals, sizeof(vals)));
		break;
	case KPR_OPT_ENUM_LIST:
		snprintf(buf, len, "give a comma-separated list of %s",
			 kpr_opt_values(o, ", ", vals, sizeof(vals)));
		break;
	case KPR_OPT_ADDR:
		snprintf(buf, len, "give an IPv4 or IPv6 address");
		break;
	case KPR_OPT_CIDR:
		snprintf(buf, len, "give ADDR/PREFIX, IPv4 or IPv6");
		break;
	default:
		snprintf(buf, len, "give a value");
		break;
	}
}

int kpr_opt_parse(const struct kpr_opt *o, const char *arg, struct kpr_optval *v,
		  char *err, size_t errlen)
{
	char h[600];
	int ret = 0, e;

	memset(v, 0, sizeof(*v));
	v->s = arg;
	switch (kpr_opt_type(o)) {
	case KPR_OPT_FLAG:
		v->u = 1;
		return 0;
	case KPR_OPT_STRING:
		return 0;
	case KPR_OPT_UINT:
		ret = parse_uint(o, arg, v);
		break;
	case KPR_OPT_RANGE:
		ret = parse_range(o, arg, v);
		break;
	case KPR_OPT_ONOFF:
		ret = parse_onoff(arg, v);
		break;
	case KPR_OPT_ENUM:
		e = enum_find(o->names, arg, strlen(arg), o->icase);
		ret = e < 0 ? -EINVAL : 0;
		v->u = e < 0 ? 0 : (unsigned int)e;
		break;
	case KPR_OPT_ENUM_LIST:
		ret = parse_enum_list(o, arg, v);
		break;
	case KPR_OPT_ADDR:
		ret = parse_addr(arg, v);
		break;
	case KPR_OPT_CIDR:
		ret = parse_cidr(arg, v);
		break;
	}
	if (!ret)
		return 0;
	hint(o, h, sizeof(h));
	if (o->what)
		snprintf(err, errlen, "unknown %s '%s': %s", o->what, arg, h);
	else
		snprintf(err, errlen, "bad --%s '%s': %s", o->name, arg, h);
	return -EINVAL;
}
