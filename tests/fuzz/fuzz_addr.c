/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Frontends and backends: what parses prints in canonical form, and that
 * form parses back to the same address (svc-list -o save relies on it). */
#include "fuzz.h"
#include <netinet/in.h>

#include "svc/addr.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void frontend(const char *s, bool any)
{
	struct kpr_l4addr a, b;
	char err[KPR_ERRLEN], txt[KPR_ADDRSTRLEN];

	memset(&a, 0, sizeof(a));
	if (kpr_parse_frontend(s, any, &a, err, sizeof(err)))
		return;
	FUZZ_ASSERT(kpr_fmt_l4addr(&a, false, txt, sizeof(txt)));
	memset(&b, 0, sizeof(b));
	FUZZ_ASSERT(!kpr_parse_frontend(txt, any, &b, err, sizeof(err)));
	FUZZ_ASSERT(!memcmp(&a, &b, sizeof(a)));
}

static void backend(const char *s)
{
	struct kpr_be_spec a, b;
	struct kpr_backend be;
	char err[KPR_ERRLEN], txt[KPR_BACKENDSTRLEN];

	if (kpr_parse_backend(s, IPPROTO_TCP, &a, err, sizeof(err)))
		return;
	memset(&be, 0, sizeof(be));
	be.be = a.addr;
	be.state = a.state;
	be.weight = a.weight;
	FUZZ_ASSERT(kpr_fmt_backend(&be, txt, sizeof(txt)));
	FUZZ_ASSERT(!kpr_parse_backend(txt, IPPROTO_UDP, &b, err, sizeof(err)));
	FUZZ_ASSERT(!memcmp(&a.addr, &b.addr, sizeof(a.addr)));
	FUZZ_ASSERT(a.state == b.state && a.weight == b.weight);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	if (!s)
		return 0;
	frontend(s, false);
	frontend(s, true);
	backend(s);
	free(s);
	return 0;
}
