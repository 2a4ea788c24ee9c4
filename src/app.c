/**
 * @file app.c  The running daemon: SIP stack, notifier, upstream, store
 *
 * Wires the pieces together: the phones' SIP stack, the upstream
 * links' stack, and the tenants (tenant.c: one per PBX, each with its
 * link, map, store and phones), which share both.  A request goes to
 * the tenant tenants_choose picks; one for a domain no tenant serves
 * is answered 404.  parkblf.conf's own upstream_uri and orbit_map, if
 * set, are the default tenant (the only one without tenants_dir).
 * Every tenant's phone subscriptions and history are kept in state_db;
 * at start-up, once the tenants are loaded, those of tenants that run
 * are taken back and the rest dropped.  Config keys: sip_listen,
 * http_listen, tenants_dir, state_db.
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
#include "proxytrust.h"
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
#include "subdlg.h"
#include "pacer.h"
#include "tenant.h"


enum {
	STOP_DEADLINE_MS  = 3000,   /**< Longest graceful stop             */
	STOP_POLL_MS      = 5,      /**< Stopping: are the phones told?    */
	PERSIST_STOP_MS   = 1000,   /**< Stop with subscriptions kept      */
	SHUTDOWN_RETRY_S  = 10,     /**< retry-after told to phones        */
	MAX_TRANSPORTS    = 64,
	CTRANS_HASH_SIZE  = 65536,  /**< NOTIFY transactions, see app_alloc */
	STRANS_HASH_SIZE  = 32768,  /**< SUBSCRIBE transactions            */
	NOTIFIER_HASH_SIZE = 1024,  /**< List subscriptions (libre's)     */
	EXIT_TIMERS_MAX   = 4096,   /**< libre's waits ended at exit       */
	MAX_TENANT_LISTEN = 256,    /**< tenant_listen addresses           */
	BULK_IDLE         = 64,     /**< New SUBSCRIBEs per loop turn      */
	BULK_FANNING      = 8,      /**< ... while a fan-out is under way  */
};

struct app {
	struct config *cfg;
	struct tenant *dflt;       /**< parkblf.conf's PBX, or NULL  */
	struct tenants *tenants;   /**< tenants_dir's                */
	struct dnsc *dnsc;
	struct sip *sip;
	struct sipevent_sock *sock;
	struct sip_lsnr *lsnr;
	struct subdlgs *dlgs;      /**< Orbit watchers' dialogs, shared */
	struct pacer_phones *phones; /**< Phone addresses' budgets, shared */
	struct acl *acl;           /**< subscribe_allow              */
	struct subauth *auth;      /**< subscribe_users, or NULL     */
	struct persist *db;        /**< state_db, or NULL            */
	struct sip_lsnr *lsnr_dlg; /**< Sees in-dialog SUBSCRIBEs    */
	struct tls *tls;           /**< sip_tls_cert, or NULL        */
	struct sip *usip;          /**< The upstream links' own stack */
	struct sipevent_sock *usock; /**< Its NOTIFYs                 */
	struct sip_lsnr *ulsnr;    /**< Its OPTIONS                  */
	struct upreplay *ureplay;  /**< Its NOTIFYs' answers         */
	struct sip_lsnr *urlsnr;   /**< ... for retransmissions      */
	struct tls *utls;          /**< TLS to the PBXs, or NULL     */
	struct sa uladdr;          /**< Its first address            */
	struct sa tlisten[MAX_TENANT_LISTEN]; /**< tenant_listen's open */
	size_t tlistenc;
	unsigned sips_open;        /**< Stopping: stacks not drained */
	struct reload *reload;     /**< Orbit map watch              */
	struct httpd *httpd;       /**< NULL without http_listen    */
	struct histdb *histdb;     /**< History in state_db, or NULL */
	struct memtrim *trim;      /**< Heap trim after storms       */
	uint64_t started;          /**< Start time, ms since the epoch  */
	struct ptmr tmr_stop;
	struct ptmr tmr_told;      /**< Stopping: polls phones_told   */
	bool stopping;
	bool drained;              /**< Stopping: nothing left to wait */
};


