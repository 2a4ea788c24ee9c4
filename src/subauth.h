/**
 * @file subauth.h  Digest authentication of phones (optional)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_SUBAUTH_H
#define PARKBLF_SUBAUTH_H

struct subauth;

int  subauth_load(struct subauth **sap, const char *file, const char *realm,
		  struct mbuf *errmb);
bool subauth_basic(const struct subauth *sa, const struct pl *user,
		   const struct pl *pass);
bool subauth_check(const struct subauth *sa, struct sip *sip,
		   const struct sip_msg *msg);

#endif
