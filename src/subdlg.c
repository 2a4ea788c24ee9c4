/**
 * @file subdlg.c  The SIP dialog of one phone subscription (RFC 6665)
 *
 * What libre's notifier (sipnot) kept per subscription, in one packed
 * allocation: the dialog's Call-ID, tags, URIs and route, the NOTIFY
 * CSeq, and the one NOTIFY in flight.
 *
 * NOTIFYs to a phone on UDP whose Contact is an IP address take the
 * fast path: written into one reused buffer and sent on the socket the
 * SUBSCRIBE came in on, retransmitted by our own timer (RFC 3261
 * 17.1.2: T1 500 ms doubling to T2 4 s, given up after 64*T1; in
 * tfifo.c's lists, one per interval, O(1) to start and cancel), and
 * their answers are taken off that socket by a tap in front of libre
 * (sipsock_tap) that reads only the status line and our branch.  That
 * skips libre's per-NOTIFY request, client transaction, message
 * parsing and the 5 s each transaction is kept after its answer, which
 * were most of the CPU and memory of a fan-out (docs/BENCHMARKS.md).
 * The branch carries the dialog's id, the CSeq and a random nonce, so
 * an answer is matched without parsing and cannot be forged blindly.
 *
 * Behind a proxy that record-routed, with a loose router at an IP
 * address as first hop, the fast path sends there, the route set in a
 * Route header (the answer comes back through the proxy to the same
 * socket).  Final NOTIFYs take it too (a stop ends thousands of
 * subscriptions at once: notifier.c paces them).  Every other NOTIFY
 * (TCP, TLS, a host name in the Contact or as first hop, a strict
 * router, a wildcard local address) goes through libre's stateful
 * requests, which retransmit it and which sip_close waits for at
 * shutdown.  Their timers are in libre's sorted list (ptmr.c), each
 * costing a walk past the later ones: the fast path keeps that list
 * short.
 *
 * A phone behind NAT (natkeep.c) gets its NOTIFYs at the address its
 * requests come from, on either path, and follows it when a refresh
 * comes from another; on TCP and TLS they go on the connection it
 * opened, and wait for its next refresh while it has none.
 *
 * On the fast path the SUBSCRIBEs are answered statelessly too: libre
 * keeps a server transaction, with the request, 32 s after its answer,
 * which after a storm was several KiB per subscription of heap that
 * stayed fragmented.  A retransmitted SUBSCRIBE (its 200 was lost) is
 * known by its CSeq (subdlg_retransmission) and gets the same answer.
 *
 * No amplification (RFC 9000 8.1's rule): a dialog whose NOTIFYs go
 * to an address that has not shown it is reachable (not the
 * SUBSCRIBE's source, not one that answered parkblf: reach.c) may send
 * there at most AMP_FACTOR times the bytes of the requests it got,
 * retransmissions included.  Its NOTIFYs take the fast path, where
 * every datagram is checked against that budget (O(1)); one that does
 * not fit is not sent, and a NOTIFY that cannot be sent again is given
 * up as unanswered.  Its final NOTIFY goes once, unanswered.  Where the
 * fast path cannot go (a host name, a strict router), libre sends only
 * to the source or a verified address (send_check).  The first answer
 * verifies the dialog, and the address for later dialogs.  TCP and TLS
 * are verified by their handshake.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1  /* memmem */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "persist.h"
#include "natkeep.h"
#include "reach.h"
#include "doctpl.h"
#include "metrics.h"
#include "subdlg.h"


#define BRANCH_MAGIC NATKEEP_BRANCH_PREFIX "n"

enum {
	ID_HASH_SIZE = 16384,
	T1_MS        = 500,         /**< RFC 3261 default; T2 = 8*T1,   */
				    /**< given up after 64*T1          */
	HEX_FIELDS   = 3,           /**< id, CSeq, nonce in the branch   */
	AMP_FACTOR   = 3,           /**< Bytes out per byte in, unverified */
	BUDGET_MAX   = 1 << 30,
};

/** Strings of a dialog, packed in one allocation */
enum str_ix {
	S_CALLID = 0,
	S_RTAG,        /**< The phone's tag                              */
	S_LOCAL,       /**< Our URI (the SUBSCRIBE's To)                 */
	S_REMOTE,      /**< The phone's URI (its From)                   */
	S_TARGET,      /**< The phone's Contact                          */
	S_RURI,        /**< The URI the phone subscribed to              */
	S_EVENT,       /**< Event header value, with its id              */
	S_ROUTE,       /**< "Route: ...\r\n" from Record-Route, or ""    */
	S_HOP,         /**< Where libre sends: first route or target     */
	S_CUSER,       /**< User part of our Contact                     */
	S_N
};

struct subdlgs {
	struct sip *sip;
	struct hash *by_id;          /**< Fast-path NOTIFYs in flight     */
	struct tfifo *rtxq;          /**< Their retransmission timers     */
	struct mbuf *txb;            /**< Where fast NOTIFYs are written  */
	uint32_t next_id;
	uint32_t inflight;
	uint32_t t1;                 /**< ms                              */
	struct list restored;        /**< Waiting for their socket        */
	struct natkeep *nk;          /**< Phones behind NAT               */
	struct reach *reach;         /**< Addresses that answered         */
	struct sa ltext_sa;          /**< Whose text ltext is             */
	char ltext[64];              /**< An address, as %J prints it     */
	size_t ltext_len;
};

struct subdlg {
	struct le he;                /**< In subdlgs.by_id while in flight */
	struct le le_up;             /**< In subdlgs.restored             */
	struct natuse *nat;          /**< Behind NAT: where it is         */
	struct subdlgs *ctx;
	subdlg_resp_h *resph;
	void *arg;
	struct sip_request *req;     /**< libre's NOTIFY in flight        */
	struct tfent rtx;            /**< Fast path: retransmission; or a
					  refused NOTIFY's failure        */
	void *sock;                  /**< Fast path: udp_sock (not ref'd) */
	struct sa dst;               /**< Fast path or NAT: the phone     */
	struct sa laddr;             /**< UDP: our address it spoke to    */
	struct sa src;               /**< The phone's source (subdlg_peer) */
	struct doctpl *doc;          /**< Of the NOTIFY in flight         */
	const char *ctype;           /**< Of the NOTIFY in flight         */
	char *strs;
	uint16_t off[S_N];
	uint16_t slen_total;         /**< Of strs                         */
	uint8_t final;               /**< Fast path: 0, or the final
					  NOTIFY's reason + 1 (expires: its
					  retry-after)                    */
	uint64_t ltag;
	uint32_t docver;             /**< Version of doc                  */
	uint32_t id;
	uint32_t sub_cseq;           /**< Of the last SUBSCRIBE answered  */
	uint32_t cseq;
	uint32_t nonce;
	uint32_t expires;            /**< Of the NOTIFY in flight         */
	uint32_t rtx_ms;             /**< Next retransmission interval    */
	uint32_t waited_ms;
	uint32_t budget;             /**< Bytes it may send, unverified   */
	uint8_t tp;                  /**< enum sip_transp, in one byte    */
	bool fast;
	bool verified;               /**< Its peer has shown it is there  */
	bool ruri_plain;             /**< Needs no XML escaping           */
	bool eventlist;              /**< NOTIFYs say Require: eventlist  */
};


static const char *str(const struct subdlg *sd, enum str_ix i)
{
	return sd->strs + sd->off[i];
}


