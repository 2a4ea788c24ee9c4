/**
 * @file tenant.c  One PBX served by parkblf: its link, map and phones
 *
 * A tenant is one PBX: its upstream link, its orbit map, the store of
 * its parked calls, its phones' subscriptions (a notifier of its own,
 * on the daemon's shared SIP stack), its alerts and history.  Upstream
 * NOTIFYs are decoded into its store; a DN whose calls changed is
 * mapped to its orbits, and each orbit's watchers get a NOTIFY.
 * Nothing here is global: tenants come and go on reload (tenants.c)
 * without touching each other.  With state_db, every tenant's phone
 * subscriptions and history are kept there under its name (tenant_dbkey)
 * and its history is read back when it is made; resumed subscriptions
 * are told the truth once its PBX's first report is complete.
 *
 * Config keys (its own file's, or parkblf.conf's for the default
 * tenant): upstream_grace, unknown_retry_after, orbit_map, and those
 * its upstream link and notifier read; a tenant file's http_users.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "notifier.h"
#include "upstream.h"
#include "alert.h"
#include "history.h"
#include "histdb.h"
#include "metrics.h"
#include "reload.h"
#include "tenant.h"
#include "proxytrust.h"
#include "subauth.h"


enum {
	SWEEP_QUIET_MS    = 1000,   /**< Initial report over after this    */
	SWEEP_MAX_MS      = 10000,  /**< ... or at the latest after this   */
	STARTUP_RETRY_S   = 5,      /**< retry-after before the first up   */
	LIMIT_RETRY_S     = 60,     /**< retry-after over a limit          */
};

struct tenant {
	char *name;                /**< NAME of NAME.conf, or "default"  */
	struct config *cfg;
	struct orbitmap *map;
	struct store *store;
	struct notifier *nt;
	struct upstream *up;
	struct alert *alert;       /**< Calls waiting too long           */
	struct history *history;   /**< Calls that left their orbits     */
	struct histdb *histdb;     /**< ... kept in state_db, or NULL    */
	struct subauth *http_users; /**< Its own pages' users, or NULL   */
	struct reload *reload;     /**< Its orbit map's watch, or NULL   */
	struct tenant_env env;
	char *domain;              /**< The PBX's host[:port]            */
	tenant_orbit_h *orbith;
	tenant_map_h *maph;
	tenant_sweep_h *sweeph;
	void *arg;
	struct ptmr tmr_grace;      /**< Link down: until phones are told */
	struct ptmr tmr_sweep;      /**< End of a session's first report  */
	uint64_t report_start;     /**< tmr_jiffies of the session's first
				    NOTIFY, 0 before it               */
	bool sweep_pending;        /**< First report of a session running */
	bool ever_up;              /**< The link has been up once        */
	bool unknown;              /**< Down past the grace: no lamps    */
};


static void destructor(void *arg)
{
	struct tenant *t = arg;

	ptmr_cancel(&t->tmr_grace);
	ptmr_cancel(&t->tmr_sweep);
	t->reload = mem_deref(t->reload);
	t->up = mem_deref(t->up);
	t->nt = mem_deref(t->nt);
	mem_deref(t->alert);
	mem_deref(t->history);
	mem_deref(t->histdb);
	mem_deref(t->http_users);
	mem_deref(t->store);
	mem_deref(t->map);
	mem_deref(t->cfg);
	mem_deref(t->domain);
	mem_deref(t->name);
}


/* Log lines of a tenants_dir tenant name it; the default tenant's read
   as they did before tenants */
static const char *prefix(const struct tenant *t)
{
	return t->cfg->tenant ? t->name : "";
}


static const char *slash(const struct tenant *t)
{
	return t->cfg->tenant ? "/" : "";
}


static const char *colon(const struct tenant *t)
{
	return t->cfg->tenant ? ": " : "";
}


/* -v: what an orbit's keys show now (idle, occupied without details,
   or its calls).  The callers are named, as /status names them:
   privacy= is about phones. */
