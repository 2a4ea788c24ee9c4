/**
 * @file notifier.c  Phones' subscriptions to orbits (RFC 6665 notifier)
 *
 * A watcher is one phone subscription to one orbit name.  Watchers are
 * grouped by orbit name, so an orbit change walks only its own
 * watchers.  An orbit change is rendered once per encoder (doctpl.c):
 * each watcher's NOTIFY splices its own entity and version into that
 * one rendering.
 *
 * A subscription that ends stays until its final NOTIFY is answered or
 * given up (notifier.ending): it still counts against
 * subscribe_max_total and subscribe_max_per_source, so that no path
 * (a fetch, an un-SUBSCRIBE, an expiry) leaves transactions behind that
 * no limit sees.  Refusals are answered statelessly: they keep nothing.
 *
 * An orbit whose state the PBX no longer reports (store_known) is in
 * the state parkblf shows while the whole link is down: its
 * subscriptions end (deactivated: phones subscribe again at once) and
 * new ones get 503 with Retry-After until the state is back.
 *
 * Config keys: subscribe_min_expires, subscribe_max_expires,
 * subscribe_default_expires, dialog_all_calls, dialog_lamp,
 * unknown_retry_after.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stddef.h>
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "notifier.h"
#include "acceptlist.h"
#include "alert.h"
#include "metrics.h"
#include "pacer.h"
#include "blflist.h"
#include "persist.h"
#include "subdlg.h"
#include "doctpl.h"
#include "proxytrust.h"


enum {
	GROUP_HASH_SIZE  = 256,
	CALLID_HASH_SIZE = 16384,
	CALLID_HASH_TENANT = 1024, /**< A tenants_dir tenant's: 16 KiB, not
				      256 KiB (x 200 tenants)        */
	FANOUT_BATCH     = 2048,   /**< NOTIFYs per main-loop turn      */
	ROOM_MAX         = 256,    /**< NOTIFYs between socket checks   */
	PF_STRS          = 2,      /**< Watchers ahead: fanout_prefetch */
	PF_DIALOG        = 4,
	PF_WATCHER       = 6,
	FLUSH_MS         = 1000,   /**< Versions saved at most this late */
	CSEQ_BASE        = 0x70000000, /**< Resumed: above a first run's */
	RESUME_MARGIN    = 100,    /**< Over what a crash may lose        */
};

/** The watchers of one orbit name */
struct watchgroup {
	struct le he;
	char *name;
	struct list watchers;
	struct ptmr tmr_fanout;        /**< Next batch of a fan-out        */
	uint64_t gen;                 /**< Changes fanned out so far      */
	struct list docs;             /**< struct groupdoc, per encoder   */
};

/** The document of a group's current state, for one encoder */
struct groupdoc {
	struct le le;                 /**< In watchgroup.docs             */
	const struct encoder *enc;
	struct doctpl *tpl;           /**< NULL: render per watcher       */
	uint64_t gen;                 /**< Of the group, when rendered    */
	uint64_t epoch;               /**< Of the notifier's map          */
	uint64_t sec;                 /**< Durations are in seconds       */
};

struct notifier {
	struct sip *sip;
	struct sipevent_sock *sock;   /**< libre's event socket           */
	struct subdlgs *dlgs;         /**< Dialogs of the orbit watchers  */
	struct hash *groups;          /**< struct watchgroup by name      */
	const struct config *cfg;
	const struct orbitmap *map;   /**< Map in force (not owned)       */
	notifier_unknown_h *unknownh; /**< A name the map has not (yet)   */
	void *unknown_arg;
	const struct store *store;
	struct pacer *pacer;          /**< NOTIFY coalescing and pacing   */
	struct blflist *lists;        /**< RFC 4662 list subscriptions    */
	struct persist *db;           /**< state_db, or NULL              */
	const char *dbkey;            /**< Its tenant there (not owned)   */
	const struct alert *alert;    /**< Overdue orbits, or NULL        */
	struct hash *by_callid;       /**< struct watcher by Call-ID      */
	struct list dirty;            /**< Watchers with unsaved versions */
	struct list ending;           /**< Final NOTIFY in flight         */
	struct ptmr tmr_flush;
	struct ptmr tmr_close;        /**< Next batch of notifier_close_all */
	enum sipevent_reason close_reason;
	uint32_t close_retry;
	char *domain;                 /**< PBX host[:port]                */
	uint64_t epoch;               /**< Maps set so far                */
	uint32_t nwatchers;
	uint32_t nending;             /**< In ending                      */
	bool picture;                 /**< The PBX's first report complete
					   (notifier_resume_start)        */
};

/** One phone subscription */
struct watcher {
	struct le le;                 /**< In watchgroup.watchers         */
	struct notifier *nt;
	struct watchgroup *group;     /**< Referenced                     */
	struct subdlg *dlg;           /**< Its SIP dialog                 */
	const struct encoder *enc;
	uint32_t version;             /**< Next document version          */
	uint32_t docver;              /**< Version of doc                 */
	uint64_t gen;                 /**< Last change of its group seen  */
	struct le he_callid;          /**< In notifier.by_callid          */
	struct le le_dirty;           /**< In notifier.dirty              */
	struct ptmr tmr_expire;
	struct doctpl *doc;           /**< Last document                  */
	struct pacer_slot pace;       /**< In here: one allocation less   */
	uint64_t expires_at;          /**< ms since the epoch             */
	bool pending;                 /**< A NOTIFY waits for the last one */
	bool saved;                   /**< In the database                */
	bool restored;                /**< From the database (last run)   */
	bool untold;                  /**< Restored, not yet NOTIFYed     */
	bool ending;                  /**< In notifier.ending             */
};


/* Groups with a fan-out under way (their next batch's timer runs):
   new SUBSCRIBEs are then taken fewer per loop turn (app.c) */
static unsigned fanning;

static void fanout_timer(void *arg);


/* Arm a group's next batch, counting the fan-outs under way */
static void fanout_next(struct watchgroup *g, uint64_t delay)
{
	if (!ptmr_isrunning(&g->tmr_fanout))
		++fanning;
	ptmr_start(&g->tmr_fanout, delay, fanout_timer, g);
}


static void group_destructor(void *arg)
{
	struct watchgroup *g = arg;

	if (ptmr_isrunning(&g->tmr_fanout))
		--fanning;
	ptmr_cancel(&g->tmr_fanout);
	hash_unlink(&g->he);
	list_flush(&g->docs);
	mem_deref(g->name);
}


static void groupdoc_destructor(void *arg)
{
	struct groupdoc *gd = arg;

	list_unlink(&gd->le);
	mem_deref(gd->tpl);
}


static void watcher_destructor(void *arg)
{
	struct watcher *w = arg;

	if (w->le.list) {
		list_unlink(&w->le);
		if (w->ending)
			--w->nt->nending;
		else
			--w->nt->nwatchers;
	}
	hash_unlink(&w->he_callid);
	list_unlink(&w->le_dirty);
	ptmr_cancel(&w->tmr_expire);
	pacer_slot_close(&w->pace);
	w->dlg = mem_deref(w->dlg);
	mem_deref(w->group);
	mem_deref(w->doc);
}


