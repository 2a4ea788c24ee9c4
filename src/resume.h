/**
 * @file resume.h  Phone subscriptions resumed after a restart
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_RESUME_H
#define PARKBLF_RESUME_H

struct persist;
struct notifier;

/** The notifier of a row's tenant, and its subscribe_max_expires; NULL
    if that tenant is not served */
typedef struct notifier *(resume_find_h)(const char *tenant,
					 uint32_t *max_expires, void *arg);

int  resume_load(struct persist *db, resume_find_h *findh, void *arg);

#endif