static void destructor(void *arg)
{
	struct app *app = arg;

	ptmr_cancel(&app->tmr_stop);
	ptmr_cancel(&app->tmr_told);
	app->reload = mem_deref(app->reload);
	app->httpd = mem_deref(app->httpd);
	app->trim = mem_deref(app->trim);
	tenant_stop(app->dflt);
	tenants_stop(app->tenants);
	/* subscriptions kept in the database must not be ended by the
	   libre objects going away: no transport, no final NOTIFY */
	if (app->db && app->sip)
		sip_transp_flush(app->sip);
	app->tenants = mem_deref(app->tenants);
	app->dflt = mem_deref(app->dflt);
	app->dlgs = mem_deref(app->dlgs);
	app->phones = mem_deref(app->phones);
	app->histdb = mem_deref(app->histdb);
	app->sock = mem_deref(app->sock);
	app->lsnr = mem_deref(app->lsnr);
	app->lsnr_dlg = mem_deref(app->lsnr_dlg);
	app->usock = mem_deref(app->usock);
	app->ulsnr = mem_deref(app->ulsnr);
	app->urlsnr = mem_deref(app->urlsnr);
	app->ureplay = mem_deref(app->ureplay);
	sipsock_bulk(NULL, NULL, NULL);
	sipsock_reset();
	strec_reset();
	if (app->usip) {
		sip_close(app->usip, true);
		app->usip = mem_deref(app->usip);
	}
	if (app->sip) {
		sip_close(app->sip, true);
		app->sip = mem_deref(app->sip);
	}
	wiredump_close();
	(void)proxytrust_set(NULL);
	mem_deref(app->utls);
	mem_deref(app->tls);
	mem_deref(app->dnsc);
	mem_deref(app->acl);
	mem_deref(app->auth);
	mem_deref(app->db);
	mem_deref(app->cfg);

	/* What still waits is libre's, e.g. a subscription whose
	   un-SUBSCRIBE the PBX answered, waiting 10 s for the final
	   NOTIFY that some PBXs never send.  It holds its SIP stack,
	   the stack its sockets: the loop is over, so are the waits. */
	(void)ptmr_expire_all(EXIT_TIMERS_MAX);
}


/* Orbits change on the boards: /board is the default tenant's,
   /t/NAME/board tenant NAME's */
static void dflt_orbit_changed(const char *name, void *arg)
{
	struct app *app = arg;

	httpd_orbit_changed(app->httpd, NULL, name);
}


static void dflt_map_changed(void *arg)
{
	struct app *app = arg;

	httpd_map_changed(app->httpd, NULL);
}


static void tenant_orbit_changed(const struct tenant *t, const char *name,
				 void *arg)
{
	struct app *app = arg;

	httpd_orbit_changed(app->httpd, tenant_name(t), name);
}


static void tenant_changed(const char *tenant, void *arg)
{
	struct app *app = arg;

	httpd_map_changed(app->httpd, tenant);
}


/* parkblf.conf's orbit map: on SIGHUP and when the file changes */
static void map_reload(void *arg)
{
	struct app *app = arg;

	tenant_map_reload(app->dflt);
}


/* subscribe_allow, then subscriber credentials if subscribe_users is
   set; refused requests are answered here (403, 401), statelessly (a
   refusal keeps nothing), except an ACK, which gets no answer */