/* The subscription ends for good: it is not to be resumed */
static void watcher_forget(struct watcher *w)
{
	char ltag[17];

	if (w->saved)
		(void)persist_delete(w->nt->db, subdlg_callid(w->dlg),
				     subdlg_rtag(w->dlg),
				     subdlg_ltag(w->dlg, ltag, sizeof(ltag)));
}


/* Free a group's watchers without a word to the phones */
static bool drop_group(struct le *le, void *arg)
{
	struct watchgroup *g = le->data;
	(void)arg;

	mem_ref(g);
	while (!list_isempty(&g->watchers))
		mem_deref(list_head(&g->watchers)->data);
	mem_deref(g);

	return false;
}


static bool close_group(struct le *le, void *arg);
static void close_finish(struct notifier *nt);


static void notifier_destructor(void *arg)
{
	struct notifier *nt = arg;

	ptmr_cancel(&nt->tmr_flush);
	ptmr_cancel(&nt->tmr_close);
	notifier_flush(nt);
	/* with a database, subscriptions outlive the process: the owner
	   takes the transports away first, so nothing is sent here */
	if (nt->db) {
		(void)hash_apply(nt->groups, drop_group, NULL);
	}
	else {
		uint32_t params[2] = {SIPEVENT_DEACTIVATED, 0};

		/* what a paced close has not told yet: all at once */
		(void)hash_apply(nt->groups, close_group, params);
		blflist_close_all(nt->lists, SIPEVENT_DEACTIVATED, 0);
		txq_flush();
	}
	list_flush(&nt->ending);
	mem_deref(nt->lists);
	mem_deref(nt->by_callid);
	mem_deref(nt->dlgs);
	mem_deref(nt->pacer);
	mem_deref(nt->groups);
	mem_deref(nt->domain);
}


static bool group_cmp(struct le *le, void *arg)
{
	const struct watchgroup *g = le->data;

	return 0 == strcmp(g->name, arg);
}


static struct watchgroup *group_find(const struct notifier *nt,
				     const char *name)
{
	return list_ledata(hash_lookup(nt->groups, hash_joaat_str(name),
				       group_cmp, (void *)name));
}


static int group_get(struct watchgroup **gp, struct notifier *nt,
		     const char *name)
{
	struct watchgroup *g = group_find(nt, name);
	int err;

	if (g) {
		*gp = mem_ref(g);
		return 0;
	}

	g = mem_zalloc(sizeof(*g), group_destructor);
	if (!g)
		return ENOMEM;

	ptmr_init(&g->tmr_fanout);
	err = str_dup(&g->name, name);
	if (err) {
		mem_deref(g);
		return err;
	}

	/* the hash holds no reference: the last watcher unlinks it */
	hash_append(nt->groups, hash_joaat_str(name), &g->he, g);
	*gp = g;

	return 0;
}


/**
 * Append one orbit's current state, as a document of an encoder
 *
 * @param mb      Buffer to append to
 * @param nt      Notifier
 * @param orbit   Orbit
 * @param enc     Encoder
 * @param entity  The URI the document is about
 * @param version Document version
 *
 * @return 0 if success, otherwise errorcode
 */
int notifier_encode_orbit(struct mbuf *mb, const struct notifier *nt,
			  const struct orbit *orbit,
			  const struct encoder *enc, const char *entity,
			  uint32_t version)
{
	const struct list *calls = store_calls(nt->store, orbit->dn);
	struct orbit_call *callv = NULL;
	struct orbit_view view;
	char *retrieve_uri = NULL;
	uint64_t now = store_now_ms();
	size_t n = 0;
	struct le *le;
	int err;

	err = re_sdprintf(&retrieve_uri, "sip:%s@%s", orbit->retrieve,
			  nt->domain);
	if (err)
		goto out;

	if (calls && !list_isempty(calls)) {
		callv = mem_zalloc(list_count(calls) * sizeof(*callv), NULL);
		if (!callv) {
			err = ENOMEM;
			goto out;
		}
		for (le = list_head(calls); le; le = le->next, n++) {
			const struct parked_call *pc = le->data;

			callv[n].id = pc->id;
			callv[n].number = pc->number;
			callv[n].name = pc->name;
			callv[n].duration = now > pc->parked_at ?
				(uint32_t)((now - pc->parked_at) / 1000) : 0;
		}
	}

	memset(&view, 0, sizeof(view));
	view.entity = entity;
	view.name = orbit->name;
	view.label = orbit->label;
	view.retrieve_uri = retrieve_uri;
	view.domain = nt->domain;
	view.version = version;
	view.callv = callv;
	view.callc = n;
	view.occupied = store_occupied(nt->store, orbit->dn);
	view.all_calls = nt->cfg->dialog_all_calls;
	view.privacy = orbit->privacy < 0 ? nt->cfg->privacy
		: orbit->privacy == 1;
	view.lamp = nt->cfg->dialog_lamp;
	view.overdue_s = alert_overdue(nt->alert, orbit->name);

	err = enc->encodeh(mb, &view);

 out:
	mem_deref(retrieve_uri);
	mem_deref(callv);

	return err;
}


/* What a document is rendered from */
struct render_ctx {
	const struct notifier *nt;
	const struct orbit *orbit;
	const struct encoder *enc;
};


static int render_h(struct mbuf *mb, const char *entity, uint32_t version,
		    void *arg)
{
	const struct render_ctx *rc = arg;

	return notifier_encode_orbit(mb, rc->nt, rc->orbit, rc->enc, entity,
				     version);
}


/* The group's document of the orbit's current state for an encoder:
   rendered once per change (and per second, for the durations), NULL
   where the encoder's output cannot serve every watcher */
static int group_doc(struct groupdoc **gdp, struct watchgroup *g,
		     const struct notifier *nt, const struct render_ctx *rc)
{
	const uint64_t sec = store_now_ms() / 1000;
	struct groupdoc *gd;
	struct le *le;
	int err;

	for (le = list_head(&g->docs); le; le = le->next) {
		gd = le->data;
		if (gd->enc != rc->enc)
			continue;
		if (gd->gen == g->gen && gd->epoch == nt->epoch &&
		    gd->sec == sec) {
			*gdp = gd;
			return 0;
		}
		mem_deref(gd);       /* stale: the watchers keep theirs */
		break;
	}

	gd = mem_zalloc(sizeof(*gd), groupdoc_destructor);
	if (!gd)
		return ENOMEM;

	gd->enc = rc->enc;
	gd->gen = g->gen;
	gd->epoch = nt->epoch;
	gd->sec = sec;
	err = rc->enc->splice ? doctpl_build(&gd->tpl, render_h, (void *)rc)
		: ENOTSUP;
	if (err && err != ENOTSUP) {
		mem_deref(gd);
		return err;
	}

	list_append(&g->docs, &gd->le, gd);
	*gdp = gd;

	return 0;
}


/* This watcher's next document, of the orbit's current state: the
   group's rendering of it (rendered once for all of them), or its own
   where that cannot serve it.  Documents are shared and immutable, so
   a NOTIFY leaves no new long-lived allocation per watcher among its
   short-lived ones, which kept the heap from shrinking after a storm
   (BENCHMARKS.md). */
