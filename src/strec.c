/**
 * @file strec.c  SUBSCRIBEs libre may hold a server transaction for
 *
 * Initial SUBSCRIBEs taken many per loop turn (app.c's bulk handler,
 * sipsock_bulk) skip libre's receive path, whose first listener is
 * its server transactions': a retransmission of a request libre
 * answered statefully gets that answer again there, and a request
 * merged with one in a transaction (same Call-ID, From tag, CSeq and
 * Request-URI, another branch) gets 482.  A transaction can exist
 * only for a SUBSCRIBE answered statefully, and lives 64*T1 (32 s)
 * after its answer.  So every place a SUBSCRIBE may get a stateful
 * answer records its Call-ID and Via branch here, for REC_LIFE_MS;
 * a SUBSCRIBE whose Call-ID or branch is recorded goes libre's way.
 *
 * Entries expire oldest first, with every record and lookup: no timer.
 *
 * At most REC_MAX are kept (a flood of SUBSCRIBEs answered statefully
 * would otherwise keep rate x 40 s of them, and make every lookup walk
 * long hash chains).  One that does not fit is not recorded; instead,
 * for REC_LIFE_MS after it, every SUBSCRIBE is said to be recorded,
 * so all go libre's way: correct, only slower.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum {
	REC_LIFE_MS = 40000,        /**< Timer J (32 s) and some margin */
	REC_MAX     = 65536,        /**< ~10 MiB at most                */
	REC_HASH    = 4096,
};

/** One SUBSCRIBE answered statefully */
struct rec {
	struct le le;               /**< In recs.fifo, oldest first      */
	struct le he_callid;
	struct le he_branch;
	uint64_t t;                 /**< When recorded (tmr_jiffies)     */
	struct pl callid;           /**< Both point into data            */
	struct pl branch;
	char data[];
};

static struct {
	struct list fifo;
	struct hash *by_callid;
	struct hash *by_branch;
	uint32_t n;                 /**< Entries in fifo                 */
	uint64_t full_until;        /**< Everything libre's way till then */
	uint64_t now;               /**< 0: tmr_jiffies()                */
} recs;


static void rec_destructor(void *arg)
{
	struct rec *r = arg;

	list_unlink(&r->le);
	--recs.n;
	hash_unlink(&r->he_callid);
	hash_unlink(&r->he_branch);
}


static uint64_t now_ms(void)
{
	return recs.now ? recs.now : tmr_jiffies();
}


static void expire(void)
{
	const uint64_t now = now_ms();

	for (;;) {
		struct rec *r = list_ledata(list_head(&recs.fifo));

		if (!r || now - r->t < REC_LIFE_MS)
			return;
		mem_deref(r);
	}
}


static bool callid_cmp(struct le *le, void *arg)
{
	const struct rec *r = le->data;

	return 0 == pl_cmp(&r->callid, arg);
}


static bool branch_cmp(struct le *le, void *arg)
{
	const struct rec *r = le->data;

	return 0 == pl_cmp(&r->branch, arg);
}


/**
 * Record a SUBSCRIBE about to be answered statefully (or handed to
 * libre's notifier, which does)
 *
 * @param msg The SUBSCRIBE
 */
void strec_add(const struct sip_msg *msg)
{
	struct rec *r;

	if (!msg)
		return;

	if (!recs.by_callid) {
		if (hash_alloc(&recs.by_callid, REC_HASH) ||
		    hash_alloc(&recs.by_branch, REC_HASH)) {
			strec_reset();
			return;
		}
	}
	expire();

	if (recs.n >= REC_MAX) {
		recs.full_until = now_ms() + REC_LIFE_MS;
		return;
	}

	r = mem_zalloc(sizeof(*r) + msg->callid.l + msg->via.branch.l + 1,
		       rec_destructor);
	if (!r)
		return;

	/* either may be empty (p NULL: no memcpy from it, C11 7.24.1) */
	if (msg->callid.l)
		memcpy(r->data, msg->callid.p, msg->callid.l);
	if (msg->via.branch.l)
		memcpy(r->data + msg->callid.l, msg->via.branch.p,
		       msg->via.branch.l);
	r->callid.p = r->data;
	r->callid.l = msg->callid.l;
	r->branch.p = r->data + msg->callid.l;
	r->branch.l = msg->via.branch.l;
	r->t = now_ms();

	list_append(&recs.fifo, &r->le, r);
	++recs.n;
	hash_append(recs.by_callid, hash_joaat_pl(&r->callid),
		    &r->he_callid, r);
	hash_append(recs.by_branch, hash_joaat_pl(&r->branch),
		    &r->he_branch, r);
}


/**
 * Whether libre may hold a server transaction for a SUBSCRIBE: one
 * with its Call-ID or its Via branch was answered statefully lately
 *
 * @param msg The SUBSCRIBE
 *
 * @return true if so (it must go libre's way)
 */
bool strec_has(const struct sip_msg *msg)
{
	if (!msg || !recs.by_callid)
		return false;

	expire();
	if (strec_full())
		return true;
	if (list_isempty(&recs.fifo))
		return false;

	return NULL != hash_lookup(recs.by_callid,
				   hash_joaat_pl(&msg->callid), callid_cmp,
				   (void *)&msg->callid) ||
		NULL != hash_lookup(recs.by_branch,
				    hash_joaat_pl(&msg->via.branch),
				    branch_cmp, (void *)&msg->via.branch);
}


/**
 * Whether a SUBSCRIBE answered statefully lately was not recorded (the
 * records were full): until its transaction is surely over, every
 * SUBSCRIBE goes libre's way
 *
 * @return true if so
 */
bool strec_full(void)
{
	return recs.full_until && now_ms() < recs.full_until;
}


/** @return SUBSCRIBEs recorded and not yet expired (for the tests) */
uint32_t strec_count(void)
{
	expire();
	return recs.n;
}


/** @return How many SUBSCRIBEs strec keeps at most */
uint32_t strec_max(void)
{
	return REC_MAX;
}


/**
 * Set the clock (for the tests)
 *
 * @param ms Milliseconds, 0 for tmr_jiffies()
 */
void strec_set_now(uint64_t ms)
{
	recs.now = ms;
}


/**
 * Forget everything recorded
 */
void strec_reset(void)
{
	list_flush(&recs.fifo);
	recs.full_until = 0;
	recs.by_callid = mem_deref(recs.by_callid);
	recs.by_branch = mem_deref(recs.by_branch);
}
