/**
 * @file resume.c  Phone subscriptions resumed after a restart
 *
 * libre cannot rebuild a notifier dialog from storage, so a subscription
 * from the database is served here: NOTIFYs on the phone's existing
 * dialog (its Call-ID and tags) with our own CSeq, starting far above
 * anything used before (subdlg.c starts below 65536), and document
 * versions continuing upward.  The phone's refresh and un-SUBSCRIBE are
 * answered here too, expiry ends it, and a NOTIFY failure (481, 408,
 * timeout) forgets it; a phone that subscribes anew gets an ordinary
 * subscription.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "notifier.h"
#include "persist.h"
#include "resume.h"


enum {
	CSEQ_BASE      = 0x70000000,  /**< Above any CSeq used before    */
	MARGIN         = 100,         /**< Over what a crash may lose    */
	MIN_LEFT_MS    = 5000,        /**< Less left: not worth resuming */
};

struct resume {
	struct list subs;
	struct sip *sip;
	struct notifier *nt;
	struct persist *db;
	const struct config *cfg;
	bool started;               /**< The PBX's state is known        */
};

/** One resumed phone subscription */
struct rsub {
	struct le le;
	struct resume *rs;
	char *callid, *ltag, *rtag, *local, *remote, *target;
	char *orbit, *event, *entity, *route_str;
	struct uri route;
	enum sip_transp tp;
	uint64_t expires_at;
	uint32_t cseq;
	uint32_t version;
	struct tmr tmr;             /**< Expiry                          */
	struct sip_request *req;    /**< NOTIFY in flight                */
	bool pending;               /**< Another NOTIFY wanted           */
	bool ending;                /**< The final NOTIFY is out         */
	enum sipevent_reason reason;
};


static void rsub_destructor(void *arg)
{
	struct rsub *r = arg;

	list_unlink(&r->le);
	tmr_cancel(&r->tmr);
	mem_deref(r->req);
	mem_deref(r->callid);
	mem_deref(r->ltag);
	mem_deref(r->rtag);
	mem_deref(r->local);
	mem_deref(r->remote);
	mem_deref(r->target);
	mem_deref(r->orbit);
	mem_deref(r->event);
	mem_deref(r->entity);
	mem_deref(r->route_str);
}


static void resume_destructor(void *arg)
{
	struct resume *rs = arg;

	/* the rows stay: the next start resumes them again */
	list_flush(&rs->subs);
}


static void rsub_forget(struct rsub *r)
{
	(void)persist_delete(r->rs->db, r->callid, r->rtag);
	mem_deref(r);
}


static int rsub_send(struct rsub *r);


static void resp_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct rsub *r = arg;

	if (!err && msg && msg->scode < 200)
		return;

	/* libre cleared r->req before a final answer reaches us */
	if (err || !msg || msg->scode >= 300) {
		if (msg)
			log_info("resume: %s (Call-ID %s) ended: NOTIFY got "
				 "%u %r", r->orbit, r->callid, msg->scode,
				 &msg->reason);
		else
			log_info("resume: %s (Call-ID %s) ended: %m",
				 r->orbit, r->callid, err);
		rsub_forget(r);
		return;
	}

	if (r->ending) {
		rsub_forget(r);
		return;
	}

	(void)persist_update(r->rs->db, r->callid, r->rtag, r->version,
			     r->cseq, r->expires_at);
	if (r->pending)
		(void)rsub_send(r);
}


