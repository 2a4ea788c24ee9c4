/**
 * @file alert.h  Calls waiting too long: one timer per orbit
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_ALERT_H
#define PARKBLF_ALERT_H

struct alert;

/** An orbit's oldest call has just waited its alert time */
typedef void (alert_h)(const char *name, void *arg);

int  alert_alloc(struct alert **alp, alert_h *h, void *arg);
bool alert_update(struct alert *al, const char *name, uint32_t after_s,
		  uint64_t oldest_at, uint64_t now_ms);
uint32_t alert_overdue(const struct alert *al, const char *name);
uint32_t alert_after(const struct config *cfg, const struct orbit *orbit);
uint32_t alert_count(const struct alert *al);

#endif
