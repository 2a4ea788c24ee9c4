/**
 * @file app.c  The running daemon: SIP stack, notifier, upstream, store
 *
 * Wires the pieces together: upstream NOTIFYs are decoded into the
 * store; a DN whose calls changed is mapped to its orbits, and each
 * orbit's watchers get a NOTIFY.  Config keys: sip_listen,
 * http_listen.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "notifier.h"
#include "upstream.h"
#include "app.h"
#include "acl.h"
#include "registrar.h"
#include "reload.h"
#include "subauth.h"
#include "persist.h"
#include "resume.h"
#include "metrics.h"
#include "httpd.h"
#include "alert.h"
#include "history.h"
#include "histdb.h"


enum {
	STOP_DEADLINE_MS  = 3000,   /**< Longest graceful stop             */
	SWEEP_QUIET_MS    = 1000,   /**< Initial report over after this    */
	SWEEP_MAX_MS      = 10000,  /**< ... or at the latest after this   */
	STARTUP_RETRY_S   = 5,      /**< retry-after before the first up   */
	LIMIT_RETRY_S     = 60,     /**< retry-after over a limit          */
	PERSIST_STOP_MS   = 1000,   /**< Stop with subscriptions kept      */
	SHUTDOWN_RETRY_S  = 10,     /**< retry-after told to phones        */
	MAX_TRANSPORTS    = 64,
	CTRANS_HASH_SIZE  = 65536,  /**< NOTIFY transactions, see app_alloc */
	STRANS_HASH_SIZE  = 32768,  /**< SUBSCRIBE transactions            */
	NOTIFIER_HASH_SIZE = 1024,  /**< List subscriptions (libre's)     */
	EXIT_TIMERS_MAX   = 4096,   /**< libre's waits ended at exit       */
};

struct app {
	struct config *cfg;
	struct orbitmap *map;
	struct store *store;
	struct dnsc *dnsc;
	struct sip *sip;
	struct sipevent_sock *sock;
	struct sip_lsnr *lsnr;
	struct notifier *nt;
	struct upstream *up;
	struct acl *acl;           /**< subscribe_allow              */
	struct subauth *auth;      /**< subscribe_users, or NULL     */
	struct persist *db;        /**< state_db, or NULL            */
	struct resume *resume;     /**< Subscriptions of the last run */
	struct sip_lsnr *lsnr_dlg; /**< Sees in-dialog SUBSCRIBEs    */
	struct tls *tls;           /**< sip_tls_cert, or NULL        */
	struct sip *usip;          /**< The upstream link's own stack */
	struct sipevent_sock *usock; /**< Its NOTIFYs                 */
	struct sip_lsnr *ulsnr;    /**< Its OPTIONS                  */
	struct tls *utls;          /**< TLS to the PBX, or NULL      */
	unsigned sips_open;        /**< Stopping: stacks not drained */
	struct reload *reload;     /**< Orbit map watch              */
	struct httpd *httpd;       /**< NULL without http_listen    */
	struct alert *alert;       /**< Calls waiting too long       */
	struct history *history;   /**< Calls that left their orbits */
	struct histdb *histdb;     /**< ... kept in state_db, or NULL */
	struct memtrim *trim;      /**< Heap trim after storms       */
	char *domain;
	uint64_t started;          /**< Start time, ms since the epoch  */
	struct ptmr tmr_stop;
	struct ptmr tmr_grace;      /**< Link down: until phones are told */
	struct ptmr tmr_sweep;      /**< End of a session's first report */
	uint64_t session_start;    /**< tmr_jiffies of the last SUBSCRIBE */
	bool sweep_pending;        /**< First report of a session running */
	bool ever_up;              /**< The link has been up once        */
	bool unknown;              /**< Down past the grace: no lamps    */
	bool stopping;
};


