/**
 * @file registrar.h  REGISTER and INVITE from phones' parkblf accounts
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_REGISTRAR_H
#define PARKBLF_REGISTRAR_H

void registrar_reply(struct sip *sip, const struct sip_msg *msg);
void redirect_reply(struct sip *sip, const struct sip_msg *msg,
		    const struct orbitmap *map, const char *domain);

#endif
