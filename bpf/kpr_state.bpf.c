// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * No programs: loading this object creates (or reuses) every pinned map. The
 * control-plane tools embed it so that the first tool run on a node sets up
 * the state, whether or not a datapath was ever attached.
 */
#include "lib/maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