static void destructor(void *arg)
{
	struct app *app = arg;

	ptmr_cancel(&app->tmr_stop);
	ptmr_cancel(&app->tmr_grace);
	ptmr_cancel(&app->tmr_sweep);
	app->reload = mem_deref(app->reload);
	app->httpd = mem_deref(app->httpd);
	app->trim = mem_deref(app->trim);
	app->up = mem_deref(app->up);
	/* subscriptions kept in the database must not be ended by the
	   libre objects going away: no transport, no final NOTIFY */
	if (app->db && app->sip)
		sip_transp_flush(app->sip);
	app->resume = mem_deref(app->resume);
	app->nt = mem_deref(app->nt);
	app->alert = mem_deref(app->alert);
	app->history = mem_deref(app->history);
	app->histdb = mem_deref(app->histdb);
	app->sock = mem_deref(app->sock);
	app->lsnr = mem_deref(app->lsnr);
	app->lsnr_dlg = mem_deref(app->lsnr_dlg);
	app->usock = mem_deref(app->usock);
	app->ulsnr = mem_deref(app->ulsnr);
	sipsock_reset();
	if (app->usip) {
		sip_close(app->usip, true);
		app->usip = mem_deref(app->usip);
	}
	if (app->sip) {
		sip_close(app->sip, true);
		app->sip = mem_deref(app->sip);
	}
	wiredump_close();
	mem_deref(app->utls);
	mem_deref(app->tls);
	mem_deref(app->dnsc);
	mem_deref(app->acl);
	mem_deref(app->auth);
	mem_deref(app->db);
	mem_deref(app->store);
	mem_deref(app->map);
	mem_deref(app->cfg);
	mem_deref(app->domain);

	/* What still waits is libre's, e.g. a subscription whose
	   un-SUBSCRIBE the PBX answered, waiting 10 s for the final
	   NOTIFY that some PBXs never send.  It holds its SIP stack,
	   the stack its sockets: the loop is over, so are the waits. */
	(void)ptmr_expire_all(EXIT_TIMERS_MAX);
}


/* -v: what an orbit's keys show now (idle, occupied without details,
   or its calls).  The callers are named, as /status names them:
   privacy= is about phones. */
static void orbit_log(const struct app *app, const struct orbit *orbit)
{
	const struct le *le = list_head(store_calls(app->store, orbit->dn));
	const struct parked_call *pc;
	uint64_t now;

	if (!log_enabled(LOG_LEVEL_DEBUG))
		return;

	if (!le) {
		log_debug("app: %s (%s): %s", orbit->name, orbit->dn,
			  !store_known(app->store, orbit->dn) ?
			  "unknown (the PBX no longer reports it)" :
			  store_occupied(app->store, orbit->dn) ?
			  "occupied (the PBX gives no call details)" : "idle");
		return;
	}

	pc = le->data;
	now = store_now_ms();
	log_debug("app: %s (%s): %u call(s), the oldest %s%s%s%s waiting "
		  "%llu s", orbit->name, orbit->dn, list_count(le->list),
		  pc->number ? pc->number : "(no number)",
		  pc->name ? " \"" : "", pc->name ? pc->name : "",
		  pc->name ? "\"" : "",
		  (unsigned long long)(now > pc->parked_at ?
				       (now - pc->parked_at) / 1000 : 0));
}


/* Arm the orbit's alert for its oldest call; true if it changed
   between overdue and not */
static bool orbit_alert(struct app *app, const struct orbit *orbit)
{
	const struct le *le = list_head(store_calls(app->store, orbit->dn));
	const struct parked_call *pc = le ? le->data : NULL;

	return alert_update(app->alert, orbit->name,
			    alert_after(app->cfg, orbit),
			    pc ? pc->parked_at : 0, store_now_ms());
}


/* An orbit's oldest call has waited its alert time: its keys change */
static void alert_handler(const char *name, void *arg)
{
	struct app *app = arg;

	notifier_orbit_changed(app->nt, name);
	httpd_orbit_changed(app->httpd, name);
}


static void orbit_changed(struct orbit *orbit, void *arg)
{
	struct app *app = arg;

	orbit_log(app, orbit);
	(void)orbit_alert(app, orbit);
	notifier_orbit_changed(app->nt, orbit->name);
	httpd_orbit_changed(app->httpd, orbit->name);
}


/** A call that left its DN, on its way into the history */
struct ended {
	struct history *history;
	struct histdb *histdb;
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
	if (e->histdb)
		(void)histdb_add(e->histdb, orbit->name, e->pc, e->now_ms);
}


static void history_restored(const char *orbit,
			     const struct parked_call *pc, uint64_t ended_at,
			     void *arg)
{
	history_restore(arg, orbit, pc, ended_at);
}


static void call_ended(const char *dn, const struct parked_call *pc,
		       uint64_t now_ms, void *arg)
{
	struct app *app = arg;
	struct ended e = {app->history, app->histdb, pc, now_ms, false};

	orbitmap_apply_dn(app->map, dn, history_record, &e);
}