static int render(struct watcher *w, const struct orbit *orbit)
{
	struct render_ctx rc = {w->nt, orbit, w->enc};
	const char *entity = subdlg_ruri(w->dlg);
	struct doctpl *doc = NULL;
	struct groupdoc *gd;
	size_t elen;
	char ebuf[DOCTPL_ENTITY_MAX];
	int err;

	err = group_doc(&gd, w->group, w->nt, &rc);
	if (err)
		return err;

	if (gd->tpl && (subdlg_ruri_plain(w->dlg) ||
			doctpl_entity(ebuf, sizeof(ebuf), entity, &elen)))
		doc = mem_ref(gd->tpl);
	else {
		err = doctpl_literal(&doc, render_h, &rc, entity, w->version);
		if (err)
			return err;
	}

	mem_deref(w->doc);
	w->doc = doc;
	w->docver = w->version++;

	return 0;
}


/* Its row gets the version, expiry and (resumed from a row: their
   CSeq is above a first run's, which need not be saved) CSeq */
static void watcher_update(struct watcher *w)
{
	char ltag[17];

	(void)persist_update(w->nt->db, subdlg_callid(w->dlg),
			     subdlg_rtag(w->dlg),
			     subdlg_ltag(w->dlg, ltag, sizeof(ltag)),
			     w->version, w->restored ? subdlg_cseq(w->dlg) : 0,
			     w->expires_at);
}


/**
 * Save the document versions of the watchers that sent one
 *
 * @param nt Notifier
 */
void notifier_flush(struct notifier *nt)
{
	if (!nt)
		return;

	blflist_flush(nt->lists);
	if (list_isempty(&nt->dirty))
		return;

	(void)persist_begin(nt->db);
	while (!list_isempty(&nt->dirty)) {
		struct watcher *w = list_head(&nt->dirty)->data;

		list_unlink(&w->le_dirty);
		watcher_update(w);
	}
	(void)persist_commit(nt->db);
}


static void flush_handler(void *arg)
{
	notifier_flush(arg);
}


/* Seconds the subscription has left, for Subscription-State */
static uint32_t expires_left(const struct watcher *w)
{
	const uint64_t now = store_now_ms();

	return w->expires_at > now ?
		(uint32_t)((w->expires_at - now + 999) / 1000) : 0;
}


static int watcher_notify(struct watcher *w)
{
	const struct orbit *orbit;
	struct pl name;
	int err;

	/* one NOTIFY at a time: the next goes when it is answered, with
	   the state of then; a phone behind NAT without its connection
	   gets the state when it comes back (its refresh) */
	if (subdlg_busy(w->dlg) || !subdlg_reachable(w->dlg)) {
		w->pending = true;
		return 0;
	}
	w->pending = false;

	pl_set_str(&name, w->group->name);
	orbit = orbitmap_find(w->nt->map, &name);
	if (!orbit)
		return ENOENT;

	w->untold = false;

	err = render(w, orbit);
	if (err)
		return err;

	err = subdlg_notify(w->dlg, expires_left(w), w->enc->ctype, w->doc,
			    w->docver);
	if (!err)
		++metrics.notifies_sent;

	/* versions are saved in batches (notifier_flush) */
	if (!err && w->saved && !w->le_dirty.list) {
		list_append(&w->nt->dirty, &w->le_dirty, w);
		if (!ptmr_isrunning(&w->nt->tmr_flush))
			ptmr_start(&w->nt->tmr_flush, FLUSH_MS, flush_handler,
				  w->nt);
	}

	return err;
}


/**
 * The expiry a SUBSCRIBE is granted: what it asks for (or the default),
 * at most subscribe_max_expires (watchers and resumed subscriptions)
 *
 * @param cfg Configuration
 * @param msg SUBSCRIBE
 *
 * @return Seconds
 */
uint32_t notifier_granted(const struct config *cfg,
			  const struct sip_msg *msg)
{
	uint32_t e = pl_isset(&msg->expires) ? pl_u32(&msg->expires)
		: cfg->subscribe_default_expires;

	return e > cfg->subscribe_max_expires ?
		cfg->subscribe_max_expires : e;
}


/* Store what a NOTIFY on this dialog needs after a restart */
static int watcher_save(struct watcher *w)
{
	struct persist_sub s;
	char ltag[17];
	int err;

	memset(&s, 0, sizeof(s));
	subdlg_describe(w->dlg, &s, ltag, sizeof(ltag));
	s.orbit = w->group->name;
	s.event = w->enc->event;
	s.expires_at = w->expires_at;
	s.version = w->version;
	/* resumed: its CSeq is above a first run's, and must stay so */
	s.cseq = w->restored ? subdlg_cseq(w->dlg) : 0;
	s.tenant = w->nt->dbkey;
	/* behind a trusted proxy: the phone its Via named, not its
	   Contact, is what the limits count */
	s.phone = *pacer_slot_addr(&w->pace);
	err = persist_save(w->nt->db, &s);
	if (!err)
		w->saved = true;

	return err;
}


/**
 * Answer 489 for an event package not served (on this dialog)
 *
 * @param nt  Notifier
 * @param msg SUBSCRIBE
 */
void notifier_reply_bad_event(const struct notifier *nt,
			      const struct sip_msg *msg)
{
	(void)sip_replyf(nt->sip, msg, 489, "Bad Event",
			 "Allow-Events: %H\r\n"
			 "Content-Length: 0\r\n\r\n",
			 encoder_events_print, NULL);
}


/**
 * Answer 423 an Expires below subscribe_min_expires (but not 0)
 *
 * @param nt  Notifier
 * @param msg SUBSCRIBE
 *
 * @return true if it was answered so
 */
bool notifier_too_brief(const struct notifier *nt, const struct sip_msg *msg)
{
	uint32_t expires;

	if (!pl_isset(&msg->expires))
		return false;

	expires = pl_u32(&msg->expires);
	if (!expires || expires >= nt->cfg->subscribe_min_expires)
		return false;

	(void)sip_replyf(nt->sip, msg, 423, "Interval Too Brief",
			 "Min-Expires: %u\r\n"
			 "Content-Length: 0\r\n\r\n",
			 nt->cfg->subscribe_min_expires);

	return true;
}


static bool callid_cmp(struct le *le, void *arg)
{
	const struct watcher *w = le->data;

	return subdlg_match(w->dlg, arg);
}


/* The subscription ends: the final NOTIFY goes; the watcher stays,
   counted, until it is answered or given up (resp_handler) */
static void watcher_end(struct watcher *w, enum sipevent_reason reason,
			uint32_t retry_after)
{
	struct notifier *nt = w->nt;
	int err = subdlg_terminate(w->dlg, reason,
				   retry_after, w->enc->ctype, w->doc,
				   w->docver);

	watcher_forget(w);
	if (err) {
		if (err == EPERM)
			log_debug("notifier: %s to %J: final NOTIFY not "
				  "sent: the address has not answered, and "
				  "it is over 3x what its requester sent",
				  w->group->name, subdlg_peer(w->dlg));
		else if (err != EALREADY && err != ENOTCONN)
			log_warn("notifier: %s to %J: final NOTIFY: %m",
				 w->group->name, subdlg_peer(w->dlg), err);
		mem_deref(w);
		return;
	}

	list_unlink(&w->le);
	--nt->nwatchers;
	hash_unlink(&w->he_callid);
	list_unlink(&w->le_dirty);
	ptmr_cancel(&w->tmr_expire);
	w->ending = true;      /* its pacing slot still counts */
	list_append(&nt->ending, &w->le, w);
	++nt->nending;
}


