/**
 * @file subs.c  Fake PBX -- SIP side: the notifier end of RFC 6665
 *
 * libre's sipnot keeps only the latest body while a NOTIFY is in flight,
 * which would lose part of a per-DN burst.  So subscriptions are built
 * on the plain dialog API instead: every subscription has a FIFO of
 * rendered NOTIFYs and sends the next one only after the previous one
 * got its final response.
 *
 * Copyright (C) 2024 parkblf authors
 */
#include <string.h>
#include <re.h>
#include "fakepbx.h"


enum {
	EXPIRES_DEFAULT = 600,
	EXPIRES_MAX     = 3600,
};

/** One queued NOTIFY */
struct notif {
	struct le le;          /**< In sub.queue                        */
	struct mbuf *mb;       /**< Body or NULL                        */
	char *ctype;           /**< Content-Type or NULL                */
	char *reason;          /**< Termination reason, NULL = active   */
	uint32_t retry_after;  /**< Retry-After for terminated, 0 = none */
	char *what;            /**< Description for the log             */
};

/** dialog-info version counter of one DN in one subscription */
struct dnver {
	struct le le;
	const struct pbx_dn *dn;  /**< Not referenced: DNs live forever */
	uint32_t next;
};

/** One subscription (watcher) */
struct sub {
	struct le le;             /**< In pbx.subl                       */
	struct pbx *pbx;
	struct sip_dialog *dlg;
	struct sip_request *req;  /**< NOTIFY in flight                  */
	struct tmr tmr;           /**< Expiry                            */
	struct list queue;        /**< struct notif, head = in flight    */
	struct list verl;         /**< struct dnver                      */
	char *event;              /**< Event package                     */
	char *evid;               /**< Event id parameter or NULL        */
	char *host;               /**< Host part for body URIs           */
	uint32_t rlmi_ver;        /**< Next RLMI list version            */
	uint32_t id;              /**< Number for the log                */
	uint32_t dn_lo, dn_hi;    /**< ;dns=LO-HI: only these DNs, or 0 */
	bool terminated;          /**< Final NOTIFY queued               */
};


static uint32_t sub_counter;


static void notif_destructor(void *arg)
{
	struct notif *n = arg;

	list_unlink(&n->le);
	mem_deref(n->mb);
	mem_deref(n->ctype);
	mem_deref(n->reason);
	mem_deref(n->what);
}


static void sub_destructor(void *arg)
{
	struct sub *sub = arg;

	tmr_cancel(&sub->tmr);
	list_unlink(&sub->le);
	list_flush(&sub->queue);
	list_flush(&sub->verl);
	mem_deref(sub->req);
	mem_deref(sub->dlg);
	mem_deref(sub->event);
	mem_deref(sub->evid);
	mem_deref(sub->host);
}


static void sub_remove(struct sub *sub, const char *why)
{
	fakepbx_log("sub#%u: subscription removed (%s)", sub->id, why);
	mem_deref(sub);
}


static uint32_t next_version(struct sub *sub, const struct pbx_dn *dn)
{
	struct dnver *v;
	struct le *le;

	LIST_FOREACH(&sub->verl, le) {
		v = le->data;

		if (v->dn == dn)
			return v->next++;
	}

	v = mem_zalloc(sizeof(*v), NULL);
	if (!v)
		return 0;

	v->dn   = dn;
	v->next = 1;
	list_append(&sub->verl, &v->le, v);

	return 0;
}


static int send_handler(enum sip_transp tp, const struct sa *src,
			const struct sa *dst, struct mbuf *mb, void *arg)
{
	struct sub *sub = arg;
	struct sip_contact contact;
	(void)dst;

	sip_contact_set(&contact, sub->pbx->resource, src, tp);

	return mbuf_printf(mb, "%H", sip_contact_print, &contact);
}


static void kick(struct sub *sub);


