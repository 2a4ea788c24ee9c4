/**
 * @file upstream.c  The one subscription to the PBX's aggregate resource
 *
 * SUBSCRIBE upstream_uri with upstream_event, digest credentials on
 * challenge, refreshed by libre before expiry.  Each NOTIFY is answered
 * (statelessly: upreplay.c answers its retransmissions) and its body
 * decoded by Content-Type.  When the subscription ends or
 * fails, it is set up again after an exponential backoff with jitter,
 * or after the Retry-After the PBX asked for.
 *
 * A PBX that goes silent is only noticed by libre when a refresh has
 * failed for minutes; so while the link is up, an OPTIONS ping goes to
 * the PBX every upstream_keepalive seconds, and two unanswered pings
 * in a row (any answer counts) take the link down.
 *
 * Config keys: upstream_uri, upstream_user, upstream_auth_user,
 * upstream_password (or upstream_password_file, read by config.c),
 * upstream_event, upstream_accept, upstream_expires, upstream_capture,
 * upstream_retry_min, upstream_retry_max, upstream_keepalive.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "upstream.h"
#include "metrics.h"


enum link_state {
	LINK_IDLE = 0,     /**< Not started                              */
	LINK_TRYING,       /**< SUBSCRIBE sent, no NOTIFY yet            */
	LINK_UP,           /**< NOTIFYs arrive                           */
	LINK_DOWN,         /**< Failed, waiting to retry                 */
};

struct upstream {
	struct sip *sip;
	struct sipevent_sock *sock;
	struct upreplay *replay;   /**< Answers without transactions   */
	struct upreplay_dlg *answers; /**< This dialog's, for 32 s     */
	const struct config *cfg;
	struct sipsub *sub;
	struct ptmr tmr_retry;
	struct ptmr tmr_ka;         /**< Keepalive: next OPTIONS ping     */
	struct sip_request *ka_req;/**< The ping in flight, or NULL      */
	struct uri route;          /**< upstream_uri, for the pings      */
	char *uri;                 /**< Its storage                      */
	uint32_t ka_missed;        /**< Pings unanswered in a row        */
	struct capture *cap;
	char *from_uri;
	char *accept;
	enum link_state state;
	uint64_t since;            /**< When state last changed, ms     */
	uint32_t failures;         /**< Failed attempts since last up   */
	upstream_update_h *updh;
	upstream_session_h *sessh;
	upstream_link_h *linkh;
	void *arg;
};


static void destructor(void *arg)
{
	struct upstream *up = arg;

	ptmr_cancel(&up->tmr_retry);
	ptmr_cancel(&up->tmr_ka);
	up->ka_req = mem_deref(up->ka_req);
	up->sub = mem_deref(up->sub);     /* sends Expires: 0 */
	mem_deref(up->answers);
	mem_deref(up->replay);
	mem_deref(up->uri);
	mem_deref(up->cap);
	mem_deref(up->from_uri);
	mem_deref(up->accept);
}


static const char *state_name(enum link_state st)
{
	switch (st) {

	case LINK_IDLE:   return "idle";
	case LINK_TRYING: return "trying";
	case LINK_UP:     return "up";
	case LINK_DOWN:   return "down";
	default:          return "?";
	}
}


static void retry_handler(void *arg);
static void keepalive_handler(void *arg);


static void set_state(struct upstream *up, enum link_state st)
{
	if (st == up->state)
		return;

	if (st == LINK_UP && up->state == LINK_DOWN)
		++metrics.upstream_reconnects;

	up->state = st;
	up->since = store_now_ms();

	if (st == LINK_UP && up->cfg->upstream_keepalive) {
		up->ka_missed = 0;
		ptmr_start(&up->tmr_ka, up->cfg->upstream_keepalive * 1000ULL,
			  keepalive_handler, up);
	}
	else if (st != LINK_UP) {
		ptmr_cancel(&up->tmr_ka);
		up->ka_req = mem_deref(up->ka_req);
	}

	if (st == LINK_UP || st == LINK_DOWN)
		up->linkh(st == LINK_UP, up->arg);
}