/* The in-flight NOTIFY is done with (answered, given up, or dropped) */
static void fast_done(struct subdlg *sd)
{
	if (sd->he.list) {
		hash_unlink(&sd->he);
		--sd->ctx->inflight;
	}
	tfifo_cancel(&sd->rtx);
	sd->doc = mem_deref(sd->doc);
}


static void destructor(void *arg)
{
	struct subdlg *sd = arg;

	fast_done(sd);
	list_unlink(&sd->le_up);
	mem_deref(sd->nat);
	mem_deref(sd->req);
	mem_deref(sd->strs);
}


static void ctx_destructor(void *arg)
{
	struct subdlgs *ctx = arg;

	sipsock_tap(NULL, NULL, NULL);
	list_clear(&ctx->restored);
	mem_deref(ctx->nk);
	mem_deref(ctx->by_id);
	mem_deref(ctx->rtxq);
	mem_deref(ctx->reach);
	mem_deref(ctx->txb);
}


static bool id_cmp(struct le *le, void *arg)
{
	const struct subdlg *sd = le->data;

	return sd->id == *(uint32_t *)arg;
}


static int hex32(uint32_t *v, const char *p)
{
	uint32_t x = 0;
	int i;

	for (i = 0; i < 8; i++) {
		const char c = p[i];

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (uint32_t)(c - 'a' + 10);
		else
			return EBADMSG;
	}
	*v = x;

	return 0;
}


/* Its peer answered: no limit on the dialog, nor on the address */
static void verify(struct subdlg *sd, const struct sa *peer)
{
	if (sd->verified)
		return;

	sd->verified = true;
	reach_add(sd->ctx->reach, peer);
}


/* Whether len more bytes may go to the dialog's fast-path peer; they
   are taken from the budget if it is not verified */
static bool spend(struct subdlg *sd, size_t len)
{
	if (sd->verified)
		return true;

	if (reach_known(sd->ctx->reach, &sd->dst)) {
		sd->verified = true;
		return true;
	}

	if (len > sd->budget) {
		++metrics.unverified_withheld;
		return false;
	}

	sd->budget -= (uint32_t)len;

	return true;
}


/* Bytes received from the requester raise what may be sent back */
static void credit(struct subdlg *sd, const struct sip_msg *msg)
{
	const uint64_t b = sd->budget + (uint64_t)AMP_FACTOR * msg->mb->end;

	sd->budget = b > BUDGET_MAX ? BUDGET_MAX : (uint32_t)b;
}


/* An answer to a fast-path NOTIFY, before libre parses it.  Only the
   status line and our branch are read; anything else goes on to
   libre.  An answer to a NOTIFY no longer in flight (a retransmitted
   200) is dropped here. */
static bool tap_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct subdlgs *ctx = arg;
	const char *p = (const char *)mbuf_buf(mb);
	const size_t n = mbuf_get_left(mb);
	const char *b, *eol;
	uint32_t v[HEX_FIELDS];
	struct subdlg *sd;
	struct pl reason;
	uint16_t scode;
	char kind;
	int i;
	(void)src;

	if (n < 16 || memcmp(p, "SIP/2.0 ", 8) ||
	    p[8] < '1' || p[8] > '6' || p[9] < '0' || p[9] > '9' ||
	    p[10] < '0' || p[10] > '9' || p[11] != ' ')
		return false;

	/* our branch, in the header: the top Via comes first, so the
	   search for the end of the header stops there */
	b = memmem(p, n, ";branch=" NATKEEP_BRANCH_PREFIX,
		   sizeof(";branch=" NATKEEP_BRANCH_PREFIX) - 1);
	if (!b || memmem(p, (size_t)(b - p), "\r\n\r\n", 4))
		return false;

	b += sizeof(";branch=" NATKEEP_BRANCH_PREFIX) - 1;
	if ((size_t)(p + n - b) < 1 + 8 * HEX_FIELDS)
		return true;
	kind = *b++;
	for (i = 0; i < HEX_FIELDS; i++) {
		if (hex32(&v[i], b + 8 * i))
			return true;
	}

	/* a phone behind NAT answered a keepalive */
	if (kind == 'k') {
		natkeep_answered(ctx->nk, v[0], v[1], v[2]);
		return true;
	}
	if (kind != 'n')
		return true;

	sd = list_ledata(hash_lookup(ctx->by_id, v[0], id_cmp, &v[0]));
	if (!sd || sd->cseq != v[1] || sd->nonce != v[2])
		return true;

	scode = (uint16_t)((p[8] - '0') * 100 + (p[9] - '0') * 10 +
			   (p[10] - '0'));
	if (scode < 200) {
		/* proceeding: retransmit at T2 from now on */
		sd->rtx_ms = 8 * sd->ctx->t1;
		return true;
	}

	eol = memchr(p + 12, '\r', n - 12);
	reason.p = p + 12;
	reason.l = eol ? (size_t)(eol - reason.p) : 0;

	if (sd->nat)
		natuse_heard(sd->nat);
	/* it echoed our nonce: whoever is at dst got the NOTIFY */
	verify(sd, &sd->dst);
	fast_done(sd);
	sd->resph(0, scode, &reason, sd->arg);

	return true;
}


/* A small writer for the fast path's datagrams: lengths known, no
   printf engine (it was most of libre's share of a NOTIFY) */
static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);

	return p + n;
}


#define PUTS(p, lit) put((p), (lit), sizeof(lit) - 1)


static char *put_u32(char *p, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);

	while (n)
		*p++ = tmp[--n];

	return p;
}


static char *put_hex(char *p, uint64_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";

	while (digits--)
		*p++ = hex[(v >> (4 * digits)) & 0xf];

	return p;
}


static size_t slen(const struct subdlg *sd, enum str_ix i)
{
	return i + 1 < S_N ? (size_t)(sd->off[i + 1] - sd->off[i] - 1)
		: strlen(str(sd, i));
}


static char *put_str(char *p, const struct subdlg *sd, enum str_ix i)
{
	return put(p, str(sd, i), slen(sd, i));
}


/* Our address as Via and Contact show it; most dialogs share it */
static const char *laddr_text(struct subdlgs *ctx, const struct sa *laddr,
			      size_t *lenp)
{
	if (!sa_cmp(&ctx->ltext_sa, laddr, SA_ALL)) {
		if (re_snprintf(ctx->ltext, sizeof(ctx->ltext), "%J",
				laddr) < 0)
			ctx->ltext[0] = '\0';
		ctx->ltext_sa = *laddr;
		ctx->ltext_len = strlen(ctx->ltext);
	}
	*lenp = ctx->ltext_len;

	return ctx->ltext;
}


/* Upper bound of a NOTIFY's header: its fixed text, the numbers at
   their widest, and the strings */
static size_t head_max(const struct subdlg *sd, const char *substate,
		       size_t llen)
{
	return 340 + 2 * llen + sd->slen_total +
		(substate ? strlen(substate) : 0) +
		(sd->ctype ? strlen(sd->ctype) : 0);
}


