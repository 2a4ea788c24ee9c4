/**
 * @file history.h  What happened today: calls that left their orbit
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_HISTORY_H
#define PARKBLF_HISTORY_H

struct history;
struct mbuf;

int  history_alloc(struct history **hp, uint32_t max);
void history_add(struct history *h, const char *orbit,
		 const struct parked_call *pc, uint64_t ended_at);
void history_restore(struct history *h, const char *orbit,
		     const struct parked_call *pc, uint64_t ended_at);
int  history_json(struct mbuf *mb, const struct history *h, uint32_t n);
int  history_metrics(struct mbuf *mb, const struct history *h);

#endif
