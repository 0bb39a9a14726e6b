/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Services in the pinned maps: parse them (command line and batch files share
 * one grammar), write them so that the datapath never sees half a service,
 * delete them, list them.
 */
#ifndef KPR_SVC_H
#define KPR_SVC_H

#include <stdbool.h>
#include <stdio.h>

#include "svc/addr.h"
#include "core/params.h"
#include "state/state.h"

struct kpr_svc_spec {
	struct kpr_svc_key key;		/* the frontend */
	__u8 type;			/* enum kpr_svc_type */
	__u8 algorithm;			/* enum kpr_alg */
	__u8 mode;			/* enum kpr_mode */
	__u32 affinity;			/* seconds, 0: off */
	__u32 id;			/* 0: keep the current one or allocate */
	unsigned int n_be;
	struct kpr_be_spec *be;
	int line;			/* in a batch file, for messages */
};

/* Options that shape one service, shared by svc-add's command line and the
 * lines of its -f files. */
enum {
	KPR_SVC_OPT_TYPE = 1,
	KPR_SVC_OPT_ID,
	KPR_SVC_OPT_AFFINITY,
	KPR_SVC_OPT_ALGORITHM,
	KPR_SVC_OPT_MODE,
	KPR_SVC_OPT_MAX,
};
extern const struct kpr_opt kpr_svc_opts[];
/* The names of service types (enum kpr_svc_type) and algorithms (enum kpr_alg). */
extern const struct kpr_enum kpr_svc_types[];
extern const struct kpr_enum kpr_algs[];
/* Forwarding modes (enum kpr_mode): the node's (lb-mode), a service's. */
extern const struct kpr_enum kpr_modes[];
extern const struct kpr_enum kpr_svc_modes[];
/* How DSR's frontend travels (enum kpr_dsr_dispatch, lb-mode --dsr-dispatch). */
extern const struct kpr_enum kpr_dsr_dispatches[];

void kpr_svc_spec_init(struct kpr_svc_spec *sp);
void kpr_svc_spec_free(struct kpr_svc_spec *sp);
/* Sets an option of kpr_svc_opts, its value parsed by kpr_opt_parse(). */
void kpr_svc_set_opt(struct kpr_svc_spec *sp, int id, const struct kpr_optval *v);
/* FRONTEND BACKEND... once the options are set. */
int kpr_svc_set_endpoints(struct kpr_svc_spec *sp, int argc, char **argv, char *err, size_t errlen);
/* One line of a batch file: 1 when it holds no service (blank, comment). */
int kpr_svc_parse_line(char *line, struct kpr_svc_spec *sp, char *err, size_t errlen);
/* A whole batch file ("-" is stdin); every bad line reported as FILE:LINE. */
int kpr_svc_parse_file(const char *path, struct kpr_svc_spec **out, size_t *n);
void kpr_svc_specs_free(struct kpr_svc_spec *sp, size_t n);

enum kpr_change {
	KPR_UNCHANGED = 0,
	KPR_ADDED,
	KPR_UPDATED,
	KPR_DELETED,
};

/* What a service holds in the maps, for listing and saving. */
struct kpr_svc_info {
	struct kpr_svc_key key;
	struct kpr_svc svc;
	__u32 *be_ids;			/* svc.total entries */
	struct kpr_backend *be;
};

/* Every backend by id, read with one batch walk: be[id] is valid where
 * used[id]; max is the backends map's size. */
struct kpr_be_mirror {
	struct kpr_backend *be;
	__u8 *used;
	__u32 max;
};
int kpr_be_mirror_load(struct kpr_state *st, struct kpr_be_mirror *m);
void kpr_be_mirror_free(struct kpr_be_mirror *m);

/* The backend ids in a service's current generation of slots: ids[svc->total]. */
int kpr_svc_read_slots(struct kpr_state *st, const struct kpr_svc *svc, __u32 *ids);
int kpr_svc_key_by_id(struct kpr_state *st, __u32 id, struct kpr_svc_key *key);
/* A "*:PORT" named on a command line is the IPv4 NodePort, or the IPv6 one
 * when only that exists ("[*]:PORT" names the IPv6 one). */