/* A final NOTIFY that ends a subscription of a served orbit carries
   its current state as a new document: the next version (RFC 4235
   4.1), not the last document again. */
static void render_final(struct watcher *w)
{
	const struct orbit *orbit;
	struct pl name;

	pl_set_str(&name, w->group->name);
	orbit = orbitmap_find(w->nt->map, &name);
	if (orbit)
		(void)render(w, orbit);
}


static void expire_handler(void *arg)
{
	struct watcher *w = arg;

	log_debug("notifier: %s from %J ended (expired)", w->group->name,
		  subdlg_peer(w->dlg));
	render_final(w);
	watcher_end(w, SIPEVENT_TIMEOUT, 0);
}


/**
 * Take a SUBSCRIBE of an orbit watcher's dialog: a refresh (200 OK,
 * then a NOTIFY with the current state), an un-SUBSCRIBE (200 OK, then
 * the final NOTIFY), or a retransmission of the last one (its 200 OK
 * again; also of the SUBSCRIBE that started it, which has no To tag)
 *
 * @param nt  Notifier
 * @param msg A SUBSCRIBE
 *
 * @return true if it was a watcher's (and answered)
 */
bool notifier_indialog(struct notifier *nt, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	struct sipevent_event se;
	struct watcher *w;
	uint32_t expires;

	if (!nt || !msg)
		return false;

	w = list_ledata(hash_lookup(nt->by_callid,
				    hash_joaat_pl(&msg->callid), callid_cmp,
				    (void *)msg));
	if (!w) {
		/* a list's (answered there); else a first SUBSCRIBE
		   (subscribe_handler) */
		if (blflist_indialog(nt->lists, msg))
			return true;
		if (!pl_isset(&msg->to.tag))
			return false;

		/* in no dialog: as libre's notifier would answer it
		   (statelessly), but without a record (strec.c) */
		(void)sip_reply(nt->sip, msg, 481,
				"Subscription Does Not Exist");
		++metrics.subscribes_refused;
		return true;
	}

	/* a phone behind NAT is followed where it moves */
	if (subdlg_follow(w->dlg, msg)) {
		if (w->saved && watcher_save(w))
			log_warn("notifier: %s from %J: its new address is "
				 "not saved", w->group->name, &msg->src);
	}

	if (subdlg_retransmission(w->dlg, msg)) {
		(void)subdlg_reply(w->dlg, msg, expires_left(w));
		return true;
	}

	hdr = sip_msg_hdr(msg, SIP_HDR_EVENT);
	if (!hdr || sipevent_event_decode(&se, &hdr->val) ||
	    pl_strcasecmp(&se.event, w->enc->event)) {
		notifier_reply_bad_event(nt, msg);
		return true;
	}

	if (notifier_too_brief(nt, msg))
		return true;

	expires = notifier_granted(nt->cfg, msg);
	(void)subdlg_reply(w->dlg, msg, expires);

	if (!expires) {
		log_debug("notifier: %s from %J ended (unsubscribed)",
			  w->group->name, subdlg_peer(w->dlg));
		render_final(w);
		watcher_end(w, SIPEVENT_TIMEOUT, 0);
		return true;
	}

	w->expires_at = store_now_ms() + expires * 1000ULL;
	ptmr_start(&w->tmr_expire, expires * 1000ULL, expire_handler, w);
	if (w->saved)
		watcher_update(w);

	/* a refresh gets the full state (RFC 6665 4.2.1.2): at once,
	   unless refreshes come faster than the pacer lets NOTIFYs go.
	   Resumed and not yet told before the PBX's picture is complete,
	   it gets it then (notifier_resume_start): now an orbit the PBX has
	   not reported yet would show idle, whatever it holds */
	if (!w->untold || nt->picture)
		pacer_request(&w->pace);

	return true;
}


/**
 * Keep phone subscriptions in a database, so they survive a restart
 *
 * @param nt     Notifier
 * @param db     Database (not referenced; must outlive the notifier)
 * @param tenant Its tenant's name there (tenant_dbkey; not copied: must
 *               outlive the notifier)
 */
void notifier_set_persist(struct notifier *nt, struct persist *db,
			  const char *tenant)
{
	if (!nt)
		return;

	nt->db = db;
	nt->dbkey = tenant;
	blflist_set_persist(nt->lists, db, tenant);
}


/**
 * Let documents show which orbits are overdue (park_alert_after)
 *
 * @param nt Notifier
 * @param al Alert timers (not referenced; must outlive the notifier)
 */
void notifier_set_alert(struct notifier *nt, const struct alert *al)
{
	if (nt)
		nt->alert = al;
}


static void send_handler(void *arg)
{
	struct watcher *w = arg;
	int err;

	if (w->ending)
		return;

	err = watcher_notify(w);

	if (err)
		log_warn("notifier: %s to %J: %m", w->group->name,
			 subdlg_peer(w->dlg), err);
}


/* A NOTIFY got its final answer, or none */
static void resp_handler(int err, uint16_t scode, const struct pl *reason,
			 void *arg)
{
	struct watcher *w = arg;

	/* its final NOTIFY: answered, or given up */
	if (w->ending) {
		mem_deref(w);
		return;
	}

	if (!err && scode < 300) {
		/* its first answer verified a Contact that was not the
		   source (the 3x rule): from now on it survives a restart */
		if (!w->saved && w->nt->db && subdlg_verified(w->dlg) &&
		    watcher_save(w))
			log_warn("notifier: %s from %J: not saved; it will "
				 "not survive a restart", w->group->name,
				 subdlg_peer(w->dlg));
		if (w->pending)
			send_handler(w);
		return;
	}

	/* behind NAT on TCP/TLS, its connection closed while the NOTIFY
	   was in flight: no answer could come.  The subscription waits for
	   the phone, as it does with nothing in flight; the refresh on its
	   new connection brings the state */
	if (err && err != EHOSTDOWN && !subdlg_reachable(w->dlg)) {
		log_debug("notifier: %s to %J: NOTIFY unanswered, its "
			  "connection is gone: the subscription waits for "
			  "the phone", w->group->name, subdlg_peer(w->dlg));
		w->pending = true;
		return;
	}

	watcher_forget(w);

	if (err == EHOSTDOWN) {
		/* natkeep counted it */
		log_info("notifier: %s from %J ended: the phone stopped "
			 "answering keepalives", w->group->name,
			 subdlg_peer(w->dlg));
		mem_deref(w);
		return;
	}

	++metrics.notifies_failed;
	if (scode)
		log_info("notifier: %s from %J ended: NOTIFY got %u %r",
			 w->group->name, subdlg_peer(w->dlg), scode, reason);
	else
		log_info("notifier: %s from %J ended: NOTIFY: %m",
			 w->group->name, subdlg_peer(w->dlg), err);

	mem_deref(w);
}


/* An orbit by name.  One the map has not yet that a discover line gives
   comes back as *unmadep too, not made: subscribe_handler makes it
   (unknownh) once nothing refuses the SUBSCRIBE, so that a refused one
   (503: the PBX's state unknown) leaves no orbit behind and takes none
   of the line's max= */
