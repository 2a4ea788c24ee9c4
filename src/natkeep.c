/**
 * @file natkeep.c  Phones behind NAT: where they are, and keepalives
 *
 * A phone behind NAT names its private address in its Contact (and
 * Via): NOTIFYs sent there never arrive.  What reaches it is the
 * address and port its requests came from (RFC 3581), while the NAT's
 * binding for them lasts: often 30 s of silence on UDP.  So, like
 * Kamailio's nathelper or Asterisk's qualify:
 *
 * - natkeep_detect tells a phone behind NAT (nat_mode): auto, when its
 *   Contact or top Via names another address than the request's
 *   source; always; never.  A request that came through a proxy
 *   (Record-Route, or more than one Via) is never rewritten: its route
 *   set (or its proxy) is the way to the phone.
 * - Each such source address is a binding (struct natb), shared by the
 *   phone's subscriptions (each holds a struct natuse).  In-dialog
 *   requests go there (subdlg.c), and only there: an address parkblf
 *   got a request from.
 * - Every nat_keepalive seconds a binding gets an OPTIONS: on UDP from
 *   the socket the phone's requests came in on, written here and its
 *   answer taken by subdlg.c's tap (our branch, NATKEEP_BRANCH_PREFIX
 *   'k'); on TCP and TLS through libre, on the phone's own connection
 *   (and on UDP from a socket parkblf does not know: every listen
 *   socket is made known at start, sippin_probe_sock, so that after a
 *   restart the keepalives leave from the socket the phone spoke to
 *   before it speaks again; only past sipsock's 64 tuned sockets would
 *   libre's first socket send them).  Any answer,
 *   any request from the phone, and any answer to a NOTIFY proves it is
 *   there.  Not heard of for nat_keepalive_grace seconds, with at least
 *   two keepalives unanswered meanwhile: its subscriptions end
 *   (natkeep_lost_h).
 * - Each binding has its own timer (in ptmr.c's one heap): the first
 *   keepalive at a random point of the first interval, then every
 *   interval +-10 %, so that phones that subscribed together (after a
 *   power cut) do not get their keepalives in bursts.
 * - On TCP and TLS a binding watches the phone's connection through
 *   libre's flow keepalive (sip_keepalive_start, RFC 5626), started
 *   dormant: its CRLF pings would close the connection of every phone
 *   that does not answer them, and OPTIONS already keep it busy; it
 *   only tells us when the connection goes.  Then nothing is sent
 *   (libre would dial a connection the NAT does not let in) until the
 *   phone comes back with a refresh on a new one.
 *
 * Config keys: nat_mode, nat_keepalive, nat_keepalive_grace.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "metrics.h"
#include "natkeep.h"


enum {
	HASH_SIZE   = 4096,
	DORMANT_S   = 4000000,  /**< libre's CRLF ping: never (46 days;
				     * more overflows its ms arithmetic) */
	JITTER_PERMIL = 100,    /**< Each interval +- 10 %              */
	UNHEARD_MIN = 2,        /**< Keepalives unanswered before gone  */
};

struct natkeep {
	struct sip *sip;
	struct hash *by_src;       /**< struct natb by source address    */
	struct hash *by_id;        /**< struct natb by id (answers)      */
	struct mbuf *txb;          /**< Where UDP keepalives are written */
	natkeep_lost_h *losth;
	void *arg;
	enum nat_mode mode;
	uint32_t interval_ms;      /**< 0: no keepalives                 */
	uint32_t grace_ms;
	uint32_t next_id;
	uint32_t count;
};

/** A subscription's hold on a binding (the subscription's only cost
    when behind NAT: one pointer otherwise) */
struct natuse {
	struct le le;              /**< In natb.users                    */
	struct natb *b;            /**< Referenced                       */
	void *user;                /**< Given to the lost handler        */
	natkeep_lost_h *losth;     /**< Its own, or NULL: natkeep's      */
	void *arg;
};