static void dn_changed(const char *dn, void *arg)
{
	struct app *app = arg;

	orbitmap_apply_dn(app->map, dn, orbit_changed, app);
}


static void sweep_handler(void *arg)
{
	struct app *app = arg;

	app->sweep_pending = false;
	store_session_sweep(app->store);

	/* the PBX's picture is complete: phones of the last run may now
	   be told the truth */
	resume_start(app->resume);
}


/* DNs the PBX names for the first time that a discover line covers
   become orbits before the store looks at them */
static void discover_orbits(struct app *app, const struct dn_update *upd)
{
	bool made = false;
	struct le *le;

	if (list_isempty(&app->map->rules))
		return;

	for (le = list_head(&upd->reports); le; le = le->next) {
		const struct dn_report *rep = le->data;
		const struct orbit *o = orbitmap_discover(app->map, rep->dn);

		/* BLF lists that cover every orbit take it in */
		if (o) {
			notifier_orbit_changed(app->nt, o->name);
			made = true;
		}
	}

	if (made)
		httpd_map_changed(app->httpd);
}


static void upstream_update(const struct dn_update *upd, void *arg)
{
	struct app *app = arg;
	int err;

	discover_orbits(app, upd);
	err = store_apply(app->store, app->map, upd, store_now_ms());
	if (err)
		log_warn("app: applying an upstream update failed: %m", err);

	/* the first report of a session may come in many NOTIFYs: once
	   they pause, DNs it did not mention are idle */
	if (app->sweep_pending &&
	    tmr_jiffies() < app->session_start + SWEEP_MAX_MS)
		ptmr_start(&app->tmr_sweep, SWEEP_QUIET_MS, sweep_handler,
			  app);
}


static void upstream_session(void *arg)
{
	struct app *app = arg;

	store_new_session(app->store);
	app->sweep_pending = true;
	app->session_start = tmr_jiffies();
	ptmr_cancel(&app->tmr_sweep);
}


/* Down past the grace period: no lamp may claim a state we don't know.
   Subscriptions end with reason=deactivated, which RFC 6665 phones
   answer by subscribing again at once; they then get 503 with
   Retry-After until the PBX is back, and their keys show "unknown".
   (probation would be the textbook reason, but e.g. baresip ignores
   its retry-after and waits 5 minutes.) */
static void grace_handler(void *arg)
{
	struct app *app = arg;

	app->unknown = true;
	log_warn("app: upstream down for %u s: ending %u phone "
		 "subscription(s) (deactivated); new ones get 503 with "
		 "Retry-After %u until it is back", app->cfg->upstream_grace,
		 notifier_count(app->nt), app->cfg->unknown_retry_after);
	notifier_close_all(app->nt, SIPEVENT_DEACTIVATED, 0);
}


static void upstream_link(bool up, void *arg)
{
	struct app *app = arg;

	if (up) {
		ptmr_cancel(&app->tmr_grace);
		if (app->unknown)
			log_info("app: upstream back: phones may subscribe "
				 "again");
		app->unknown = false;
		app->ever_up = true;
		return;
	}

	if (!app->unknown && !ptmr_isrunning(&app->tmr_grace))
		ptmr_start(&app->tmr_grace,
			  (uint64_t)app->cfg->upstream_grace * 1000,
			  grace_handler, app);
}


/* subscribe_allow, then subscriber credentials if subscribe_users is
   set; refused requests are answered here (403, 401), statelessly (a
   refusal keeps nothing), except an ACK, which gets no answer */
static bool allowed(struct app *app, const struct sip_msg *msg)
{
	const bool ack = !pl_strcmp(&msg->met, "ACK");

	if (!acl_allows(app->acl, &msg->src)) {
		log_info("app: %r from %J refused: not in subscribe_allow",
			 &msg->met, &msg->src);
		if (!ack)
			(void)sip_reply(app->sip, msg, 403, "Forbidden");
		return false;
	}

	return !app->auth || ack || subauth_check(app->auth, app->sip, msg);
}


/* A SUBSCRIBE refused for now: 503 with Retry-After, counted */
static bool refuse(struct app *app, const struct sip_msg *msg,
		   const char *reason, uint32_t retry_after)
{
	(void)sip_replyf(app->sip, msg, 503, reason,
			 "Retry-After: %u\r\n"
			 "Content-Length: 0\r\n\r\n", retry_after);
	++metrics.subscribes_refused;

	return true;
}


