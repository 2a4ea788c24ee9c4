/**
 * @file app.h  The running daemon: SIP stack, notifier, upstream, store
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_APP_H
#define PARKBLF_APP_H

struct app;

int  app_alloc(struct app **appp, struct config *cfg,
	       struct orbitmap *map);
void app_shutdown(struct app *app);

#endif