static const struct orbit *orbit_lookup(struct notifier *nt,
					const struct pl *name,
					struct orbit **unmadep)
{
	const struct orbit *orbit = orbitmap_find(nt->map, name);

	if (orbit || !nt->unknownh)
		return orbit;

	*unmadep = orbitmap_discover_preview(nt->map, name);
	if (*unmadep)
		return *unmadep;

	/* past the line's max=: refused, logged and counted there */
	return nt->unknownh(name, nt->unknown_arg);
}


/* What subdlg_accept needs of a SUBSCRIBE: a Contact with a URI */
static bool contact_ok(const struct sip_msg *msg)
{
	const struct sip_hdr *ct = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr addr;
	struct uri uri;

	return ct && !sip_addr_decode(&addr, &ct->val) &&
		!uri_decode(&uri, &addr.auri);
}


static bool subscribe_handler(const struct sip_msg *msg, void *arg)
{
	struct notifier *nt = arg;
	struct sip *sip = nt->sip;
	const struct sip_hdr *hdr;
	const struct encoder *enc;
	struct sipevent_event se;
	const struct orbit *orbit;
	struct orbit *unmade = NULL;
	struct watcher *w = NULL;
	char *event = NULL;
	uint32_t expires;
	struct sa phone;
	struct pl ev;
	int err;

	hdr = sip_msg_hdr(msg, SIP_HDR_EVENT);
	if (!hdr || sipevent_event_decode(&se, &hdr->val)) {
		(void)sip_reply(sip, msg, 400, "Missing or Bad Event Header");
		++metrics.subscribes_refused;
		return true;
	}

	enc = encoder_find(&se.event);
	if (!enc) {
		notifier_reply_bad_event(nt, msg);
		++metrics.subscribes_refused;
		return true;
	}

	if (notifier_too_brief(nt, msg)) {
		++metrics.subscribes_refused;
		return true;
	}

	if (nt->cfg->blf_list &&
	    !pl_strcmp(&msg->uri.user, nt->cfg->blf_list)) {
		/* a list's parts are dialog-info, and so its refreshes */
		if (pl_strcasecmp(&se.event, "dialog")) {
			(void)sip_replyf(sip, msg, 489, "Bad Event",
					 "Allow-Events: dialog\r\n"
					 "Content-Length: 0\r\n\r\n");
			++metrics.subscribes_refused;
			return true;
		}
		if (blflist_subscribe(nt->lists, msg))
			++metrics.subscribes_refused;
		return true;
	}

	orbit = orbit_lookup(nt, &msg->uri.user, &unmade);
	if (!orbit) {
		log_debug("notifier: %J: no orbit '%r'", &msg->src,
			  &msg->uri.user);
		(void)sip_reply(sip, msg, 404, "Not Found");
		++metrics.subscribes_refused;
		return true;
	}

	/* no lamp rather than a wrong one */
	if (!notifier_orbit_known(nt, orbit)) {
		(void)sip_replyf(sip, msg, 503, "Orbit State Unknown",
				 "Retry-After: %u\r\n"
				 "Content-Length: 0\r\n\r\n",
				 nt->cfg->unknown_retry_after);
		++metrics.subscribes_refused;
		mem_deref(unmade);
		return true;
	}

	if (!acceptlist_allows(msg, enc->ctype)) {
		(void)sip_replyf(sip, msg, 406, "Not Acceptable",
				 "Accept: %s\r\n"
				 "Content-Length: 0\r\n\r\n", enc->ctype);
		++metrics.subscribes_refused;
		mem_deref(unmade);
		return true;
	}

	/* the orbit a discover line gives: made now, once accepted */
	if (unmade) {
		unmade = mem_deref(unmade);
		if (!contact_ok(msg)) {
			(void)sip_reply(sip, msg, 400,
					"Missing or Bad Contact");
			++metrics.subscribes_refused;
			return true;
		}
		orbit = nt->unknownh(&msg->uri.user, nt->unknown_arg);
		if (!orbit) {
			(void)sip_reply(sip, msg, 404, "Not Found");
			++metrics.subscribes_refused;
			return true;
		}
	}

	close_finish(nt);
	w = mem_zalloc(sizeof(*w), watcher_destructor);
	if (!w) {
		err = ENOMEM;
		goto out;
	}

	w->nt = nt;
	w->enc = enc;
	ptmr_init(&w->tmr_expire);
	proxytrust_phone(&phone, msg);
	err  = group_get(&w->group, nt, orbit->name);
	err |= pacer_slot_init(&w->pace, nt->pacer, &phone,
				send_handler, w);
	if (pl_isset(&se.id))
		err |= re_sdprintf(&event, "%r;id=%r", &se.event, &se.id);
	else
		err |= pl_strdup(&event, &se.event);
	if (err)
		goto out;

	expires = notifier_granted(nt->cfg, msg);
	pl_set_str(&ev, event);
	err = subdlg_accept(&w->dlg, nt->dlgs, msg, &ev, orbit->name,
			    expires, resp_handler, w);
	if (err == EBADMSG) {
		(void)sip_reply(sip, msg, 400, "Missing or Bad Contact");
		++metrics.subscribes_refused;
		err = 0;
		goto out;
	}
	if (err)
		goto out;

	w->expires_at = store_now_ms() + expires * 1000ULL;
	w->gen = w->group->gen;
	list_append(&w->group->watchers, &w->le, w);
	hash_append(nt->by_callid, hash_joaat_str(subdlg_callid(w->dlg)),
		    &w->he_callid, w);
	++nt->nwatchers;
	++metrics.subscribes_accepted;

	/* Expires: 0 is a fetch: the state, then the end (RFC 6665) */
	if (!expires) {
		if (!render(w, orbit))
			++metrics.notifies_sent;
		pacer_sent(&w->pace);
		watcher_end(w, SIPEVENT_TIMEOUT, 0);
		w = NULL;
		goto out;
	}
	ptmr_start(&w->tmr_expire, expires * 1000ULL, expire_handler, w);

	/* only a dialog whose peer is verified survives a restart */
	if (nt->db && subdlg_verified(w->dlg) && watcher_save(w))
		log_warn("notifier: %s from %J: not saved; it will not "
			 "survive a restart", orbit->name, &msg->src);

	log_debug("notifier: %s subscribed from %J", orbit->name, &msg->src);

	/* the first NOTIFY is not automatic, and must not wait */
	pacer_sent(&w->pace);
	err = watcher_notify(w);
	if (err) {
		log_warn("notifier: %s: first NOTIFY failed: %m",
			 orbit->name, err);
		err = 0;
	}

 out:
	if (err) {
		log_warn("notifier: SUBSCRIBE from %J failed: %m",
			 &msg->src, err);
		if (!w || !w->dlg) {
			(void)sip_reply(sip, msg, 500,
					"Server Internal Error");
			++metrics.subscribes_refused;
		}
		mem_deref(w);
	}
	else if (w && !w->dlg) {
		mem_deref(w);
	}
	mem_deref(event);

	return true;
}


