/**
 * @file resume.h  Phone subscriptions resumed after a restart
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_RESUME_H
#define PARKBLF_RESUME_H

struct resume;
struct persist;
struct notifier;

int  resume_load(struct resume **rsp, struct persist *db, struct sip *sip,
		 struct notifier *nt, const struct config *cfg);
void resume_start(struct resume *rs);
void resume_orbit_changed(struct resume *rs, const char *name);
void resume_close_all(struct resume *rs, enum sipevent_reason reason);
void resume_orbit_removed(struct resume *rs, const char *name);
bool resume_subscribe(struct resume *rs, const struct sip_msg *msg);
uint32_t resume_count(const struct resume *rs);

#endif
