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

/** Whether a tenant's rows stay */
typedef bool (histdb_keep_h)(const char *tenant, void *arg);

int  histdb_open(struct histdb **hp, const char *path);
int  histdb_add(struct histdb *h, const char *tenant, uint32_t max,
		const char *orbit, const struct parked_call *pc,
		uint64_t ended_at);
int  histdb_load(struct histdb *h, const char *tenant, uint32_t max,
		 histdb_load_h *loadh, void *arg);
int  histdb_drop(struct histdb *h, const char *tenant);
int  histdb_prune(struct histdb *h, histdb_keep_h *keeph, void *arg);

#endif
