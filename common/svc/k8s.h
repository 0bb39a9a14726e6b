/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kubernetes in, without a daemon: `kubectl get services,endpointslices -A
 * -o json` turned into the same service list a batch file gives, mapped as
 * kube-proxy maps it. What kpr cannot express is warned about, once per
 * Service, never dropped in silence.
 */
#ifndef KPR_K8S_H
#define KPR_K8S_H

#include <stddef.h>

#include "svc/svc.h"

/* svc-add --format: a file of svc-add lines, or kubectl's JSON */
enum kpr_input_format {
	KPR_INPUT_LINES = 0,
	KPR_INPUT_KUBERNETES,
};
extern const struct kpr_enum kpr_input_formats[];

struct kpr_k8s_counts {
	unsigned int services;		/* Service objects read */
	unsigned int slices;		/* EndpointSlice objects read */
	unsigned int headless;		/* skipped: clusterIP None (or none at all) */
	unsigned int external_name;	/* skipped: type ExternalName */
	unsigned int other;		/* items of another kind, ignored */
	unsigned int warnings;
};

/*
 * Reads a v1 List (or one object) from path ("-": stdin). Malformed JSON, or
 * an object whose fields are not what the API gives, is -EINVAL after every
 * problem was reported naming the object and the field (or the line and
 * column). Warnings go to stderr and, in JSON mode, into a "warnings" array.
 */
int kpr_k8s_parse_file(const char *path, struct kpr_svc_spec **out, size_t *n,
		       struct kpr_k8s_counts *counts);

#endif
