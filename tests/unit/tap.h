/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A minimal TAP producer for the C unit tests (tests/run.sh tallies TAP). */
#ifndef KPR_TAP_H
#define KPR_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {						\
	int tap_c = !!(cond);						\
	tap_n++;							\
	if (tap_c) {							\
		printf("ok %d - ", tap_n);				\
	} else {							\
		printf("not ok %d - ", tap_n);				\
		tap_failed++;						\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!tap_c)							\
		printf("#   at %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
