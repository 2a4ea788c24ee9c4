/**
 * @file proxytrust.h  A phone's address behind a trusted proxy
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_PROXYTRUST_H
#define PARKBLF_PROXYTRUST_H

struct acl;

int  proxytrust_set(const char *spec);
void proxytrust_phone(struct sa *phone, const struct sip_msg *msg);
bool proxytrust_via(struct sa *phone, const struct sip_msg *msg,
		    const struct acl *trusted);

#endif
