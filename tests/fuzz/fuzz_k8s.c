/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* kubectl get services,endpointslices -o json, as svc-add --format
 * kubernetes reads it: accepted, a service's backends are of its family;
 * refused, nothing is handed out. */
#include "fuzz.h"
#include "svc/k8s.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kpr_svc_spec *sp = NULL;
	struct kpr_k8s_counts counts;
	char path[64];
	size_t n = 0;
	int fd = fuzz_file(data, size, path, sizeof(path));

	memset(&counts, 0, sizeof(counts));
	if (!kpr_k8s_parse_file(path, &sp, &n, &counts)) {
		for (size_t i = 0; i < n; i++) {
			__u8 fam = sp[i].key.fe.family;

			FUZZ_ASSERT(!sp[i].n_be || sp[i].be);
			/* a "*:PORT" NodePort (KPR_FAM_ANY) takes either */
			for (unsigned int j = 0; j < sp[i].n_be; j++)
				FUZZ_ASSERT(fam == KPR_FAM_ANY || sp[i].be[j].addr.family == fam);
		}
	} else {
		FUZZ_ASSERT(!sp && !n);
	}
	kpr_svc_specs_free(sp, n);
	close(fd);
	return 0;
}
