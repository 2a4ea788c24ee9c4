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

struct config;

int  resume_load(struct resume **rsp, struct persist *db,
		 struct notifier *nt, const struct config *cfg);
void resume_start(struct resume *rs);

#endif