static int rsub_send(struct rsub *r)
{
	const struct orbitmap *map = notifier_map(r->rs->nt);
	const struct encoder *enc;
	const struct orbit *orbit;
	struct mbuf *mb = NULL;
	struct pl name, ev;
	struct sa laddr;
	uint64_t now = store_now_ms();
	char substate[64];
	int err;

	if (r->req) {
		r->pending = true;
		return 0;
	}
	r->pending = false;

	pl_set_str(&name, r->orbit);
	pl_set_str(&ev, r->event);
	orbit = orbitmap_find(map, &name);
	enc = encoder_find(&ev);

	if (r->ending || !orbit || !enc || now >= r->expires_at) {
		r->ending = true;
		(void)re_snprintf(substate, sizeof(substate),
				  "terminated;reason=%s",
				  sipevent_reason_name(!orbit ?
						       SIPEVENT_NORESOURCE :
						       r->reason));
	}
	else {
		(void)re_snprintf(substate, sizeof(substate),
				  "active;expires=%llu",
				  (unsigned long long)
				  ((r->expires_at - now) / 1000));
	}

	mb = mbuf_alloc(1024);
	if (!mb)
		return ENOMEM;

	if (orbit && enc) {
		err = notifier_encode_orbit(mb, r->rs->nt, orbit, enc,
					    r->entity, r->version);
		if (err)
			goto out;
		++r->version;
	}

	err = sip_transp_laddr(r->rs->sip, &laddr, r->tp, NULL);
	if (err)
		goto out;

	++r->cseq;
	err = sip_requestf(&r->req, r->rs->sip, true, "NOTIFY", r->target,
			   &r->route, NULL, NULL, resp_handler, r,
			   "To: <%s>;tag=%s\r\n"
			   "From: <%s>;tag=%s\r\n"
			   "Call-ID: %s\r\n"
			   "CSeq: %u NOTIFY\r\n"
			   "Max-Forwards: 70\r\n"
			   "Contact: <sip:%s@%J%s>\r\n"
			   "Event: %s\r\n"
			   "Subscription-State: %s\r\n"
			   "%s%s%s"
			   "Content-Length: %zu\r\n\r\n"
			   "%b",
			   r->remote, r->rtag, r->local, r->ltag, r->callid,
			   r->cseq, r->orbit, &laddr,
			   r->tp == SIP_TRANSP_UDP ? "" :
			   r->tp == SIP_TRANSP_TCP ? ";transport=tcp" :
			   ";transport=tls", r->event, substate,
			   mb->end ? "Content-Type: " : "",
			   mb->end ? enc->ctype : "",
			   mb->end ? "\r\n" : "",
			   mb->end, mb->buf, mb->end);

 out:
	mem_deref(mb);
	if (err) {
		log_warn("resume: %s (Call-ID %s): NOTIFY: %m", r->orbit,
			 r->callid, err);
		rsub_forget(r);
	}

	return err;
}


static void expire_handler(void *arg)
{
	struct rsub *r = arg;

	r->ending = true;
	r->reason = SIPEVENT_TIMEOUT;
	(void)rsub_send(r);
}


static int str_set(char **dst, const char *src)
{
	return str_dup(dst, src);
}


static void load_handler(const struct persist_sub *s, void *arg)
{
	struct resume *rs = arg;
	uint64_t now = store_now_ms();
	struct rsub *r;
	struct pl pl;
	int err;

	if (s->expires_at < now + MIN_LEFT_MS) {
		(void)persist_delete(rs->db, s->callid, s->rtag);
		return;
	}

	r = mem_zalloc(sizeof(*r), rsub_destructor);
	if (!r)
		return;

	r->rs = rs;
	tmr_init(&r->tmr);
	r->tp = (enum sip_transp)s->tp;
	r->expires_at = s->expires_at;
	r->reason = SIPEVENT_DEACTIVATED;
	/* never backwards: above the first run's CSeq and what was saved */
	r->cseq = (s->cseq ? s->cseq : CSEQ_BASE) + MARGIN;
	r->version = s->version + MARGIN;

	err  = str_set(&r->callid, s->callid);
	err |= str_set(&r->ltag, s->ltag);
	err |= str_set(&r->rtag, s->rtag);
	err |= str_set(&r->local, s->local);
	err |= str_set(&r->remote, s->remote);
	err |= str_set(&r->target, s->target);
	err |= str_set(&r->orbit, s->orbit);
	err |= str_set(&r->event, s->event);
	err |= str_set(&r->entity, s->entity);
	err |= re_sdprintf(&r->route_str, "%s%s", s->target,
			   r->tp == SIP_TRANSP_TCP &&
			   !strstr(s->target, "transport=") ?
			   ";transport=tcp" : "");
	if (err)
		goto fail;

	pl_set_str(&pl, r->route_str);
	if (uri_decode(&r->route, &pl))
		goto fail;

	list_append(&rs->subs, &r->le, r);
	tmr_start(&r->tmr, s->expires_at - now, expire_handler, r);

	return;

 fail:
	log_warn("resume: Call-ID %s: unusable row, dropped", s->callid);
	(void)persist_delete(rs->db, s->callid, s->rtag);
	mem_deref(r);
}


/**
 * Load the subscriptions saved by an earlier run (expired ones go)
 *
 * @param rsp Where to store them
 * @param db  Database
 * @param sip SIP stack
 * @param nt  Notifier (renders the documents)
 * @param cfg Configuration
 *
 * @return 0 if success, otherwise errorcode
 */
