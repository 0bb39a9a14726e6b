/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus' text format, as node_exporter's textfile collector reads it:
 * each metric family once, its HELP and TYPE lines before its samples, label
 * values quoted with '\\', '"' and newlines escaped.
 */
#ifndef KPR_PROM_H
#define KPR_PROM_H

#include <stdio.h>

void kpr_prom_family(FILE *f, const char *name, const char *type, const char *help);
/* name="value", the value escaped; sep before it ("{" or ","). */
void kpr_prom_label(FILE *f, char sep, const char *name, const char *value);

/* kpr_build_info{version=...,layout=...} 1 */
void kpr_prom_build_info(FILE *f, const char *version, unsigned int layout);

#endif