static bool allowed(struct app *app, const struct sip_msg *msg)
{
	const bool ack = !pl_strcmp(&msg->met, "ACK");
	static struct log_limit ll;
	struct sa phone;

	proxytrust_phone(&phone, msg);
	if (!acl_allows(app->acl, &phone)) {
		log_limited(&ll, LOG_LEVEL_INFO, "app: %r from %J refused: "
			    "not in subscribe_allow", &msg->met, &phone);
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


/* A request for a domain no tenant serves (RFC 3261 21.4.5: 404 also
   when the Request-URI's domain is not one the recipient handles) */
static bool no_tenant(struct app *app, const struct sip_msg *msg)
{
	static struct log_limit ll;

	log_limited(&ll, LOG_LEVEL_INFO, "app: %r for %r (To %r) from %J "
		    "refused: no tenant serves that domain", &msg->met,
		    &msg->uri.host, &msg->to.uri.host, &msg->src);
	(void)sip_reply(app->sip, msg, 404, "Domain Not Served");

	return true;
}


/* The tenant a new request is for.  None at a tenant_listen address
   whose tenant went (or moved): it closes once the tenant's final
   NOTIFYs are out, so no other tenant may take a dialog there. */
static struct tenant *choose(const struct app *app,
			     const struct sip_msg *msg)
{
	struct tenant *t = tenants_choose(app->tenants, msg);
	size_t i;

	if (!app->tlistenc || (t && sa_cmp(&tenant_config(t)->tenant_listen,
					   &msg->dst, SA_ALL)))
		return t;

	for (i = 0; i < app->tlistenc; i++) {
		if (sa_cmp(&app->tlisten[i], &msg->dst, SA_ALL))
			return NULL;
	}

	return t;
}


/* A new SUBSCRIBE (dialog_handler has checked who sends it) */
static bool subscribe_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;
	struct tenant *t;

	if (app->stopping)
		return refuse(app, msg, "Shutting Down", SHUTDOWN_RETRY_S);

	t = choose(app, msg);
	if (!t) {
		++metrics.subscribes_refused;
		return no_tenant(app, msg);
	}

	return tenant_subscribe(t, msg);
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
   SUBSCRIBEs of an orbit watcher's or a list subscription's dialog
   (also one resumed from the database, and a retransmitted first
   SUBSCRIBE, answered statelessly before) are answered here. */
static bool dialog_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;
	const bool subscribe = !pl_strcmp(&msg->met, "SUBSCRIBE");
	struct tenant *t;
	struct pl maddr;

	/* the first listener: sees every request first */
	if (sipsock_tune(msg))
		return true;

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
		else if (pl_strcmp(&msg->met, "ACK"))
			++metrics.requests_refused;
		return true;
	}

	if (!subscribe)
		return false;

	t = tenants_choose(app->tenants, msg);
	if (tenant_indialog(t, msg))
		return true;

	/* a dialog of no tenant's: libre's notifier answers 481,
	   statelessly */
	return false;
}


/* A request no listener took, answered as libre would answer it (a
   CANCEL here matches no transaction; an ACK gets no answer), but
   without the line libre prints on stderr for each, and counted */
static bool not_taken(struct sip *sip, const struct sip_msg *msg)
{
	if (!pl_strcmp(&msg->met, "ACK"))
		return true;

	++metrics.requests_refused;
	if (!pl_strcmp(&msg->met, "CANCEL"))
		(void)sip_reply(sip, msg, 481, "Transaction Does Not Exist");
	else
		(void)sip_reply(sip, msg, 501, "Not Implemented");

	return true;
}


/* Requests of phones' parkblf accounts: OPTIONS pings, REGISTER, and
   INVITEs of key presses; anything else gets 501 (481 a CANCEL) */
static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	/* a dispatcher's probe: this instance takes nothing new */
	if (!pl_strcmp(&msg->met, "OPTIONS") && app->stopping) {
		(void)sip_replyf(app->sip, msg, 503, "Shutting Down",
				 "Retry-After: %u\r\n"
				 "Content-Length: 0\r\n\r\n",
				 SHUTDOWN_RETRY_S);
		return true;
	}

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
		const struct tenant *t = choose(app, msg);

		if (!t) {
			++metrics.requests_refused;
			return no_tenant(app, msg);
		}
		redirect_reply(app->sip, msg, tenant_map(t),
			       tenant_domain(t));
		return true;
	}

	/* the ACK of a 302 or 404 (answered statelessly: no transaction
	   takes it); libre would answer it 501 */
	if (!pl_strcmp(&msg->met, "ACK"))
		return true;

	return not_taken(app->sip, msg);
}


