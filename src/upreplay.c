/**
 * @file upreplay.c  The PBX's NOTIFYs answered without server transactions
 *
 * libre's sip_treply() keeps a server transaction for each request it
 * answers: 64*T1 = 32 s on UDP (Timer J), holding the request with its
 * body, the answer and a timer in libre's sorted list, ~5.4 KB per
 * NOTIFY.  At a few hundred orbit changes a second that is tens of
 * megabytes, and every start of a timer at the head of libre's list
 * walks all of them.
 *
 * So the upstream NOTIFYs are answered statelessly (sip_reply), and
 * each upstream dialog remembers, for 32 s, what it answered: CSeq, a
 * hash of the top Via's branch and the status (32 bytes, in a ring,
 * oldest first).  A request listener registered before libre's
 * sipevent listener sees each NOTIFY of a known dialog first: one with
 * a CSeq above the last answered one is new and goes on to libre (its
 * CSeq check, subscription state and our notify handler); one whose
 * CSeq and branch were answered is a retransmission (RFC 3261 17.2.3)
 * and gets the same answer again, without being applied twice.
 * Anything else goes on to libre as before: an older CSeq gets libre's
 * 500 Bad Sequence, the same CSeq with another branch is handled as a
 * new request (libre's CSeq check lets an equal one through).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "upstream.h"
#include "metrics.h"


enum {
	HASH_SIZE   = 16,
	KEEP_MS     = 64 * 500,     /**< 64*T1: a UDP retransmission window */
	RING_MIN    = 16,
	RING_MAX    = 1 << 16,      /**< 2 MiB; past it the oldest go first */
};

/** One answer given */
struct answer {
	uint64_t expires;           /**< ms of tmr_jiffies()               */
	const char *reason;         /**< Static text                       */
	uint32_t cseq;
	uint32_t branch;            /**< hash_joaat_pl() of the branch     */
	uint16_t scode;
};

/** The answers of one upstream dialog */
struct upreplay_dlg {
	struct le he;               /**< In upreplay.ht, by Call-ID        */
	struct upreplay *r;
	char *callid;
	char *ltag;                 /**< Our tag (To)                      */
	char *rtag;                 /**< The PBX's tag (From)              */
	char *accept;               /**< Accept header value for 415s      */
	struct answer *ring;
	uint32_t cap;               /**< Power of two                      */
	uint32_t head;              /**< Index of the oldest               */
	uint32_t n;
	uint32_t last_cseq;         /**< The newest answered               */
};

/** Every upstream dialog of one SIP stack */
struct upreplay {
	struct hash *ht;
};

static uint64_t fake_now;   /**< Tests' clock, 0 = tmr_jiffies() */


static uint64_t now_ms(void)
{
	return fake_now ? fake_now : tmr_jiffies();
}


/**
 * Set the clock of the answers' expiry (unit tests)
 *
 * @param now Milliseconds, 0 for the real clock
 */
void upreplay_set_now(uint64_t now)
{
	fake_now = now;
}


static void destructor(void *arg)
{
	struct upreplay *r = arg;

	hash_flush(r->ht);
	mem_deref(r->ht);
}


static void dlg_destructor(void *arg)
{
	struct upreplay_dlg *d = arg;

	hash_unlink(&d->he);
	mem_deref(d->ring);
	mem_deref(d->callid);
	mem_deref(d->ltag);
	mem_deref(d->rtag);
	mem_deref(d->accept);
	mem_deref(d->r);
}


/**
 * Allocate the answer memory of one SIP stack's upstream dialogs
 *
 * @param rp Where to store it
 *
 * @return 0 if success, otherwise errorcode
 */
int upreplay_alloc(struct upreplay **rp)
{
	struct upreplay *r;
	int err;

	if (!rp)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;

	err = hash_alloc(&r->ht, HASH_SIZE);
	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}


static bool dlg_matches(const struct upreplay_dlg *d,
			const struct sip_msg *msg)
{
	return !pl_strcmp(&msg->callid, d->callid) &&
		!pl_strcmp(&msg->to.tag, d->ltag) &&
		!pl_strcmp(&msg->from.tag, d->rtag);
}


static bool dlg_cmp(struct le *le, void *arg)
{
	return dlg_matches(le->data, arg);
}


static int dlg_alloc(struct upreplay_dlg **dp, struct upreplay *r,
		     const struct sip_msg *msg, const char *accept)
{
	struct upreplay_dlg *d;
	int err;

	d = mem_zalloc(sizeof(*d), dlg_destructor);
	if (!d)
		return ENOMEM;

	err  = pl_strdup(&d->callid, &msg->callid);
	err |= pl_strdup(&d->ltag, &msg->to.tag);
	err |= pl_strdup(&d->rtag, &msg->from.tag);
	if (accept)
		err |= str_dup(&d->accept, accept);
	if (err) {
		mem_deref(d);
		return ENOMEM;
	}

	d->r = mem_ref(r);
	hash_append(r->ht, hash_joaat_pl(&msg->callid), &d->he, d);
	*dp = d;

	return 0;
}