static void orbit_log(const struct tenant *t, const struct orbit *orbit)
{
	const struct le *le = list_head(store_calls(t->store, orbit->dn));
	const struct parked_call *pc;
	uint64_t now;

	if (!log_enabled(LOG_LEVEL_DEBUG))
		return;

	if (!le) {
		log_debug("app: %s%s%s (%s): %s", prefix(t), slash(t),
			  orbit->name, orbit->dn,
			  !store_known(t->store, orbit->dn) ?
			  "unknown (the PBX no longer reports it)" :
			  store_occupied(t->store, orbit->dn) ?
			  "occupied (the PBX gives no call details)" : "idle");
		return;
	}

	pc = le->data;
	now = store_now_ms();
	log_debug("app: %s%s%s (%s): %u call(s), the oldest %s%s%s%s waiting "
		  "%llu s", prefix(t), slash(t), orbit->name, orbit->dn,
		  list_count(le->list),
		  pc->number ? pc->number : "(no number)",
		  pc->name ? " \"" : "", pc->name ? pc->name : "",
		  pc->name ? "\"" : "",
		  (unsigned long long)(now > pc->parked_at ?
				       (now - pc->parked_at) / 1000 : 0));
}


/* Arm the orbit's alert for its oldest call; true if it changed
   between overdue and not */
static bool orbit_alert(struct tenant *t, const struct orbit *orbit)
{
	const struct le *le = list_head(store_calls(t->store, orbit->dn));
	const struct parked_call *pc = le ? le->data : NULL;

	return alert_update(t->alert, orbit->name,
			    alert_after(t->cfg, orbit),
			    pc ? pc->parked_at : 0, store_now_ms());
}


static void notify_orbit(struct tenant *t, const char *name)
{
	notifier_orbit_changed(t->nt, name);
	if (t->orbith)
		t->orbith(name, t->arg);
}


/* An orbit's oldest call has waited its alert time: its keys change */
static void alert_handler(const char *name, void *arg)
{
	notify_orbit(arg, name);
}


static void orbit_changed(struct orbit *orbit, void *arg)
{
	struct tenant *t = arg;

	orbit_log(t, orbit);
	(void)orbit_alert(t, orbit);
	notify_orbit(t, orbit->name);
}


/** A call that left its DN, on its way into the history */
struct ended {
	struct history *history;
	const struct tenant *t;
	const struct parked_call *pc;
	uint64_t now_ms;
	bool done;
};


/* The first orbit of a DN names it in the history */
static void history_record(struct orbit *orbit, void *arg)
{
	struct ended *e = arg;

	if (e->done)
		return;

	e->done = true;
	history_add(e->history, orbit->name, e->pc, e->now_ms);
	if (e->t->histdb)
		(void)histdb_add(e->t->histdb, tenant_dbkey(e->t),
				 e->t->cfg->history_max, orbit->name, e->pc,
				 e->now_ms);
}


static void call_ended(const char *dn, const struct parked_call *pc,
		       uint64_t now_ms, void *arg)
{
	struct tenant *t = arg;
	struct ended e = {t->history, t, pc, now_ms, false};

	orbitmap_apply_dn(t->map, dn, history_record, &e);
}


static void history_restored(const char *orbit,
			     const struct parked_call *pc, uint64_t ended_at,
			     void *arg)
{
	history_restore(arg, orbit, pc, ended_at);
}


static void dn_changed(const char *dn, void *arg)
{
	struct tenant *t = arg;

	orbitmap_apply_dn(t->map, dn, orbit_changed, t);
}


static void sweep_handler(void *arg)
{
	struct tenant *t = arg;

	t->sweep_pending = false;
	store_session_sweep(t->store);

	/* the PBX's picture is complete: phones of the last run may now
	   be told the truth (once: those told are told no more) */
	notifier_resume_start(t->nt);
	if (t->sweeph)
		t->sweeph(t->arg);
}


/* DNs the PBX names for the first time that a discover line covers
   become orbits before the store looks at them */