static void resp_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct sub *sub = arg;
	struct notif *n;
	bool final;

	if (!err && msg->scode < 200)
		return;

	n = list_ledata(list_head(&sub->queue));
	final = n && n->reason;

	if (err) {
		fakepbx_log("sub#%u: NOTIFY %s: no response (%m)", sub->id,
			    n ? n->what : "?", err);
	}
	else {
		fakepbx_log("sub#%u: NOTIFY %s: %u %r", sub->id,
			    n ? n->what : "?", msg->scode, &msg->reason);

		if (msg->scode < 300) {
			++sub->pbx->notifies;
			(void)sip_dialog_update(sub->dlg, msg);
		}
	}

	mem_deref(n);

	if (final) {
		sub_remove(sub, "terminated");
		return;
	}

	if (err == ETIMEDOUT) {
		sub_remove(sub, "NOTIFY timed out");
		return;
	}

	if (!err && msg->scode == 481) {
		sub_remove(sub, "NOTIFY got 481");
		return;
	}

	kick(sub);
}


static int send_notif(struct sub *sub, const struct notif *n)
{
	const uint8_t *body = n->mb ? n->mb->buf : NULL;
	size_t len = n->mb ? n->mb->end : 0;
	char substate[96];
	int err;

	if (n->reason) {
		if (n->retry_after)
			(void)re_snprintf(substate, sizeof(substate),
					  "terminated;reason=%s;"
					  "retry-after=%u",
					  n->reason, n->retry_after);
		else
			(void)re_snprintf(substate, sizeof(substate),
					  "terminated;reason=%s", n->reason);
	}
	else {
		uint64_t left = (tmr_get_expire(&sub->tmr) + 999) / 1000;

		(void)re_snprintf(substate, sizeof(substate),
				  "active;expires=%llu",
				  (unsigned long long)left);
	}

	err = sip_drequestf(&sub->req, sub->pbx->sip, true, "NOTIFY",
			    sub->dlg, 0, NULL, send_handler, resp_handler,
			    sub,
			    "Event: %s%s%s\r\n"
			    "Subscription-State: %s\r\n"
			    "%s%s%s"
			    "Content-Length: %zu\r\n"
			    "\r\n"
			    "%b",
			    sub->event,
			    sub->evid ? ";id=" : "",
			    sub->evid ? sub->evid : "",
			    substate,
			    n->ctype ? "Content-Type: " : "",
			    n->ctype ? n->ctype : "",
			    n->ctype ? "\r\n" : "",
			    len, body, len);
	if (err)
		return err;

	fakepbx_log("sub#%u: NOTIFY %s sent (%s, %zu bytes)", sub->id,
		    n->what, substate, len);

	return 0;
}


/* Send the head of the queue unless something is in flight.
 * May free the subscription: do not touch it afterwards. */
static void kick(struct sub *sub)
{
	while (!sub->req && !sub->pbx->silent) {
		struct notif *n = list_ledata(list_head(&sub->queue));
		bool final;
		int err;

		if (!n)
			return;

		err = send_notif(sub, n);
		if (!err)
			return;

		fakepbx_log("sub#%u: NOTIFY %s: could not send (%m)",
			    sub->id, n->what, err);

		final = n->reason != NULL;
		mem_deref(n);

		if (final) {
			sub_remove(sub, "terminated");
			return;
		}
	}
}


static int enqueue(struct sub *sub, struct mbuf *mb, const char *ctype,
		   const char *reason, uint32_t retry_after,
		   const char *what)
{
	struct notif *n;
	int err = 0;

	n = mem_zalloc(sizeof(*n), notif_destructor);
	if (!n)
		return ENOMEM;

	n->mb = mem_ref(mb);
	n->retry_after = retry_after;

	if (ctype)
		err |= str_dup(&n->ctype, ctype);
	if (reason)
		err |= str_dup(&n->reason, reason);
	err |= str_dup(&n->what, what);

	if (err) {
		mem_deref(n);
		return err;
	}

	list_append(&sub->queue, &n->le, n);

	return 0;
}