/* Initial SUBSCRIBEs kept by a phones' socket's receive helper
   (sipsock.c), taken many per loop turn instead of one per libre read.
   Taken is what libre's receive path would give nothing but this:
   sip_msg_decode (its own parser), then its SIP stack's listeners in
   their order.  The first, libre's server transactions, can only hold
   a SUBSCRIBE with the Call-ID or branch of one answered statefully
   lately (strec.c): those, requests in a dialog, anything but a
   SUBSCRIBE and anything libre cannot decode go libre's way.  libre's
   trace handler sees only what is sent (wiredump.c traces nothing
   received). */
static bool bulk_handler(void *sock, const struct sa *laddr,
			 const struct sa *src, struct mbuf *mb, void *arg)
{
	struct app *app = arg;
	struct sip_msg *msg;

	if (mbuf_get_left(mb) < 10 || memcmp(mbuf_buf(mb), "SUBSCRIBE ", 10))
		return false;

	if (sip_msg_decode(&msg, mb))
		return false;

	if (pl_strcmp(&msg->met, "SUBSCRIBE") || pl_isset(&msg->to.tag) ||
	    strec_has(msg)) {
		mem_deref(msg);
		return false;
	}

	/* as libre's UDP transport fills them in */
	msg->sock = mem_ref(sock);
	msg->src = *src;
	msg->dst = *laddr;
	msg->tp = SIP_TRANSP_UDP;

	/* the listeners after libre's server transactions: ours, then
	   libre's notifier's (a SUBSCRIBE without a To tag goes to its
	   subscribe handler), then ours again; libre answers the rest */
	if (!dialog_handler(msg, app) && !subscribe_handler(msg, app))
		(void)request_handler(msg, app);

	mem_deref(msg);

	return true;
}


/* New SUBSCRIBEs taken per loop turn: fewer while a fan-out is under
   way, so that the established watchers' NOTIFYs (a batch per turn)
   do not wait behind a storm of new phones */
static unsigned bulk_budget(void *arg)
{
	(void)arg;

	return notifier_fanning() ? BULK_FANNING : BULK_IDLE;
}


/* Some tenant's phones are still being told of the stop */
static void count_ending(const struct tenant *t, void *arg)
{
	if (notifier_ending(tenant_notifier(t)))
		++*(unsigned *)arg;
}


static void told_timer(void *arg);


/* Stopping: done once both SIP stacks have drained (libre's requests
   answered) and every final NOTIFY of the fast path is answered (or
   given up), whichever comes last; else the deadline */
static void stop_check(struct app *app)
{
	unsigned ending = 0;

	if (app->drained)
		return;

	count_ending(app->dflt, &ending);
	tenants_apply(app->tenants, count_ending, &ending);
	if (app->sips_open || ending) {
		ptmr_start(&app->tmr_told, STOP_POLL_MS, told_timer, app);
		return;
	}
	app->drained = true;

	/* stop_handover: the phones told to come back at once are met
	   with 503 Shutting Down until the deadline, on which the proxy
	   sends them on to another instance (and its OPTIONS probe marks
	   this one down) rather than waiting for silence to time out */
	if (app->cfg->stop_handover) {
		log_info("app: drained; refusing new subscriptions until "
			 "the deadline (stop_handover)");
		return;
	}

	re_cancel();
}


static void told_timer(void *arg)
{
	stop_check(arg);
}


/* A SIP stack has drained after sip_close */
static void exit_handler(void *arg)
{
	struct app *app = arg;

	if (!app->stopping || !app->sips_open || --app->sips_open)
		return;

	stop_check(app);
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
	/* known before a phone speaks to it (state_db's dialogs) */
	sippin_probe_sock(sip, &la);

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
	return uri && strstr(uri, "transport=tls") != NULL;
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


/* The upstream link's stack answers OPTIONS pings of the PBX; what
   else its listeners before did not take gets 501 */
static bool uplink_request_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	if (pl_strcmp(&msg->met, "OPTIONS"))
		return not_taken(app->usip, msg);

	/* statelessly: anyone may send them, a transaction would keep
	   each 32 s, and a retransmission gets the same answer again */
	(void)sip_reply(app->usip, msg, 200, "OK");

	return true;
}


/* A PBX's NOTIFY answered before (statelessly) gets the same answer */
static bool uplink_replay_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	return upreplay_request(app->ureplay, app->usip, msg);
}