/* A new SUBSCRIBE (dialog_handler has checked who sends it) */
static bool subscribe_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	if (app->stopping)
		return refuse(app, msg, "Shutting Down", SHUTDOWN_RETRY_S);

	if (notifier_over_limit(app->nt, &msg->src)) {
		log_warn("app: SUBSCRIBE from %J refused: over "
			 "subscribe_max_total or subscribe_max_per_source",
			 &msg->src);
		return refuse(app, msg, "Too Many Subscriptions",
			      LIMIT_RETRY_S);
	}

	/* the PBX's state is not known: no lamp rather than a wrong one */
	if (!app->ever_up || app->unknown)
		return refuse(app, msg, "PBX State Unknown", app->unknown ?
			      app->cfg->unknown_retry_after : STARTUP_RETRY_S);

	return notifier_subscribe_handler(msg, app->nt);
}


/* RFC 3261 8.1.1: a request without From, To, Call-ID or CSeq has no
   well-formed answer (8.2.6.2 copies them into it) */
static bool answerable(const struct sip_msg *msg)
{
	return pl_isset(&msg->from.auri) && pl_isset(&msg->to.auri) &&
		pl_isset(&msg->callid) && pl_isset(&msg->cseq.met);
}


/* Every request passes here first.  Who sends it is checked for all
   of them, in a dialog or not (subscribe_allow, credentials).
   SUBSCRIBEs of an orbit watcher's dialog (also one resumed from the
   database, and a retransmitted first SUBSCRIBE, answered statelessly
   before) are answered here; list subscriptions' go on to libre's
   notifier, which answers unknown dialogs 481. */
static bool dialog_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;
	const bool subscribe = !pl_strcmp(&msg->met, "SUBSCRIBE");
	struct pl maddr;

	/* the first listener: sees every request first */
	sipsock_tune(msg);

	if (!answerable(msg)) {
		log_debug("app: %r from %J dropped: no From, To, Call-ID or "
			  "CSeq", &msg->met, &msg->src);
		return true;
	}

	/* libre would answer to a Via's maddr, anywhere: answers go only
	   where the request came from */
	if (!msg_param_decode(&msg->via.params, "maddr", &maddr)) {
		log_debug("app: %r from %J dropped: Via with maddr",
			  &msg->met, &msg->src);
		return true;
	}

	if (!allowed(app, msg)) {
		if (subscribe)
			++metrics.subscribes_refused;
		return true;
	}

	if (!subscribe)
		return false;

	return notifier_indialog(app->nt, msg);
}


/* Requests of phones' parkblf accounts: OPTIONS pings, REGISTER, and
   INVITEs of key presses; anything else gets libre's 501 */
static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		(void)sip_replyf(app->sip, msg, 200, "OK",
				 "Allow: SUBSCRIBE, NOTIFY, OPTIONS, "
				 "REGISTER, INVITE, ACK, CANCEL\r\n"
				 "Allow-Events: %H\r\n"
				 "Content-Length: 0\r\n\r\n",
				 encoder_events_print, NULL);
		return true;
	}

	if (!pl_strcmp(&msg->met, "REGISTER")) {
		registrar_reply(app->sip, msg);
		return true;
	}

	/* a new INVITE; in-dialog ones have no business here */
	if (!pl_strcmp(&msg->met, "INVITE") && !pl_isset(&msg->to.tag)) {
		redirect_reply(app->sip, msg, app->map, app->domain);
		return true;
	}

	/* the ACK of a 302 or 404 (answered statelessly: no transaction
	   takes it); libre would answer it 501 */
	if (!pl_strcmp(&msg->met, "ACK"))
		return true;

	return false;
}


static bool orbit_differs(const struct orbit *a, const struct orbit *b)
{
	return strcmp(a->dn, b->dn) || strcmp(a->retrieve, b->retrieve) ||
		strcmp(a->park, b->park) || a->privacy != b->privacy ||
		(!a->label != !b->label) ||
		(a->label && strcmp(a->label, b->label)) ||
		a->alert_after != b->alert_after;
}