/* Write a fast-path NOTIFY; returns its length */
static size_t write_notify(const struct subdlg *sd, char *dst,
			   const char *substate, const char *laddr,
			   size_t llen, const char *ent, size_t elen,
			   size_t blen)
{
	char *p = dst;

	p = PUTS(p, "NOTIFY ");
	p = put_str(p, sd, S_TARGET);
	p = PUTS(p, " SIP/2.0\r\nVia: SIP/2.0/UDP ");
	p = put(p, laddr, llen);
	p = PUTS(p, ";branch=" BRANCH_MAGIC);
	p = put_hex(p, sd->id, 8);
	p = put_hex(p, sd->cseq, 8);
	p = put_hex(p, sd->nonce, 8);
	p = PUTS(p, ";rport\r\nMax-Forwards: 70\r\n");
	p = put_str(p, sd, S_ROUTE);      /* "" or "Route: ...\r\n" */
	p = PUTS(p, "To: <");
	p = put_str(p, sd, S_REMOTE);
	p = PUTS(p, ">;tag=");
	p = put_str(p, sd, S_RTAG);
	p = PUTS(p, "\r\nFrom: <");
	p = put_str(p, sd, S_LOCAL);
	p = PUTS(p, ">;tag=");
	p = put_hex(p, sd->ltag, 16);
	p = PUTS(p, "\r\nCall-ID: ");
	p = put_str(p, sd, S_CALLID);
	p = PUTS(p, "\r\nCSeq: ");
	p = put_u32(p, sd->cseq);
	p = PUTS(p, " NOTIFY\r\nContact: <sip:");
	p = put_str(p, sd, S_CUSER);
	p = PUTS(p, "@");
	p = put(p, laddr, llen);
	p = PUTS(p, ">\r\nEvent: ");
	p = put_str(p, sd, S_EVENT);
	p = PUTS(p, "\r\nSubscription-State: ");
	if (substate) {
		p = put(p, substate, strlen(substate));
	}
	else {
		p = PUTS(p, "active;expires=");
		p = put_u32(p, sd->expires);
	}
	p = PUTS(p, "\r\n");
	if (sd->eventlist)
		p = PUTS(p, "Require: eventlist\r\n");
	if (blen) {
		p = PUTS(p, "Content-Type: ");
		p = put(p, sd->ctype, strlen(sd->ctype));
		p = PUTS(p, "\r\n");
	}
	p = PUTS(p, "Content-Length: ");
	p = put_u32(p, (uint32_t)blen);
	p = PUTS(p, "\r\n\r\n");
	if (blen) {
		doctpl_write(sd->doc, p, ent, elen, sd->docver);
		p += blen;
	}

	return (size_t)(p - dst);
}


/* The Subscription-State of a final NOTIFY */
static void final_substate(char *buf, size_t sz, enum sipevent_reason r,
			   uint32_t retry_after)
{
	if (retry_after)
		(void)re_snprintf(buf, sz, "terminated;reason=%s;"
				  "retry-after=%u", sipevent_reason_name(r),
				  retry_after);
	else
		(void)re_snprintf(buf, sz, "terminated;reason=%s",
				  sipevent_reason_name(r));
}


/* One datagram of a fast-path NOTIFY, queued for sendmmsg (txq.c);
   EPERM: over the budget, not sent.  A final one (sd->final) or an
   active one. */
static int fast_send(struct subdlg *sd)
{
	struct subdlgs *ctx = sd->ctx;
	char ebuf[DOCTPL_ENTITY_MAX];
	const char *ent = NULL, *laddr;
	const char *substate = NULL;
	char sbuf[64];
	size_t elen = 0, blen = 0, llen, max, len;
	struct mbuf *mb = NULL;
	char *dst;
	int fd;

	if (sd->final) {
		final_substate(sbuf, sizeof(sbuf),
			       (enum sipevent_reason)(sd->final - 1),
			       sd->expires);
		substate = sbuf;
	}

	if (sd->doc && sd->ruri_plain) {
		ent = str(sd, S_RURI);
		elen = slen(sd, S_RURI);
	}
	else if (sd->doc) {
		ent = doctpl_entity(ebuf, sizeof(ebuf), str(sd, S_RURI),
				    &elen);
		if (!ent)
			return EOVERFLOW;
	}
	if (sd->doc)
		blen = doctpl_len(sd->doc, elen, sd->docver);
	if (blen && !sd->ctype)
		return EINVAL;

	laddr = laddr_text(ctx, &sd->laddr, &llen);
	max = head_max(sd, substate, llen) + blen;
	fd = udp_sock_fd(sd->sock, sa_af(&sd->dst));

	dst = txq_reserve(max);
	if (!dst) {
		/* too big for the queue: on its own */
		mb = ctx->txb;
		mbuf_rewind(mb);
		if (mbuf_resize(mb, max))
			return ENOMEM;
		dst = (char *)mb->buf;
	}

	len = write_notify(sd, dst, substate, laddr, llen, ent, elen, blen);

	if (!spend(sd, len))
		return EPERM;

	if (wiredump_on()) {
		struct mbuf dmb;

		memset(&dmb, 0, sizeof(dmb));
		dmb.buf = (uint8_t *)dst;
		dmb.size = dmb.end = len;

		wiredump_tx(&dmb);
	}

	/* a lost datagram is the retransmission timer's business */
	if (mb) {
		mb->end = len;
		(void)udp_send(sd->sock, &sd->dst, mb);
	}
	else {
		txq_commit(fd, &sd->dst, len);
	}

	return 0;
}


static void rtx_handler(struct subdlg *sd)
{
	struct subdlgs *ctx = sd->ctx;
	const uint32_t t2 = 8 * ctx->t1, tf = 64 * ctx->t1;
	int err;

	sd->waited_ms += sd->rtx_ms;
	if (sd->waited_ms >= tf) {
		fast_done(sd);
		sd->resph(ETIMEDOUT, 0, NULL, sd->arg);
		return;
	}

	err = fast_send(sd);
	if (err) {
		/* over the budget: it cannot be sent again, so it is
		   given up as unanswered */
		fast_done(sd);
		sd->resph(err == EPERM ? ETIMEDOUT : err, 0, NULL, sd->arg);
		return;
	}

	sd->rtx_ms = sd->rtx_ms * 2 > t2 ? t2 : sd->rtx_ms * 2;
	if (sd->waited_ms + sd->rtx_ms > tf)
		sd->rtx_ms = tf - sd->waited_ms;
	err = tfifo_start(ctx->rtxq, &sd->rtx, sd->rtx_ms, sd);
	if (err) {
		fast_done(sd);
		sd->resph(err, 0, NULL, sd->arg);
	}
}


static void libre_resp_handler(int err, const struct sip_msg *msg,
			       void *arg)
{
	struct subdlg *sd = arg;

	if (!err && msg && msg->scode < 200)
		return;

	if (msg)
		verify(sd, &msg->src);

	/* libre has cleared sd->req before a final answer reaches us */
	if (msg)
		natuse_heard(sd->nat);
	if (err || !msg)
		sd->resph(err ? err : ETIMEDOUT, 0, NULL, sd->arg);
	else
		sd->resph(0, msg->scode, &msg->reason, sd->arg);
}


/* Before libre sends a NOTIFY of a dialog not verified: UDP goes only
   to the SUBSCRIBE's source or an address that answered parkblf
   (libre retransmits on its own, beyond any budget); TCP and TLS
   connections prove their peer by the handshake */
static int send_check(enum sip_transp tp, const struct sa *src,
		      const struct sa *dst, struct mbuf *mb, void *arg)
{
	struct subdlg *sd = arg;
	(void)src;
	(void)mb;

	if (tp != SIP_TRANSP_UDP || sa_cmp(dst, &sd->src, SA_ADDR) ||
	    reach_known(sd->ctx->reach, dst)) {
		sd->verified = true;
		return 0;
	}

	++metrics.unverified_withheld;

	return EPERM;
}