/* Phones subscribe on sip_listen, not on the upstream link's port */
static bool uplink_subscribe_handler(const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	++metrics.subscribes_refused;
	(void)sip_reply(app->usip, msg, 403, "Subscribe on sip_listen");

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

	app->uladdr = la;
	if (!err && upstream_needs_tls(cfg->upstream_uri))
		err = tls_client_add(app, &la);
	if (err)
		return err;

	/* before sipevent's listener, which would take a retransmitted
	   NOTIFY with the last CSeq for a new one */
	err = upreplay_alloc(&app->ureplay);
	if (!err)
		err = sip_listen(&app->urlsnr, app->usip, true,
				 uplink_replay_handler, app);
	if (!err)
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


/* A tenant is about to start: its own address to listen on, and TLS
   for its link.  An address opened is closed once no tenant listens
   on it (tenant_release). */
static int tenant_prepare(const struct config *cfg, void *arg)
{
	struct app *app = arg;
	const struct sa *la = &cfg->tenant_listen;
	size_t i;
	int err = 0;

	if (upstream_needs_tls(cfg->upstream_uri) && !app->utls) {
		err = tls_client_add(app, &app->uladdr);
		if (err)
			return err;
	}

	if (!sa_isset(la, SA_ADDR))
		return 0;

	for (i = 0; i < app->tlistenc; i++) {
		if (sa_cmp(&app->tlisten[i], la, SA_ALL))
			return 0;
	}
	for (i = 0; i < app->cfg->listenc; i++) {
		if (sa_cmp(&app->cfg->listenv[i], la, SA_ALL))
			return 0;
	}

	if (app->tlistenc == MAX_TENANT_LISTEN) {
		log_error("sip: %J: more than %u tenant_listen addresses", la,
			  MAX_TENANT_LISTEN);
		return E2BIG;
	}

	err = transport_add(app->sip, la, "tenant_listen");
	if (!err)
		app->tlisten[app->tlistenc++] = *la;

	return err;
}


/* Tenants went for good: close the tenant_listen addresses no tenant
   in force (nor one still sending its final NOTIFYs) listens on; a
   tenant whose tenant_listen changed has moved by now */
static void tenant_release(void *arg)
{
	struct app *app = arg;
	size_t i = 0;

	while (i < app->tlistenc) {
		const struct sa *la = &app->tlisten[i];
		unsigned n = 0;
		int err;

		if (tenants_listen_used(app->tenants, la)) {
			++i;
			continue;
		}

		err = sockclose_addr(la, &n);
		if (err)
			log_warn("sip: tenant_listen %J: closing its sockets: "
				 "%m", la, err);
		else
			log_info("sip: tenant_listen %J closed: no tenant "
				 "listens there (%u socket(s))", la, n);

		app->tlisten[i] = app->tlisten[--app->tlistenc];
	}
}


/* parkblf.conf's own PBX, if it names one: the default tenant */
static int dflt_alloc(struct app *app, struct orbitmap *map,
		      const struct tenant_env *env)
{
	int err;

	err = tenant_alloc(&app->dflt, "default", app->cfg, map, env);
	if (err)
		return err;

	tenant_set_hooks(app->dflt, dflt_orbit_changed, dflt_map_changed,
			 NULL, app);
	tenants_set_default(app->tenants, app->dflt);

	return reload_alloc(&app->reload, app->cfg->orbit_map, map_reload,
			    app);
}


/* A tenant that runs keeps its rows in state_db */
static bool histdb_keep(const char *key, void *arg)
{
	const struct app *app = arg;

	return tenants_find_dbkey(app->tenants, key) != NULL;
}


static struct notifier *resume_find(const char *key, uint32_t *max_expires,
				    void *arg)
{
	const struct app *app = arg;
	const struct tenant *t = tenants_find_dbkey(app->tenants, key);

	if (!t)
		return NULL;

	*max_expires = tenant_config(t)->subscribe_max_expires;

	return tenant_notifier(t);
}


/* A tenant's subscriptions (list ones too) saved as they are: when
   stopping with state_db (saved, not ended), and right after they were
   resumed (their raised CSeqs and versions) */
static void keep_subscriptions(const struct tenant *t, void *arg)
{
	(void)arg;

	notifier_flush(tenant_notifier(t));
}


/* state_db: what the tenants that run kept there comes back, the rest
   of it goes */
static int state_restore(struct app *app)
{
	int err;

	if (!app->db)
		return 0;

	if (app->histdb)
		(void)histdb_prune(app->histdb, histdb_keep, app);

	err = resume_load(app->db, resume_find, app);
	if (!err) {
		if (app->dflt)
			keep_subscriptions(app->dflt, NULL);
		tenants_apply(app->tenants, keep_subscriptions, NULL);
	}

	return err;
}


/**
 * Start the daemon: listen for phones and subscribe upstream
 *
 * @param appp Where to store the daemon
 * @param cfg  Configuration (the daemon takes it over)
 * @param map  parkblf.conf's orbit map (the daemon takes it over), NULL
 *             if it names no PBX of its own (tenants_dir only)
 *
 * @return 0 if success, otherwise errorcode
 */
int app_alloc(struct app **appp, struct config *cfg, struct orbitmap *map)
{
	struct tenant_env env;
	struct pl allow;
	struct app *app;
	int err;

	if (!appp || !cfg || (!map && !cfg->tenants_dir))
		return EINVAL;

	app = mem_zalloc(sizeof(*app), destructor);
	if (!app)
		return ENOMEM;

	ptmr_init(&app->tmr_stop);
	ptmr_init(&app->tmr_told);
	app->started = store_now_ms();
	app->cfg = mem_ref(cfg);

	pl_set_str(&allow, cfg->subscribe_allow);
	err = acl_alloc(&app->acl, &allow, NULL);
	if (!err)
		err = proxytrust_set(cfg->trusted_proxies);
	if (err)
		goto out;

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

	/* the phones' listeners, in this order; bulk_handler calls them
	   in the same order: a listener added here goes there too */
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
	sipsock_bulk(bulk_handler, bulk_budget, app);

	/* libre's sending socket known before any phone's request */
	sippin_probe(app->sip);

	/* one subdlgs taps the phones' sockets for every tenant */
	err = subdlgs_alloc(&app->dlgs, app->sip);
	if (err)
		goto out;
	subdlgs_set_nat(app->dlgs, cfg->nat_mode, cfg->nat_keepalive,
			cfg->nat_keepalive_grace);

	/* a phone in several tenants has one NOTIFY budget and one count
	   of subscriptions (subscribe_max_per_source) */
	err = pacer_phones_alloc(&app->phones);
	if (err)
		goto out;

	env.sip = app->sip;
	env.sock = app->sock;
	env.dlgs = app->dlgs;
	env.phones = app->phones;
	env.usip = app->usip;
	env.usock = app->usock;
	env.ureplay = app->ureplay;

	/* every tenant's phones and history (persist.c, histdb.c) */
	if (cfg->state_db && !persist_open(&app->db, cfg->state_db))
		(void)histdb_open(&app->histdb, cfg->state_db);
	env.db = app->db;
	env.histdb = app->histdb;

	err = tenants_alloc(&app->tenants, cfg, &env, tenant_prepare, app);
	if (err)
		goto out;
	tenants_set_hooks(app->tenants, tenant_orbit_changed, tenant_changed,
			  app);
	tenants_set_release(app->tenants, tenant_release);

	if (map) {
		err = dflt_alloc(app, map, &env);
		if (err)
			goto out;
	}

	/* a tenant file with problems is reported; the others start */
	(void)tenants_load(app->tenants);
	err = state_restore(app);
	if (!err)
		err = tenants_watch(app->tenants);
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

	if (app->dflt)
		err = tenant_start(app->dflt);

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

	if (!app->db && !app->drained)
		log_warn("app: peers did not answer in time; stopping "
			 "anyway");
	re_cancel();
}


/**
 * Stop gracefully: end the upstream subscription, tell phones to come
 * back later (stop_handover: at once, to another instance), and stop
 * the main loop once the SIP stack has drained (or after a deadline)
 *
 * @param app The daemon
 */
void app_shutdown(struct app *app)
{
	/* behind a dispatcher (stop_handover) phones subscribe again at
	   once: this instance answers them 503 Shutting Down, on which
	   the proxy sends them to another (conf/kamailio/) */
	enum sipevent_reason reason = SIPEVENT_PROBATION;
	uint32_t retry = SHUTDOWN_RETRY_S;

	if (!app || app->stopping)
		return;

	app->stopping = true;
	if (app->cfg->stop_handover) {
		reason = SIPEVENT_DEACTIVATED;
		retry = 0;
	}
	log_info("app: stopping%s", app->cfg->stop_handover ?
		 " (stop_handover: phones re-subscribe at once)" : "");

	app->reload = mem_deref(app->reload);
	app->httpd = mem_deref(app->httpd);
	tenant_stop(app->dflt);
	tenants_stop(app->tenants);

	/* the bound counts from the signal; the phones' final NOTIFYs go
	   paced, by sendmmsg (notifier_close_all), and stop_check sees
	   them answered */
	if (app->db && !app->cfg->stop_handover) {
		/* every tenant's subscriptions (list ones too) stay in
		   the database for the next run; the upstream
		   un-SUBSCRIBEs get a moment to be answered */
		ptmr_start(&app->tmr_stop, PERSIST_STOP_MS, stop_deadline,
			  app);
		keep_subscriptions(app->dflt, NULL);
		tenants_apply(app->tenants, keep_subscriptions, NULL);
	}
	else {
		/* told, they leave the database too */
		ptmr_start(&app->tmr_stop, STOP_DEADLINE_MS, stop_deadline,
			  app);
		tenant_close(app->dflt, reason, retry);
		tenants_close(app->tenants, reason, retry);
	}
	app->sips_open = 2;
	sip_close(app->usip, false);
	sip_close(app->sip, false);
	stop_check(app);
}


/** @return The configuration in force */
const struct config *app_config(const struct app *app)
{
	return app ? app->cfg : NULL;
}


/** @return The default tenant's orbit map, NULL without one */
const struct orbitmap *app_map(const struct app *app)
{
	return app ? tenant_map(app->dflt) : NULL;
}


/** @return The default tenant's parked calls */
const struct store *app_store(const struct app *app)
{
	return app ? tenant_store(app->dflt) : NULL;
}


/** @return The default tenant's calls that left their orbits */
const struct history *app_history(const struct app *app)
{
	return app ? tenant_history(app->dflt) : NULL;
}


/** @return The default tenant's alert timers */
const struct alert *app_alert(const struct app *app)
{
	return app ? tenant_alert(app->dflt) : NULL;
}


/** @return The default tenant's phone subscriptions */
const struct notifier *app_notifier(const struct app *app)
{
	return app ? tenant_notifier(app->dflt) : NULL;
}


/** @return The default tenant's upstream link */
const struct upstream *app_upstream(const struct app *app)
{
	return app ? tenant_upstream(app->dflt) : NULL;
}


/** @return Phone addresses behind NAT, of every tenant */
uint32_t app_nat_count(const struct app *app)
{
	return app ? subdlgs_nat_count(app->dlgs) : 0;
}


/** @return The default tenant (parkblf.conf's PBX), NULL without one */
const struct tenant *app_default(const struct app *app)
{
	return app ? app->dflt : NULL;
}


/**
 * Find a tenant by name, as the HTTP pages name it
 *
 * @param app  The daemon
 * @param name NAME of tenants_dir/NAME.conf, "default" or NULL for
 *             parkblf.conf's own PBX
 *
 * @return The tenant, NULL if there is none of that name
 */
const struct tenant *app_tenant(const struct app *app,
				const struct pl *name)
{
	if (!app)
		return NULL;

	if (!name || !pl_strcmp(name, "default"))
		return app->dflt;

	return tenants_find(app->tenants, name);
}


/** @return The tenants of tenants_dir */
const struct tenants *app_tenants(const struct app *app)
{
	return app ? app->tenants : NULL;
}


/** @return Start time, ms since the epoch */
uint64_t app_started(const struct app *app)
{
	return app ? app->started : 0;
}