static void discover_orbits(struct tenant *t, const struct dn_update *upd)
{
	bool made = false;
	struct le *le;

	if (list_isempty(&t->map->rules))
		return;

	for (le = list_head(&upd->reports); le; le = le->next) {
		const struct dn_report *rep = le->data;
		const struct orbit *o = orbitmap_discover(t->map, rep->dn);

		/* BLF lists that cover every orbit take it in */
		if (o) {
			notifier_orbit_changed(t->nt, o->name);
			made = true;
		}
	}

	if (made && t->maph)
		t->maph(t->arg);
}


/* A phone subscribed to a name the map has not: a discover line may
   give it (the orbit is idle until the PBX reports a call there) */
static const struct orbit *orbit_on_demand(const struct pl *name,
					   void *arg)
{
	struct tenant *t = arg;
	const struct orbit *o = orbitmap_discover_name(t->map, name);

	if (o) {
		notifier_orbit_changed(t->nt, o->name);
		if (t->maph)
			t->maph(t->arg);
	}

	return o;
}


static void upstream_update(const struct dn_update *upd, void *arg)
{
	struct tenant *t = arg;
	int err;

	discover_orbits(t, upd);
	err = store_apply(t->store, t->map, upd, store_now_ms());
	if (err)
		log_warn("app: %s%sapplying an upstream update failed: %m",
			 prefix(t), colon(t), err);

	/* the first report of a session may come in many NOTIFYs: once
	   they pause, DNs it did not mention are idle.  Counted from its
	   first NOTIFY, not from the SUBSCRIBE: a PBX that answers late
	   (libre retransmits the SUBSCRIBE for up to 32 s) still gets its
	   report swept, and resumed phones told (notifier_resume_start) */
	if (t->sweep_pending && !t->report_start)
		t->report_start = tmr_jiffies();
	if (t->sweep_pending &&
	    tmr_jiffies() < t->report_start + SWEEP_MAX_MS)
		ptmr_start(&t->tmr_sweep, SWEEP_QUIET_MS, sweep_handler, t);
}


static void upstream_session(void *arg)
{
	struct tenant *t = arg;

	store_new_session(t->store);
	t->sweep_pending = true;
	t->report_start = 0;
	ptmr_cancel(&t->tmr_sweep);
}


/* Down past the grace period: no lamp may claim a state we don't know.
   Subscriptions end with reason=deactivated, which RFC 6665 phones
   answer by subscribing again at once; they then get 503 with
   Retry-After until the PBX is back, and their keys show "unknown".
   (probation would be the textbook reason, but e.g. baresip ignores
   its retry-after and waits 5 minutes.) */
static void grace_handler(void *arg)
{
	struct tenant *t = arg;

	t->unknown = true;
	log_warn("app: %s%supstream down for %u s: ending %u phone "
		 "subscription(s) (deactivated); new ones get 503 with "
		 "Retry-After %u until it is back", prefix(t),
		 colon(t), t->cfg->upstream_grace,
		 notifier_count(t->nt), t->cfg->unknown_retry_after);
	notifier_close_all(t->nt, SIPEVENT_DEACTIVATED, 0);
}


static void upstream_link(bool up, void *arg)
{
	struct tenant *t = arg;

	if (up) {
		ptmr_cancel(&t->tmr_grace);
		if (t->unknown)
			log_info("app: %s%supstream back: phones may "
				 "subscribe again", prefix(t),
				 colon(t));
		t->unknown = false;
		t->ever_up = true;
		return;
	}

	if (!t->unknown && !ptmr_isrunning(&t->tmr_grace))
		ptmr_start(&t->tmr_grace,
			  (uint64_t)t->cfg->upstream_grace * 1000,
			  grace_handler, t);
}


/* A SUBSCRIBE refused for now: 503 with Retry-After, counted */
static bool refuse(struct tenant *t, const struct sip_msg *msg,
		   const char *reason, uint32_t retry_after)
{
	(void)sip_replyf(t->env.sip, msg, 503, reason,
			 "Retry-After: %u\r\n"
			 "Content-Length: 0\r\n\r\n", retry_after);
	++metrics.subscribes_refused;

	return true;
}