/** One phone's address, as its requests come from it */
struct natb {
	struct le he_src;          /**< In natkeep.by_src                */
	struct le he_id;           /**< In natkeep.by_id                 */
	struct natkeep *nk;        /**< Not referenced: outlives us      */
	struct list users;         /**< struct natuse sent here          */
	struct sa src;             /**< Where the phone is               */
	struct sa laddr;           /**< Our address it spoke to          */
	struct ptmr tmr;
	struct sip_keepalive *ka;  /**< TCP/TLS: tells when it closes    */
	struct sip_request *req;   /**< Keepalive through libre          */
	char *target;              /**< R-URI of the keepalives          */
	uint64_t heard;            /**< tmr_jiffies of the last sign     */
	enum sip_transp tp;
	uint32_t id;
	uint32_t seq;              /**< Of the keepalive in flight       */
	uint32_t nonce;
	uint8_t unheard;           /**< Keepalives since the last sign   */
	bool gone;                 /**< TCP/TLS: its connection closed   */
};


static void natb_heard(struct natb *b)
{
	b->heard = tmr_jiffies();
	b->unheard = 0;
}


static void natb_destructor(void *arg)
{
	struct natb *b = arg;

	ptmr_cancel(&b->tmr);
	hash_unlink(&b->he_src);
	hash_unlink(&b->he_id);
	mem_deref(b->ka);
	mem_deref(b->req);
	mem_deref(b->target);
	--b->nk->count;
}


static void use_destructor(void *arg)
{
	struct natuse *u = arg;

	list_unlink(&u->le);
	mem_deref(u->b);
}


static void destructor(void *arg)
{
	struct natkeep *nk = arg;

	mem_deref(nk->by_src);
	mem_deref(nk->by_id);
	mem_deref(nk->txb);
}


static const char *tp_param(enum sip_transp tp)
{
	return tp == SIP_TRANSP_TCP ? "tcp" :
		tp == SIP_TRANSP_TLS ? "tls" : "udp";
}


/* The phone did not answer for nat_keepalive_grace: its subscriptions
   end (each user's handler may free it, and the last one the binding) */
static void lost(struct natb *b)
{
	struct natkeep *nk = b->nk;

	log_info("natkeep: %J (%s) stopped answering keepalives for %u s: "
		 "ending its %u subscription(s)", &b->src, tp_param(b->tp),
		 nk->grace_ms / 1000, list_count(&b->users));
	++metrics.nat_phones_lost;

	mem_ref(b);
	while (!list_isempty(&b->users)) {
		struct natuse *u = list_head(&b->users)->data;

		list_unlink(&u->le);
		if (u->losth)
			u->losth(u->user, u->arg);
		else
			nk->losth(u->user, nk->arg);
	}
	ptmr_cancel(&b->tmr);
	mem_deref(b);
}


/* An OPTIONS written here, sent from the phone's socket */
static int send_udp(struct natb *b, void *sock)
{
	struct mbuf *mb = b->nk->txb;
	int err;

	mbuf_rewind(mb);
	err = mbuf_printf(mb,
			  "OPTIONS %s SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP %J;branch=" NATKEEP_BRANCH_PREFIX
			  "k%08x%08x%08x;rport\r\n"
			  "Max-Forwards: 70\r\n"
			  "To: <%s>\r\n"
			  "From: <sip:parkblf@%J>;tag=%08x\r\n"
			  "Call-ID: %08x%08x@parkblf\r\n"
			  "CSeq: %u OPTIONS\r\n"
			  "Content-Length: 0\r\n\r\n",
			  b->target, &b->laddr, b->id, b->seq, b->nonce,
			  b->target, &b->laddr, b->id, b->id, b->nonce,
			  b->seq);
	if (err)
		return err;

	mb->pos = 0;

	return udp_send(sock, &b->src, mb);
}


static void libre_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct natb *b = arg;

	if (err || !msg)
		return;

	/* any answer, even 405 or 501, says the phone is there */
	if (msg->scode >= 200)
		++metrics.nat_keepalives_answered;
	natb_heard(b);
}


