// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Typed option entries: each type parses, refuses, and names its values. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "core/params.h"
#include "tap.h"

static const struct kpr_enum colours[] = {
	{ "red", 1 },
	{ "green", 2 },
	{ "blue", 4 },
	{ NULL },
};

static const unsigned int primes[] = { 251, 509, 1021 };

static const struct kpr_opt o_uint = { "id", 0, "N", "", 1, .type = KPR_OPT_UINT, .min = 1, .max = 9 };
static const struct kpr_opt o_list = { "size", 0, "M", "", 2, .type = KPR_OPT_UINT,
				       .list = primes, .n_list = 3 };
static const struct kpr_opt o_range = { "ports", 0, "MIN-MAX", "", 3, .type = KPR_OPT_RANGE,
					.min = 1024, .max = 65535 };
static const struct kpr_opt o_onoff = { "echo", 0, NULL, "", 4, .type = KPR_OPT_ONOFF };
static const struct kpr_opt o_enum = { "colour", 0, NULL, "", 5, .type = KPR_OPT_ENUM,
				       .names = colours, .what = "colour" };
static const struct kpr_opt o_elist = { "only", 0, "KINDS", "", 6, .type = KPR_OPT_ENUM_LIST,
					.names = colours };
static const struct kpr_opt o_addr = { "ip", 0, "ADDR", "", 7, .type = KPR_OPT_ADDR };
static const struct kpr_opt o_cidr = { "net", 0, "CIDR", "", 8, .type = KPR_OPT_CIDR };
static const struct kpr_opt o_str = { "file", 0, "FILE", "", 9, .names = NULL };
static const struct kpr_opt o_flag = { "force", 0, NULL, "", 10, .names = NULL };

static int parse(const struct kpr_opt *o, const char *arg, struct kpr_optval *v, char *err)
{
	err[0] = '\0';
	return kpr_opt_parse(o, arg, v, err, 256);
}

int main(void)
{
	const struct kpr_opt tbl[] = { o_uint, o_enum, { NULL } };
	struct kpr_optval v;
	char err[256], buf[128];

	ok(!parse(&o_uint, "9", &v, err) && v.u == 9, "uint within its range");
	ok(parse(&o_uint, "10", &v, err) == -EINVAL && !strcmp(err, "bad --id '10': use 1 to 9"),
	   "uint above its range: %s", err);
	ok(parse(&o_uint, "1x", &v, err) == -EINVAL, "uint with a tail refused");
	ok(!parse(&o_list, "509", &v, err) && v.u == 509, "uint of the list");
	ok(parse(&o_list, "510", &v, err) == -EINVAL &&
	   strstr(err, "use one of 251, 509, 1021"), "uint off the list names it: %s", err);
	ok(!parse(&o_range, "40000-40100", &v, err) && v.u == 40000 && v.hi == 40100, "range");
	ok(!parse(&o_range, "40000-40000", &v, err), "a range of one");
	ok(parse(&o_range, "40100-40000", &v, err) == -EINVAL, "range upside down refused");
	ok(parse(&o_range, "80-90", &v, err) == -EINVAL && strstr(err, "1024-65535"),
	   "range out of bounds names them: %s", err);
	ok(parse(&o_range, "40000", &v, err) == -EINVAL, "range without a dash refused");
	ok(!parse(&o_onoff, "on", &v, err) && v.u == 1, "on");
	ok(!parse(&o_onoff, "No", &v, err) && v.u == 0, "No");
	ok(parse(&o_onoff, "maybe", &v, err) == -EINVAL && strstr(err, "use on or off"), "maybe");
	ok(!parse(&o_enum, "green", &v, err) && v.u == 2, "enum");
	ok(parse(&o_enum, "grey", &v, err) == -EINVAL &&
	   !strcmp(err, "unknown colour 'grey': use one of red, green, blue"), "enum refused: %s", err);
	ok(!parse(&o_elist, "red,blue", &v, err) && v.u == 5, "enum list");
	ok(parse(&o_elist, "red,", &v, err) == -EINVAL, "enum list with a trailing comma");
	ok(parse(&o_elist, "", &v, err) == -EINVAL, "empty enum list");
	ok(!parse(&o_addr, "10.0.0.1", &v, err) && v.family == AF_INET && v.addr[3] == 1, "IPv4");
	ok(!parse(&o_addr, "fd00::1", &v, err) && v.family == AF_INET6 && v.addr[15] == 1, "IPv6");
	ok(parse(&o_addr, "10.0.0.256", &v, err) == -EINVAL, "bad address");
	ok(!parse(&o_cidr, "10.0.0.0/8", &v, err) && v.prefix == 8 && v.family == AF_INET, "CIDR");
	ok(!parse(&o_cidr, "fd00::/64", &v, err) && v.prefix == 64, "IPv6 CIDR");
	ok(parse(&o_cidr, "10.0.0.0/33", &v, err) == -EINVAL, "IPv4 prefix above 32");
	ok(parse(&o_cidr, "10.0.0.0", &v, err) == -EINVAL, "CIDR without a prefix");
	ok(!parse(&o_str, "x", &v, err) && !strcmp(v.s, "x") && kpr_opt_has_arg(&o_str),
	   "an untyped entry with an arg is a string");
	ok(!kpr_opt_has_arg(&o_flag), "an untyped entry without an arg is a flag");

	ok(!strcmp(kpr_opt_values(&o_enum, "|", buf, sizeof(buf)), "red|green|blue"), "enum values");
	ok(!strcmp(kpr_opt_metavar(&o_enum, buf, sizeof(buf)), "red|green|blue"), "enum metavar");
	ok(!strcmp(kpr_opt_metavar(&o_onoff, buf, sizeof(buf)), "on|off"), "on/off metavar");
	ok(!strcmp(kpr_opt_values(&o_list, ", ", buf, sizeof(buf)), "251, 509, 1021"), "list values");
	ok(!strcmp(kpr_opt_range(&o_uint, buf, sizeof(buf)), "1-9"), "uint range");
	ok(!*kpr_opt_range(&o_list, buf, sizeof(buf)), "a list has no range");
	ok(!*kpr_opt_values(&o_str, ", ", buf, sizeof(buf)), "a string has no values");
	ok(kpr_opt_by_id(tbl, 5) == &tbl[1] && !kpr_opt_by_id(tbl, 3), "by id");
	ok(!strcmp(kpr_enum_name(colours, 4), "blue") && !kpr_enum_name(colours, 3), "enum name");
	ok(kpr_enum_parse(colours, "red") == 1 && kpr_enum_parse(colours, "re") == -1, "enum parse");
	return tap_done();
}
