/**
 * @file blflist.c  BLF lists (RFC 4662): every orbit in one subscription
 *
 * A phone that supports resource lists subscribes once to the list name
 * (config key blf_list) with Supported: eventlist and gets
 * multipart/related NOTIFYs: an RLMI document listing the orbits, and
 * one dialog-info document per orbit, made by the same encoder as for
 * single keys.  The first NOTIFY is full state, and so is the one after
 * each refresh; later ones carry only the orbits that changed,
 * coalesced and paced like any NOTIFY.
 *
 * Its dialog is parkblf's own (subdlg.c), as a single key's: NOTIFYs
 * one at a time (the orbits changed meanwhile go in the next),
 * retransmitted, given up on no answer or an error answer; a phone
 * behind NAT is reached at its source and followed where it moves
 * (natkeep.c), its list ending if it stops answering keepalives; while
 * its TCP/TLS connection is gone, the state waits for its refresh on a
 * new one.  Over UDP a list subscription's Contact must still be its
 * source address (no amplification towards a third party: SECURITY.md).
 *
 * With state_db, a list subscription is a row (persist.c, marked list),
 * saved once its peer is verified, its RLMI version saved in batches,
 * deleted when it ends.  After a restart, or a crash, it is taken back
 * on the same dialog (blflist_resume): CSeq and versions go on above
 * the last, and the phone gets the full state once the PBX's picture is
 * complete (not before: a list shows every orbit), without subscribing
 * again.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "notifier.h"
#include "pacer.h"
#include "blflist.h"
#include "acceptlist.h"
#include "metrics.h"
#include "tcpswitch.h"
#include "natkeep.h"
#include "proxytrust.h"
#include "subdlg.h"
#include "doctpl.h"
#include "persist.h"


enum {
	TCP_ABOVE    = 1300,   /**< RFC 3261 18.1.1: larger goes by TCP  */
	UDP_MAX      = 65000,  /**< What one UDP datagram can carry      */
	HDR_ROOM     = 700,    /**< A NOTIFY's headers, at most          */
	PROBE_MS     = 2000,   /**< How long a TCP connection may take   */
	TOO_BIG_WAIT = 3600,   /**< Retry-After of a list too big        */
	FLUSH_MS     = 1000,   /**< Versions saved at most this late     */
	CALLID_HASH  = 256,
};


static const char boundary[] = "parkblf-rlmi-7d2f9c";
static const char ctype[] =
	"multipart/related;type=\"application/rlmi+xml\";"
	"start=\"<rlmi@parkblf>\";boundary=\"parkblf-rlmi-7d2f9c\"";
static const char event_pkg[] = "dialog";

/** One orbit as one list subscription has seen it */
struct resource {
	struct le le;
	char *name;
	uint32_t version;        /**< Next dialog-info version          */
	bool dirty;              /**< Changed since the last NOTIFY     */
};

/** One list subscription */
struct listwatcher {
	struct le le;            /**< In blflist.watchers, .pending (tried
				      over TCP) or .ending              */
	struct le le_dirty;      /**< In blflist.dirty                  */
	struct le he;            /**< In blflist.by_callid (watchers)   */
	struct blflist *bl;
	struct subdlg *dlg;      /**< Its SIP dialog                    */
	struct pacer_slot *pace;
	char *name;              /**< The list's name (blf_list)        */
	char *entity;            /**< The list URI subscribed to        */
	char *host;              /**< host[:port] for resource URIs     */
	struct sa peer;          /**< The phone, for log lines          */
	struct list resources;   /**< struct resource, map order        */
	struct ptmr tmr_expire;
	uint64_t expires_at;     /**< ms since the epoch                */
	uint32_t version;        /**< Next RLMI version                 */
	uint32_t expires;        /**< Granted (while tried over TCP)    */
	struct tcpswitch *ts;    /**< Trying the phone over TCP          */
	size_t size;             /**< Bytes of the first, full NOTIFY    */
	bool full;               /**< Next NOTIFY must be full state    */
	bool pending;            /**< A NOTIFY waits for the last one   */
	bool saved;              /**< In the database                   */
	bool restored;           /**< From the database (last run)      */
	bool untold;             /**< Restored, not yet NOTIFYed        */
	bool ending;             /**< Final NOTIFY in flight            */
};

struct blflist {
	struct list watchers;
	struct hash *by_callid;  /**< The watchers, by Call-ID          */
	struct list pending;     /**< Being tried over TCP, unanswered  */
	struct list ending;      /**< Final NOTIFY in flight            */
	struct list dirty;       /**< Versions not yet saved            */
	struct notifier *nt;
	struct sip *sip;
	const struct config *cfg;
	const struct encoder *enc;
	struct persist *db;      /**< state_db, or NULL                 */
	const char *dbkey;       /**< Its tenant there (not owned)      */
	struct ptmr tmr_flush;
};