/* An OPTIONS through libre: on TCP/TLS the phone's connection */
static int send_libre(struct natb *b)
{
	char hop[96];
	struct uri route;
	struct pl pl;

	if (b->req)
		return 0;         /* the last one is still waiting */

	if (re_snprintf(hop, sizeof(hop), "sip:%J;transport=%s", &b->src,
			tp_param(b->tp)) < 0)
		return ENOMEM;
	pl_set_str(&pl, hop);
	if (uri_decode(&route, &pl))
		return EINVAL;

	/* sip_requestf() writes Via and Max-Forwards itself */
	return sip_requestf(&b->req, b->nk->sip, true, "OPTIONS", b->target,
			    &route, NULL, NULL, libre_resp, b,
			    "To: <%s>\r\n"
			    "From: <sip:parkblf@%J>;tag=%08x\r\n"
			    "Call-ID: %08x%08x@parkblf\r\n"
			    "CSeq: %u OPTIONS\r\n"
			    "Content-Length: 0\r\n\r\n",
			    b->target, &b->laddr, b->id, b->id, b->nonce,
			    b->seq);
}


static uint64_t jittered(const struct natkeep *nk)
{
	const unsigned permil = 1000 - JITTER_PERMIL +
		randbuf_u16() % (2 * JITTER_PERMIL + 1);

	return (uint64_t)nk->interval_ms * permil / 1000;
}


static void ka_handler(void *arg)
{
	struct natb *b = arg;
	struct natkeep *nk = b->nk;
	void *sock = NULL;
	int err;

	/* a closed connection: nothing to send on, the phone comes back */
	if (b->gone)
		return;

	/* gone once nothing came for the grace AND at least UNHEARD_MIN
	   keepalives went meanwhile: a loop held up past the grace (a
	   stalled machine, timers late) must not judge the phone on one
	   datagram or none, its answer perhaps still unread */
	if (tmr_jiffies() - b->heard >= nk->grace_ms &&
	    b->unheard >= UNHEARD_MIN) {
		lost(b);
		return;
	}

	++b->seq;
	b->nonce = randbuf_u32();
	if (b->tp == SIP_TRANSP_UDP)
		sock = sipsock_find(&b->laddr);
	err = sock ? send_udp(b, sock) : send_libre(b);
	if (err)
		log_debug("natkeep: keepalive to %J: %m", &b->src, err);
	else
		++metrics.nat_keepalives_sent;
	if (b->unheard < UINT8_MAX)
		++b->unheard;

	ptmr_start(&b->tmr, jittered(nk), ka_handler, b);
}


/* libre's flow keepalive: the phone's TCP/TLS connection closed */
static void conn_closed(int err, void *arg)
{
	struct natb *b = arg;

	/* b->ka is NULL already */
	b->gone = true;
	log_info("natkeep: %J (%s): connection closed (%m); its "
		 "subscriptions wait for the phone to come back",
		 &b->src, tp_param(b->tp), err);
}


static bool src_cmp(struct le *le, void *arg)
{
	const struct natb *b = le->data;
	const struct natb *k = arg;

	return b->tp == k->tp && sa_cmp(&b->src, &k->src, SA_ALL) &&
		sa_cmp(&b->laddr, &k->laddr, SA_ALL);
}


static bool id_cmp(struct le *le, void *arg)
{
	const struct natb *b = le->data;

	return b->id == *(const uint32_t *)arg;
}


/* TCP/TLS: watch the phone's connection, if the request came on one */
static void watch_conn(struct natb *b, const struct sip_msg *msg)
{
	int err;

	if (b->tp == SIP_TRANSP_UDP || b->ka)
		return;

	if (!msg || !msg->sock) {
		b->gone = true;
		return;
	}

	err = sip_keepalive_start(&b->ka, b->nk->sip, msg, DORMANT_S,
				  conn_closed, b);
	b->gone = err != 0;
	if (err)
		log_warn("natkeep: %J: cannot watch the connection: %m",
			 &msg->src, err);
}


static int use_alloc(struct natuse **up, struct natb *b, void *user)
{
	struct natuse *u = mem_zalloc(sizeof(*u), use_destructor);

	if (!u)
		return ENOMEM;

	u->b = mem_ref(b);
	u->user = user;
	list_append(&b->users, &u->le, u);
	*up = u;

	return 0;
}