/* Exponential backoff between the bounds, with jitter in [d/2, d] */
static uint64_t backoff_ms(const struct upstream *up)
{
	uint64_t d = (uint64_t)up->cfg->upstream_retry_min * 1000;
	uint64_t max = (uint64_t)up->cfg->upstream_retry_max * 1000;
	uint32_t i;

	for (i = 1; i < up->failures && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;

	return d / 2 + randbuf_u32() % (d / 2 + 1);
}


static void schedule_retry(struct upstream *up, uint32_t retry_after,
			   const char *why)
{
	uint64_t delay;

	++up->failures;
	delay = retry_after ? (uint64_t)retry_after * 1000 : backoff_ms(up);

	if (up->state != LINK_DOWN) {
		/* which link, of many tenants' (as "-> up" says) */
		log_warn("upstream: link %s -> down: %s; retrying in %llu ms "
			 "(%s)", state_name(up->state), why,
			 (unsigned long long)delay, up->cfg->upstream_uri);
	}
	else {
		log_debug("upstream: attempt %u failed: %s; retrying in "
			  "%llu ms", up->failures, why,
			  (unsigned long long)delay);
	}

	set_state(up, LINK_DOWN);
	ptmr_start(&up->tmr_retry, delay, retry_handler, up);
}


static void keepalive_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct upstream *up = arg;

	/* any final answer, even 4xx, shows the PBX is there; libre has
	   cleared up->ka_req by then */
	if (!err && msg && msg->scode >= 200)
		up->ka_missed = 0;
}


static void keepalive_handler(void *arg)
{
	struct upstream *up = arg;
	int err;

	/* the last ping got no answer in a whole interval */
	if (up->ka_req) {
		up->ka_req = mem_deref(up->ka_req);
		if (++up->ka_missed >= 2) {
			up->sub = mem_deref(up->sub);
			schedule_retry(up, 0, "the PBX does not answer "
				       "(2 OPTIONS pings unanswered)");
			return;
		}
	}

	/* sip_requestf() writes Via and Max-Forwards itself: a second
	   Max-Forwards makes strict parsers (Kamailio) drop the ping */
	err = sip_requestf(&up->ka_req, up->sip, true, "OPTIONS", up->uri,
			   &up->route, NULL, NULL, keepalive_resp, up,
			   "To: <%s>\r\n"
			   "From: <%s>;tag=%016llx\r\n"
			   "Call-ID: %016llx\r\n"
			   "CSeq: 1 OPTIONS\r\n"
			   "Content-Length: 0\r\n\r\n",
			   up->uri, up->from_uri, randbuf_u64(),
			   randbuf_u64());
	if (err)
		log_debug("upstream: OPTIONS ping: %m", err);

	ptmr_start(&up->tmr_ka, up->cfg->upstream_keepalive * 1000ULL,
		  keepalive_handler, up);
}


static int auth_handler(char **user, char **pass, const char *realm,
			void *arg)
{
	struct upstream *up = arg;
	int err;

	if (!config_auth_user(up->cfg)) {
		log_error("upstream: the PBX asks for credentials (realm "
			  "'%s') but upstream_user is not set", realm);
		return EAUTH;
	}

	/* the authentication ID; upstream_user stays the From user */
	err  = str_dup(user, config_auth_user(up->cfg));
	err |= str_dup(pass, up->cfg->upstream_password);

	return err;
}


/* Statelessly: upreplay.c answers a retransmission again */
static void answer(struct upstream *up, const struct sip_msg *msg,
		   uint16_t scode, const char *reason)
{
	(void)upreplay_reply(&up->answers, up->replay, up->sip, msg, scode,
			     reason, up->accept);
}


static void notify_handler(struct sip *sip, const struct sip_msg *msg,
			   void *arg)
{
	struct upstream *up = arg;
	struct dn_update *upd = NULL;
	size_t len = mbuf_get_left(msg->mb);
	int err;
	(void)sip;

	capture_write(up->cap, msg);
	++metrics.upstream_notifies;

	if (up->state != LINK_UP) {
		log_info("upstream: link %s -> up (%s)",
			 state_name(up->state), up->cfg->upstream_uri);
		set_state(up, LINK_UP);
		up->failures = 0;
	}

	/* a NOTIFY without body (e.g. pending) carries no state */
	if (len == 0) {
		answer(up, msg, 200, "OK");
		return;
	}

	err = dn_update_alloc(&upd);
	if (!err)
		err = decoder_decode(upd, &msg->ctyp, mbuf_buf(msg->mb), len);

	if (err)
		++metrics.decode_errors;

	switch (err) {

	case 0:
		answer(up, msg, 200, "OK");
		up->updh(upd, up->arg);
		break;

	case ENOTSUP:
		log_warn("upstream: NOTIFY with unsupported Content-Type "
			 "%r/%r ignored", &msg->ctyp.type, &msg->ctyp.subtype);
		answer(up, msg, 415, "Unsupported Media Type");
		break;

	case EMSGSIZE:
		log_warn("upstream: NOTIFY body of %zu bytes is over the "
			 "limit of %u; ignored", len, XMLSAFE_MAX_BODY);
		answer(up, msg, 413, "Request Entity Too Large");
		break;

	case EPROTO:
		log_warn("upstream: NOTIFY body with a DTD refused "
			 "(%r/%r); state unchanged", &msg->ctyp.type,
			 &msg->ctyp.subtype);
		answer(up, msg, 400, "DTD Not Allowed");
		break;

	default:
		log_warn("upstream: malformed %r/%r NOTIFY body (%m); state "
			 "unchanged", &msg->ctyp.type, &msg->ctyp.subtype,
			 err);
		answer(up, msg, 400, "Bad Body");
		break;
	}

	mem_deref(upd);
}


