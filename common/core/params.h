/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An option as a typed table entry: the tools' command lines (cli/) and the
 * lines of svc-add's batch files (svc/) are parsed from tables of these. The
 * type and its values (a range, a list of numbers, enum names) are declared
 * once and serve parsing, the error messages, --help ("one of: ..." and
 * "range: N-M" lines, which the completion reads) and the man-page checks.
 */
#ifndef KPR_PARAMS_H
#define KPR_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

enum kpr_opt_type {
	KPR_OPT_FLAG,		/* no value */
	KPR_OPT_STRING,		/* any value, as given */
	KPR_OPT_UINT,		/* min to max, or one of list[] when it is set */
	KPR_OPT_RANGE,		/* "LO-HI", both within min to max, LO <= HI */
	KPR_OPT_ONOFF,		/* on or off (also yes/no, true/false, 1/0) */
	KPR_OPT_ENUM,		/* one of names[] */
	KPR_OPT_ENUM_LIST,	/* a comma-separated list of names[] */
	KPR_OPT_ADDR,		/* an IPv4 or IPv6 address */
	KPR_OPT_CIDR,		/* ADDR/PREFIX */
};

/* An enum's names and values, ended by an entry with name NULL. */
struct kpr_enum {
	const char *name;
	unsigned int val;
};

struct kpr_opt {
	const char *name;	/* long name, without "--" */
	int short_name;		/* 0 when there is none */
	const char *arg;	/* metavar; NULL for a flag, or an enum's "a|b" */
	const char *help;
	int id;			/* handed to the tool's handler */
	enum kpr_opt_type type;	/* KPR_OPT_FLAG with an arg is a string */
	unsigned long min, max;			/* UINT, RANGE */
	const unsigned int *list;		/* UINT: the only values, */
	unsigned int n_list;			/* in the order --help prints */
	const struct kpr_enum *names;		/* ENUM, ENUM_LIST */
	const char *what;	/* ENUM: "unknown WHAT 'x'" rather than "bad --NAME 'x'" */
	bool icase;		/* ENUM: any case (Kubernetes spells types NodePort) */
};

/* A parsed value. */
struct kpr_optval {
	const char *s;		/* the argument as given, NULL for a flag */
	unsigned long u;	/* UINT, ENUM; ONOFF 0 or 1; RANGE's LO; ENUM_LIST: OR of the values */
	unsigned long hi;	/* RANGE's HI */
	int family;		/* ADDR, CIDR: AF_INET or AF_INET6 */
	unsigned int prefix;	/* CIDR */
	unsigned char addr[16];	/* ADDR, CIDR, network order */
};

enum kpr_opt_type kpr_opt_type(const struct kpr_opt *o);
static inline bool kpr_opt_has_arg(const struct kpr_opt *o)
{
	return kpr_opt_type(o) != KPR_OPT_FLAG;
}

/* Parses arg as o says. -EINVAL with a message in err naming the valid values. */
int kpr_opt_parse(const struct kpr_opt *o, const char *arg, struct kpr_optval *v,
		  char *err, size_t errlen);

/* The valid values, joined by sep ("a, b, c" or "a|b|c"); "" for types that
 * have no list. Returns buf. */
char *kpr_opt_values(const struct kpr_opt *o, const char *sep, char *buf, size_t len);
/* The range, "N-M", or "" when the type has none. Returns buf. */
char *kpr_opt_range(const struct kpr_opt *o, char *buf, size_t len);
/* The metavar --help shows: arg, or an enum's values joined by '|'. */
const char *kpr_opt_metavar(const struct kpr_opt *o, char *buf, size_t len);

/* The entry of a table (ended by name NULL) with this id, or NULL. */
const struct kpr_opt *kpr_opt_by_id(const struct kpr_opt *tbl, int id);
/* The name of an enum value, or NULL. */
const char *kpr_enum_name(const struct kpr_enum *e, unsigned int val);
/* The value of an enum name, or -1. */
int kpr_enum_parse(const struct kpr_enum *e, const char *name);

#endif