void kpr_svc_key_resolve(struct kpr_state *st, struct kpr_svc_key *key);

/* Every service, sorted by id. */
int kpr_svc_list(struct kpr_state *st, struct kpr_svc_info **out, size_t *n);
/* One service; its arrays are the caller's to free, and nothing on error. */
int kpr_svc_get(struct kpr_state *st, const struct kpr_svc_key *key, struct kpr_svc_info *info);
void kpr_svc_info_free(struct kpr_svc_info *info, size_t n);

/*
 * A batch: every spec is checked against the others and the maps before any
 * is written. With replace, services absent from the batch are deleted.
 * report() is called for each change (and, verbose, each unchanged one).
 */
struct kpr_batch_result {
	size_t added, updated, deleted, unchanged;
};
/*
 * What a report may add (each field NULL when it does not apply): via, for a
 * service written again because it shares a backend whose state or weight
 * another line changed, that backend; before and after, with -n or -v, the
 * service's save lines before and after the change (svc-add's --diff).
 */
struct kpr_change_note {
	const struct kpr_l4addr *via;
	const char *before, *after;
};
typedef void (*kpr_change_fn)(enum kpr_change c, const struct kpr_svc_key *key, __u32 id,
			      const struct kpr_change_note *note);
int kpr_svc_apply(struct kpr_state *st, const struct kpr_svc_spec *sp, size_t n,
		  bool replace, bool dry_run, kpr_change_fn report,
		  struct kpr_batch_result *res);

const char *kpr_svc_type_name(__u8 type, bool cilium);
const char *kpr_alg_name(__u8 alg);
const char *kpr_mode_name(__u8 mode);
/* As the KubeProxyReplacement line shows it: SNAT, DSR, Hybrid. */
const char *kpr_mode_label(__u8 mode);
const char *kpr_dsr_dispatch_name(__u8 dispatch);
/* The node's forwarding as the KubeProxyReplacement line shows it: SNAT,
 * or DSR and Hybrid with their dispatch ("DSR, IPIP"). */
const char *kpr_fwd_label(__u8 mode, __u8 dispatch);
int kpr_svc_stats(struct kpr_state *st, __u32 kind, __u32 id, struct kpr_stats *sum);
/* Backend be_id's counters within service svc_id: what the service sent it. */
int kpr_svc_be_stats(struct kpr_state *st, __u32 svc_id, __u32 be_id, struct kpr_stats *sum);

/* The svc-add line that recreates a service (svc-list -o save). */
void kpr_svc_save_line(const struct kpr_svc_info *info, FILE *f);
/* The save line (no newline, malloc()ed) of the service at key as the maps
 * hold it, NULL when there is none; and of a spec about to be written. */
char *kpr_svc_line(struct kpr_state *st, const struct kpr_svc_key *key);
char *kpr_svc_spec_line(const struct kpr_svc_spec *sp, __u32 id);



/* Deletes services by key (absent ones count as unchanged), reporting each. */
int kpr_svc_delete_keys(struct kpr_state *st, const struct kpr_svc_key *keys, size_t n,
			bool dry_run, kpr_change_fn report, struct kpr_batch_result *res);

/* Deletes every service, and then whatever a writer killed midway left
 * behind: the service maps end empty. */
int kpr_svc_delete_all(struct kpr_state *st, bool dry_run, kpr_change_fn report,
		       struct kpr_batch_result *res);

/* Reporting changes the same way in svc-add and svc-del: a text line each,
 * or an entry of the JSON "services" array. */
void kpr_svc_report(enum kpr_change c, const struct kpr_svc_key *key, __u32 id,
		    const struct kpr_change_note *note);
void kpr_svc_report_summary(const struct kpr_batch_result *r, bool dry_run);
/* A service's counters (svc) or a backend's within it: a text tail of its
 * table line, or a "stats" object in JSON. */
void kpr_svc_stats_out(const struct kpr_stats *s, bool svc);
#endif