static uint32_t retry_after_hdr(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_RETRY_AFTER);

	return hdr ? pl_u32(&hdr->val) : 0;
}


static void close_handler(int err, const struct sip_msg *msg,
			  const struct sipevent_substate *substate,
			  void *arg)
{
	struct upstream *up = arg;
	uint32_t retry_after = 0;
	char why[160];

	up->sub = mem_deref(up->sub);

	if (substate) {
		/* the PBX ended it with a terminated NOTIFY */
		retry_after = pl_u32(&substate->retry_after);
		(void)re_snprintf(why, sizeof(why),
				  "terminated by the PBX (reason=%s)",
				  sipevent_reason_name(substate->reason));

		switch (substate->reason) {

		case SIPEVENT_DEACTIVATED:
		case SIPEVENT_TIMEOUT:
			/* RFC 6665: re-subscribe at once, without backoff
			   unless this keeps happening */
			if (up->state == LINK_UP)
				up->failures = 0;
			break;

		case SIPEVENT_REJECTED:
		case SIPEVENT_NORESOURCE:
			if (!retry_after)
				retry_after = up->cfg->upstream_retry_max;
			break;

		default:
			break;
		}
	}
	else if (msg) {
		retry_after = retry_after_hdr(msg);

		if (msg->scode == 401 || msg->scode == 407) {
			const char *user = config_auth_user(up->cfg);

			log_error("upstream: the PBX refused the credentials "
				  "of '%s' (%u %r)", user ? user : "(none)",
				  msg->scode, &msg->reason);
			if (!retry_after)
				retry_after = up->cfg->upstream_retry_max;
		}
		else if (msg->scode == 489) {
			static const struct pl none = PL("(none given)");
			const struct sip_hdr *ae;

			ae = sip_msg_hdr(msg, SIP_HDR_ALLOW_EVENTS);
			log_error("upstream: the PBX does not know Event: %s "
				  "(489); its Allow-Events: %r",
				  up->cfg->upstream_event,
				  ae ? &ae->val : &none);
		}
		(void)re_snprintf(why, sizeof(why), "SUBSCRIBE got %u %r",
				  msg->scode, &msg->reason);
	}
	else {
		(void)re_snprintf(why, sizeof(why), "%m", err);
	}

	schedule_retry(up, retry_after, why);
}


static int subscribe(struct upstream *up)
{
	const struct config *cfg = up->cfg;
	int err;

	up->sessh(up->arg);

	err = sipevent_subscribe(&up->sub, up->sock, cfg->upstream_uri,
				 "parkblf", up->from_uri,
				 cfg->upstream_event, NULL,
				 cfg->upstream_expires,
				 cfg->upstream_user ? cfg->upstream_user
				 : "parkblf", NULL, 0,
				 auth_handler, up, false, NULL,
				 notify_handler, close_handler, up,
				 "Accept: %s\r\n"
				 "Supported: eventlist\r\n", up->accept);
	if (err)
		return err;

	++metrics.upstream_attempts;
	if (up->state != LINK_DOWN)
		set_state(up, LINK_TRYING);
	log_debug("upstream: SUBSCRIBE %s (Event: %s)", cfg->upstream_uri,
		  cfg->upstream_event);

	return 0;
}


static void retry_handler(void *arg)
{
	struct upstream *up = arg;
	int err;

	err = subscribe(up);
	if (err) {
		char why[80];

		(void)re_snprintf(why, sizeof(why), "cannot send SUBSCRIBE: "
				  "%m", err);
		schedule_retry(up, 0, why);
	}
}


/**
 * Get host[:port] of a SIP URI, as used in URIs on that PBX
 *
 * @param domainp Where to store the result (mem string)
 * @param uri     SIP URI
 *
 * @return 0 if success, otherwise errorcode
 */
