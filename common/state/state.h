/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pinned state under the pin root: every map of bpf/kpr_maps.h, created
 * on first use, stamped with the layout version, and guarded by a writer
 * lock (flock on the pin root) so that concurrent tools never interleave.
 */
#ifndef KPR_STATE_H
#define KPR_STATE_H

#include <limits.h>
#include <stdbool.h>

#include "../bpf/kpr_maps.h"
#include "state/config.h"

#define KPR_DEFAULT_PIN_ROOT "/sys/fs/bpf/kpr"

struct kpr_state_bpf;

struct kpr_state {
	struct kpr_state_bpf *skel;
	int lock_fd;
	bool ephemeral;		/* dry run on a node without state: private maps */
	bool unstamped;		/* a reader's view of a config no writer stamped yet */
	char root[PATH_MAX];
	/* one descriptor per map of KPR_MAPS: st->services, st->ct, ... */
#define KPR_MAP_FD_FIELD(name) int name;
	KPR_MAPS(KPR_MAP_FD_FIELD)
#undef KPR_MAP_FD_FIELD
};

#define KPR_MAP_COUNT(name) + 1
enum { KPR_NR_MAPS = 0 KPR_MAPS(KPR_MAP_COUNT) };
#undef KPR_MAP_COUNT

#define KPR_OPEN_WRITE	0x01	/* take the writer lock; create what is missing */
#define KPR_OPEN_DRY_RUN 0x02	/* with WRITE: a node without state gets private maps */
#define KPR_OPEN_LOCK	0x04	/* take the writer lock, create nothing: a reader
				 * that needs a picture no writer changes */

/*
 * Without KPR_OPEN_WRITE a node with no state gives -ENODATA; with it the
 * maps are created (or, for KPR_OPEN_DRY_RUN, private unpinned maps stand in so
 * that nothing is touched). A layout of another version gives -EPROTO, a lock
 * not obtained within wait seconds -ETIME. Errors are reported.
 */
int kpr_state_open(struct kpr_state *st, const char *pin_root, unsigned int flags, int wait);
void kpr_state_close(struct kpr_state *st);

/*
 * For a datapath object opened with pin_root_path = root: checks every map
 * pinned by name against the pins already there (layout, as
 * kpr_state_open does) and sizes it like them, so that loading reuses them.
 */
struct bpf_object;
int kpr_obj_use_pins(const char *root, struct bpf_object *obj);

/* The max_entries of a map as created: sizes are chosen at creation. */
unsigned int kpr_map_size(int fd);

#endif