/**
 * Allocate the notifier and start taking SUBSCRIBEs
 *
 * @param ntp    Where to store the notifier
 * @param sip    SIP stack
 * @param sock   SIP event socket
 * @param cfg    Configuration (must outlive the notifier)
 * @param store  Orbit store (must outlive the notifier)
 * @param domain PBX host[:port], for retrieve URIs
 *
 * @return 0 if success, otherwise errorcode
 */
int notifier_alloc(struct notifier **ntp, struct sip *sip,
		   struct sipevent_sock *sock, const struct config *cfg,
		   const struct store *store, const char *domain)
{
	return notifier_alloc_shared(ntp, sip, sock, cfg, store, domain,
				     NULL, NULL);
}


/**
 * Allocate a notifier whose dialogs share the phones' sockets with
 * other notifiers' (one per tenant, see tenant.c): one subdlgs taps
 * the sockets for all of them; and whose phone addresses share one
 * NOTIFY budget and subscription count with theirs (pacer.c)
 *
 * @param ntp    Where to store the notifier
 * @param sip    SIP stack
 * @param sock   SIP event socket
 * @param cfg    Configuration (must outlive the notifier)
 * @param store  Orbit store (must outlive the notifier)
 * @param domain PBX host[:port], for retrieve URIs
 * @param dlgs   The shared dialogs (referenced), NULL for its own
 * @param phones The shared phone table (referenced), NULL for its own
 *
 * @return 0 if success, otherwise errorcode
 */
int notifier_alloc_shared(struct notifier **ntp, struct sip *sip,
			  struct sipevent_sock *sock,
			  const struct config *cfg, const struct store *store,
			  const char *domain, struct subdlgs *dlgs,
			  struct pacer_phones *phones)
{
	struct notifier *nt;
	int err;

	if (!ntp || !sip || !sock || !cfg || !store || !domain)
		return EINVAL;

	nt = mem_zalloc(sizeof(*nt), notifier_destructor);
	if (!nt)
		return ENOMEM;

	nt->sip = sip;
	nt->sock = sock;
	nt->cfg = cfg;
	nt->store = store;

	err  = str_dup(&nt->domain, domain);
	err |= hash_alloc(&nt->groups, GROUP_HASH_SIZE);
	err |= pacer_alloc(&nt->pacer, phones, cfg->notify_min_interval,
			   cfg->notify_phone_rate);
	err |= blflist_alloc(&nt->lists, nt, sip, cfg);
	err |= hash_alloc(&nt->by_callid, cfg->tenant ? CALLID_HASH_TENANT :
			  CALLID_HASH_SIZE);
	if (dlgs) {
		nt->dlgs = mem_ref(dlgs);
	}
	else {
		err |= subdlgs_alloc(&nt->dlgs, sip);
		subdlgs_set_nat(nt->dlgs, cfg->nat_mode, cfg->nat_keepalive,
				cfg->nat_keepalive_grace);
	}
	ptmr_init(&nt->tmr_flush);
	ptmr_init(&nt->tmr_close);
	if (err)
		goto out;

 out:
	if (err)
		mem_deref(nt);
	else
		*ntp = nt;

	return err;
}


/**
 * The handler for initial SUBSCRIBEs, for sipevent_listen
 *
 * @param msg SUBSCRIBE request
 * @param arg The notifier
 *
 * @return true (the request was answered)
 */
bool notifier_subscribe_handler(const struct sip_msg *msg, void *arg)
{
	return subscribe_handler(msg, arg);
}


/**
 * Set the orbit map in force
 *
 * @param nt  Notifier
 * @param map Orbit map (not referenced; must outlive its use)
 */
void notifier_set_map(struct notifier *nt, const struct orbitmap *map)
{
	if (!nt)
		return;

	nt->map = map;
	++nt->epoch;             /* documents of the old map are stale */
}


/* One batch of a fan-out.  The phones answer every NOTIFY with a 200
   OK, which must not overflow the UDP receive buffer (each lost one
   costs a retransmission 500 ms later): before sending, the batch asks
   the sockets how many more answers they can hold unread
   (sipsock_room), sends that many and asks again; with no room it
   waits a millisecond for the loop to read them.  The NOTIFYs queued
   for sendmmsg (txq.c) go out before each look, so that it sees the
   answers to all of them.  With the 4 MiB buffer a 1,000-watcher
   orbit's NOTIFYs thus all go out before the first answer is read,
   and its last watcher does not wait for the reading of the others'
   answers.  At most FANOUT_BATCH go out per main-loop turn, so that
   a huge orbit does not hold up everything else.
   Done watchers move to the tail, so a batch starts at the head. */
static void fanout_handler(void *arg);


/* What the walk will read of the watchers after w, fetched ahead: each
   watcher, its dialog, the dialog's strings and its phone's pacing
   entry are allocations of their own, spread over the heap, and the
   walk mostly waited for them.  The watcher PF_WATCHER places ahead,
   its dialog and phone entry PF_DIALOG ahead (its fields are in by
   then), the dialog's strings PF_STRS ahead.  Read afresh from the
   list each time: nothing is kept across a NOTIFY, which may end
   watchers. */
static void fanout_prefetch(const struct watcher *w)
{
	const struct le *le = w->le.next;
	unsigned i;

	for (i = 1; le && i <= PF_WATCHER; i++, le = le->next) {
		const struct watcher *x;
		const char *p;
		size_t k;

		if (i == PF_WATCHER) {
			/* from the link's address: its data is not in yet */
			p = (const char *)le - offsetof(struct watcher, le);
			for (k = 0; k < sizeof(*x); k += 64)
				__builtin_prefetch(p + k);
			break;
		}

		x = le->data;
		if (i == PF_STRS)
			subdlg_prefetch_strs(x->dlg);
		else if (i == PF_DIALOG) {
			subdlg_prefetch(x->dlg);
			pacer_prefetch(&x->pace);
		}
	}
}


/* Whether a paced walk (a fan-out, or final NOTIFYs) may send one more
   NOTIFY now: -1 if so; else the ms to wait before it goes on: 1 while
   answers pile up unread, to let the loop read them first (a timer due
   at once would run again in the same tmr_poll, never letting the loop
   read), 0 once this loop turn's FANOUT_BATCH are out.  room and n:
   the walk's, 0 at its start. */
static int pace_next(unsigned *room, unsigned *n)
{
	if (!*room) {
		txq_flush();
		*room = sipsock_room(ROOM_MAX);
		if (!*room)
			return 1;
	}

	if ((*n)++ == FANOUT_BATCH)
		return 0;

	--*room;
	return -1;
}


static void fanout_batch(struct watchgroup *g)
{
	unsigned n = 0, room = 0;

	while (!list_isempty(&g->watchers)) {
		struct watcher *w = list_head(&g->watchers)->data;
		int wait;

		if (w->gen == g->gen)
			return;                 /* everyone has it */

		wait = pace_next(&room, &n);
		if (wait >= 0) {
			if (wait)
				++metrics.fanout_waits;
			fanout_next(g, wait);
			return;
		}

		fanout_prefetch(w);
		w->gen = g->gen;
		list_unlink(&w->le);
		list_append(&g->watchers, &w->le, w);
		pacer_request(&w->pace);
	}
}


static void fanout_handler(void *arg)
{
	fanout_batch(arg);
	txq_flush();
}


static void fanout_timer(void *arg)
{
	--fanning;               /* fired: not running until re-armed */
	fanout_handler(arg);
}


