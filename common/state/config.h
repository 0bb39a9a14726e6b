/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef KPR_CONFIG_H
#define KPR_CONFIG_H

#include "../bpf/kpr_maps.h"

struct kpr_state;

/* The defaults a new node starts with (docs/design.md, "The config map"). */
void kpr_config_defaults(struct kpr_config *cfg);
/* Read and write the one entry; errors are reported and returned as -errno. */
int kpr_config_read(const struct kpr_state *st, struct kpr_config *cfg);
int kpr_config_write(const struct kpr_state *st, const struct kpr_config *cfg);

#endif