/* queue the final NOTIFY; drop whatever is still waiting */
static void enqueue_term(struct sub *sub, const char *reason,
			 uint32_t retry_after)
{
	struct le *le;
	char what[64];
	int err;

	sub->terminated = true;
	tmr_cancel(&sub->tmr);

	if (sub->pbx->silent) {
		sub_remove(sub, "terminated while silent");
		return;
	}

	/* keep the head if it is in flight */
	le = sub->queue.head;
	if (le && sub->req)
		le = le->next;

	while (le) {
		struct le *next = le->next;

		mem_deref(le->data);
		le = next;
	}

	(void)re_snprintf(what, sizeof(what), "terminated;reason=%s",
			  reason);

	err = enqueue(sub, NULL, NULL, reason, retry_after, what);
	if (err) {
		sub_remove(sub, "out of memory");
		return;
	}

	kick(sub);
}


static int queue_dn(struct sub *sub, const struct pbx_change *chg,
		    bool full)
{
	const struct pbx *pbx = sub->pbx;
	struct mbuf *mb;
	char what[96];
	uint32_t ver = 0;
	int err;

	mb = mbuf_alloc(1024);
	if (!mb)
		return ENOMEM;

	if (pbx->fmt == PBX_FMT_PIDF) {
		err = body_pidf(mb, sub->host, chg->dn);
		(void)re_snprintf(what, sizeof(what), "pidf %s",
				  chg->dn->dn);
	}
	else {
		bool partial = !full && pbx->partial && chg->callc;

		ver = next_version(sub, chg->dn);
		err = body_dialog(mb, sub->host, chg->dn, ver,
				  partial ? chg : NULL);
		(void)re_snprintf(what, sizeof(what), "dialog %s v%u %s",
				  chg->dn->dn, ver,
				  partial ? "partial" : "full");
	}

	if (!err)
		err = enqueue(sub, mb, body_ctype(pbx->fmt), NULL, 0, what);

	mem_deref(mb);

	return err;
}


static int queue_rlmi(struct sub *sub, const struct pbx_change *chgv,
		      size_t chgc, bool full)
{
	const struct pbx *pbx = sub->pbx;
	struct mbuf *mb = NULL;
	uint32_t *verv = NULL;
	char *ctype = NULL;
	char what[64];
	uint32_t ver;
	size_t i;
	int err;

	mb = mbuf_alloc(2048);
	verv = mem_zalloc((chgc ? chgc : 1) * sizeof(*verv), NULL);
	if (!mb || !verv) {
		err = ENOMEM;
		goto out;
	}

	for (i = 0; i < chgc; i++)
		verv[i] = next_version(sub, chgv[i].dn);

	ver = sub->rlmi_ver++;

	err = body_rlmi(mb, &ctype, sub->host, pbx->resource, ver, full,
			chgv, verv, chgc, !full && pbx->partial);
	if (err)
		goto out;

	(void)re_snprintf(what, sizeof(what), "rlmi v%u %s, %zu DN%s", ver,
			  full ? "full" : "changes", chgc,
			  chgc == 1 ? "" : "s");

	err = enqueue(sub, mb, ctype, NULL, 0, what);

 out:
	mem_deref(ctype);
	mem_deref(verv);
	mem_deref(mb);

	return err;
}


/* Whether a subscription with ;dns=LO-HI (one PBX of many sharing
   this fake one: the tenants benchmark) is told of a DN */
static bool dn_wanted(const struct sub *sub, const struct pbx_dn *dn)
{
	struct pl pl;
	uint32_t v;

	if (!sub->dn_hi)
		return true;

	pl_set_str(&pl, dn->dn);
	v = pl_u32(&pl);

	return v >= sub->dn_lo && v <= sub->dn_hi;
}