/* A new orbit map from the file; a bad one leaves the old in force */
static void map_reload(void *arg)
{
	struct app *app = arg;
	struct orbitmap *map = NULL, *old = app->map;
	unsigned added = 0, removed = 0, changed = 0;
	bool new_dns = false;
	struct le *le;
	int err;

	err = orbitmap_load(&map, app->cfg->orbit_map, NULL);
	if (err) {
		log_error("reload: %s not loaded (%m); the map in force "
			  "stays (%u orbits)", app->cfg->orbit_map, err,
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
			(void)alert_update(app->alert, o->name, 0, 0, 0);
			notifier_orbit_removed(app->nt, o->name);
			++removed;
		}
	}

	app->map = map;
	notifier_set_map(app->nt, map);
	store_clear_unmapped(app->store, map);

	for (le = list_head(&map->orbits); le; le = le->next) {
		const struct orbit *o = le->data, *was;
		struct pl name;

		pl_set_str(&name, o->name);
		was = orbitmap_find(old, &name);
		if (!orbitmap_has_dn(old, o->dn))
			new_dns = true;

		/* a new alert time may make a waiting call overdue */
		if (!orbit_alert(app, o) && was && !orbit_differs(was, o))
			continue;

		if (was)
			++changed;
		else
			++added;
		notifier_orbit_changed(app->nt, o->name);
	}

	log_info("reload: %u orbits from %s (%u added, %u removed, %u "
		 "changed)", orbitmap_count(map), map->file, added, removed,
		 changed);
	mem_deref(old);
	httpd_map_changed(app->httpd);

	/* the PBX only reports a DN again when it changes: ask it for
	   everything, so new orbits start from the truth */
	if (new_dns)
		upstream_resync(app->up);
}


/* A SIP stack has drained after sip_close; once both have: done */
static void exit_handler(void *arg)
{
	struct app *app = arg;

	if (app->stopping && app->sips_open && !--app->sips_open)
		re_cancel();
}


/* A port free for both UDP and TCP on an address (for port 0) */
static int free_port(struct sa *la)
{
	int i;

	for (i = 0; i < 64; i++) {
		int fdu, fdt, ok;

		sa_set_port(la, 0);
		fdu = socket(sa_af(la), SOCK_DGRAM, 0);
		if (fdu < 0)
			return errno;
		ok = !bind(fdu, &la->u.sa, la->len) &&
			!getsockname(fdu, &la->u.sa, &la->len);
		fdt = ok ? socket(sa_af(la), SOCK_STREAM, 0) : -1;
		ok = fdt >= 0 && !bind(fdt, &la->u.sa, la->len);
		if (fdt >= 0)
			(void)close(fdt);
		(void)close(fdu);
		if (ok)
			return 0;
	}

	return EADDRINUSE;
}


static int transport_add(struct sip *sip, const struct sa *laddr,
			 const char *what)
{
	struct sa la = *laddr;
	int err = 0;

	/* port 0: one port the OS picks, the same for UDP and TCP */
	if (!sa_port(&la))
		err = free_port(&la);
	if (err)
		goto out;

	err = sip_transp_add(sip, SIP_TRANSP_UDP, &la);
	if (err)
		goto out;

	err = sip_transp_add(sip, SIP_TRANSP_TCP, &la);
	if (err)
		goto out;

	log_info("sip: %s on %J (udp, tcp)", what, &la);

 out:
	if (err)
		log_error("sip: cannot listen on %J: %m", laddr, err);

	return err;
}


/* SIP over TLS for phones; the PEM file holds certificate and key */
static int tls_listen_add(struct app *app, const struct sa *laddr,
			  const char *cert)
{
	struct sa la = *laddr;
	int err;

	err = tls_alloc(&app->tls, TLS_METHOD_SSLV23, cert, NULL);
	if (err) {
		log_error("sip: cannot load sip_tls_cert %s: %m", cert, err);
		return err;
	}

	if (!sa_port(&la))
		err = free_port(&la);
	if (!err)
		err = sip_transp_add(app->sip, SIP_TRANSP_TLS, &la, app->tls);
	if (err)
		log_error("sip: cannot listen on %J (tls): %m", laddr, err);
	else
		log_info("sip: listening on %J (tls)", &la);

	return err;
}


/* A ;transport=tls upstream: a TLS transport of the upstream link's
   stack for the outgoing connection.  libre 1.1.0 does
   not verify the PBX's certificate (nor send SNI): the link is safe
   from eavesdropping, not from an active attacker. */
