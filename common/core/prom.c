// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>

#include "core/prom.h"

void kpr_prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	for (const char *c = help; *c; c++) {
		if (*c == '\\')
			fputs("\\\\", f);
		else if (*c == '\n')
			fputs("\\n", f);
		else
			fputc(*c, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

void kpr_prom_label(FILE *f, char sep, const char *name, const char *value)
{
	fprintf(f, "%c%s=\"", sep, name);
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			fprintf(f, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", f);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

void kpr_prom_build_info(FILE *f, const char *version, unsigned int layout)
{
	char l[16];

	snprintf(l, sizeof(l), "%u", layout);
	kpr_prom_family(f, "kpr_build_info", "gauge",
			"The kpr tools' version and the layout of the pinned state they read; always 1.");
	fputs("kpr_build_info", f);
	kpr_prom_label(f, '{', "version", version);
	kpr_prom_label(f, ',', "layout", l);
	fputs("} 1\n", f);
}