/* A NOTIFY through libre: stateful, retransmitted by libre, the one in
   flight until libre_resp_handler */
static int libre_send(struct subdlg *sd, const char *substate,
		      const char *ctype, const struct doctpl *doc,
		      uint32_t version)
{
	struct sip_contact contact;
	struct mbuf *body = NULL;
	char nathop[96];
	struct uri route;
	struct sa laddr;
	struct pl hop;
	size_t blen;
	int err;

	/* behind NAT: where its requests come from (on TCP and TLS, libre
	   finds the connection by that address) */
	if (sd->nat) {
		if (re_snprintf(nathop, sizeof(nathop), "sip:%J%s", &sd->dst,
				sip_transp_param(sd->tp)) < 0)
			return ENOMEM;
		pl_set_str(&hop, nathop);
	}
	else {
		pl_set_str(&hop, str(sd, S_HOP));
	}
	if (uri_decode(&route, &hop))
		return EINVAL;

	/* the Contact is written here, not by a send handler: a final
	   NOTIFY outlives its dialog.  Over UDP the socket the phone spoke
	   to, which libre (sending from its first) is pinned to */
	if (sd->tp == SIP_TRANSP_UDP && sa_isset(&sd->laddr, SA_ALL) &&
	    !sa_is_any(&sd->laddr)) {
		struct sippin *pin = NULL;
		struct pl callid;

		pl_set_str(&callid, str(sd, S_CALLID));
		err = sippin_alloc(&pin, &callid, &sd->laddr);
		if (err)
			return err;
		sippin_linger(pin);
		laddr = sd->laddr;
	}
	else {
		err = sip_transp_laddr(sd->ctx->sip, &laddr, sd->tp, NULL);
		if (err)
			return err;
	}
	sip_contact_set(&contact, str(sd, S_CUSER), &laddr, sd->tp);

	if (doc) {
		body = mbuf_alloc(1024);
		if (!body)
			return ENOMEM;
		err = doctpl_print(body, doc, str(sd, S_RURI), version);
		if (err)
			goto out;
	}
	blen = body ? body->end : 0;

	/* sip_requestf() writes Via and Max-Forwards itself */
	err = sip_requestf(&sd->req, sd->ctx->sip, true,
			    "NOTIFY", str(sd, S_TARGET), &route, NULL,
			    sd->verified ? NULL : send_check,
			    libre_resp_handler, sd,
			    "%s"
			    "%H"
			    "To: <%s>;tag=%s\r\n"
			    "From: <%s>;tag=%016llx\r\n"
			    "Call-ID: %s\r\n"
			    "CSeq: %u NOTIFY\r\n"
			    "Event: %s\r\n"
			    "Subscription-State: %s\r\n"
			    "%s"
			    "%s%s%s"
			    "Content-Length: %zu\r\n\r\n"
			    "%b",
			    str(sd, S_ROUTE), sip_contact_print, &contact,
			    str(sd, S_REMOTE), str(sd, S_RTAG),
			    str(sd, S_LOCAL), (unsigned long long)sd->ltag,
			    str(sd, S_CALLID), sd->cseq, str(sd, S_EVENT),
			    substate,
			    sd->eventlist ? "Require: eventlist\r\n" : "",
			    blen ? "Content-Type: " : "",
			    blen ? ctype : "",
			    blen ? "\r\n" : "",
			    blen, blen ? body->buf : NULL, blen);
 out:
	mem_deref(body);

	return err;
}


static void refused_handler(struct subdlg *sd)
{
	sd->resph(ETIMEDOUT, 0, NULL, sd->arg);
}


/* The dialog's timer in ctx->rtxq: a fast-path NOTIFY in flight is
   retransmitted (or given up), a refused one fails */
static void rtx_fire(void *arg)
{
	struct subdlg *sd = arg;

	if (sd->he.list)
		rtx_handler(sd);
	else
		refused_handler(sd);
}


/* A NOTIFY on the fast path (sd->final and sd->expires say which),
   in flight until answered, retransmitted or given up */
static int fast_start(struct subdlg *sd, const char *ctype,
		      struct doctpl *doc, uint32_t version)
{
	int err;

	sd->ctype = ctype;
	sd->doc = mem_ref(doc);
	sd->docver = version;
	sd->nonce = randbuf_u32();
	sd->rtx_ms = sd->ctx->t1;
	sd->waited_ms = 0;

	/* over the budget (EPERM): not sent, and given up when it
	   would be retransmitted */
	err = fast_send(sd);
	if (err && err != EPERM) {
		fast_done(sd);
		return err;
	}

	hash_append(sd->ctx->by_id, sd->id, &sd->he, sd);
	++sd->ctx->inflight;
	err = tfifo_start(sd->ctx->rtxq, &sd->rtx, sd->rtx_ms, sd);
	if (err)
		fast_done(sd);

	return err;
}


/**
 * Send a NOTIFY with Subscription-State active; one may be in flight
 *
 * @param sd      Dialog
 * @param expires Seconds the subscription has left
 * @param ctype   Content-Type of the document
 * @param doc     Document about the URI the phone subscribed to
 *                (referenced while in flight), or NULL
 * @param version Its version
 *
 * @return 0 if success, EBUSY while one is in flight, or errorcode
 */
int subdlg_notify(struct subdlg *sd, uint32_t expires, const char *ctype,
		  struct doctpl *doc, uint32_t version)
{
	char substate[40];
	int err;

	if (!sd)
		return EINVAL;

	if (subdlg_busy(sd))
		return EBUSY;

	if (sd->nat && !natuse_reachable(sd->nat))
		return ENOTCONN;

	++sd->cseq;

	if (!sd->fast) {
		(void)re_snprintf(substate, sizeof(substate),
				  "active;expires=%u", expires);
		err = libre_send(sd, substate, ctype, doc, version);
		if (err == EPERM) {
			/* not to be sent there: it fails as unanswered */
			err = tfifo_start(sd->ctx->rtxq, &sd->rtx, 0, sd);
		}
		return err;
	}

	sd->final = 0;
	sd->expires = expires;

	return fast_start(sd, ctype, doc, version);
}


/**
 * Send the final NOTIFY.  A NOTIFY in flight is given up: its answer
 * no longer matters.  On the fast path it is sent and retransmitted
 * like any other (the stop's thousands go by sendmmsg), elsewhere
 * libre sends and retransmits it; resph tells when it got its answer
 * or none (the owner keeps the dialog until then: a final NOTIFY in
 * flight counts as a subscription).  To an address not verified it
 * goes once, unanswered, if the budget allows.
 *
 * @param sd          Dialog
 * @param reason      Subscription-State reason
 * @param retry_after Retry-after seconds, 0 for none
 * @param ctype       Content-Type of the document
 * @param doc         Last document (about the URI the phone subscribed
 *                    to), or NULL
 * @param version     Its version
 *
 * @return 0 if in flight (resph follows), EALREADY if sent once with
 *         no answer awaited, EPERM if not sent (over the budget),
 *         ENOTCONN if a phone behind NAT cannot be reached, or another
 *         errorcode; resph follows only 0
 */
int subdlg_terminate(struct subdlg *sd, enum sipevent_reason reason,
		     uint32_t retry_after, const char *ctype,
		     struct doctpl *doc, uint32_t version)
{
	char substate[64];
	int err;