static int queue_changes(struct sub *sub, const struct pbx_change *chgv,
			 size_t chgc, bool full)
{
	struct pbx_change *mine = NULL;
	size_t i, n = 0;
	int err = 0;

	if (sub->dn_hi) {
		mine = mem_zalloc((chgc ? chgc : 1) * sizeof(*mine), NULL);
		if (!mine)
			return ENOMEM;
		for (i = 0; i < chgc; i++) {
			if (dn_wanted(sub, chgv[i].dn))
				mine[n++] = chgv[i];
		}
		chgv = mine;
		chgc = n;
		if (!chgc) {
			mem_deref(mine);
			return 0;
		}
	}

	if (sub->pbx->fmt == PBX_FMT_RLMI)
		err = queue_rlmi(sub, chgv, chgc, full);

	for (i = 0; i < chgc && !err && sub->pbx->fmt != PBX_FMT_RLMI; i++)
		err = queue_dn(sub, &chgv[i], full);

	mem_deref(mine);

	return err;
}


/* current state of every known DN */
static int queue_burst(struct sub *sub)
{
	struct pbx *pbx = sub->pbx;
	struct pbx_change *chgv;
	struct le *le;
	size_t n = 0;
	int err;

	chgv = mem_zalloc((list_count(&pbx->dnl) + 1) * sizeof(*chgv),
			  NULL);
	if (!chgv)
		return ENOMEM;

	LIST_FOREACH(&pbx->dnl, le)
		chgv[n++].dn = le->data;

	err = queue_changes(sub, chgv, n, true);

	mem_deref(chgv);

	return err;
}


static void tmr_handler(void *arg)
{
	struct sub *sub = arg;

	fakepbx_log("sub#%u: subscription expired", sub->id);

	enqueue_term(sub, "timeout", 0);
}


static const char *reason_phrase(uint16_t scode)
{
	switch (scode) {

	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 423: return "Interval Too Brief";
	case 480: return "Temporarily Unavailable";
	case 481: return "Subscription Does Not Exist";
	case 486: return "Busy Here";
	case 489: return "Bad Event";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	default:  return scode < 300 ? "OK" : "Refused";
	}
}


static int print_allow_events(struct re_printf *pf, void *arg)
{
	const struct pbx *pbx = arg;
	struct le *le;
	int err = 0;

	LIST_FOREACH(&pbx->eventl, le) {
		const struct pbx_str *s = le->data;

		err |= re_hprintf(pf, "%s%s", le == pbx->eventl.head ?
				  "" : ", ", s->s);
	}

	return err;
}


static int print_challenge(struct re_printf *pf, void *arg)
{
	const struct pbx *pbx = arg;
	struct http_auth auth;

	auth.realm = pbx->realm;
	auth.stale = false;

	return re_hprintf(pf, "WWW-Authenticate: %H\r\n",
			  http_auth_print_challenge, &auth);
}


/* stateful reply with extra header lines (each ending in CRLF) */
static void reply(struct pbx *pbx, const struct sip_msg *msg,
		  uint16_t scode, const char *hdrs)
{
	const char *reason = reason_phrase(scode);
	int err;

	err = sip_treplyf(NULL, NULL, pbx->sip, msg, scode < 300, scode,
			  reason,
			  "%s"
			  "Content-Length: 0\r\n"
			  "\r\n",
			  hdrs ? hdrs : "");
	if (err)
		fakepbx_log("%r: could not reply %u (%m)", &msg->met, scode,
			    err);
	else
		fakepbx_log("%r: replied %u %s", &msg->met, scode, reason);
}