/**
 * Take a new SUBSCRIBE of one of the tenant's phones
 *
 * @param t   Tenant
 * @param msg SUBSCRIBE (its sender checked)
 *
 * @return true if handled
 */
bool tenant_subscribe(struct tenant *t, const struct sip_msg *msg)
{
	static struct log_limit ll_full, ll_source;
	struct sa phone;

	if (!t || !msg)
		return false;

	proxytrust_phone(&phone, msg);

	/* full whoever asks: another instance behind a dispatcher may
	   take it (conf/kamailio/kamailio.cfg tries the next one on this
	   reason), unlike a phone over its own limit */
	if (notifier_full(t->nt)) {
		log_limited(&ll_full, LOG_LEVEL_WARN, "app: SUBSCRIBE from %J "
			    "refused: %u subscriptions (subscribe_max_total)",
			    &phone, t->cfg->subscribe_max_total);
		return refuse(t, msg, "Server Full", LIMIT_RETRY_S);
	}

	if (notifier_over_limit(t->nt, &phone)) {
		log_limited(&ll_source, LOG_LEVEL_WARN, "app: SUBSCRIBE from "
			    "%J refused: over subscribe_max_per_source",
			    &phone);
		return refuse(t, msg, "Too Many Subscriptions",
			      LIMIT_RETRY_S);
	}

	/* the PBX's state is not known: no lamp rather than a wrong one */
	if (!t->ever_up || t->unknown)
		return refuse(t, msg, "PBX State Unknown", t->unknown ?
			      t->cfg->unknown_retry_after : STARTUP_RETRY_S);

	return notifier_subscribe_handler(msg, t->nt);
}


/**
 * Take a SUBSCRIBE within a dialog of one of the tenant's phones
 *
 * @param t   Tenant
 * @param msg SUBSCRIBE
 *
 * @return true if handled (false: libre's notifier takes it)
 */
bool tenant_indialog(struct tenant *t, const struct sip_msg *msg)
{
	return t ? notifier_indialog(t->nt, msg) : false;
}


static bool orbit_differs(const struct orbit *a, const struct orbit *b)
{
	return strcmp(a->dn, b->dn) || strcmp(a->retrieve, b->retrieve) ||
		strcmp(a->park, b->park) || a->privacy != b->privacy ||
		(!a->label != !b->label) ||
		(a->label && strcmp(a->label, b->label)) ||
		a->alert_after != b->alert_after;
}


/**
 * Load the tenant's orbit map again; a bad one leaves the old in force
 *
 * @param t Tenant
 */
void tenant_map_reload(struct tenant *t)
{
	struct orbitmap *map = NULL, *old;
	unsigned added = 0, removed = 0, changed = 0;
	bool new_dns = false;
	struct le *le;
	int err;

	if (!t)
		return;

	old = t->map;
	err = orbitmap_load(&map, t->cfg->orbit_map, NULL);
	if (err) {
		log_error("reload: %s not loaded (%m); the map in force "
			  "stays (%u orbits)", t->cfg->orbit_map, err,
			  orbitmap_count(old));
		return;
	}

	/* orbits the PBX made stay if the new rules make them again */
	orbitmap_inherit(map, old);

	/* removed orbits end their subscriptions first */
	for (le = list_head(&old->orbits); le; le = le->next) {
		const struct orbit *o = le->data;
		struct pl name;

		pl_set_str(&name, o->name);
		if (!orbitmap_find(map, &name)) {
			(void)alert_update(t->alert, o->name, 0, 0, 0);
			notifier_orbit_removed(t->nt, o->name);
			++removed;
		}
	}

	t->map = map;
	notifier_set_map(t->nt, map);
	store_clear_unmapped(t->store, map);

	for (le = list_head(&map->orbits); le; le = le->next) {
		const struct orbit *o = le->data, *was;
		struct pl name;

		pl_set_str(&name, o->name);
		was = orbitmap_find(old, &name);
		if (!orbitmap_has_dn(old, o->dn))
			new_dns = true;

		/* a new alert time may make a waiting call overdue */
		if (!orbit_alert(t, o) && was && !orbit_differs(was, o))
			continue;

		if (was)
			++changed;
		else
			++added;
		notifier_orbit_changed(t->nt, o->name);
	}

	log_info("reload: %u orbits from %s (%u added, %u removed, %u "
		 "changed)", orbitmap_count(map), map->file, added, removed,
		 changed);
	mem_deref(old);
	if (t->maph)
		t->maph(t->arg);

	/* the PBX only reports a DN again when it changes: ask it for
	   everything, so new orbits start from the truth */
	if (new_dns)
		upstream_resync(t->up);
}