static void resource_destructor(void *arg)
{
	struct resource *r = arg;

	list_unlink(&r->le);
	mem_deref(r->name);
}


static void watcher_destructor(void *arg)
{
	struct listwatcher *lw = arg;

	list_unlink(&lw->le);
	list_unlink(&lw->le_dirty);
	hash_unlink(&lw->he);
	ptmr_cancel(&lw->tmr_expire);
	lw->ts = mem_deref(lw->ts);
	lw->pace = mem_deref(lw->pace);
	lw->dlg = mem_deref(lw->dlg);
	list_flush(&lw->resources);
	mem_deref(lw->name);
	mem_deref(lw->entity);
	mem_deref(lw->host);
}


/* Without a word to the phones: a stop with state_db keeps them for
   the next run; without one, the notifier told them first */
static void blflist_destructor(void *arg)
{
	struct blflist *bl = arg;

	ptmr_cancel(&bl->tmr_flush);
	blflist_flush(bl);
	list_flush(&bl->pending);
	list_flush(&bl->watchers);
	list_flush(&bl->ending);
	mem_deref(bl->by_callid);
}


/**
 * Allocate the list subscriptions of a notifier
 *
 * @param blp Where to store them
 * @param nt  Notifier (must outlive them)
 * @param sip SIP stack, for answers
 * @param cfg Configuration (must outlive them)
 *
 * @return 0 if success, otherwise errorcode
 */
int blflist_alloc(struct blflist **blp, struct notifier *nt,
		  struct sip *sip, const struct config *cfg)
{
	static const struct pl dialog = PL("dialog");
	struct blflist *bl;

	if (!blp || !nt || !sip || !cfg)
		return EINVAL;

	bl = mem_zalloc(sizeof(*bl), blflist_destructor);
	if (!bl)
		return ENOMEM;

	bl->nt = nt;
	bl->sip = sip;
	bl->cfg = cfg;
	bl->enc = encoder_find(&dialog);
	ptmr_init(&bl->tmr_flush);
	if (hash_alloc(&bl->by_callid, CALLID_HASH)) {
		mem_deref(bl);
		return ENOMEM;
	}
	*blp = bl;

	return 0;
}


/**
 * Keep list subscriptions in a database, so they survive a restart
 *
 * @param bl     List subscriptions
 * @param db     Database (not referenced; must outlive them)
 * @param tenant Its tenant's name there (not copied)
 */
void blflist_set_persist(struct blflist *bl, struct persist *db,
			 const char *tenant)
{
	if (!bl)
		return;

	bl->db = db;
	bl->dbkey = tenant;
}


static struct resource *resource_find(const struct listwatcher *lw,
				      const char *name)
{
	struct le *le;

	for (le = list_head(&lw->resources); le; le = le->next) {
		struct resource *r = le->data;

		if (!strcmp(r->name, name))
			return r;
	}

	return NULL;
}


/* Resources follow the map: new orbits are added, gone ones dropped.
   A new one starts at the list's version: a resource's version never
   passes the list's, so it goes on above any the phone saw */
static int resources_sync(struct listwatcher *lw,
			  const struct orbitmap *map)
{
	struct le *le;
	int err = 0;

	for (le = list_head(&lw->resources); le; ) {
		struct resource *r = le->data;
		struct pl name;

		le = le->next;
		pl_set_str(&name, r->name);
		if (!orbitmap_find(map, &name)) {
			mem_deref(r);
			lw->full = true;
		}
	}

	for (le = list_head(&map->orbits); le && !err; le = le->next) {
		const struct orbit *o = le->data;
		struct resource *r;

		if (resource_find(lw, o->name))
			continue;

		r = mem_zalloc(sizeof(*r), resource_destructor);
		if (!r)
			return ENOMEM;
		err = str_dup(&r->name, o->name);
		if (err) {
			mem_deref(r);
			break;
		}
		r->version = lw->version;
		list_append(&lw->resources, &r->le, r);
		lw->full = true;
	}

	return err;
}


static int part_print(struct mbuf *mb, struct listwatcher *lw,
		      struct resource *r, const struct orbit *orbit)
{
	char *uri = NULL;
	int err;

	err = re_sdprintf(&uri, "sip:%s@%s", r->name, lw->host);
	if (err)
		return err;

	err  = mbuf_printf(mb, "--%s\r\n"
			   "Content-Transfer-Encoding: binary\r\n"
			   "Content-ID: <%s.%u@parkblf>\r\n"
			   "Content-Type: application/dialog-info+xml;"
			   "charset=\"UTF-8\"\r\n\r\n",
			   boundary, r->name, r->version);
	err |= notifier_encode_orbit(mb, lw->bl->nt, orbit, lw->bl->enc, uri,
				     r->version);
	err |= mbuf_printf(mb, "\r\n");
	++r->version;

	mem_deref(uri);

	return err;
}


/* The next document, appended to mb: full, or the orbits changed since
   the last one */