static void reply_refusal(struct pbx *pbx, const struct sip_msg *msg)
{
	char *hdrs = NULL;
	int err = 0;

	if (pbx->refuse == 489)
		err |= re_sdprintf(&hdrs, "Allow-Events: %H\r\n",
				   print_allow_events, pbx);
	else if (pbx->refuse == 401)
		err |= re_sdprintf(&hdrs, "%H", print_challenge, pbx);
	else if (pbx->refuse == 423)
		err |= re_sdprintf(&hdrs, "Min-Expires: %u\r\n",
				   EXPIRES_MAX);

	if (!err && pbx->refuse_ra) {
		char *ra = NULL;

		err = re_sdprintf(&ra, "%sRetry-After: %u\r\n",
				  hdrs ? hdrs : "", pbx->refuse_ra);
		mem_deref(hdrs);
		hdrs = ra;
	}

	if (err)
		fakepbx_log("refusal headers: %m", err);

	reply(pbx, msg, pbx->refuse, hdrs);

	mem_deref(hdrs);
}


static int auth_handler(const struct pl *username, uint8_t *ha1, void *arg)
{
	const struct pbx *pbx = arg;

	if (pl_strcmp(username, pbx->user))
		return EAUTH;

	return md5_printf(ha1, "%r:%s:%s", username, pbx->realm, pbx->pass);
}


static bool authorized(struct pbx *pbx, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	struct http_auth auth;
	char *hdrs = NULL;

	if (!pbx->user)
		return true;

	auth.realm = pbx->realm;
	auth.stale = false;

	hdr = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	if (hdr && http_auth_check(&hdr->val, &msg->met, &auth,
				   auth_handler, pbx))
		return true;

	fakepbx_log("SUBSCRIBE: %s credentials%s",
		    hdr ? "bad" : "no", auth.stale ? " (stale nonce)" : "");

	if (re_sdprintf(&hdrs, "WWW-Authenticate: %H\r\n",
			http_auth_print_challenge, &auth))
		hdrs = NULL;

	reply(pbx, msg, 401, hdrs);
	mem_deref(hdrs);

	return false;
}


static uint32_t req_expires(const struct sip_msg *msg)
{
	uint32_t expires;

	if (!pl_isset(&msg->expires))
		return EXPIRES_DEFAULT;

	expires = pl_u32(&msg->expires);

	return expires > EXPIRES_MAX ? EXPIRES_MAX : expires;
}


static void reply_ok(struct sub *sub, const struct sip_msg *msg,
		     uint32_t expires)
{
	struct sip_contact contact;
	char *hdrs = NULL;

	sip_contact_set(&contact, sub->pbx->resource, &msg->dst, msg->tp);

	if (re_sdprintf(&hdrs, "%HExpires: %u\r\n",
			sip_contact_print, &contact, expires)) {
		fakepbx_log("sub#%u: out of memory", sub->id);
		return;
	}

	reply(sub->pbx, msg, 200, hdrs);
	mem_deref(hdrs);
}


