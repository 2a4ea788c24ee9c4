/**
 * @file phonevendor.c  The phone vendors parkblf knows, one list
 *
 * `parkblf provision VENDOR` and `GET /parks.xml?vendor=VENDOR` take
 * the same names (and aliases), so that what one accepts the other
 * does too.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "phonevendor.h"


static const struct {
	const char *name;
	const char *alias;
} names[PHONEVENDOR_N] = {
	[PHONEVENDOR_YEALINK]     = {"yealink",     NULL},
	[PHONEVENDOR_POLYCOM]     = {"polycom",     "poly"},
	[PHONEVENDOR_SNOM]        = {"snom",        NULL},
	[PHONEVENDOR_GRANDSTREAM] = {"grandstream", NULL},
	[PHONEVENDOR_CISCO]       = {"cisco",       "cisco-mpp"},
	[PHONEVENDOR_FANVIL]      = {"fanvil",      NULL},
};


/**
 * Find a vendor by name or alias
 *
 * @param vp   Where to store the vendor
 * @param name Name as given, case-insensitive
 *
 * @return 0 if found, ENOENT if unknown, EINVAL for bad arguments
 */
int phonevendor_find(enum phonevendor *vp, const struct pl *name)
{
	size_t i;

	if (!vp || !pl_isset(name))
		return EINVAL;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!pl_strcasecmp(name, names[i].name) ||
		    (names[i].alias && !pl_strcasecmp(name, names[i].alias))) {
			*vp = (enum phonevendor)i;
			return 0;
		}
	}

	return ENOENT;
}


/**
 * The name of a vendor
 *
 * @param v Vendor
 *
 * @return Its name, "?" if out of range
 */
const char *phonevendor_name(enum phonevendor v)
{
	return (unsigned)v < PHONEVENDOR_N ? names[v].name : "?";
}


/**
 * Print the vendor names, comma-separated, aliases in parentheses
 *
 * @param pf     Print function
 * @param unused Unused
 *
 * @return 0 if success, otherwise errorcode
 */
int phonevendors_print(struct re_printf *pf, void *unused)
{
	size_t i;
	int err = 0;

	(void)unused;

	for (i = 0; i < ARRAY_SIZE(names) && !err; i++) {
		err = re_hprintf(pf, "%s%s", i ? ", " : "", names[i].name);
		if (names[i].alias)
			err |= re_hprintf(pf, " (%s)", names[i].alias);
	}

	return err;
}