/**
 * Whether a fan-out is under way (its next batch waits for the loop)
 *
 * @return true while any notifier's group has a batch to send
 */
bool notifier_fanning(void)
{
	return fanning > 0;
}


/**
 * Send every watcher of an orbit the orbit's current state
 *
 * @param nt   Notifier
 * @param name Orbit name
 */
void notifier_orbit_changed(struct notifier *nt, const char *name)
{
	uint32_t params[2] = {SIPEVENT_DEACTIVATED, 0};
	struct watchgroup *g;
	struct pl pl;

	if (!nt || !name)
		return;

	++metrics.orbit_changes;
	blflist_orbit_changed(nt->lists, name);

	g = group_find(nt, name);
	if (!g)
		return;

	pl_set_str(&pl, name);
	if (!notifier_orbit_known(nt, orbitmap_find(nt->map, &pl))) {
		log_info("notifier: %s: its state is unknown: ending %u "
			 "subscription(s) (deactivated)", name,
			 list_count(&g->watchers));
		(void)close_group(&g->he, params);
		return;
	}

	/* a change during a fan-out restarts it: everyone gets the latest */
	++g->gen;
	fanout_handler(g);
}


/* Final NOTIFYs to a group's watchers: all of them, or (paced) as the
   fan-out sends NOTIFYs (fanout_batch): only as many as the phones'
   sockets have room for the answers, at most FANOUT_BATCH per loop
   turn, by sendmmsg on the fast path */
struct close_ctx {
	uint32_t params[2];
	bool paced;
	unsigned n, room;
	int wait;                     /**< ms to the next batch, or -1   */
};


static bool close_some(struct le *le, void *arg)
{
	struct watchgroup *g = le->data;
	struct close_ctx *cc = arg;

	/* each watcher holds a reference: keep g alive while we walk */
	mem_ref(g);
	while (!list_isempty(&g->watchers)) {
		struct watcher *w = list_head(&g->watchers)->data;

		if (cc->paced) {
			cc->wait = pace_next(&cc->room, &cc->n);
			if (cc->wait >= 0)
				break;
		}

		watcher_end(w, (enum sipevent_reason)cc->params[0],
			    cc->params[1]);
	}
	mem_deref(g);

	return cc->wait >= 0;
}


static bool close_group(struct le *le, void *arg)
{
	const uint32_t *params = arg;
	struct close_ctx cc = {{params[0], params[1]}, false, 0, 0, -1};

	return close_some(le, &cc);
}


static void close_batch(void *arg)
{
	struct notifier *nt = arg;
	struct close_ctx cc = {{nt->close_reason, nt->close_retry}, true,
			       0, 0, -1};

	/* their rows go in one transaction a batch (state_db) */
	(void)persist_begin(nt->db);
	(void)hash_apply(nt->groups, close_some, &cc);
	(void)persist_commit(nt->db);
	txq_flush();
	if (cc.wait >= 0)
		ptmr_start(&nt->tmr_close, (uint64_t)cc.wait, close_batch, nt);
}


/* A new subscription is not to be ended by a close begun before it:
   what that close has not yet told, it tells at once */
static void close_finish(struct notifier *nt)
{
	uint32_t params[2] = {nt->close_reason, nt->close_retry};

	if (!ptmr_isrunning(&nt->tmr_close))
		return;

	ptmr_cancel(&nt->tmr_close);
	(void)hash_apply(nt->groups, close_group, params);
	txq_flush();
}


/**
 * End every subscription with a final NOTIFY.  They go in batches
 * paced by the room for the answers (a stop's thousands would
 * otherwise overflow the socket's receive buffer, each lost answer
 * costing a retransmission); notifier_ending tells when every one is
 * sent and answered.
 *
 * @param nt          Notifier
 * @param reason      Subscription-State reason
 * @param retry_after Retry-after seconds, 0 for none
 */
void notifier_close_all(struct notifier *nt, enum sipevent_reason reason,
			uint32_t retry_after)
{
	if (!nt)
		return;

	nt->close_reason = reason;
	nt->close_retry = retry_after;
	blflist_close_all(nt->lists, reason, retry_after);
	close_batch(nt);
}


/**
 * Tell whether subscriptions are still ending: final NOTIFYs of
 * notifier_close_all to send, or any final NOTIFY not yet answered
 *
 * @param nt Notifier
 *
 * @return true until every final NOTIFY is answered or given up
 */
bool notifier_ending(const struct notifier *nt)
{
	return nt && (ptmr_isrunning(&nt->tmr_close) || nt->nending ||
		      blflist_ending(nt->lists));
}


/**
 * Count the watchers of one orbit
 *
 * @param nt   Notifier
 * @param name Orbit name
 *
 * @return Number of subscriptions to that orbit
 */
uint32_t notifier_count_orbit(const struct notifier *nt, const char *name)
{
	const struct watchgroup *g;

	if (!nt || !name)
		return 0;

	g = group_find(nt, name);

	return g ? list_count(&g->watchers) : 0;
}


/**
 * Count the watchers
 *
 * @param nt Notifier
 *
 * @return Number of active subscriptions
 */
uint32_t notifier_count(const struct notifier *nt)
{
	return nt ? nt->nwatchers : 0;
}


/** @return The state of the phones behind NAT (natkeep.c) */
struct natkeep *notifier_natkeep(const struct notifier *nt)
{
	return nt ? subdlgs_natkeep(nt->dlgs) : NULL;
}


/**
 * Count the phone addresses behind NAT
 *
 * @param nt Notifier
 *
 * @return Addresses that NOTIFYs and keepalives go to (natkeep.c)
 */
uint32_t notifier_nat_count(const struct notifier *nt)
{
	return nt ? subdlgs_nat_count(nt->dlgs) : 0;
}


/**
 * Set what makes an orbit for a name the map does not have, when a
 * phone subscribes to it (a discover line's name)
 *
 * @param nt  Notifier
 * @param h   Handler: the orbit, or NULL for none (404)
 * @param arg Handler argument
 */
void notifier_set_unknownh(struct notifier *nt, notifier_unknown_h *h,
			   void *arg)
{
	if (!nt)
		return;

	nt->unknownh = h;
	nt->unknown_arg = arg;
}


/**
 * Get the orbit map in force
 *
 * @param nt Notifier
 *
 * @return Orbit map
 */
const struct orbitmap *notifier_map(const struct notifier *nt)
{
	return nt ? nt->map : NULL;
}


/**
 * Tell whether the PBX's first report since the start is complete
 * (notifier_resume_start): before it, a DN it has not reported yet is
 * not known to be idle
 *
 * @param nt Notifier
 *
 * @return true once complete
 */
bool notifier_picture(const struct notifier *nt)
{
	return nt && nt->picture;
}


/**
 * Tell whether an orbit's state is known, so that a lamp may show it
 *
 * @param nt    Notifier
 * @param orbit Orbit (NULL: known)
 *
 * @return false while the PBX no longer reports its DN
 */
bool notifier_orbit_known(const struct notifier *nt,
			  const struct orbit *orbit)
{
	return !nt || !orbit || store_known(nt->store, orbit->dn);
}