static struct answer *at(const struct upreplay_dlg *d, uint32_t i)
{
	return &d->ring[(d->head + i) & (d->cap - 1)];
}


/* Forget the answers past their 32 s; then, if the ring is much larger
   than what it holds, or full, give it the size it needs */
static void prune(struct upreplay_dlg *d, uint64_t now)
{
	struct answer *ring;
	uint32_t cap = d->cap, i;

	while (d->n && at(d, 0)->expires <= now) {
		d->head = (d->head + 1) & (d->cap - 1);
		--d->n;
	}

	if (d->n == d->cap && d->cap < RING_MAX)
		cap = d->cap ? d->cap * 2 : RING_MIN;
	else if (d->cap > RING_MIN && d->n < d->cap / 8)
		cap = d->cap / 4;

	if (cap == d->cap)
		return;

	ring = mem_alloc(cap * sizeof(*ring), NULL);
	if (!ring)
		return;   /* the old ring serves on */

	for (i = 0; i < d->n; i++)
		ring[i] = *at(d, i);

	mem_deref(d->ring);
	d->ring = ring;
	d->cap = cap;
	d->head = 0;
}


static void record(struct upreplay_dlg *d, const struct sip_msg *msg,
		   uint16_t scode, const char *reason)
{
	uint64_t now = now_ms();
	struct answer *a;

	prune(d, now);
	if (!d->cap)
		return;

	if (d->n == d->cap) {   /* full at RING_MAX: drop the oldest */
		d->head = (d->head + 1) & (d->cap - 1);
		--d->n;
	}

	a = at(d, d->n++);
	a->expires = now + KEEP_MS;
	a->reason = reason;
	a->cseq = msg->cseq.num;
	a->branch = hash_joaat_pl(&msg->via.branch);
	a->scode = scode;
	d->last_cseq = msg->cseq.num;
}


/* A 415 says what is accepted (RFC 3261 21.4.16) */
static int send_answer(struct sip *sip, const struct sip_msg *msg,
		       const char *accept, uint16_t scode,
		       const char *reason)
{
	if (scode == 415 && accept)
		return sip_replyf(sip, msg, scode, reason,
				  "Accept: %s\r\n"
				  "Content-Length: 0\r\n\r\n", accept);

	return sip_reply(sip, msg, scode, reason);
}


/**
 * Answer an upstream NOTIFY statelessly and remember the answer for
 * its retransmissions
 *
 * @param dp     The dialog's answers: allocated, or replaced when the
 *               NOTIFY belongs to another dialog
 * @param r      Answer memory of the SIP stack
 * @param sip    SIP stack
 * @param msg    The NOTIFY, new (libre's CSeq check passed it)
 * @param scode  Status code
 * @param reason Reason phrase, static text
 * @param accept Accept header value for a 415, or NULL
 *
 * @return 0 if success, otherwise errorcode
 */
int upreplay_reply(struct upreplay_dlg **dp, struct upreplay *r,
		   struct sip *sip, const struct sip_msg *msg,
		   uint16_t scode, const char *reason, const char *accept)
{
	struct upreplay_dlg *d;

	if (!dp || !r || !sip || !msg || !reason)
		return EINVAL;

	d = *dp;
	if (d && !dlg_matches(d, msg))
		d = *dp = mem_deref(d);

	/* answered even without memory for it: a retransmission then
	   goes on to libre, as a request with the same CSeq */
	if (!d && !dlg_alloc(&d, r, msg, accept))
		*dp = d;

	if (d)
		record(d, msg, scode, reason);

	return send_answer(sip, msg, accept, scode, reason);
}


/**
 * Answer a retransmitted upstream NOTIFY again, as it was answered
 * (a request listener's work, registered before libre's sipevent)
 *
 * @param r   Answer memory of the SIP stack
 * @param sip SIP stack
 * @param msg Request
 *
 * @return true if it was a retransmission and is answered
 */
bool upreplay_request(struct upreplay *r, struct sip *sip,
		      const struct sip_msg *msg)
{
	const struct upreplay_dlg *d;
	const struct answer *a;
	uint32_t lo, hi, branch;
	uint64_t now;

	if (!r || !msg || pl_strcmp(&msg->met, "NOTIFY"))
		return false;

	d = list_ledata(hash_lookup(r->ht, hash_joaat_pl(&msg->callid),
				    dlg_cmp, (void *)msg));
	if (!d || !d->n || msg->cseq.num > d->last_cseq)
		return false;   /* not ours, or new */

	/* the first answer with this CSeq (CSeqs never fall in a ring:
	   libre passed each only if not below the one before) */
	lo = 0;
	hi = d->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (at(d, mid)->cseq < msg->cseq.num)
			lo = mid + 1;
		else
			hi = mid;
	}

	now = now_ms();
	branch = hash_joaat_pl(&msg->via.branch);
	for (; lo < d->n; lo++) {
		a = at(d, lo);
		if (a->cseq != msg->cseq.num)
			break;
		if (a->branch != branch || a->expires <= now)
			continue;

		++metrics.upstream_notify_retransmissions;
		(void)send_answer(sip, msg, d->accept, a->scode, a->reason);
		return true;
	}

	return false;
}
