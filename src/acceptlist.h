/**
 * @file acceptlist.h  Whether a request's Accept headers allow a type
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_ACCEPTLIST_H
#define PARKBLF_ACCEPTLIST_H

struct sip_msg;

bool acceptlist_allows(const struct sip_msg *msg, const char *ctype);

#endif