static int render(struct mbuf *mb, struct listwatcher *lw)
{
	const struct orbitmap *map = notifier_map(lw->bl->nt);
	struct mbuf *parts;
	bool full;
	struct le *le;
	int err;

	err = resources_sync(lw, map);
	if (err)
		return err;

	full = lw->full;
	parts = mbuf_alloc(2048);
	if (!parts)
		return ENOMEM;

	err = mbuf_printf(mb, "--%s\r\n"
			  "Content-Transfer-Encoding: binary\r\n"
			  "Content-ID: <rlmi@parkblf>\r\n"
			  "Content-Type: application/rlmi+xml;"
			  "charset=\"UTF-8\"\r\n\r\n"
			  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			  "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" "
			  "uri=\"%H\" version=\"%u\" fullState=\"%s\">\r\n",
			  boundary, xml_escape_print, lw->entity,
			  lw->version, full ? "true" : "false");

	for (le = list_head(&lw->resources); le && !err; le = le->next) {
		struct resource *r = le->data;
		const struct orbit *orbit;
		struct pl name;

		if (!full && !r->dirty)
			continue;

		pl_set_str(&name, r->name);
		orbit = orbitmap_find(map, &name);

		err  = mbuf_printf(mb, " <resource uri=\"sip:%H@%H\">\r\n",
				   xml_escape_print, r->name,
				   xml_escape_print, lw->host);
		if (orbit->label)
			err |= mbuf_printf(mb, "  <name>%H</name>\r\n",
					   xml_escape_print, orbit->label);
		r->dirty = false;

		/* its state unknown: neither idle nor lit (RFC 4662
		   5.2: pending, no part) */
		if (!notifier_orbit_known(lw->bl->nt, orbit)) {
			err |= mbuf_printf(mb, "  <instance id=\"%H\" "
					   "state=\"pending\"/>\r\n"
					   " </resource>\r\n",
					   xml_escape_print, r->name);
			continue;
		}

		err |= mbuf_printf(mb, "  <instance id=\"%H\" state=\"active\""
				   " cid=\"%H.%u@parkblf\"/>\r\n"
				   " </resource>\r\n",
				   xml_escape_print, r->name,
				   xml_escape_print, r->name, r->version);
		err |= part_print(parts, lw, r, orbit);
	}

	err |= mbuf_printf(mb, "</list>\r\n\r\n");
	err |= mbuf_write_mem(mb, parts->buf, parts->end);
	err |= mbuf_printf(mb, "--%s--\r\n", boundary);
	if (!err) {
		++lw->version;
		lw->full = false;
	}

	mem_deref(parts);

	return err;
}


/* For doctpl_literal: the document is the list's own (entity and
   version are in it already) */
static int render_h(struct mbuf *mb, const char *entity, uint32_t version,
		    void *arg)
{
	(void)entity;
	(void)version;

	return render(mb, arg);
}


/* The next document, as subdlg sends it */
static int render_doc(struct doctpl **docp, struct listwatcher *lw)
{
	return doctpl_literal(docp, render_h, lw, lw->entity, 0);
}


/* A subscription made or resumed: in the watchers, found by Call-ID */
static void watcher_add(struct listwatcher *lw)
{
	list_append(&lw->bl->watchers, &lw->le, lw);
	hash_append(lw->bl->by_callid, hash_joaat_str(subdlg_callid(lw->dlg)),
		    &lw->he, lw);
}


static bool callid_cmp(struct le *le, void *arg)
{
	const struct listwatcher *lw = le->data;

	return subdlg_match(lw->dlg, arg);
}


/* Seconds the subscription has left, for Subscription-State */
static uint32_t expires_left(const struct listwatcher *lw)
{
	const uint64_t now = store_now_ms();

	return lw->expires_at > now ?
		(uint32_t)((lw->expires_at - now + 999) / 1000) : 0;
}


/* Store what a NOTIFY on this dialog needs after a restart */
static int list_save(struct listwatcher *lw)
{
	struct persist_sub s;
	char ltag[17];
	int err;

	memset(&s, 0, sizeof(s));
	subdlg_describe(lw->dlg, &s, ltag, sizeof(ltag));
	s.orbit = lw->name;
	s.event = event_pkg;
	s.expires_at = lw->expires_at;
	s.version = lw->version;
	s.cseq = lw->restored ? subdlg_cseq(lw->dlg) : 0;
	s.tenant = lw->bl->dbkey;
	s.phone = *pacer_slot_addr(lw->pace);
	s.list = true;
	err = persist_save(lw->bl->db, &s);
	if (!err)
		lw->saved = true;

	return err;
}


/* Its row gets the version, expiry and (resumed: above a first run's)
   CSeq */
static void list_update(struct listwatcher *lw)
{
	char ltag[17];

	(void)persist_update(lw->bl->db, subdlg_callid(lw->dlg),
			     subdlg_rtag(lw->dlg),
			     subdlg_ltag(lw->dlg, ltag, sizeof(ltag)),
			     lw->version,
			     lw->restored ? subdlg_cseq(lw->dlg) : 0,
			     lw->expires_at);
}