static int tls_client_add(struct app *app, const struct sa *near)
{
	struct sa la = *near;
	int err;

	err = tls_alloc(&app->utls, TLS_METHOD_SSLV23, NULL, NULL);
	if (err)
		return err;

	if (sa_is_any(&la))
		err = sip_transp_laddr(app->usip, &la, SIP_TRANSP_UDP, NULL);
	if (!err)
		err = free_port(&la);
	if (!err)
		err = sip_transp_add(app->usip, SIP_TRANSP_TLS, &la,
				     app->utls);
	if (err)
		log_error("sip: no TLS transport for the upstream link: %m",
			  err);
	else
		log_info("sip: TLS for the upstream link from %j (the PBX's "
			 "certificate is not verified)", &la);

	return err;
}


static bool upstream_needs_tls(const char *uri)
{
	return strstr(uri, "transport=tls") != NULL;
}


struct if_walk {
	struct sa addrv[MAX_TRANSPORTS];
	size_t addrc;
	int af;
};


static bool if_handler(const char *ifname, const struct sa *sa, void *arg)
{
	struct if_walk *walk = arg;
	size_t i;
	(void)ifname;

	if (sa_af(sa) != walk->af || sa_is_linklocal(sa))
		return false;

	for (i = 0; i < walk->addrc; i++) {
		if (sa_cmp(&walk->addrv[i], sa, SA_ADDR))
			return false;
	}

	walk->addrv[walk->addrc++] = *sa;

	return walk->addrc >= MAX_TRANSPORTS;
}


/* A wildcard address becomes one transport per local address */
static int listen_add(struct sip *sip, const struct sa *laddr,
		      const char *what)
{
	struct if_walk walk;
	size_t i;
	int err = 0;

	if (!sa_is_any(laddr))
		return transport_add(sip, laddr, what);

	memset(&walk, 0, sizeof(walk));
	walk.af = sa_af(laddr);
	(void)net_if_apply(if_handler, &walk);

	if (!walk.addrc) {
		log_error("sip: sip_listen %J: no local %s address to "
			  "listen on; give a concrete address", laddr,
			  walk.af == AF_INET6 ? "IPv6" : "IPv4");
		return EADDRNOTAVAIL;
	}

	log_info("sip: sip_listen %J expands to %zu local address(es)",
		 laddr, walk.addrc);

	for (i = 0; i < walk.addrc && !err; i++) {
		sa_set_port(&walk.addrv[i], sa_port(laddr));
		err = transport_add(sip, &walk.addrv[i], what);
	}

	return err;
}


/* Every sip_listen address; os_port: each with a port the OS picks */
static int listen_all(struct sip *sip, const struct config *cfg,
		      bool os_port, const char *what)
{
	size_t i;
	int err = 0;

	for (i = 0; i < cfg->listenc && !err; i++) {
		struct sa la = cfg->listenv[i];

		if (os_port)
			sa_set_port(&la, 0);
		err = listen_add(sip, &la, what);
	}

	return err;
}


/* The upstream link's stack answers OPTIONS pings of the PBX */
static bool uplink_request_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	if (pl_strcmp(&msg->met, "OPTIONS"))
		return false;

	(void)sip_treply(NULL, app->usip, msg, 200, "OK");

	return true;
}


/* Phones subscribe on sip_listen, not on the upstream link's port */
static bool uplink_subscribe_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	(void)sip_treply(NULL, app->usip, msg, 403, "Subscribe on sip_listen");

	return true;
}


/*
 * The upstream link gets a SIP stack and sockets of its own, so that
 * the PBX's NOTIFYs never wait behind the phones' requests: libre reads
 * one datagram per socket per main-loop turn, and in a storm (every
 * phone subscribing after a power cut) the phones' socket holds
 * thousands of SUBSCRIBEs.  Sharing it, a storm of 5,000 put the
 * fan-out p99 at 124 ms instead of 32 ms (docs/BENCHMARKS.md).
 * Address: upstream_listen, else every sip_listen address with a port
 * the OS picks.
 */