int upstream_domain(char **domainp, const char *uri)
{
	struct uri u;
	struct pl pl;

	if (!domainp || !uri)
		return EINVAL;

	pl_set_str(&pl, uri);
	if (uri_decode(&u, &pl))
		return EINVAL;

	if (u.port)
		return re_sdprintf(domainp, u.af == AF_INET6 ? "[%r]:%u"
				   : "%r:%u", &u.host, u.port);

	return re_sdprintf(domainp, u.af == AF_INET6 ? "[%r]" : "%r",
			   &u.host);
}


/**
 * Allocate the upstream subscriber (not started)
 *
 * @param upp   Where to store the subscriber
 * @param sip   SIP stack
 * @param sock  SIP event socket
 * @param replay Answer memory of the SIP stack's upstream NOTIFYs
 * @param cfg   Configuration (must outlive the subscriber)
 * @param updh  Handler for decoded updates
 * @param sessh Handler for the start of each new subscription
 * @param linkh Handler for the link going up or down
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int upstream_alloc(struct upstream **upp, struct sip *sip,
		   struct sipevent_sock *sock, struct upreplay *replay,
		   const struct config *cfg,
		   upstream_update_h *updh, upstream_session_h *sessh,
		   upstream_link_h *linkh, void *arg)
{
	struct upstream *up;
	char *domain = NULL;
	struct pl pl;
	int err;

	if (!upp || !sip || !sock || !replay || !cfg || !updh || !sessh ||
	    !linkh)
		return EINVAL;

	up = mem_zalloc(sizeof(*up), destructor);
	if (!up)
		return ENOMEM;

	up->sip = sip;
	up->sock = sock;
	up->replay = mem_ref(replay);
	up->cfg = cfg;
	up->updh = updh;
	up->sessh = sessh;
	up->linkh = linkh;
	up->arg = arg;
	ptmr_init(&up->tmr_retry);
	ptmr_init(&up->tmr_ka);

	err = upstream_domain(&domain, cfg->upstream_uri);
	if (err)
		goto out;

	err = str_dup(&up->uri, cfg->upstream_uri);
	if (err)
		goto out;
	pl_set_str(&pl, up->uri);
	if (uri_decode(&up->route, &pl)) {
		err = EINVAL;
		goto out;
	}

	err = re_sdprintf(&up->from_uri, "sip:%s@%s",
			  cfg->upstream_user ? cfg->upstream_user : "parkblf",
			  domain);
	if (err)
		goto out;

	if (cfg->upstream_accept)
		err = str_dup(&up->accept, cfg->upstream_accept);
	else
		err = re_sdprintf(&up->accept, "%H", decoder_accept_print,
				  NULL);
	if (err)
		goto out;

	if (cfg->upstream_capture) {
		err = capture_open(&up->cap, cfg->upstream_capture,
				   cfg->upstream_capture_max);
		if (err) {
			log_error("upstream: cannot open capture file %s: %m",
				  cfg->upstream_capture, err);
			goto out;
		}
		log_info("upstream: capturing every NOTIFY to %s",
			 cfg->upstream_capture);
	}

 out:
	mem_deref(domain);
	if (err)
		mem_deref(up);
	else
		*upp = up;

	return err;
}


/**
 * Send the first SUBSCRIBE (or schedule a retry if it cannot be sent)
 *
 * @param up Upstream subscriber
 *
 * @return 0 if success, otherwise errorcode
 */
int upstream_start(struct upstream *up)
{
	if (!up)
		return EINVAL;

	retry_handler(up);

	return 0;
}


/**
 * Ask the PBX for its whole picture again: a new subscription, whose
 * initial report covers every DN
 *
 * @param up Upstream subscriber
 */
void upstream_resync(struct upstream *up)
{
	if (!up || !up->sub)
		return;   /* not subscribed: the next attempt brings it */

	log_info("upstream: subscribing again for the full state");
	up->sub = mem_deref(up->sub);
	retry_handler(up);
}


/**
 * Get the upstream link state as a word: idle, trying, up or down
 *
 * @param up    Upstream subscriber
 * @param since Where to store when it took that state (ms since the
 *              epoch), may be NULL
 *
 * @return State name
 */
const char *upstream_state(const struct upstream *up, uint64_t *since)
{
	if (!up)
		return "idle";

	if (since)
		*since = up->since;

	return state_name(up->state);
}


/**
 * Tell whether NOTIFYs arrive on the upstream subscription
 *
 * @param up Upstream subscriber
 *
 * @return true if the link is up
 */
bool upstream_is_up(const struct upstream *up)
{
	return up && up->state == LINK_UP;
}
