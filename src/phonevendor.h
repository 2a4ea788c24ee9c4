/**
 * @file phonevendor.h  The phone vendors parkblf knows, one list
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_PHONEVENDOR_H
#define PARKBLF_PHONEVENDOR_H

struct pl;
struct re_printf;

/** Index into every per-vendor table (provision, /parks.xml) */
enum phonevendor {
	PHONEVENDOR_YEALINK = 0,
	PHONEVENDOR_POLYCOM,
	PHONEVENDOR_SNOM,
	PHONEVENDOR_GRANDSTREAM,
	PHONEVENDOR_CISCO,
	PHONEVENDOR_FANVIL,
	PHONEVENDOR_N
};

int  phonevendor_find(enum phonevendor *vp, const struct pl *name);
const char *phonevendor_name(enum phonevendor v);
int  phonevendors_print(struct re_printf *pf, void *unused);

#endif
