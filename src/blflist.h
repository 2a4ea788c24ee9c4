/**
 * @file blflist.h  BLF lists (RFC 4662): every orbit in one subscription
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_BLFLIST_H
#define PARKBLF_BLFLIST_H

struct blflist;
struct persist;
struct persist_sub;

int  blflist_alloc(struct blflist **blp, struct notifier *nt,
		   struct sip *sip, const struct config *cfg);
void blflist_set_persist(struct blflist *bl, struct persist *db,
			 const char *tenant);
int  blflist_subscribe(struct blflist *bl, const struct sip_msg *msg);
bool blflist_indialog(struct blflist *bl, const struct sip_msg *msg);
void blflist_orbit_changed(struct blflist *bl, const char *name);
void blflist_close_all(struct blflist *bl, enum sipevent_reason reason,
		       uint32_t retry_after);
bool blflist_ending(const struct blflist *bl);
uint32_t blflist_count(const struct blflist *bl);
void blflist_flush(struct blflist *bl);
int  blflist_resume(struct blflist *bl, const struct persist_sub *s,
		    uint32_t cseq, uint32_t version);
void blflist_resume_start(struct blflist *bl);

#endif
