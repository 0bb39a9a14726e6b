/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One print call serves text and JSON, as in iproute2: out_str("port",
 * "%s ", v) prints "v " in text mode and adds "port": v to the JSON document.
 * A key of NULL prints in text mode only; a fmt of NULL adds to JSON only.
 *
 * In JSON mode the document is built in memory and printed once by
 * out_finish(), so it is valid even when the run fails: an error recorded
 * with kpr_err() becomes {"error": "..."} beside what was gathered.
 */
#ifndef KPR_OUT_H
#define KPR_OUT_H

#include <stdbool.h>
#include <stdint.h>

enum out_fmt {
	OUT_TEXT,
	OUT_JSON,
};

void out_init(enum out_fmt fmt, bool quiet);
bool out_json(void);
/* -p: the document indented; one line otherwise (ip -j, bpftool -j). */
void out_set_pretty(bool on);
bool out_quiet(void);

void out_obj_open(const char *key);	/* key NULL inside an array */
void out_obj_close(void);
void out_arr_open(const char *key);
void out_arr_close(void);

void out_str(const char *key, const char *fmt, const char *val);
void out_uint(const char *key, const char *fmt, uint64_t val);
void out_int(const char *key, const char *fmt, int64_t val);
void out_float(const char *key, const char *fmt, double val);
void out_bool(const char *key, const char *fmt, bool val);
void out_null(const char *key);
/* A line "LABEL   value" (the label padded to 28 columns), and key: value
 * in JSON: a string, a number, on/off as a boolean. */
void out_line_str(const char *key, const char *label, const char *val);
void out_line_uint(const char *key, const char *label, uint64_t val);
void out_line_bool(const char *key, const char *label, bool val);
/* Text mode only, printf-like; suppressed by -q. */
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void out_set_error(const char *msg);
/* Records "changed" for mutating tools (Ansible's changed_when). */
void out_changed(bool changed);

/* Prints the JSON document (if any) and returns the exit code for rc. */
int out_finish(int rc);

#endif
