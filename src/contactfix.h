/**
 * @file contactfix.h  A SUBSCRIBE's Contact, pointed where the phone is
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_CONTACTFIX_H
#define PARKBLF_CONTACTFIX_H

struct sip_msg;

int contactfix_copy(struct sip_msg **msgp, const struct sip_msg *msg,
		    const struct sa *at, enum sip_transp tp);

#endif