static int uplink_alloc(struct app *app)
{
	const struct config *cfg = app->cfg;
	struct sa la;
	int err;

	err = sip_alloc(&app->usip, app->dnsc, 256, 256, 256,
			"parkblf/" PARKBLF_VERSION, exit_handler, app);
	if (!err)
		err = wiredump_attach(app->usip);
	if (err)
		return err;

	if (sa_isset(&cfg->upstream_listen, SA_ADDR)) {
		la = cfg->upstream_listen;
		err = listen_add(app->usip, &la, "upstream link");
	}
	else {
		/* every sip_listen address (either family may reach the
		   PBX), each with a port the OS picks */
		err = listen_all(app->usip, cfg, true, "upstream link");
		la = cfg->listenv[0];
	}

	if (!err && upstream_needs_tls(cfg->upstream_uri))
		err = tls_client_add(app, &la);
	if (err)
		return err;

	err = sipevent_listen(&app->usock, app->usip, 64, 32,
			      uplink_subscribe_handler, app);
	if (err)
		return err;

	return sip_listen(&app->ulsnr, app->usip, true,
			  uplink_request_handler, app);
}


static void dns_init(struct app *app)
{
	struct sa srvv[4];
	uint32_t srvc = 4;
	char domain[64];
	int err;

	err = dns_srv_get(domain, sizeof(domain), srvv, &srvc);
	if (!err && srvc)
		err = dnsc_alloc(&app->dnsc, NULL, srvv, srvc);
	if (err || !srvc)
		log_warn("app: no DNS servers (%m): upstream_uri must name "
			 "the PBX by address", err);
}


/**
 * Start the daemon: listen for phones and subscribe upstream
 *
 * @param appp Where to store the daemon
 * @param cfg  Configuration (the daemon takes it over)
 * @param map  Orbit map (the daemon takes it over)
 *
 * @return 0 if success, otherwise errorcode
 */
int app_alloc(struct app **appp, struct config *cfg, struct orbitmap *map)
{
	struct pl allow;
	struct app *app;
	int err;

	if (!appp || !cfg || !map)
		return EINVAL;

	app = mem_zalloc(sizeof(*app), destructor);
	if (!app)
		return ENOMEM;

	ptmr_init(&app->tmr_stop);
	ptmr_init(&app->tmr_grace);
	ptmr_init(&app->tmr_sweep);
	app->started = store_now_ms();
	app->cfg = mem_ref(cfg);
	app->map = mem_ref(map);

	err = upstream_domain(&app->domain, cfg->upstream_uri);
	if (err)
		goto out;

	pl_set_str(&allow, cfg->subscribe_allow);
	err = acl_alloc(&app->acl, &allow, NULL);
	if (err)
		goto out;

	err = alert_alloc(&app->alert, alert_handler, app);
	if (err)
		goto out;

	err = store_alloc(&app->store, dn_changed, app);
	if (err)
		goto out;

	err = history_alloc(&app->history, cfg->history_max);
	if (err)
		goto out;
	store_set_endh(app->store, call_ended, app);

	dns_init(app);

	/* Hash sizes for the transactions a busy site keeps: a NOTIFY's
	   client transaction lives 5 s after its 200 (Timer K), so 25,000
	   NOTIFYs/s keep ~125,000; every response is looked up by branch
	   in this table (at 8192 buckets the compares were 15 % of the
	   CPU); a storm's SUBSCRIBEs live 32 s.  1.5 MiB for both. */
	err = sip_alloc(&app->sip, app->dnsc, CTRANS_HASH_SIZE,
			STRANS_HASH_SIZE, 256,
			"parkblf/" PARKBLF_VERSION, exit_handler, app);
	if (!err)
		err = wiredump_attach(app->sip);
	if (err)
		goto out;

	err = listen_all(app->sip, cfg, false, "listening");
	if (err)
		goto out;

	if (cfg->tls_cert) {
		err = tls_listen_add(app, &cfg->tls_listen, cfg->tls_cert);
		if (err)
			goto out;
	}

	err = uplink_alloc(app);
	if (err)
		goto out;

	if (cfg->subscribe_users) {
		err = subauth_load(&app->auth, cfg->subscribe_users,
				   cfg->subscribe_realm, NULL);
		if (err)
			goto out;
	}

	err = sip_listen(&app->lsnr_dlg, app->sip, true, dialog_handler, app);
	if (err)
		goto out;

	err = sipevent_listen(&app->sock, app->sip, NOTIFIER_HASH_SIZE, 32,
			      subscribe_handler, app);
	if (err)
		goto out;

	err = sip_listen(&app->lsnr, app->sip, true, request_handler, app);
	if (err)
		goto out;

	err = notifier_alloc(&app->nt, app->sip, app->sock, cfg,
			     app->store, app->domain);
	if (err)
		goto out;
	notifier_set_map(app->nt, map);
	notifier_set_alert(app->nt, app->alert);

	if (cfg->state_db && !persist_open(&app->db, cfg->state_db)) {
		notifier_set_persist(app->nt, app->db);
		if (cfg->history_max &&
		    !histdb_open(&app->histdb, cfg->state_db,
				 cfg->history_max))
			(void)histdb_load(app->histdb, history_restored,
					  app->history);
		err = resume_load(&app->resume, app->db, app->nt, cfg);
		if (err)
			goto out;
	}

	err = upstream_alloc(&app->up, app->usip, app->usock, cfg,
			     upstream_update, upstream_session, upstream_link,
			     app);
	if (err)
		goto out;

	err = reload_alloc(&app->reload, cfg->orbit_map, map_reload, app);
	if (err)
		goto out;

	err = memtrim_alloc(&app->trim);
	if (err)
		goto out;

	/* SA_ADDR, not SA_ALL: port 0 (one the OS picks) is fine */
	if (sa_isset(&cfg->http_listen, SA_ADDR)) {
		err = httpd_alloc(&app->httpd, &cfg->http_listen, app);
		if (err)
			goto out;
	}

	log_info("app: %u orbits from %s; upstream %s (Event: %s)",
		 orbitmap_count(map), map->file, cfg->upstream_uri,
		 cfg->upstream_event);

	err = upstream_start(app->up);

 out:
	if (err)
		mem_deref(app);
	else
		*appp = app;

	return err;
}


