/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An option as a table entry: the tools' command lines (cli/) and the lines
 * of svc-add's batch files (svc/) are parsed from tables of these, so one
 * declaration serves parsing, --help and the checks of the man pages.
 */
#ifndef KPR_PARAMS_H
#define KPR_PARAMS_H

struct kpr_opt {
	const char *name;	/* long name, without "--" */
	int short_name;		/* 0 when there is none */
	const char *arg;	/* metavar, or NULL for a flag */
	const char *help;
	int id;			/* handed to the tool's handler */
};

#endif