/* The subscription ends for good: it is not to be resumed */
static void list_forget(struct listwatcher *lw)
{
	char ltag[17];

	list_unlink(&lw->le_dirty);
	if (!lw->saved)
		return;

	lw->saved = false;
	(void)persist_delete(lw->bl->db, subdlg_callid(lw->dlg),
			     subdlg_rtag(lw->dlg),
			     subdlg_ltag(lw->dlg, ltag, sizeof(ltag)));
}


/**
 * Save the RLMI versions of the list subscriptions that sent a NOTIFY
 *
 * @param bl List subscriptions
 */
void blflist_flush(struct blflist *bl)
{
	if (!bl || list_isempty(&bl->dirty))
		return;

	(void)persist_begin(bl->db);
	while (!list_isempty(&bl->dirty)) {
		struct listwatcher *lw = list_head(&bl->dirty)->data;

		list_unlink(&lw->le_dirty);
		list_update(lw);
	}
	(void)persist_commit(bl->db);
}


static void flush_handler(void *arg)
{
	blflist_flush(arg);
}


static int list_notify(struct listwatcher *lw)
{
	struct blflist *bl = lw->bl;
	struct doctpl *doc = NULL;
	int err;

	/* one NOTIFY at a time: the next goes when it is answered, with
	   the orbits changed until then; behind NAT without its
	   connection, the state waits for the phone's refresh */
	if (!subdlg_reachable(lw->dlg)) {
		lw->pending = true;
		lw->full = true;
		log_debug("blflist: list from %J: no connection, the NOTIFY "
			  "waits for the phone", &lw->peer);
		return 0;
	}
	if (subdlg_busy(lw->dlg)) {
		lw->pending = true;
		return 0;
	}
	lw->pending = false;
	lw->untold = false;

	err = render_doc(&doc, lw);
	if (!err)
		err = subdlg_notify(lw->dlg, expires_left(lw), ctype, doc, 0);
	mem_deref(doc);
	if (err) {
		lw->full = true;   /* what the phone missed */
		return err;
	}

	++metrics.notifies_sent;

	/* versions are saved in batches */
	if (lw->saved && !lw->le_dirty.list) {
		list_append(&bl->dirty, &lw->le_dirty, lw);
		if (!ptmr_isrunning(&bl->tmr_flush))
			ptmr_start(&bl->tmr_flush, FLUSH_MS, flush_handler,
				   bl);
	}

	return 0;
}


static void send_handler(void *arg)
{
	struct listwatcher *lw = arg;
	int err;

	if (lw->ending || !lw->dlg)
		return;

	err = list_notify(lw);
	if (err)
		log_warn("blflist: NOTIFY to %J: %m", &lw->peer, err);
}


/* The subscription ends: the final NOTIFY goes (with the full state
   if asked: an un-SUBSCRIBE's, an expiry's); the list stays, counted,
   until it is answered or given up (resp_handler) */
static void list_end(struct listwatcher *lw, enum sipevent_reason reason,
		     uint32_t retry_after, bool state)
{
	struct doctpl *doc = NULL;
	int err;

	if (state) {
		lw->full = true;
		if (render_doc(&doc, lw))
			doc = NULL;
	}

	err = subdlg_terminate(lw->dlg, reason, retry_after,
			       doc ? ctype : NULL, doc, 0);
	mem_deref(doc);
	list_forget(lw);
	if (err) {
		if (err != EALREADY && err != ENOTCONN && err != EPERM)
			log_warn("blflist: list from %J: final NOTIFY: %m",
				 &lw->peer, err);
		mem_deref(lw);
		return;
	}

	list_unlink(&lw->le);
	hash_unlink(&lw->he);
	ptmr_cancel(&lw->tmr_expire);
	lw->ending = true;
	list_append(&lw->bl->ending, &lw->le, lw);
}


static void expire_handler(void *arg)
{
	struct listwatcher *lw = arg;

	log_debug("blflist: list from %J ended (expired)", &lw->peer);
	list_end(lw, SIPEVENT_TIMEOUT, 0, true);
}