	if (!sd)
		return EINVAL;

	fast_done(sd);
	sd->req = mem_deref(sd->req);

	/* behind NAT without its connection: nowhere to send it */
	if (sd->nat && !natuse_reachable(sd->nat))
		return ENOTCONN;

	++sd->cseq;

	if (sd->fast) {
		sd->final = (uint8_t)(reason + 1);
		sd->expires = retry_after;
		if (sd->verified)
			return fast_start(sd, ctype, doc, version);

		sd->ctype = ctype;
		sd->doc = mem_ref(doc);
		sd->docver = version;
		sd->nonce = randbuf_u32();
		err = fast_send(sd);
		sd->doc = mem_deref(sd->doc);
		return err ? err : EALREADY;
	}

	final_substate(substate, sizeof(substate), reason, retry_after);

	return libre_send(sd, substate, ctype, doc, version);
}


/* A restored dialog goes on the fast path from the socket it would
   have been sent from (the phones' only UDP socket of that family, or
   the first) */
static void upgrade(struct subdlg *sd, void *sock)
{
	list_unlink(&sd->le_up);
	sd->sock = sock;
	sd->fast = true;
}


/* A UDP socket got its tap (its first request): the restored dialogs
   that belong to it move to the fast path */
static void sock_tapped(void *sock, const struct sa *laddr, void *arg)
{
	struct subdlgs *ctx = arg;
	struct le *le;

	for (le = list_head(&ctx->restored); le; ) {
		struct subdlg *sd = le->data;

		le = le->next;
		if (sa_cmp(&sd->laddr, laddr, SA_ALL))
			upgrade(sd, sock);
	}
}


struct rrprint {
	struct re_printf *pf;
	int err;
};


static bool rr_copy(const struct sip_hdr *hdr, const struct sip_msg *msg,
		    void *arg)
{
	struct rrprint *rp = arg;
	(void)msg;

	rp->err |= re_hprintf(rp->pf, "Record-Route: %r\r\n", &hdr->val);

	return rp->err != 0;
}


/* A request's Record-Route headers, for a stateless answer (libre's
   sip_replyf leaves them out) */
static int rr_print(struct re_printf *pf, const struct sip_msg *msg)
{
	struct rrprint rp = {pf, 0};

	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_RECORD_ROUTE, rr_copy,
				&rp);

	return rp.err;
}


/* 200 OK to a SUBSCRIBE of this dialog, with our tag; stateless on
   the fast path */
static int reply_ok(struct subdlg *sd, const struct sip_msg *msg,
		    uint32_t expires)
{
	struct sip_contact c;
	struct sip_msg m;

	sd->sub_cseq = msg->cseq.num;
	credit(sd, msg);
	sip_contact_set(&c, str(sd, S_CUSER), &msg->dst, msg->tp);

	/* libre's reply takes the To tag of a request without one from
	   msg->tag: a shallow copy (read only, never referenced: so not
	   for a server transaction) carries ours */
	if (sd->fast || (sd->nat && msg->tp == SIP_TRANSP_UDP) ||
	    (!pl_isset(&msg->to.tag) && msg->tag != sd->ltag)) {
		m = *msg;
		m.tag = sd->ltag;

		/* behind NAT the answer goes where the request came from,
		   with or without rport in its Via (RFC 3581, as
		   nathelper's force_rport) */
		if (sd->nat)
			sa_set_port(&m.via.addr, sa_port(&msg->src));
		return sip_replyf(sd->ctx->sip, &m, 200, "OK",
				  "%H%H"
				  "Expires: %u\r\n"
				  "Content-Length: 0\r\n\r\n",
				  rr_print, msg, sip_contact_print, &c,
				  expires);
	}

	strec_add(msg);
	return sip_treplyf(NULL, NULL, sd->ctx->sip, msg, true, 200, "OK",
			   "%H"
			   "Expires: %u\r\n"
			   "Content-Length: 0\r\n\r\n",
			   sip_contact_print, &c, expires);
}


static struct subdlg *dlg_alloc(struct subdlgs *ctx, enum sip_transp tp,
				 uint64_t ltag, uint32_t cseq,
				 subdlg_resp_h *resph, void *arg)
{
	struct subdlg *sd = mem_zalloc(sizeof(*sd), destructor);

	if (!sd)
		return NULL;

	sd->ctx = ctx;
	sd->resph = resph;
	sd->arg = arg;
	sd->tp = tp;
	sd->ltag = ltag;
	sd->id = ++ctx->next_id;
	sd->cseq = cseq;

	return sd;
}


/* libre routes by the URI's transport parameter: name it if the
   phone's Contact does not, for a phone on TCP or TLS */
static const char *transport_param(const struct uri *target,
				   enum sip_transp tp)
{
	if (msg_param_exists(&target->params, "transport", NULL))
		return "";

	return tp == SIP_TRANSP_TCP ? ";transport=tcp" :
		tp == SIP_TRANSP_TLS ? ";transport=tls" : "";
}


/* Record-Route of the SUBSCRIBE, as the NOTIFYs' route set */
static bool rr_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct mbuf *mb = arg;
	(void)msg;

	return 0 != mbuf_printf(mb, "%s%r", mb->end ? "," : "Route: ",
				&hdr->val);
}


/* A Contact the fast path can send to: sip: on UDP at an IP address,
   no maddr; the address goes to sd->dst */
static bool fast_target(struct subdlg *sd, const struct uri *target)
{
	struct pl tp;

	if (pl_strcasecmp(&target->scheme, "sip") ||
	    !msg_param_decode(&target->params, "maddr", &tp))
		return false;
	if (!msg_param_decode(&target->params, "transport", &tp) &&
	    pl_strcasecmp(&tp, "udp"))
		return false;

	return 0 == sa_set(&sd->dst, &target->host,
			   target->port ? target->port : SIP_PORT);
}


/* Where the fast path sends: behind a proxy that record-routed, its
   first hop if that is a loose router the fast path can send to (a
   proxy in front of parkblf, as conf/kamailio/), else the Contact */
static bool fast_dest(struct subdlg *sd, const struct uri *target)
{
	struct uri hop;
	struct pl pl, end;

	if (!str(sd, S_ROUTE)[0])
		return fast_target(sd, target);

	pl_set_str(&pl, str(sd, S_HOP));

	return !uri_decode(&hop, &pl) &&
		!msg_param_exists(&hop.params, "lr", &end) &&
		fast_target(sd, &hop);
}


/* The phone takes NOTIFYs on the fast path if it is on UDP, reached
   at an IP address (or behind NAT: at its source), directly or through
   a loose router at an IP address, on a socket with our tap */
static bool fast_ok(struct subdlg *sd, const struct sip_msg *msg,
		    const struct uri *target)
{
	if (msg->tp != SIP_TRANSP_UDP || !msg->sock ||
	    !sipsock_tapped(msg->sock) || sa_is_any(&msg->dst) ||
	    pl_strcasecmp(&target->scheme, "sip") ||
	    (!sd->nat && !fast_dest(sd, target)))
		return false;

	sd->sock = msg->sock;
	sd->laddr = msg->dst;

	return true;
}


