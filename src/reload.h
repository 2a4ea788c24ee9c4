/**
 * @file reload.h  Orbit map reload: on SIGHUP and when the file changes
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_RELOAD_H
#define PARKBLF_RELOAD_H

struct reload;
typedef void (reload_h)(void *arg);

int reload_alloc(struct reload **rlp, const char *path, reload_h *h,
		 void *arg);
int reload_watch(struct reload **rlp, const char *path, reload_h *h,
		 void *arg);

#endif