static void stop_deadline(void *arg)
{
	struct app *app = arg;

	if (!app->db)
		log_warn("app: peers did not answer in time; stopping "
			 "anyway");
	re_cancel();
}


/**
 * Stop gracefully: end the upstream subscription, tell phones to come
 * back later, and stop the main loop once the SIP stack has drained
 * (or after a deadline)
 *
 * @param app The daemon
 */
void app_shutdown(struct app *app)
{
	if (!app || app->stopping)
		return;

	app->stopping = true;
	log_info("app: stopping");

	app->reload = mem_deref(app->reload);
	app->httpd = mem_deref(app->httpd);
	ptmr_cancel(&app->tmr_grace);
	ptmr_cancel(&app->tmr_sweep);
	app->up = mem_deref(app->up);

	if (app->db) {
		/* the subscriptions stay in the database for the next run
		   (list subscriptions are not kept: they are told); the
		   upstream un-SUBSCRIBE gets a moment to be answered */
		notifier_flush(app->nt);
		notifier_close_lists(app->nt, SIPEVENT_PROBATION,
				     SHUTDOWN_RETRY_S);
		ptmr_start(&app->tmr_stop, PERSIST_STOP_MS, stop_deadline,
			  app);
	}
	else {
		notifier_close_all(app->nt, SIPEVENT_PROBATION,
				   SHUTDOWN_RETRY_S);
		ptmr_start(&app->tmr_stop, STOP_DEADLINE_MS, stop_deadline,
			  app);
	}
	app->sips_open = 2;
	sip_close(app->usip, false);
	sip_close(app->sip, false);
}


/** @return The configuration in force */
const struct config *app_config(const struct app *app)
{
	return app ? app->cfg : NULL;
}


/** @return The orbit map in force */
const struct orbitmap *app_map(const struct app *app)
{
	return app ? app->map : NULL;
}


/** @return The orbit store */
const struct store *app_store(const struct app *app)
{
	return app ? app->store : NULL;
}


/** @return The calls that left their orbits */
const struct history *app_history(const struct app *app)
{
	return app ? app->history : NULL;
}


/** @return The alert timers (calls waiting too long) */
const struct alert *app_alert(const struct app *app)
{
	return app ? app->alert : NULL;
}


/** @return The notifier (phones' subscriptions) */
const struct notifier *app_notifier(const struct app *app)
{
	return app ? app->nt : NULL;
}


/** @return The upstream subscriber */
const struct upstream *app_upstream(const struct app *app)
{
	return app ? app->up : NULL;
}


/** @return Start time, ms since the epoch */
uint64_t app_started(const struct app *app)
{
	return app ? app->started : 0;
}