/* Behind NAT: requests go to src (for UDP from the socket of laddr) */
static int nat_bind(struct subdlg *sd, enum sip_transp tp,
		    const struct sa *src, const struct sa *laddr,
		    const struct sip_msg *msg)
{
	struct natuse *u = NULL;
	int err;

	err = natkeep_bind(&u, sd->ctx->nk, tp, src, laddr, msg,
			   str(sd, S_TARGET), sd);
	if (err)
		return err;

	mem_deref(sd->nat);
	sd->nat = u;
	sd->dst = *src;
	sd->laddr = *laddr;

	return 0;
}


/* A URI decoded from the text at from, pointed at a copy of that text
   at to: decoding it again cost two of libre's regular expressions per
   new subscription (re_regex was 18 % of parkblf's CPU while phones
   subscribed, BENCHMARKS.md change 28) */
static void uri_move(struct uri *u, const struct pl *from, const char *to)
{
	struct pl *part[] = {&u->scheme, &u->user, &u->password, &u->host,
			     &u->path, &u->params, &u->headers};
	size_t i;

	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		if (part[i]->p >= from->p &&
		    part[i]->p <= from->p + from->l)
			part[i]->p = to + (part[i]->p - from->p);
	}
}


static int pack(struct subdlg *sd, const struct pl *v)
{
	size_t total = 0;
	char *p;
	int i;

	for (i = 0; i < S_N; i++)
		total += v[i].l + 1;
	if (total > 0xffff)
		return EOVERFLOW;

	sd->strs = mem_alloc(total, NULL);
	if (!sd->strs)
		return ENOMEM;
	sd->slen_total = (uint16_t)total;

	p = sd->strs;
	for (i = 0; i < S_N; i++) {
		sd->off[i] = (uint16_t)(p - sd->strs);
		if (v[i].l)
			memcpy(p, v[i].p, v[i].l);
		p[v[i].l] = '\0';
		p += v[i].l + 1;
	}

	/* as documents splice it in: most need no escaping */
	sd->ruri_plain = doctpl_plain(str(sd, S_RURI));

	return 0;
}


/**
 * Take a SUBSCRIBE that starts a subscription: answer it 200 OK and
 * keep its dialog
 *
 * @param sdp     Where to store the dialog
 * @param ctx     Dialogs
 * @param msg     The SUBSCRIBE (no To tag)
 * @param event   Event header value, as the NOTIFYs repeat it
 * @param cuser   User part of our Contact
 * @param expires Seconds granted
 * @param resph   Called when a NOTIFY gets its final answer or none
 * @param arg     Handler argument
 *
 * @return 0 if success (answered), otherwise errorcode (not answered)
 */
int subdlg_accept(struct subdlg **sdp, struct subdlgs *ctx,
		  const struct sip_msg *msg, const struct pl *event,
		  const char *cuser, uint32_t expires,
		  subdlg_resp_h *resph, void *arg)
{
	const struct sip_hdr *ct;
	struct mbuf *route = NULL;
	char *hop = NULL;
	struct subdlg *sd;
	struct sip_addr contact;
	struct pl v[S_N];
	struct uri target;
	int err;

	if (!sdp || !ctx || !msg || !event || !cuser || !resph)
		return EINVAL;

	ct = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (!ct || sip_addr_decode(&contact, &ct->val) ||
	    uri_decode(&target, &contact.auri))
		return EBADMSG;

	/* libre's notifier started its CSeq below 65536 too */
	sd = dlg_alloc(ctx, msg->tp, msg->tag, randbuf_u16(), resph, arg);
	if (!sd)
		return ENOMEM;

	route = mbuf_alloc(64);
	if (!route) {
		err = ENOMEM;
		goto out;
	}
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_RECORD_ROUTE, rr_handler,
				route);
	if (route->end)
		err = mbuf_write_str(route, "\r\n");
	else
		err = 0;

	/* where libre sends: the first route, else the Contact */
	if (route->end) {
		struct sip_addr first;
		const struct sip_hdr *rr;

		rr = sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE);
		if (!rr || sip_addr_decode(&first, &rr->val)) {
			err = EBADMSG;
			goto out;
		}
		err |= pl_strdup(&hop, &first.auri);
	}
	else {
		err |= re_sdprintf(&hop, "%r%s", &contact.auri,
				   transport_param(&target, msg->tp));
	}
	if (err)
		goto out;

	memset(v, 0, sizeof(v));
	v[S_CALLID] = msg->callid;
	v[S_RTAG] = msg->from.tag;
	v[S_LOCAL] = msg->to.auri;
	v[S_REMOTE] = msg->from.auri;
	v[S_TARGET] = contact.auri;
	v[S_RURI] = msg->ruri;
	v[S_EVENT] = *event;
	v[S_ROUTE].p = (const char *)route->buf;
	v[S_ROUTE].l = route->end;
	pl_set_str(&v[S_HOP], hop);
	pl_set_str(&v[S_CUSER], cuser);
	err = pack(sd, v);
	if (err)
		goto out;

	/* target again, now in our own (byte for byte) copy */
	uri_move(&target, &contact.auri, str(sd, S_TARGET));

	/* the socket the phone spoke to (fast_ok and nat_bind say it too) */
	if (msg->tp == SIP_TRANSP_UDP)
		sd->laddr = msg->dst;

	if (!route->end && natkeep_detect(ctx->nk, msg, &target)) {
		err = nat_bind(sd, msg->tp, &msg->src, &msg->dst, msg);
		if (err)
			goto out;
	}
	sd->fast = fast_ok(sd, msg, &target);

	/* TCP and TLS: the handshake; the fast path: the source, or an
	   address that answered; else send_check decides per send */
	sd->src = msg->src;
	sd->verified = msg->tp != SIP_TRANSP_UDP ||
		(sd->fast && (sa_cmp(&sd->dst, &msg->src, SA_ADDR) ||
			      reach_known(ctx->reach, &sd->dst)));

	err = reply_ok(sd, msg, expires);

 out:
	mem_deref(route);
	mem_deref(hop);
	if (err)
		mem_deref(sd);
	else
		*sdp = sd;

	return err;
}


/* The socket a restored dialog sends from: the one the phone spoke
   to, if saved; else the one libre would pick */
static bool restore_laddr(struct subdlg *sd, const struct persist_sub *s)
{
	if (sa_isset(&s->laddr, SA_ALL)) {
		sd->laddr = s->laddr;
		return true;
	}

	return 0 == sip_transp_laddr(sd->ctx->sip, &sd->laddr,
				     SIP_TRANSP_UDP, &sd->dst);
}


/**
 * Rebuild the dialog of a subscription saved by an earlier run.  Its
 * NOTIFYs go through libre until the first request on the socket they
 * would be sent from shows parkblf that socket (libre 1.1.0 names the
 * sockets of its transports nowhere else); then, for a phone on UDP at
 * an IP address, the fast path.  The CSeq is the one given: above
 * anything the dialog used before.
 *
 * @param sdp   Where to store the dialog
 * @param ctx   Dialogs
 * @param s     The saved subscription
 * @param cseq  First CSeq to use, minus one
 * @param resph Called when a NOTIFY gets its final answer or none
 * @param arg   Handler argument
 *
 * @return 0 if success, EBADMSG for an unusable row, or errorcode
 */
