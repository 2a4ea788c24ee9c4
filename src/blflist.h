/**
 * @file blflist.h  BLF lists (RFC 4662): every orbit in one subscription
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_BLFLIST_H
#define PARKBLF_BLFLIST_H

struct blflist;

int  blflist_alloc(struct blflist **blp, struct notifier *nt);
int  blflist_subscribe(struct blflist *bl, struct sip *sip,
		       struct sipevent_sock *sock, const struct sip_msg *msg,
		       const struct sipevent_event *se,
		       const struct config *cfg);
bool blflist_indialog(struct blflist *bl, const struct sip_msg *msg);
void blflist_orbit_changed(struct blflist *bl, const char *name);
void blflist_close_all(struct blflist *bl, enum sipevent_reason reason,
		       uint32_t retry_after);
uint32_t blflist_count(const struct blflist *bl);

#endif
