/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* svc-list -o prometheus: services, backends and tables (svc_prom.c). */
#ifndef KPR_SVC_PROM_H
#define KPR_SVC_PROM_H

#include <stdio.h>

#include "svc/svc.h"

/* Counters per service, per backend of a service, per backend. */
int kpr_prom_services(struct kpr_state *st, const struct kpr_svc_info *v, size_t n, FILE *f);
/* Table fill against size, nat port exhaustion. */
int kpr_prom_tables(struct kpr_state *st, FILE *f);

#endif
