/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef KPR_DEV_PROM_H
#define KPR_DEV_PROM_H

#include <stdio.h>

/* svc-list -o prometheus: every attachment under root, in every netns. */
int kpr_prom_devices(const char *root, FILE *f);

#endif