/* A NOTIFY got its final answer, or none */
static void resp_handler(int err, uint16_t scode, const struct pl *reason,
			 void *arg)
{
	struct listwatcher *lw = arg;
	struct blflist *bl = lw->bl;

	/* its final NOTIFY: answered, or given up */
	if (lw->ending) {
		mem_deref(lw);
		return;
	}

	if (!err && scode < 300) {
		/* its first answer verified its peer: from now on it
		   survives a restart */
		if (!lw->saved && bl->db && subdlg_verified(lw->dlg) &&
		    list_save(lw))
			log_warn("blflist: list from %J: not saved; it will "
				 "not survive a restart", &lw->peer);
		if (lw->pending)
			send_handler(lw);
		return;
	}

	/* behind NAT on TCP/TLS, its connection closed while the NOTIFY
	   was in flight: no answer could come.  The list waits for the
	   phone, as it does with nothing in flight; the refresh on its new
	   connection brings the full state */
	if (err && err != EHOSTDOWN && !subdlg_reachable(lw->dlg)) {
		log_debug("blflist: list to %J: NOTIFY unanswered, its "
			  "connection is gone: the list waits for the phone",
			  &lw->peer);
		lw->pending = true;
		lw->full = true;
		return;
	}

	list_forget(lw);

	if (err == EHOSTDOWN) {
		/* natkeep counted it */
		log_info("blflist: list from %J ended: the phone stopped "
			 "answering keepalives", &lw->peer);
		mem_deref(lw);
		return;
	}

	++metrics.notifies_failed;
	if (scode)
		log_info("blflist: list from %J ended: NOTIFY got %u %r",
			 &lw->peer, scode, reason);
	else
		log_info("blflist: list from %J ended: NOTIFY: %m",
			 &lw->peer, err);

	mem_deref(lw);
}


/* Over UDP, the first hop of the NOTIFYs (the first Record-Route,
   else the Contact) must be the source's IP; TCP and TLS prove their
   peer by the handshake */
static bool contact_is_source(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE);
	struct sip_addr addr;
	struct pl maddr;
	struct sa a;

	if (msg->tp != SIP_TRANSP_UDP)
		return true;

	if (!hdr)
		hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (!hdr || sip_addr_decode(&addr, &hdr->val) ||
	    !msg_param_exists(&addr.uri.params, "maddr", &maddr))
		return false;

	return !sa_set(&a, &addr.uri.host, 0) &&
		sa_cmp(&a, &msg->src, SA_ADDR);
}


/* Accept the SUBSCRIBE (msg, whose Contact says where NOTIFYs go) and
   send the full state; lw is consumed */
static int list_accept(struct listwatcher *lw, const struct sip_msg *msg)
{
	struct blflist *bl = lw->bl;
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct sipevent_event se;
	char *event = NULL;
	struct pl ev;
	int err;

	/* the Event header as the NOTIFYs repeat it, with its id */
	if (!hdr || sipevent_event_decode(&se, &hdr->val)) {
		err = EPROTO;
		goto out;
	}
	if (pl_isset(&se.id))
		err = re_sdprintf(&event, "%r;id=%r", &se.event, &se.id);
	else
		err = pl_strdup(&event, &se.event);
	if (err)
		goto out;

	pl_set_str(&ev, event);
	err = subdlg_accept(&lw->dlg, notifier_dlgs(bl->nt), msg, &ev,
			    lw->name, lw->expires, resp_handler, lw);
	event = mem_deref(event);
	if (err)
		goto out;
	subdlg_set_eventlist(lw->dlg);

	lw->peer = *subdlg_peer(lw->dlg);
	lw->expires_at = store_now_ms() + lw->expires * 1000ULL;
	watcher_add(lw);
	++metrics.subscribes_accepted;
	log_debug("blflist: list subscribed from %J", &msg->src);

	/* Expires: 0 is a fetch: the state, then the end (RFC 6665) */
	if (!lw->expires) {
		list_end(lw, SIPEVENT_TIMEOUT, 0, true);
		return 0;
	}
	ptmr_start(&lw->tmr_expire, lw->expires * 1000ULL, expire_handler,
		   lw);

	/* only a dialog whose peer is verified survives a restart */
	if (bl->db && subdlg_verified(lw->dlg) && list_save(lw))
		log_warn("blflist: list from %J: not saved; it will not "
			 "survive a restart", &msg->src);

	/* the first NOTIFY must not wait */
	pacer_sent(lw->pace);
	send_handler(lw);

 out:
	if (err) {
		if (err == EBADMSG)
			(void)sip_reply(bl->sip, msg, 400,
					"Missing or Bad Contact");
		else
			(void)sip_reply(bl->sip, msg, 500,
					"Server Internal Error");
		mem_deref(lw);
	}

	return err;
}


/* The size of the first NOTIFY's body; nothing counts as sent */
static int full_size(struct listwatcher *lw, size_t *sizep)
{
	struct mbuf *mb = mbuf_alloc(2048);
	struct le *le;
	int err;

	if (!mb)
		return ENOMEM;

	err = render(mb, lw);
	if (!err)
		*sizep = mb->end;
	mem_deref(mb);

	lw->version = 0;
	lw->full = true;
	for (le = list_head(&lw->resources); le; le = le->next) {
		struct resource *r = le->data;

		r->version = 0;
	}

	return err;
}


/* The Contact names a transport other than UDP */
static bool contact_reliable(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr addr;
	struct pl tp;

	return hdr && !sip_addr_decode(&addr, &hdr->val) &&
		!msg_param_decode(&addr.uri.params, "transport", &tp) &&
		pl_strcasecmp(&tp, "udp");
}