/**
 * Hold the binding of a phone's source address (one per address; every
 * subscription from it shares it); the use ends it with mem_deref
 *
 * @param up     Where to store the subscription's use of it
 * @param nk     Keepalive state
 * @param tp     Transport the phone uses
 * @param src    Its source address
 * @param laddr  Our address it spoke to (UDP: names the socket)
 * @param msg    The request it came with (TCP/TLS: on the connection
 *               to keep), or NULL (restored: no connection)
 * @param target R-URI for the keepalives (the phone's Contact)
 * @param user   Given to natkeep_lost_h if the phone is lost
 *
 * @return 0 if success, otherwise errorcode
 */
int natkeep_bind(struct natuse **up, struct natkeep *nk, enum sip_transp tp,
		 const struct sa *src, const struct sa *laddr,
		 const struct sip_msg *msg, const char *target, void *user)
{
	struct natb *b, key;
	int err;

	if (!up || !nk || !src || !laddr || !target)
		return EINVAL;

	key.tp = tp;
	key.src = *src;
	key.laddr = *laddr;
	b = list_ledata(hash_lookup(nk->by_src, sa_hash(src, SA_ALL),
				    src_cmp, &key));
	if (b) {
		/* back on a new connection, or the same one again */
		if (msg && b->gone && !b->ka) {
			b->gone = false;
			watch_conn(b, msg);
			if (nk->interval_ms && !ptmr_isrunning(&b->tmr))
				ptmr_start(&b->tmr, jittered(nk), ka_handler,
					  b);
		}
		natb_heard(b);
		return use_alloc(up, b, user);
	}

	b = mem_zalloc(sizeof(*b), natb_destructor);
	if (!b)
		return ENOMEM;

	++nk->count;
	b->nk = nk;
	b->tp = tp;
	b->src = *src;
	b->laddr = *laddr;
	b->id = ++nk->next_id;
	b->heard = tmr_jiffies();
	ptmr_init(&b->tmr);
	err = str_dup(&b->target, target);
	if (!err)
		err = use_alloc(up, b, user);
	mem_deref(b);           /* the use holds it now, or nothing does */
	if (err)
		return err;

	hash_append(nk->by_src, sa_hash(src, SA_ALL), &b->he_src, b);
	hash_append(nk->by_id, b->id, &b->he_id, b);
	watch_conn(b, msg);

	/* the first keepalive somewhere in the first interval */
	if (nk->interval_ms)
		ptmr_start(&b->tmr, 1 + randbuf_u32() % nk->interval_ms,
			  ka_handler, b);

	log_debug("natkeep: %J (%s) is behind NAT: requests go there%s",
		  src, tp_param(tp), nk->interval_ms ?
		  ", with keepalives" : "");

	return 0;
}


/**
 * An answer to a UDP keepalive, as subdlg.c's tap read it off the socket
 *
 * @param nk    Keepalive state
 * @param id    Binding id from the branch
 * @param seq   Keepalive sequence from the branch
 * @param nonce Nonce from the branch
 */
void natkeep_answered(struct natkeep *nk, uint32_t id, uint32_t seq,
		      uint32_t nonce)
{
	struct natb *b;

	if (!nk)
		return;

	b = list_ledata(hash_lookup(nk->by_id, id, id_cmp, &id));
	if (!b || b->seq != seq || b->nonce != nonce)
		return;

	++metrics.nat_keepalives_answered;
	b->nonce = ~b->nonce;   /* a repeated answer is not counted */
	natb_heard(b);
}


/**
 * Whether a phone is behind NAT, by nat_mode
 *
 * @param nk      Keepalive state (its mode)
 * @param msg     The phone's SUBSCRIBE
 * @param contact Its Contact URI
 *
 * @return true if in-dialog requests must go to the request's source
 */