int resume_load(struct resume **rsp, struct persist *db, struct sip *sip,
		struct notifier *nt, const struct config *cfg)
{
	struct resume *rs;
	int err;

	if (!rsp || !db || !sip || !nt || !cfg)
		return EINVAL;

	rs = mem_zalloc(sizeof(*rs), resume_destructor);
	if (!rs)
		return ENOMEM;

	rs->db = db;
	rs->sip = sip;
	rs->nt = nt;
	rs->cfg = cfg;

	err = persist_load(db, load_handler, rs);
	if (err) {
		mem_deref(rs);
		return err;
	}

	if (!list_isempty(&rs->subs))
		log_info("resume: %u phone subscription(s) from the last run",
			 list_count(&rs->subs));
	*rsp = rs;

	return 0;
}


/**
 * The PBX's state is known: send every resumed phone the truth
 *
 * @param rs Resumed subscriptions
 */
void resume_start(struct resume *rs)
{
	struct le *le;

	if (!rs || rs->started)
		return;

	rs->started = true;
	for (le = list_head(&rs->subs); le; ) {
		struct rsub *r = le->data;

		le = le->next;
		(void)rsub_send(r);
	}
}


/**
 * An orbit changed: NOTIFY its resumed watchers
 *
 * @param rs   Resumed subscriptions
 * @param name Orbit name
 */
void resume_orbit_changed(struct resume *rs, const char *name)
{
	struct le *le;

	if (!rs || !rs->started || !name)
		return;

	for (le = list_head(&rs->subs); le; ) {
		struct rsub *r = le->data;

		le = le->next;
		if (!strcmp(r->orbit, name))
			(void)rsub_send(r);
	}
}


/**
 * An orbit left the map: its resumed watchers end (noresource)
 *
 * @param rs   Resumed subscriptions
 * @param name Orbit name
 */
void resume_orbit_removed(struct resume *rs, const char *name)
{
	struct le *le;

	if (!rs || !name)
		return;

	for (le = list_head(&rs->subs); le; ) {
		struct rsub *r = le->data;

		le = le->next;
		if (strcmp(r->orbit, name))
			continue;
		r->ending = true;
		r->reason = SIPEVENT_NORESOURCE;
		(void)rsub_send(r);
	}
}


/**
 * End every resumed subscription with a final NOTIFY
 *
 * @param rs     Resumed subscriptions
 * @param reason Subscription-State reason
 */
void resume_close_all(struct resume *rs, enum sipevent_reason reason)
{
	struct le *le;

	if (!rs)
		return;

	for (le = list_head(&rs->subs); le; ) {
		struct rsub *r = le->data;

		le = le->next;
		r->ending = true;
		r->reason = reason;
		(void)rsub_send(r);
	}
}


static bool rsub_match(const struct rsub *r, const struct sip_msg *msg)
{
	return !pl_strcmp(&msg->callid, r->callid) &&
		!pl_strcmp(&msg->from.tag, r->rtag) &&
		!pl_strcmp(&msg->to.tag, r->ltag);
}


/**
 * Answer a phone's refresh or un-SUBSCRIBE on a resumed dialog
 *
 * @param rs  Resumed subscriptions
 * @param msg An in-dialog SUBSCRIBE
 *
 * @return true if it was ours (and answered)
 */
bool resume_subscribe(struct resume *rs, const struct sip_msg *msg)
{
	uint32_t expires;
	struct le *le;
	struct rsub *r = NULL;

	if (!rs || !msg || !pl_isset(&msg->to.tag))
		return false;

	for (le = list_head(&rs->subs); le; le = le->next) {
		if (rsub_match(le->data, msg)) {
			r = le->data;
			break;
		}
	}
	if (!r)
		return false;

	expires = notifier_granted(rs->cfg, msg);

	(void)sip_treplyf(NULL, NULL, rs->sip, msg, false, 200, "OK",
			  "Expires: %u\r\n"
			  "Content-Length: 0\r\n\r\n", expires);

	if (!expires) {
		r->ending = true;
		r->reason = SIPEVENT_TIMEOUT;
	}
	else {
		r->expires_at = store_now_ms() + expires * 1000ULL;
		tmr_start(&r->tmr, expires * 1000ULL, expire_handler, r);
	}

	(void)rsub_send(r);

	return true;
}


/**
 * Count the resumed subscriptions
 *
 * @param rs Resumed subscriptions
 *
 * @return Number of them
 */
uint32_t resume_count(const struct resume *rs)
{
	return rs ? list_count(&rs->subs) : 0;
}