static void initial_subscribe(struct pbx *pbx, const struct sip_msg *msg)
{
	struct sipevent_event se;
	const struct sip_hdr *hdr;
	struct pl dns, lo, hi;
	struct sub *sub;
	uint32_t expires;
	int err;

	if (pbx->refuse) {
		reply_refusal(pbx, msg);
		return;
	}

	if (pbx->closing) {
		reply(pbx, msg, 503, NULL);
		return;
	}

	hdr = sip_msg_hdr(msg, SIP_HDR_EVENT);
	if (!hdr || sipevent_event_decode(&se, &hdr->val)) {
		reply(pbx, msg, 400, NULL);
		return;
	}

	if (!fakepbx_strlist_has(&pbx->eventl, &se.event)) {
		char *hdrs = NULL;

		if (re_sdprintf(&hdrs, "Allow-Events: %H\r\n",
				print_allow_events, pbx))
			hdrs = NULL;

		reply(pbx, msg, 489, hdrs);
		mem_deref(hdrs);
		return;
	}

	if (!authorized(pbx, msg))
		return;

	if (pl_strcmp(&msg->uri.user, pbx->resource)) {
		reply(pbx, msg, 404, NULL);
		return;
	}

	sub = mem_zalloc(sizeof(*sub), sub_destructor);
	if (!sub) {
		reply(pbx, msg, 500, NULL);
		return;
	}

	sub->pbx = pbx;
	sub->id  = ++sub_counter;
	tmr_init(&sub->tmr);

	err = sip_dialog_accept(&sub->dlg, msg);
	if (err) {
		fakepbx_log("SUBSCRIBE: bad dialog (%m)", err);
		reply(pbx, msg, 400, NULL);
		goto out;
	}

	err  = pl_strdup(&sub->event, &se.event);
	if (pl_isset(&se.id))
		err |= pl_strdup(&sub->evid, &se.id);
	if (!msg_param_decode(&msg->uri.params, "dns", &dns) &&
	    re_regex(dns.p, dns.l, "[0-9]+-[0-9]+", &lo, &hi) == 0) {
		sub->dn_lo = pl_u32(&lo);
		sub->dn_hi = pl_u32(&hi);
	}
	if (msg->uri.af == AF_INET6)
		err |= re_sdprintf(&sub->host, "[%r]", &msg->uri.host);
	else
		err |= pl_strdup(&sub->host, &msg->uri.host);
	if (err) {
		reply(pbx, msg, 500, NULL);
		goto out;
	}

	expires = req_expires(msg);

	list_append(&pbx->subl, &sub->le, sub);

	fakepbx_log("sub#%u: new subscription from %J (%s) event=%s "
		    "expires=%u call-id=%r", sub->id, &msg->src,
		    sip_transp_name(msg->tp), sub->event, expires,
		    &msg->callid);

	if (expires)
		tmr_start(&sub->tmr, expires * 1000, tmr_handler, sub);

	reply_ok(sub, msg, expires);

	err = queue_burst(sub);
	if (err)
		fakepbx_log("sub#%u: burst: %m", sub->id, err);

	if (!expires) {
		/* fetch: state, then done */
		enqueue_term(sub, "timeout", 0);
		return;
	}

	kick(sub);

	return;

 out:
	mem_deref(sub);
}


static struct sub *sub_find(const struct pbx *pbx, const struct sip_msg *msg)
{
	struct le *le;

	LIST_FOREACH(&pbx->subl, le) {
		struct sub *sub = le->data;

		if (!sub->terminated && sip_dialog_cmp(sub->dlg, msg))
			return sub;
	}

	return NULL;
}


static void refresh_subscribe(struct pbx *pbx, const struct sip_msg *msg)
{
	struct sub *sub;
	uint32_t expires;
	int err;

	sub = sub_find(pbx, msg);
	if (!sub) {
		fakepbx_log("SUBSCRIBE (refresh) from %J: no such "
			    "subscription", &msg->src);
		reply(pbx, msg, 481, NULL);
		return;
	}

	expires = req_expires(msg);

	fakepbx_log("sub#%u: refresh SUBSCRIBE expires=%u", sub->id,
		    expires);

	if (pbx->refuse) {
		reply_refusal(pbx, msg);
		sub_remove(sub, "refresh refused");
		return;
	}

	if (!sip_dialog_rseq_valid(sub->dlg, msg)) {
		reply(pbx, msg, 500, NULL);
		return;
	}

	(void)sip_dialog_update(sub->dlg, msg);

	reply_ok(sub, msg, expires);

	if (!expires && pbx->unsub_quiet) {
		sub_remove(sub, "unsubscribed, no final NOTIFY");
		return;
	}

	if (!expires) {
		enqueue_term(sub, "timeout", 0);
		return;
	}

	tmr_start(&sub->tmr, expires * 1000, tmr_handler, sub);

	err = queue_burst(sub);
	if (err)
		fakepbx_log("sub#%u: burst: %m", sub->id, err);

	kick(sub);
}


/* The name of a header that may occur only once (RFC 3261 section
   7.3.1) but occurs more often in msg, or NULL */
