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
const struct config    *app_config(const struct app *app);
const struct orbitmap  *app_map(const struct app *app);
const struct store     *app_store(const struct app *app);
const struct notifier  *app_notifier(const struct app *app);
const struct alert     *app_alert(const struct app *app);
const struct history   *app_history(const struct app *app);
const struct upstream  *app_upstream(const struct app *app);
uint64_t app_started(const struct app *app);
uint32_t app_nat_count(const struct app *app);
struct tenant;
struct tenants;
const struct tenant   *app_default(const struct app *app);
const struct tenants  *app_tenants(const struct app *app);
const struct tenant   *app_tenant(const struct app *app,
				  const struct pl *name);

#endif