/**
 * Allocate a pacing slot for a subscription of this notifier
 *
 * @param sp    Where to store the slot
 * @param nt    Notifier
 * @param peer  The phone's address
 * @param sendh Called when a NOTIFY may go out
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int notifier_pacer_slot(struct pacer_slot **sp, struct notifier *nt,
			const struct sa *peer, pacer_send_h *sendh, void *arg)
{
	if (!nt)
		return EINVAL;

	return pacer_slot_alloc(sp, nt->pacer, peer, sendh, arg);
}


/**
 * End every subscription to an orbit that is no longer in the map
 *
 * @param nt   Notifier
 * @param name Orbit name
 */
void notifier_orbit_removed(struct notifier *nt, const char *name)
{
	struct watchgroup *g;
	uint32_t params[2] = {SIPEVENT_NORESOURCE, 0};

	if (!nt || !name)
		return;

	blflist_orbit_changed(nt->lists, name);

	g = group_find(nt, name);
	if (!g)
		return;

	log_info("notifier: %s removed from the map: ending %u "
		 "subscription(s) (noresource)", name,
		 list_count(&g->watchers));
	(void)close_group(&g->he, params);
}


/**
 * Tell whether the tenant holds subscribe_max_total subscriptions
 *
 * @param nt Notifier
 *
 * @return true if one more must be refused, whoever sends it
 */
bool notifier_full(const struct notifier *nt)
{
	if (!nt)
		return true;

	return nt->nwatchers + nt->nending + blflist_count(nt->lists) >=
		nt->cfg->subscribe_max_total;
}


/**
 * Tell whether one more subscription from an address would be over
 * subscribe_max_total or subscribe_max_per_source
 *
 * @param nt   Notifier
 * @param peer Source address
 *
 * @return true if it must be refused
 */
bool notifier_over_limit(const struct notifier *nt, const struct sa *peer)
{
	if (notifier_full(nt))
		return true;

	return pacer_count(nt->pacer, peer) >=
		nt->cfg->subscribe_max_per_source;
}


/** @return The dialogs of its phones (subdlg.c) */
struct subdlgs *notifier_dlgs(const struct notifier *nt)
{
	return nt ? nt->dlgs : NULL;
}


static void resp_none(int err, uint16_t scode, const struct pl *reason,
		      void *arg)
{
	(void)err;
	(void)scode;
	(void)reason;
	(void)arg;
}


/**
 * Take back a phone subscription saved by an earlier run: a watcher
 * again (counted, paced, refreshed and ended like any other), on the
 * phone's existing dialog.  It is told the orbit's state once the PBX's
 * picture is complete (notifier_resume_start) or at the orbit's next
 * change, whichever comes first.
 *
 * @param nt Notifier
 * @param s  The saved subscription (not yet expired)
 *
 * @return 0 if success, ENOENT if its orbit or event package is gone,
 *         EBADMSG for an unusable row, otherwise errorcode
 */
int notifier_resume(struct notifier *nt, const struct persist_sub *s)
{
	const uint64_t now = store_now_ms();
	const struct encoder *enc;
	const struct orbit *orbit;
	const struct sa *phone;
	struct watcher *w;
	struct pl name, ev;
	int err;

	if (!nt || !s || !s->orbit || !s->event || !s->target || !s->callid)
		return EINVAL;

	pl_set_str(&name, s->orbit);
	pl_set_str(&ev, s->event);
	enc = encoder_find(&ev);

	/* a BLF list's, if the list is still served under that name */
	if (s->list) {
		const uint32_t cseq = s->cseq ? s->cseq : CSEQ_BASE;

		if (enc && nt->cfg->blf_list &&
		    !strcmp(s->orbit, nt->cfg->blf_list))
			return blflist_resume(nt->lists, s,
					      cseq + RESUME_MARGIN,
					      s->version + RESUME_MARGIN);
		orbit = NULL;
	}
	else {
		/* one a discover line gives is made again at once */
		orbit = orbitmap_find(nt->map, &name);
		if (!orbit && nt->unknownh)
			orbit = nt->unknownh(&name, nt->unknown_arg);
	}
	if (!orbit || !enc) {
		struct subdlg *sd = NULL;

		/* gone while parkblf was down: the phone is told (a list
		   in an RFC 4662 NOTIFY, Require: eventlist) */
		if (!subdlg_restore(&sd, nt->dlgs, s, (s->cseq ? s->cseq :
						       CSEQ_BASE) +
				    RESUME_MARGIN, resp_none, NULL)) {
			if (s->list)
				subdlg_set_eventlist(sd);
			(void)subdlg_terminate(sd, SIPEVENT_NORESOURCE, 0,
					       NULL, NULL, 0);
		}
		mem_deref(sd);
		return ENOENT;
	}

	w = mem_zalloc(sizeof(*w), watcher_destructor);
	if (!w)
		return ENOMEM;

	w->nt = nt;
	w->enc = enc;
	w->saved = true;
	w->restored = true;
	w->untold = true;
	w->expires_at = s->expires_at;
	w->version = s->version + RESUME_MARGIN;
	ptmr_init(&w->tmr_expire);

	err = subdlg_restore(&w->dlg, nt->dlgs, s,
			     (s->cseq ? s->cseq : CSEQ_BASE) + RESUME_MARGIN,
			     resp_handler, w);
	if (err)
		goto out;

	/* counted against the limits like a new one (the phone's address:
	   the one a trusted proxy's Via named, else behind NAT where it
	   is, else its Contact's) */
	phone = sa_isset(&s->phone, SA_ADDR) ? &s->phone :
		subdlg_peer(w->dlg);
	if (notifier_over_limit(nt, phone)) {
		err = EOVERFLOW;
		goto out;
	}

	err  = group_get(&w->group, nt, orbit->name);
	err |= pacer_slot_init(&w->pace, nt->pacer, phone, send_handler, w);
	if (err)
		goto out;

	w->gen = w->group->gen;
	list_append(&w->group->watchers, &w->le, w);
	hash_append(nt->by_callid, hash_joaat_str(subdlg_callid(w->dlg)),
		    &w->he_callid, w);
	++nt->nwatchers;
	ptmr_start(&w->tmr_expire, w->expires_at > now ?
		  w->expires_at - now : 0, expire_handler, w);

	/* the raised CSeq and version go to its row at once (the start
	   flushes them, app.c): a crash before the next save must not
	   start a third run from the same row, repeating this run's
	   CSeq, which a phone refuses */
	list_append(&nt->dirty, &w->le_dirty, w);

 out:
	if (err) {
		w->saved = false;   /* the caller deletes the row */
		mem_deref(w);
	}

	return err;
}


static bool tell_group(struct le *le, void *arg)
{
	struct watchgroup *g = le->data;
	struct le *wle;
	(void)arg;

	for (wle = list_head(&g->watchers); wle; wle = wle->next) {
		struct watcher *w = wle->data;

		if (w->untold)
			pacer_request(&w->pace);
	}

	return false;
}


/**
 * The PBX's state is known: NOTIFY the resumed watchers not yet told
 * (paced per phone like any fan-out)
 *
 * @param nt Notifier
 */
void notifier_resume_start(struct notifier *nt)
{
	if (!nt)
		return;

	nt->picture = true;
	(void)hash_apply(nt->groups, tell_group, NULL);
	blflist_resume_start(nt->lists);
}