static const char *duplicate_header(const struct sip_msg *msg)
{
	static const struct {
		enum sip_hdrid id;
		const char *name;
	} single[] = {
		{SIP_HDR_MAX_FORWARDS, "Max-Forwards"},
		{SIP_HDR_CALL_ID, "Call-ID"},
		{SIP_HDR_CSEQ, "CSeq"},
		{SIP_HDR_FROM, "From"},
		{SIP_HDR_TO, "To"},
		{SIP_HDR_CONTENT_LENGTH, "Content-Length"},
		{SIP_HDR_CONTENT_TYPE, "Content-Type"},
		{SIP_HDR_EVENT, "Event"},
		{SIP_HDR_EXPIRES, "Expires"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(single); i++) {
		if (sip_msg_hdr_count(msg, single[i].id) > 1)
			return single[i].name;
	}

	return NULL;
}


static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct pbx *pbx = arg;
	const char *dup;

	/* as strict as Kamailio's parser: such a request is dropped,
	   unanswered */
	dup = duplicate_header(msg);
	if (dup) {
		fakepbx_log("%r from %J dropped: duplicate %s header",
			    &msg->met, &msg->src, dup);
		return true;
	}

	if (pbx->silent) {
		fakepbx_log("%r from %J ignored (silent)", &msg->met,
			    &msg->src);
		return true;
	}

	if (!pl_strcmp(&msg->met, "SUBSCRIBE")) {

		fakepbx_log("SUBSCRIBE %r from %J (%s) Expires: %r",
			    &msg->ruri, &msg->src, sip_transp_name(msg->tp),
			    pl_isset(&msg->expires) ?
			    &msg->expires : &pl_null);

		if (pl_isset(&msg->to.tag))
			refresh_subscribe(pbx, msg);
		else
			initial_subscribe(pbx, msg);
	}
	else if (!pl_strcmp(&msg->met, "OPTIONS")) {
		reply(pbx, msg, 200, "Allow: SUBSCRIBE, OPTIONS\r\n");
	}
	else if (!pl_strcmp(&msg->met, "ACK")) {
		/* nothing to do */
	}
	else {
		reply(pbx, msg, 405, "Allow: SUBSCRIBE, OPTIONS\r\n");
	}

	return true;
}


/**
 * Start answering SIP requests
 *
 * @param pbx Fake PBX (pbx->sip set up)
 *
 * @return 0 if success, otherwise errorcode
 */
int subs_init(struct pbx *pbx)
{
	if (!pbx || !pbx->sip)
		return EINVAL;

	return sip_listen(&pbx->lsnr, pbx->sip, true, request_handler, pbx);
}


/**
 * Drop every subscription and stop listening
 *
 * @param pbx Fake PBX
 */
void subs_close(struct pbx *pbx)
{
	if (!pbx)
		return;

	list_flush(&pbx->subl);
	pbx->lsnr = mem_deref(pbx->lsnr);
}


/**
 * Notify every subscription of changed DNs
 *
 * @param pbx  Fake PBX
 * @param chgv Changes, one per DN
 * @param chgc Number of changes
 */
void subs_notify(struct pbx *pbx, const struct pbx_change *chgv,
		 size_t chgc)
{
	struct le *le;

	if (!pbx || !chgc)
		return;

	for (le = pbx->subl.head; le; ) {
		struct sub *sub = le->data;
		int err;

		le = le->next;

		if (sub->terminated)
			continue;

		err = queue_changes(sub, chgv, chgc, false);
		if (err)
			fakepbx_log("sub#%u: notify: %m", sub->id, err);

		kick(sub);
	}
}


/**
 * Send one broken NOTIFY to every subscription
 *
 * @param pbx  Fake PBX
 * @param kind badxml, xxe, bomb, huge, wrongtype or wrongns
 * @param dn   DN the body claims to describe; unset for the first DN
 *
 * @return 0 if success, ENOENT for an unknown kind or DN
 */
