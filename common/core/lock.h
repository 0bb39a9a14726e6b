/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef KPR_LOCK_H
#define KPR_LOCK_H

/*
 * The writer lock every mutating tool takes: an exclusive flock on path (a
 * directory such as the pin root, or a lock file created 0600), waiting up
 * to wait seconds. Returns the open fd, which holds the lock until closed,
 * or -errno after reporting: -ETIME when another tool kept it that long.
 */
int kpr_lock(const char *path, int wait);

#endif
