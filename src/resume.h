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

int  resume_load(struct resume **rsp, struct persist *db,
		 struct notifier *nt);
void resume_start(struct resume *rs);

#endif