int subs_garbage(struct pbx *pbx, const char *kind, const struct pl *dn)
{
	static const char *kinds[] = {
		"badxml", "xxe", "bomb", "huge", "wrongtype", "wrongns"
	};
	const struct pbx_dn *d;
	struct le *le;
	size_t i;
	int err = ENOENT;

	if (!pbx || !kind)
		return EINVAL;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!str_casecmp(kind, kinds[i]))
			err = 0;
	}
	if (err)
		return err;

	d = pl_isset(dn) ? dnstore_find(pbx, dn) :
		list_ledata(list_head(&pbx->dnl));
	if (!d)
		return ENOENT;

	for (le = pbx->subl.head; le; ) {
		struct sub *sub = le->data;
		struct mbuf *mb;
		char *ctype = NULL;
		char what[64];
		uint32_t ver;

		le = le->next;

		if (sub->terminated)
			continue;

		mb = mbuf_alloc(4096);
		if (!mb)
			return ENOMEM;

		ver = next_version(sub, d);
		err = body_garbage(mb, &ctype, kind, sub->host, d, ver);
		(void)re_snprintf(what, sizeof(what), "garbage %s %s v%u",
				  kind, d->dn, ver);
		if (!err)
			err = enqueue(sub, mb, ctype, NULL, 0, what);

		mem_deref(ctype);
		mem_deref(mb);

		if (err)
			return err;

		kick(sub);
	}

	return 0;
}


/**
 * Send a given body to every subscription
 *
 * @param pbx   Fake PBX
 * @param ctype Content-Type
 * @param body  Body (shared, not modified)
 *
 * @return 0 if success, otherwise errorcode
 */
int subs_raw(struct pbx *pbx, const char *ctype, struct mbuf *body)
{
	struct le *le;
	int err;

	if (!pbx || !ctype || !body)
		return EINVAL;

	for (le = pbx->subl.head; le; ) {
		struct sub *sub = le->data;

		le = le->next;

		if (sub->terminated)
			continue;

		err = enqueue(sub, body, ctype, NULL, 0, "raw");
		if (err)
			return err;

		kick(sub);
	}

	return 0;
}


/**
 * Terminate every subscription with a final NOTIFY
 *
 * @param pbx         Fake PBX
 * @param reason      Reason parameter
 * @param retry_after Retry-after parameter, 0 for none
 */
void subs_terminate(struct pbx *pbx, const char *reason,
		    uint32_t retry_after)
{
	struct le *le;

	if (!pbx || !reason)
		return;

	for (le = pbx->subl.head; le; ) {
		struct sub *sub = le->data;

		le = le->next;

		if (!sub->terminated)
			enqueue_term(sub, reason, retry_after);
	}
}


/**
 * Drop every subscription without telling the subscribers
 *
 * @param pbx Fake PBX
 */
void subs_forget(struct pbx *pbx)
{
	if (!pbx)
		return;

	list_flush(&pbx->subl);
}


/**
 * Resume sending (after silent mode)
 *
 * @param pbx Fake PBX
 */
void subs_kick(struct pbx *pbx)
{
	struct le *le;

	if (!pbx)
		return;

	for (le = pbx->subl.head; le; ) {
		struct sub *sub = le->data;

		le = le->next;
		kick(sub);
	}
}


/**
 * Count the active subscriptions
 *
 * @param pbx Fake PBX
 *
 * @return Number of subscriptions not being terminated
 */
uint32_t subs_count(const struct pbx *pbx)
{
	struct le *le;
	uint32_t n = 0;

	if (!pbx)
		return 0;

	LIST_FOREACH(&pbx->subl, le) {
		const struct sub *sub = le->data;

		if (!sub->terminated)
			++n;
	}

	return n;
}


/**
 * Count all subscription objects, including ones still terminating
 *
 * @param pbx Fake PBX
 *
 * @return Number of subscription objects
 */
uint32_t subs_pending(const struct pbx *pbx)
{
	return pbx ? list_count(&pbx->subl) : 0;
}