/* A UDP phone's list too big for one UDP datagram, that takes no TCP:
   it would get 200 and never a state, so it is refused */
static void refuse_too_big(struct listwatcher *lw, const struct sip_msg *msg,
			   int err)
{
	const uint32_t n = list_count(&lw->resources);
	static struct log_limit ll;

	log_limited(&ll, LOG_LEVEL_WARN, "blflist: list from %J refused "
		    "(503): its NOTIFY of %u orbits is %zu bytes, too big for "
		    "UDP (%u), and its Contact takes no TCP (%m); subscribe "
		    "over TCP, or use fewer orbits", &msg->src, n,
		    lw->size + HDR_ROOM, UDP_MAX, err);

	/* statelessly, as every refusal: anyone may ask */
	(void)sip_replyf(lw->bl->sip, msg, 503, "Service Unavailable",
			 "Retry-After: %u\r\n"
			 "Warning: 399 parkblf \"a NOTIFY of %u orbits is "
			 "too big for UDP; subscribe over TCP\"\r\n"
			 "Content-Length: 0\r\n\r\n", TOO_BIG_WAIT, n);
	++metrics.subscribes_refused;
}


/* The phone was tried over TCP: its NOTIFYs go there, else over UDP if
   they fit a datagram, else it is refused */
static void tcp_tried(int err, const struct sip_msg *msg, void *arg)
{
	struct listwatcher *lw = arg;
	struct tcpswitch *ts = lw->ts;
	const size_t bytes = lw->size + HDR_ROOM;

	lw->ts = NULL;
	list_unlink(&lw->le);

	if (!err) {
		log_info("blflist: list from %J: NOTIFYs of %zu bytes go over "
			 "TCP (RFC 3261 18.1.1)", &msg->src, bytes);
		(void)list_accept(lw, msg);
	}
	else if (bytes <= UDP_MAX) {
		log_info("blflist: list from %J: no TCP at its Contact (%m): "
			 "NOTIFYs of %zu bytes go over UDP, in IP fragments",
			 &msg->src, err, bytes);
		(void)list_accept(lw, msg);
	}
	else {
		refuse_too_big(lw, msg, err);
		mem_deref(lw);
	}

	mem_deref(ts);
}


/* Behind NAT, by natkeep.c's rules (as subdlg_accept finds it) */
static bool behind_nat(const struct natkeep *nk, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr addr;

	return !sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE) && hdr &&
		!sip_addr_decode(&addr, &hdr->val) &&
		natkeep_detect(nk, msg, &addr.uri);
}


static struct listwatcher *list_alloc(struct blflist *bl)
{
	struct listwatcher *lw = mem_zalloc(sizeof(*lw), watcher_destructor);

	if (!lw)
		return NULL;

	lw->bl = bl;
	lw->full = true;
	ptmr_init(&lw->tmr_expire);

	return lw;
}


/**
 * Take a SUBSCRIBE to the list name (the event package is checked)
 *
 * A list whose first NOTIFY is larger than 1300 bytes, asked for over
 * UDP, is answered only once the phone's Contact was tried over TCP
 * (RFC 3261 18.1.1): the NOTIFYs then go over TCP; if it takes no TCP,
 * over UDP if they fit one datagram, otherwise the SUBSCRIBE is refused
 * with 503 (Retry-After, Warning) and a log line.  A phone behind NAT
 * is not tried (no connection gets in) and is reached at its source.
 *
 * @param bl      List subscriptions
 * @param msg     The SUBSCRIBE
 *
 * @return 0 if a subscription was made or is being tried, otherwise
 *         errorcode (answered)
 */
