// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>

#include "core/out.h"
#include "svc/svc.h"
#include "core/util.h"

static const char *const change_names[] = {
	[KPR_UNCHANGED] = "unchanged",
	[KPR_ADDED] = "added",
	[KPR_UPDATED] = "updated",
	[KPR_DELETED] = "deleted",
};

void kpr_svc_report(enum kpr_change c, const struct kpr_svc_key *key, __u32 id,
		    const struct kpr_change_note *note)
{
	const struct kpr_l4addr *via = note ? note->via : NULL;
	char a[KPR_ADDRSTRLEN];

	/* Unchanged services would drown a 10,000-line batch: -v shows them. */
	if (c == KPR_UNCHANGED && !kpr_verbose && !out_json())
		return;
	kpr_fmt_l4addr(&key->fe, false, a, sizeof(a));
	out_obj_open(NULL);
	out_str("action", "%s", change_names[c]);
	out_str("frontend", " %s", a);
	if (id && via) {
		out_uint("id", " id %llu", id);
		out_str("shares_changed_backend", ": it shares backend %s, whose state or weight changed\n",
			kpr_fmt_l4addr(via, false, a, sizeof(a)));
	} else if (id)
		out_uint("id", " id %llu\n", id);
	else if (c == KPR_UNCHANGED)
		out_str("id", " (no such service)\n", NULL);	/* svc-del of an absent one */
	else
		out_str("id", " (new id)\n", NULL);
	/* a diff, as Ansible's --diff shows it: the lines svc-add reads */
	if (note && (note->before || note->after)) {
		if (note->before)
			out_str("before", "  - %s\n", note->before);
		else
			out_null("before");
		if (note->after)
			out_str("after", "  + %s\n", note->after);
		else
			out_null("after");
	}
	out_obj_close();
}

void kpr_svc_report_summary(const struct kpr_batch_result *r, bool dry_run)
{
	out_changed(r->added || r->updated || r->deleted);
	out_bool("dry_run", NULL, dry_run);
	out_uint("added", "%llu added, ", r->added);
	out_uint("updated", "%llu updated, ", r->updated);
	out_uint("deleted", "%llu deleted, ", r->deleted);
	out_uint("unchanged", "%llu unchanged", r->unchanged);
	out_text("%s\n", dry_run ? " (dry run: nothing was changed)" : "");
}

void kpr_svc_stats_out(const struct kpr_stats *s, bool svc)
{
	if (!out_json()) {
		out_text("  packets %llu bytes %llu flows %llu drops %llu",
			 (unsigned long long)s->packets, (unsigned long long)s->bytes,
			 (unsigned long long)s->flows, (unsigned long long)s->drops);
		/* a datapath counts nat allocation failures per service, not
		 * per backend: a backend's line would always say 0 */
		if (svc)
			out_text(" nat-fail %llu", (unsigned long long)s->nat_fail);
		return;
	}
	out_obj_open("stats");
	out_uint("packets", NULL, s->packets);
	out_uint("bytes", NULL, s->bytes);
	out_uint("flows", NULL, s->flows);
	out_uint("drops", NULL, s->drops);
	if (svc)
		out_uint("nat_alloc_failures", NULL, s->nat_fail);
	out_obj_close();
}