static void map_changed(void *arg)
{
	tenant_map_reload(arg);
}


/**
 * Make a tenant: its store, notifier and upstream link (not started)
 *
 * @param tp   Where to store the tenant
 * @param name Its name (NAME of tenants_dir/NAME.conf)
 * @param cfg  Its configuration (the tenant takes a reference)
 * @param map  Its orbit map (the tenant takes a reference)
 * @param env  The daemon's SIP stacks, which the tenant shares
 *
 * @return 0 if success, otherwise errorcode
 */
int tenant_alloc(struct tenant **tp, const char *name, struct config *cfg,
		 struct orbitmap *map, const struct tenant_env *env)
{
	struct tenant *t;
	int err;

	if (!tp || !name || !cfg || !map || !env)
		return EINVAL;

	t = mem_zalloc(sizeof(*t), destructor);
	if (!t)
		return ENOMEM;

	ptmr_init(&t->tmr_grace);
	ptmr_init(&t->tmr_sweep);
	t->cfg = mem_ref(cfg);
	t->map = mem_ref(map);
	t->env = *env;

	err = str_dup(&t->name, name);
	if (!err)
		err = upstream_domain(&t->domain, cfg->upstream_uri);
	/* a tenant file's http_users: its own pages' (parkblf.conf's are
	   the daemon's, httpd.c) */
	if (!err && cfg->tenant && cfg->http_users)
		err = subauth_load(&t->http_users, cfg->http_users,
				   TENANT_HTTP_REALM, NULL);
	if (!err)
		err = alert_alloc(&t->alert, alert_handler, t);
	if (!err)
		err = store_alloc(&t->store, dn_changed, t);
	if (!err)
		err = history_alloc(&t->history, cfg->history_max);
	if (err)
		goto out;
	store_set_endh(t->store, call_ended, t);

	err = notifier_alloc_shared(&t->nt, env->sip, env->sock, cfg,
				    t->store, t->domain, env->dlgs,
				    env->phones);
	if (err)
		goto out;
	notifier_set_map(t->nt, map);
	notifier_set_unknownh(t->nt, orbit_on_demand, t);
	notifier_set_alert(t->nt, t->alert);
	notifier_set_persist(t->nt, env->db, tenant_dbkey(t));

	/* its calls of before (a restart, or its file changed) */
	if (env->histdb) {
		t->histdb = mem_ref(env->histdb);
		(void)histdb_load(t->histdb, tenant_dbkey(t),
				  cfg->history_max, history_restored,
				  t->history);
	}

	err = upstream_alloc(&t->up, env->usip, env->usock, env->ureplay,
			     cfg,
			     upstream_update, upstream_session, upstream_link,
			     t);

 out:
	if (err)
		mem_deref(t);
	else
		*tp = t;

	return err;
}


/**
 * Set what the tenant tells its owner
 *
 * @param t      Tenant
 * @param orbith An orbit's keys changed, or NULL
 * @param maph   The orbit map changed, or NULL
 * @param sweeph The PBX's first report is complete, or NULL
 * @param arg    Handler argument
 */
void tenant_set_hooks(struct tenant *t, tenant_orbit_h *orbith,
		      tenant_map_h *maph, tenant_sweep_h *sweeph, void *arg)
{
	if (!t)
		return;

	t->orbith = orbith;
	t->maph = maph;
	t->sweeph = sweeph;
	t->arg = arg;
}