int subdlg_restore(struct subdlg **sdp, struct subdlgs *ctx,
		   const struct persist_sub *s, uint32_t cseq,
		   subdlg_resp_h *resph, void *arg)
{
	struct subdlg *sd;
	struct pl v[S_N], ltag;
	struct uri target;
	char *hop = NULL;
	int err;

	if (!sdp || !ctx || !s || !resph)
		return EINVAL;

	if (!s->callid || !s->ltag || !s->rtag || !s->local || !s->remote ||
	    !s->target || !s->orbit || !s->event || !s->entity)
		return EBADMSG;

	pl_set_str(&ltag, s->ltag);
	pl_set_str(&v[S_TARGET], s->target);
	if (ltag.l != 16 || uri_decode(&target, &v[S_TARGET]))
		return EBADMSG;

	sd = dlg_alloc(ctx, (enum sip_transp)s->tp, pl_x64(&ltag), cseq,
		       resph, arg);
	if (!sd)
		return ENOMEM;

	/* only verified dialogs are saved (notifier.c) */
	sd->verified = true;

	/* where the phone is taken to be: behind NAT where it was, else
	   its Contact's address */
	if (sa_isset(&s->nat, SA_ALL))
		sd->src = s->nat;
	else if (sa_set(&sd->src, &target.host,
			target.port ? target.port : SIP_PORT))
		sa_init(&sd->src, AF_INET);

	err = re_sdprintf(&hop, "%r%s", &v[S_TARGET],
			  transport_param(&target, sd->tp));
	if (err)
		goto out;

	memset(v, 0, sizeof(v));
	pl_set_str(&v[S_CALLID], s->callid);
	pl_set_str(&v[S_RTAG], s->rtag);
	pl_set_str(&v[S_LOCAL], s->local);
	pl_set_str(&v[S_REMOTE], s->remote);
	pl_set_str(&v[S_TARGET], s->target);
	pl_set_str(&v[S_RURI], s->entity);
	pl_set_str(&v[S_EVENT], s->event);
	pl_set_str(&v[S_HOP], hop);
	pl_set_str(&v[S_CUSER], s->orbit);
	err = pack(sd, v);
	if (err)
		goto out;

	/* behind NAT: where it was (on TCP/TLS without its connection:
	   nothing is sent until it comes back) */
	if (sa_isset(&s->nat, SA_ALL)) {
		struct sa la = s->laddr;

		if (!sa_isset(&la, SA_ALL) &&
		    sip_transp_laddr(ctx->sip, &la, sd->tp, &s->nat))
			sa_init(&la, sa_af(&s->nat));
		err = nat_bind(sd, sd->tp, &s->nat, &la, NULL);
		if (err)
			goto out;
	}

	/* on UDP at an IP address (or behind NAT): the fast path, once
	   the socket it spoke to (or libre would send from) has its tap
	   (sock_tapped) */
	if (sd->tp == SIP_TRANSP_UDP &&
	    !pl_strcasecmp(&target.scheme, "sip") &&
	    (sd->nat || fast_dest(sd, &target)) &&
	    restore_laddr(sd, s) && !sa_is_any(&sd->laddr)) {
		void *sock = sipsock_find(&sd->laddr);

		if (sock)
			upgrade(sd, sock);
		else
			list_append(&ctx->restored, &sd->le_up, sd);
	}

 out:
	mem_deref(hop);
	if (err)
		mem_deref(sd);
	else
		*sdp = sd;

	return err;
}


/**
 * Whether a request belongs to this dialog
 *
 * @param sd  Dialog
 * @param msg Request
 *
 * @return true if its Call-ID and both tags are this dialog's, or,
 *         without a To tag (the SUBSCRIBE that started it, again),
 *         its Call-ID, From tag and Request-URI
 */
bool subdlg_match(const struct subdlg *sd, const struct sip_msg *msg)
{
	char ltag[17];

	if (!sd || !msg)
		return false;

	if (pl_strcmp(&msg->callid, str(sd, S_CALLID)) ||
	    pl_strcmp(&msg->from.tag, str(sd, S_RTAG)))
		return false;

	if (!pl_isset(&msg->to.tag))
		return 0 == pl_strcmp(&msg->ruri, str(sd, S_RURI));

	(void)re_snprintf(ltag, sizeof(ltag), "%016llx",
			  (unsigned long long)sd->ltag);

	return 0 == pl_strcmp(&msg->to.tag, ltag);
}


/**
 * Answer a SUBSCRIBE of this dialog (refresh, un-SUBSCRIBE, or a
 * retransmission) 200 OK
 *
 * @param sd      Dialog
 * @param msg     The SUBSCRIBE
 * @param expires Seconds granted (0: it ends)
 *
 * @return 0 if success, otherwise errorcode
 */
int subdlg_reply(struct subdlg *sd, const struct sip_msg *msg,
		 uint32_t expires)
{
	if (!sd || !msg)
		return EINVAL;

	return reply_ok(sd, msg, expires);
}


/**
 * Whether a SUBSCRIBE of this dialog repeats the last one answered
 * (its answer was lost): it gets the answer again, and nothing else
 *
 * @param sd  Dialog
 * @param msg A SUBSCRIBE that subdlg_match matched
 *
 * @return true if so
 */
bool subdlg_retransmission(const struct subdlg *sd,
			   const struct sip_msg *msg)
{
	return sd && msg && msg->cseq.num == sd->sub_cseq;
}


/**
 * Ask the CPU for the dialog's fields before a NOTIFY on it (the
 * fan-out walk, a few watchers ahead: each dialog is an allocation of
 * its own, and waiting for it was a large part of the walk at 10k)
 *
 * @param sd Dialog
 */
void subdlg_prefetch(const struct subdlg *sd)
{
	const char *p = (const char *)sd;
	size_t i;

	for (i = 0; sd && i < sizeof(*sd); i += 64)
		__builtin_prefetch(p + i);
}


/**
 * The same for its strings (a separate allocation: call this once its
 * fields are in, a watcher or two after subdlg_prefetch)
 *
 * @param sd Dialog
 */
void subdlg_prefetch_strs(const struct subdlg *sd)
{
	size_t i;

	for (i = 0; sd && i < sd->slen_total; i += 64)
		__builtin_prefetch(sd->strs + i);
}


/** @return true while a NOTIFY of this dialog waits for its answer */
bool subdlg_busy(const struct subdlg *sd)
{
	return sd && (sd->he.list || sd->req || tfifo_isrunning(&sd->rtx));
}


/**
 * Describe the dialog as state_db keeps it (the strings stay the
 * dialog's)
 *
 * @param sd   Dialog
 * @param s    Where to set callid, ltag, rtag, local, remote, target,
 *             entity and tp
 * @param ltag Buffer for our tag
 * @param sz   Its size (17)
 */
void subdlg_describe(const struct subdlg *sd, struct persist_sub *s,
		     char *ltag, size_t sz)
{
	if (!sd || !s || !ltag)
		return;

	s->callid = str(sd, S_CALLID);
	s->ltag = subdlg_ltag(sd, ltag, sz);
	s->rtag = str(sd, S_RTAG);
	s->local = str(sd, S_LOCAL);
	s->remote = str(sd, S_REMOTE);
	s->target = str(sd, S_TARGET);
	s->entity = str(sd, S_RURI);
	s->tp = sd->tp;
	if (sd->nat)
		s->nat = sd->dst;
	else
		sa_init(&s->nat, AF_UNSPEC);
	if (sd->fast || sd->nat)
		s->laddr = sd->laddr;
	else
		sa_init(&s->laddr, AF_UNSPEC);
}