int blflist_subscribe(struct blflist *bl, const struct sip_msg *msg)
{
	static struct log_limit ll;
	struct sip *sip = bl->sip;
	struct listwatcher *lw = NULL;
	struct sa phone;
	struct le *le;
	int err;

	if (!bl->enc || !sip_msg_hdr_has_value(msg, SIP_HDR_SUPPORTED,
					       "eventlist")) {
		(void)sip_replyf(sip, msg, 421, "Extension Required",
				 "Require: eventlist\r\n"
				 "Content-Length: 0\r\n\r\n");
		return EPROTO;
	}

	if (!acceptlist_allows(msg, "multipart/related")) {
		(void)sip_replyf(sip, msg, 406, "Not Acceptable",
				 "Accept: multipart/related, "
				 "application/rlmi+xml, "
				 "application/dialog-info+xml\r\n"
				 "Content-Length: 0\r\n\r\n");
		return EPROTO;
	}

	/* a retransmission while its phone is tried over TCP */
	for (le = list_head(&bl->pending); le; le = le->next) {
		const struct listwatcher *p = le->data;

		if (tcpswitch_same(p->ts, msg))
			return 0;
	}

	/* behind NAT its NOTIFYs go to its source, whatever its Contact */
	if (!behind_nat(notifier_natkeep(bl->nt), msg) &&
	    !contact_is_source(msg)) {
		log_limited(&ll, LOG_LEVEL_INFO, "blflist: list SUBSCRIBE "
			    "from %J refused: its Contact is not its source "
			    "address", &msg->src);
		(void)sip_reply(sip, msg, 403, "Contact Not Source Address");
		return EPERM;
	}

	lw = list_alloc(bl);
	if (!lw) {
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		return ENOMEM;
	}

	/* counted against the limits by phone: a trusted proxy's Via,
	   else the source */
	proxytrust_phone(&phone, msg);
	lw->peer = msg->src;
	lw->expires = notifier_granted(bl->cfg, msg);
	err  = notifier_pacer_slot(&lw->pace, bl->nt, &phone, send_handler,
				   lw);
	err |= pl_strdup(&lw->entity, &msg->ruri);
	err |= str_dup(&lw->name, bl->cfg->blf_list);
	err |= re_sdprintf(&lw->host, msg->uri.port ? "%r:%u" : "%r",
			   &msg->uri.host, msg->uri.port);
	if (!err)
		err = full_size(lw, &lw->size);
	if (err) {
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		mem_deref(lw);
		return err;
	}

	if (msg->tp != SIP_TRANSP_UDP || lw->size + HDR_ROOM <= TCP_ABOVE ||
	    contact_reliable(msg))
		return list_accept(lw, msg);

	/* behind NAT no TCP connection gets in: not tried */
	err = behind_nat(notifier_natkeep(bl->nt), msg) ? EHOSTUNREACH :
		tcpswitch_start(&lw->ts, msg, PROBE_MS, tcp_tried, lw);
	if (err) {
		if (lw->size + HDR_ROOM <= UDP_MAX)
			return list_accept(lw, msg);
		refuse_too_big(lw, msg, err);
		mem_deref(lw);
		return 0;   /* counted */
	}

	list_append(&bl->pending, &lw->le, lw);
	log_debug("blflist: list from %J: %zu bytes, trying its Contact "
		  "over TCP", &msg->src, lw->size + HDR_ROOM);

	return 0;
}


/**
 * Take a SUBSCRIBE of a list subscription's dialog: a refresh (200 OK,
 * then a NOTIFY with the full state), an un-SUBSCRIBE (200 OK, then the
 * final NOTIFY), or a retransmission of the last one (its 200 OK again;
 * also of the SUBSCRIBE that started it, which has no To tag).  A phone
 * behind NAT is heard from, and followed if it comes from another
 * address (or a new connection).
 *
 * @param bl  List subscriptions
 * @param msg A SUBSCRIBE
 *
 * @return true if it was a list subscription's (and answered)
 */
bool blflist_indialog(struct blflist *bl, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	struct sipevent_event se;
	struct listwatcher *lw;
	uint32_t expires;

	if (!bl || !msg)
		return false;

	lw = list_ledata(hash_lookup(bl->by_callid,
				     hash_joaat_pl(&msg->callid), callid_cmp,
				     (void *)msg));
	if (!lw)
		return false;

	if (subdlg_follow(lw->dlg, msg)) {
		log_info("blflist: list from %J: the phone moved to %J",
			 &lw->peer, &msg->src);
		lw->peer = msg->src;
		if (lw->saved && list_save(lw))
			log_warn("blflist: list from %J: its new address is "
				 "not saved", &msg->src);
	}

	if (subdlg_retransmission(lw->dlg, msg)) {
		(void)subdlg_reply(lw->dlg, msg, expires_left(lw));
		return true;
	}

	hdr = sip_msg_hdr(msg, SIP_HDR_EVENT);
	if (!hdr || sipevent_event_decode(&se, &hdr->val) ||
	    pl_strcasecmp(&se.event, event_pkg)) {
		notifier_reply_bad_event(bl->nt, msg);
		return true;
	}

	if (notifier_too_brief(bl->nt, msg))
		return true;

	expires = notifier_granted(bl->cfg, msg);
	(void)subdlg_reply(lw->dlg, msg, expires);

	if (!expires) {
		log_debug("blflist: list from %J ended (unsubscribed)",
			  &lw->peer);
		list_end(lw, SIPEVENT_TIMEOUT, 0, true);
		return true;
	}

	lw->expires_at = store_now_ms() + expires * 1000ULL;
	ptmr_start(&lw->tmr_expire, expires * 1000ULL, expire_handler, lw);
	if (lw->saved)
		list_update(lw);

	/* a refresh gets the full state (RFC 6665 4.2.1.2); resumed and
	   not yet told before the PBX's picture is complete, it gets it
	   then (blflist_resume_start), not idle orbits now */
	lw->full = true;
	if (!lw->untold || notifier_picture(bl->nt))
		pacer_request(lw->pace);

	return true;
}