/**
 * Watch the tenant's orbit map file (not on SIGHUP: the owner reloads
 * it then)
 *
 * @param t Tenant
 *
 * @return 0 if success, otherwise errorcode
 */
int tenant_watch_map(struct tenant *t)
{
	if (!t)
		return EINVAL;

	t->reload = mem_deref(t->reload);

	return reload_watch(&t->reload, t->cfg->orbit_map, map_changed, t);
}


/**
 * Subscribe upstream
 *
 * @param t Tenant
 *
 * @return 0 if success, otherwise errorcode
 */
int tenant_start(struct tenant *t)
{
	if (!t)
		return EINVAL;

	log_info("app: %s%s%u orbits from %s; upstream %s (Event: %s)",
		 prefix(t), colon(t),
		 orbitmap_count(t->map), t->map->file, t->cfg->upstream_uri,
		 t->cfg->upstream_event);

	return upstream_start(t->up);
}


/**
 * Stop the tenant's upstream link and timers (un-SUBSCRIBE)
 *
 * @param t Tenant
 */
void tenant_stop(struct tenant *t)
{
	if (!t)
		return;

	ptmr_cancel(&t->tmr_grace);
	ptmr_cancel(&t->tmr_sweep);
	t->reload = mem_deref(t->reload);
	t->up = mem_deref(t->up);
}


/**
 * End every phone subscription of the tenant
 *
 * @param t           Tenant
 * @param reason      Subscription-State reason
 * @param retry_after retry-after told, 0 for none
 */
void tenant_close(struct tenant *t, enum sipevent_reason reason,
		  uint32_t retry_after)
{
	if (t)
		notifier_close_all(t->nt, reason, retry_after);
}


/**
 * Forget what state_db keeps of the tenant (its file is gone): its
 * history (its subscriptions' rows go as they end)
 *
 * @param t Tenant
 */
void tenant_forget(struct tenant *t)
{
	if (t && t->histdb)
		(void)histdb_drop(t->histdb, tenant_dbkey(t));
}


/** @return The tenant's name */
const char *tenant_name(const struct tenant *t)
{
	return t ? t->name : NULL;
}


/**
 * The tenant's name in state_db: NAME of tenants_dir/NAME.conf, or ""
 * for parkblf.conf's own PBX (as in a database from before tenants)
 *
 * @param t Tenant
 *
 * @return Its key
 */
const char *tenant_dbkey(const struct tenant *t)
{
	return t && t->cfg->tenant ? t->name : "";
}


/** @return The PBX's host[:port] */
const char *tenant_domain(const struct tenant *t)
{
	return t ? t->domain : NULL;
}


/** @return The tenant's configuration */
const struct config *tenant_config(const struct tenant *t)
{
	return t ? t->cfg : NULL;
}


/** @return The orbit map in force */
const struct orbitmap *tenant_map(const struct tenant *t)
{
	return t ? t->map : NULL;
}


/** @return The parked calls */
const struct store *tenant_store(const struct tenant *t)
{
	return t ? t->store : NULL;
}


/** @return The phones' subscriptions */
struct notifier *tenant_notifier(const struct tenant *t)
{
	return t ? t->nt : NULL;
}


/** @return The alert timers (calls waiting too long) */
const struct alert *tenant_alert(const struct tenant *t)
{
	return t ? t->alert : NULL;
}


/** @return The calls that left the orbits */
const struct history *tenant_history(const struct tenant *t)
{
	return t ? t->history : NULL;
}


/** @return The calls that left the orbits, to restore into */
struct history *tenant_history_mut(struct tenant *t)
{
	return t ? t->history : NULL;
}


/** @return The users of the tenant's own HTTP pages, NULL if none */
const struct subauth *tenant_http_users(const struct tenant *t)
{
	return t ? t->http_users : NULL;
}


/** @return The upstream link */
const struct upstream *tenant_upstream(const struct tenant *t)
{
	return t ? t->up : NULL;
}
