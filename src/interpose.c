/**
 * @file interpose.c  Check that libre calls the executable's functions
 *
 * tmrheap.c and randbuf.c define parts of libre's API in parkblf
 * itself; libre.so resolves its own calls to them through the global
 * scope, so what dlsym(RTLD_DEFAULT) finds is what libre calls.  Were
 * the definitions not exported (another linker, a static libre),
 * libre would quietly keep its own: its timers would then never fire,
 * since re_main polls parkblf's heap.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1  /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


/**
 * Check that libre binds to the executable's definitions
 *
 * @param area Log prefix, and the symbol prefix in the hint
 * @param apiv Functions, by name
 * @param apic Number of functions
 *
 * @return 0 if it does, ENOSYS if not
 */
int interpose_check(const char *area, const struct interposed *apiv,
		    size_t apic)
{
	size_t i;

	for (i = 0; i < apic; i++) {

		if (dlsym(RTLD_DEFAULT, apiv[i].name) == apiv[i].fn)
			continue;

		log_error("%s: libre does not call this executable's %s; "
			  "link with -Wl,--export-dynamic-symbol=%s_*",
			  area, apiv[i].name, area);
		return ENOSYS;
	}

	return 0;
}
