// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* svc-list -o prometheus: the datapath's attachments, one series each. */
#include <stdio.h>
#include <stdlib.h>

#include "core/prom.h"
#include "dev/attach.h"
#include "dev/dev_prom.h"

int kpr_prom_devices(const char *root, FILE *f)
{
	struct kpr_attachment *att;
	size_t n;
	int ret;

	ret = kpr_attach_list(root, true, &att, &n);
	if (ret)
		return ret;
	kpr_prom_family(f, "kpr_attached", "gauge",
			"A datapath hook pinned under the pin root: XDP and tc on devices per network namespace, socket hooks on cgroups; 1 while it drives its device.");
	for (size_t i = 0; i < n; i++) {
		const struct kpr_attachment *a = &att[i];
		const char *mode;
		char ns[32];

		if (a->hook == KPR_HOOK_CGROUP) {
			fputs("kpr_attached", f);
			kpr_prom_label(f, '{', "hook", kpr_cgroup_type_name(a->type) ?: "cgroup");
			kpr_prom_label(f, ',', "cgroup", *a->cgroup_path ? a->cgroup_path : "(removed)");
			fprintf(f, "} %d\n", !!*a->cgroup_path);
			continue;
		}
		if (!a->seen && (a->hook == KPR_HOOK_XDP || a->tc_filter))
			mode = "unknown";
		else if (!a->ifindex)
			mode = "gone";
		else if (a->hook == KPR_HOOK_XDP)
			mode = kpr_xdp_mode_name(a->mode);
		else
			mode = a->tc_filter ? "clsact" : "tcx";
		snprintf(ns, sizeof(ns), "%llu", a->netns);
		fputs("kpr_attached", f);
		kpr_prom_label(f, '{', "hook", kpr_hook_name(a->hook));
		kpr_prom_label(f, ',', "netns", *a->netns_name ? a->netns_name : ns);
		kpr_prom_label(f, ',', "device", a->dev);
		kpr_prom_label(f, ',', "mode", mode);
		fprintf(f, "} %d\n", a->ifindex != 0);
	}
	free(att);
	return 0;
}
