/**
 * @file tenant.h  One PBX served by parkblf: its link, map and phones
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_TENANT_H
#define PARKBLF_TENANT_H

struct tenant;
struct subdlgs;
struct pacer_phones;

/** What every tenant shares: the daemon's SIP stacks */
struct tenant_env {
	struct sip *sip;              /**< The phones' stack              */
	struct sipevent_sock *sock;   /**< ... its event socket           */
	struct subdlgs *dlgs;         /**< ... its orbit watchers' dialogs */
	struct pacer_phones *phones;  /**< ... its phones' NOTIFY budgets  */
	struct sip *usip;             /**< The upstream links' stack      */
	struct sipevent_sock *usock;  /**< ... its event socket           */
	struct upreplay *ureplay;     /**< ... its NOTIFYs' answers       */
	struct persist *db;           /**< state_db's subscriptions, or NULL */
	struct histdb *histdb;        /**< ... its history, or NULL       */
};

/** An orbit's keys changed (a call, an alert) */
typedef void (tenant_orbit_h)(const char *name, void *arg);
/** The orbit map changed */
typedef void (tenant_map_h)(void *arg);
/** The PBX's first report of a session is complete */
typedef void (tenant_sweep_h)(void *arg);

int  tenant_alloc(struct tenant **tp, const char *name,
		  struct config *cfg, struct orbitmap *map,
		  const struct tenant_env *env);
void tenant_set_hooks(struct tenant *t, tenant_orbit_h *orbith,
		      tenant_map_h *maph, tenant_sweep_h *sweeph, void *arg);
int  tenant_start(struct tenant *t);
int  tenant_watch_map(struct tenant *t);
bool tenant_subscribe(struct tenant *t, const struct sip_msg *msg);
bool tenant_indialog(struct tenant *t, const struct sip_msg *msg);
void tenant_map_reload(struct tenant *t);
void tenant_stop(struct tenant *t);
void tenant_close(struct tenant *t, enum sipevent_reason reason,
		  uint32_t retry_after);

void tenant_forget(struct tenant *t);

const char *tenant_name(const struct tenant *t);
const char *tenant_dbkey(const struct tenant *t);
const char *tenant_domain(const struct tenant *t);
const struct config   *tenant_config(const struct tenant *t);
const struct orbitmap *tenant_map(const struct tenant *t);
const struct store    *tenant_store(const struct tenant *t);
struct notifier       *tenant_notifier(const struct tenant *t);
const struct alert    *tenant_alert(const struct tenant *t);
const struct history  *tenant_history(const struct tenant *t);
struct history        *tenant_history_mut(struct tenant *t);
const struct upstream *tenant_upstream(const struct tenant *t);
struct subauth;
const struct subauth  *tenant_http_users(const struct tenant *t);

/** Realm of the HTTP pages' basic challenge (and users files) */
#define TENANT_HTTP_REALM "parkblf"



/* tenants: the tenants of tenants_dir, and the choice of one */

struct tenants;
typedef int (tenants_prepare_h)(const struct config *cfg, void *arg);
/** Tenants went for good: addresses they listened on may be unused */
typedef void (tenants_release_h)(void *arg);
typedef void (tenant_apply_h)(const struct tenant *t, void *arg);
/** An orbit of a tenant of tenants_dir changed */
typedef void (tenants_orbit_h)(const struct tenant *t, const char *orbit,
			       void *arg);
/** A tenant's orbit map changed, or the tenant came, changed or went */
typedef void (tenants_changed_h)(const char *name, void *arg);

int  tenants_alloc(struct tenants **tsp, const struct config *cfg,
		   const struct tenant_env *env, tenants_prepare_h *preph,
		   void *arg);
void tenants_set_default(struct tenants *ts, struct tenant *t);
void tenants_set_release(struct tenants *ts, tenants_release_h *releaseh);
bool tenants_listen_used(const struct tenants *ts, const struct sa *la);
void tenants_set_hooks(struct tenants *ts, tenants_orbit_h *orbith,
		       tenants_changed_h *changedh, void *arg);
const struct tenant *tenants_find(const struct tenants *ts,
				  const struct pl *name);
int  tenants_load(struct tenants *ts);
int  tenants_watch(struct tenants *ts);
struct tenant *tenants_choose(const struct tenants *ts,
			      const struct sip_msg *msg);
struct tenant *tenants_find_dbkey(const struct tenants *ts,
				  const char *key);
void tenants_apply(const struct tenants *ts, tenant_apply_h *h, void *arg);
uint32_t tenants_count(const struct tenants *ts);
void tenants_stop(struct tenants *ts);
void tenants_close(struct tenants *ts, enum sipevent_reason reason,
		   uint32_t retry_after);
int  tenants_check(const struct config *cfg, bool test_only,
		   struct mbuf *errmb, uint32_t *countp);

#endif