/**
 * Take back a list subscription saved by an earlier run, on the
 * phone's existing dialog: counted, paced, refreshed and ended like a
 * new one.  It gets the full state once the PBX's picture is complete
 * (blflist_resume_start), or at its refresh.
 *
 * @param bl      List subscriptions
 * @param s       The saved subscription (not yet expired)
 * @param cseq    First CSeq to use, minus one
 * @param version First RLMI version to use (above any sent)
 *
 * @return 0 if success, EOVERFLOW if over subscribe_max_total or
 *         subscribe_max_per_source, EBADMSG for an unusable row,
 *         otherwise errorcode
 */
int blflist_resume(struct blflist *bl, const struct persist_sub *s,
		   uint32_t cseq, uint32_t version)
{
	const uint64_t now = store_now_ms();
	struct listwatcher *lw;
	const struct sa *phone;
	struct uri uri;
	struct pl ent;
	int err;

	if (!bl || !s || !s->entity)
		return EINVAL;

	pl_set_str(&ent, s->entity);
	if (uri_decode(&uri, &ent))
		return EBADMSG;

	lw = list_alloc(bl);
	if (!lw)
		return ENOMEM;

	lw->untold = true;
	lw->restored = true;
	lw->expires_at = s->expires_at;
	lw->version = version;
	err = subdlg_restore(&lw->dlg, notifier_dlgs(bl->nt), s, cseq,
			     resp_handler, lw);
	if (err)
		goto out;
	subdlg_set_eventlist(lw->dlg);
	lw->peer = *subdlg_peer(lw->dlg);

	/* counted against the limits like a new one (the phone's address:
	   the one a trusted proxy's Via named, else behind NAT where it
	   is, else its Contact's) */
	phone = sa_isset(&s->phone, SA_ADDR) ? &s->phone : &lw->peer;
	if (notifier_over_limit(bl->nt, phone)) {
		err = EOVERFLOW;
		goto out;
	}

	err  = notifier_pacer_slot(&lw->pace, bl->nt, phone, send_handler,
				   lw);
	err |= str_dup(&lw->entity, s->entity);
	err |= str_dup(&lw->name, s->orbit);
	err |= re_sdprintf(&lw->host, uri.port ? "%r:%u" : "%r", &uri.host,
			   uri.port);
	if (!err)
		err = resources_sync(lw, notifier_map(bl->nt));
	if (err)
		goto out;

	lw->saved = true;
	watcher_add(lw);
	ptmr_start(&lw->tmr_expire, lw->expires_at > now ?
		   lw->expires_at - now : 0, expire_handler, lw);
	/* the raised CSeq and version saved at once (notifier_resume) */
	list_append(&bl->dirty, &lw->le_dirty, lw);

 out:
	if (err)
		mem_deref(lw);   /* the caller deletes the row */

	return err;
}


/**
 * The PBX's state is known: NOTIFY the resumed list subscriptions not
 * yet told (paced per phone)
 *
 * @param bl List subscriptions
 */
void blflist_resume_start(struct blflist *bl)
{
	struct le *le;

	if (!bl)
		return;

	for (le = list_head(&bl->watchers); le; le = le->next) {
		struct listwatcher *lw = le->data;

		if (lw->untold)
			pacer_request(lw->pace);
	}
}


/**
 * Mark an orbit changed for every list subscription
 *
 * @param bl   List subscriptions
 * @param name Orbit name
 */
void blflist_orbit_changed(struct blflist *bl, const char *name)
{
	struct le *le;

	if (!bl || !name)
		return;

	for (le = list_head(&bl->watchers); le; le = le->next) {
		struct listwatcher *lw = le->data;
		struct resource *r = resource_find(lw, name);

		if (r)
			r->dirty = true;
		else
			lw->full = true;   /* a new orbit: send everything */

		/* resumed: not before the PBX's picture is complete (one
		   orbit's change says nothing of the others') */
		if (!lw->untold)
			pacer_request(lw->pace);
	}
}


/**
 * End every list subscription with a final NOTIFY (blflist_ending
 * tells until each is answered or given up)
 *
 * @param bl          List subscriptions
 * @param reason      Subscription-State reason
 * @param retry_after Retry-after seconds, 0 for none
 */
void blflist_close_all(struct blflist *bl, enum sipevent_reason reason,
		       uint32_t retry_after)
{
	if (!bl)
		return;

	while (!list_isempty(&bl->watchers)) {
		struct listwatcher *lw = list_head(&bl->watchers)->data;

		list_end(lw, reason, retry_after, false);
	}
}


/** @return true while a list's final NOTIFY waits for its answer */
bool blflist_ending(const struct blflist *bl)
{
	return bl && !list_isempty(&bl->ending);
}


/**
 * Count the list subscriptions
 *
 * @param bl List subscriptions
 *
 * @return Number of list subscriptions (a final NOTIFY in flight
 *         counts)
 */
uint32_t blflist_count(const struct blflist *bl)
{
	return bl ? list_count(&bl->watchers) + list_count(&bl->ending) : 0;
}