bool natkeep_detect(const struct natkeep *nk, const struct sip_msg *msg,
		    const struct uri *contact)
{
	const bool udp = msg && msg->tp == SIP_TRANSP_UDP;
	unsigned vias = 0;
	struct le *le;
	struct sa sa;

	if (!nk || !msg || nk->mode == NAT_NEVER)
		return false;

	/* a proxy's route set, or a proxy without one, is the way */
	if (sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE))
		return false;
	for (le = list_head(&msg->hdrl); le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (hdr->id == SIP_HDR_VIA)
			++vias;
	}
	if (vias > 1)
		return false;

	if (nk->mode == NAT_ALWAYS)
		return true;

	/* a Contact (or Via) at another address than the source; on TCP
	   and TLS the phone's listening port differs from its
	   connection's anyway */
	if (contact && !sa_set(&sa, &contact->host, contact->port ?
			       contact->port : SIP_PORT) &&
	    (!sa_cmp(&sa, &msg->src, SA_ADDR) ||
	     (udp && sa_port(&sa) != sa_port(&msg->src))))
		return true;

	sa = msg->via.addr;
	if (sa_isset(&sa, SA_ADDR) &&
	    (!sa_cmp(&sa, &msg->src, SA_ADDR) ||
	     (udp && (sa_port(&sa) ? sa_port(&sa) : SIP_PORT) !=
	      sa_port(&msg->src))))
		return true;

	return false;
}


/**
 * Set nat_mode, nat_keepalive and nat_keepalive_grace
 *
 * @param nk         Keepalive state
 * @param mode       nat_mode
 * @param interval_s Seconds between keepalives, 0 for none
 * @param grace_s    Seconds without a sign before a phone is gone
 */
void natkeep_set(struct natkeep *nk, enum nat_mode mode, uint32_t interval_s,
		 uint32_t grace_s)
{
	if (!nk)
		return;

	nk->mode = mode;
	nk->interval_ms = interval_s * 1000;
	nk->grace_ms = grace_s * 1000;
}


/**
 * Allocate the state of the phones behind NAT
 *
 * @param nkp   Where to store it
 * @param sip   The phones' SIP stack
 * @param losth Called for each subscription of a phone that is gone
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int natkeep_alloc(struct natkeep **nkp, struct sip *sip,
		  natkeep_lost_h *losth, void *arg)
{
	struct natkeep *nk;
	int err;

	if (!nkp || !sip || !losth)
		return EINVAL;

	nk = mem_zalloc(sizeof(*nk), destructor);
	if (!nk)
		return ENOMEM;

	nk->sip = sip;
	nk->losth = losth;
	nk->arg = arg;
	nk->next_id = randbuf_u32();
	nk->interval_ms = 20000;
	nk->grace_ms = 60000;
	err  = hash_alloc(&nk->by_src, HASH_SIZE);
	err |= hash_alloc(&nk->by_id, HASH_SIZE);
	nk->txb = mbuf_alloc(512);
	if (!nk->txb)
		err = ENOMEM;

	if (err)
		mem_deref(nk);
	else
		*nkp = nk;

	return err;
}


/** @return How many phone addresses behind NAT are kept */
uint32_t natkeep_count(const struct natkeep *nk)
{
	return nk ? nk->count : 0;
}


/**
 * The phone showed it is there (a request, an answer)
 *
 * @param u A subscription's use of its binding
 */
void natuse_heard(struct natuse *u)
{
	if (u)
		natb_heard(u->b);
}


/**
 * Give a use its own handler for when the phone is lost, instead of
 * natkeep's (a list subscription, which is not a dialog of subdlg.c)
 *
 * @param u     A subscription's use of its binding
 * @param losth Called with the use's user and arg
 * @param arg   Handler argument
 */
void natuse_set_lost(struct natuse *u, natkeep_lost_h *losth, void *arg)
{
	if (!u)
		return;

	u->losth = losth;
	u->arg = arg;
}


/**
 * Whether a request can reach the phone now
 *
 * @param u A subscription's use of its binding
 *
 * @return false while its TCP/TLS connection is gone
 */
bool natuse_reachable(const struct natuse *u)
{
	return u && !u->b->gone;
}
