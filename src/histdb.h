/**
 * @file histdb.h  The history of parked calls kept in state_db
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_HISTDB_H
#define PARKBLF_HISTDB_H

struct histdb;

/** One stored call, oldest first when loading */
typedef void (histdb_load_h)(const char *orbit,
			     const struct parked_call *pc,
			     uint64_t ended_at, void *arg);

int  histdb_open(struct histdb **hp, const char *path, uint32_t max);
int  histdb_add(struct histdb *h, const char *orbit,
		const struct parked_call *pc, uint64_t ended_at);
int  histdb_load(struct histdb *h, histdb_load_h *loadh, void *arg);

#endif