/**
 * A request of this dialog came in: a phone behind NAT is heard from,
 * and followed if it comes from another address (or, on TCP/TLS, a
 * new connection) than the last one.  On TCP/TLS a NOTIFY in flight on
 * the connection it left is given up without its resph: the owner
 * sends the state again (subdlg_busy is false then)
 *
 * @param sd  Dialog
 * @param msg A request subdlg_match matched
 *
 * @return true if the phone moved (what subdlg_describe says changed)
 */
bool subdlg_follow(struct subdlg *sd, const struct sip_msg *msg)
{
	bool moved;

	if (!sd || !msg || !sd->nat || msg->tp != sd->tp)
		return false;

	moved = !sa_cmp(&sd->dst, &msg->src, SA_ALL) ||
		!sa_cmp(&sd->laddr, &msg->dst, SA_ALL);

	/* a binding whose connection closed is taken up again by the
	   request's own connection */
	if (!moved && natuse_reachable(sd->nat)) {
		natuse_heard(sd->nat);
		return false;
	}

	if (nat_bind(sd, msg->tp, &msg->src, &msg->dst, msg))
		return false;
	sd->src = msg->src;     /* a request's source: where NOTIFYs may go */

	/* on TCP/TLS a NOTIFY in flight went on the connection the phone
	   left or lost, where its answer may never come (the phone lost
	   it, or libre closed the connection on a reset before reading
	   the 200 that came with it): it is given up (no resph), and the
	   owner sends the state on the new connection (a refresh brings
	   it anyway), instead of waiting up to 32 s for that answer */
	if (sd->tp != SIP_TRANSP_UDP)
		sd->req = mem_deref(sd->req);

	if (moved)
		log_info("subdlg: %s: the phone moved to %J",
			 str(sd, S_CALLID), &msg->src);

	/* the fast path's socket: the one the phone now speaks to */
	if (sd->tp == SIP_TRANSP_UDP && msg->sock &&
	    sipsock_tapped(msg->sock) && !sa_is_any(&msg->dst)) {
		list_unlink(&sd->le_up);
		sd->sock = msg->sock;
		sd->fast = true;
	}

	return moved;
}


/** @return false while a phone behind NAT has no way to be reached */
bool subdlg_reachable(const struct subdlg *sd)
{
	return sd && (!sd->nat || natuse_reachable(sd->nat));
}


/** @return The CSeq of the last NOTIFY sent */
uint32_t subdlg_cseq(const struct subdlg *sd)
{
	return sd ? sd->cseq : 0;
}


/** @return true once its peer has shown it is reachable */
bool subdlg_verified(const struct subdlg *sd)
{
	return sd && sd->verified;
}


/** @return true if its NOTIFYs take the fast path */
bool subdlg_fast(const struct subdlg *sd)
{
	return sd && sd->fast;
}


/** @return The dialog's Call-ID */
const char *subdlg_callid(const struct subdlg *sd)
{
	return sd ? str(sd, S_CALLID) : NULL;
}


/** @return The phone's tag */
const char *subdlg_rtag(const struct subdlg *sd)
{
	return sd ? str(sd, S_RTAG) : NULL;
}


/**
 * parkblf's tag of the dialog, as text (as state_db keys it)
 *
 * @param sd  Dialog
 * @param buf Buffer
 * @param sz  Its size (17)
 *
 * @return buf
 */
const char *subdlg_ltag(const struct subdlg *sd, char *buf, size_t sz)
{
	(void)re_snprintf(buf, sz, "%016llx",
			  sd ? (unsigned long long)sd->ltag : 0ULL);

	return buf;
}


/**
 * The phone's address, as its requests show it (a restored dialog: as
 * saved, else its Contact's)
 *
 * @param sd Dialog
 *
 * @return The address (unset without a dialog)
 */
const struct sa *subdlg_peer(const struct subdlg *sd)
{
	static const struct sa none;

	return sd ? &sd->src : &none;
}


/**
 * Make the dialog's NOTIFYs carry Require: eventlist (a BLF list's,
 * RFC 4662)
 *
 * @param sd Dialog
 */
void subdlg_set_eventlist(struct subdlg *sd)
{
	if (sd)
		sd->eventlist = true;
}


/** @return true if that URI needs no XML escaping in documents */
bool subdlg_ruri_plain(const struct subdlg *sd)
{
	return sd && sd->ruri_plain;
}


/** @return The URI the phone subscribed to */
const char *subdlg_ruri(const struct subdlg *sd)
{
	return sd ? str(sd, S_RURI) : NULL;
}


/** @return How many fast-path NOTIFYs wait for their answer */
uint32_t subdlgs_inflight(const struct subdlgs *ctx)
{
	return ctx ? ctx->inflight : 0;
}


/**
 * Set the fast path's retransmission timer T1 (RFC 3261 allows less
 * than 500 ms where round trips are known to be short; the tests use it)
 *
 * @param ctx Dialogs
 * @param ms  T1 in ms (T2 = 8*T1; a NOTIFY is given up after 64*T1)
 */
void subdlgs_set_t1(struct subdlgs *ctx, uint32_t ms)
{
	if (ctx && ms)
		ctx->t1 = ms;
}


/**
 * Set how phones behind NAT are told and kept (natkeep.c)
 *
 * @param ctx        Dialogs
 * @param mode       nat_mode
 * @param interval_s nat_keepalive
 * @param grace_s    nat_keepalive_grace
 */
void subdlgs_set_nat(struct subdlgs *ctx, enum nat_mode mode,
		     uint32_t interval_s, uint32_t grace_s)
{
	if (ctx)
		natkeep_set(ctx->nk, mode, interval_s, grace_s);
}


/** @return How many phone addresses behind NAT are kept */
uint32_t subdlgs_nat_count(const struct subdlgs *ctx)
{
	return ctx ? natkeep_count(ctx->nk) : 0;
}


/** @return The state of the phones behind NAT, shared with lists */
struct natkeep *subdlgs_natkeep(const struct subdlgs *ctx)
{
	return ctx ? ctx->nk : NULL;
}


/* A phone behind NAT stopped answering: this subscription ends */
static void nat_lost(void *user, void *arg)
{
	struct subdlg *sd = user;
	(void)arg;

	fast_done(sd);
	sd->req = mem_deref(sd->req);
	sd->resph(EHOSTDOWN, 0, NULL, sd->arg);
}


/**
 * Allocate the dialogs' shared state and tap the phones' UDP sockets
 *
 * @param ctxp Where to store it
 * @param sip  The phones' SIP stack
 *
 * @return 0 if success, otherwise errorcode
 */
int subdlgs_alloc(struct subdlgs **ctxp, struct sip *sip)
{
	struct subdlgs *ctx;
	int err;

	if (!ctxp || !sip)
		return EINVAL;

	ctx = mem_zalloc(sizeof(*ctx), ctx_destructor);
	if (!ctx)
		return ENOMEM;

	ctx->sip = sip;
	ctx->t1 = T1_MS;
	ctx->next_id = randbuf_u32();
	err  = hash_alloc(&ctx->by_id, ID_HASH_SIZE);
	err |= tfifo_alloc(&ctx->rtxq, rtx_fire);
	err |= natkeep_alloc(&ctx->nk, sip, nat_lost, ctx);
	err |= reach_alloc(&ctx->reach);
	ctx->txb = mbuf_alloc(2048);
	if (!ctx->txb)
		err = ENOMEM;
	if (err) {
		mem_deref(ctx);
		return err;
	}

	sipsock_tap(tap_recv, sock_tapped, ctx);
	*ctxp = ctx;

	return 0;
}
