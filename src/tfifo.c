/**
 * @file tfifo.c  Timers of a few fixed intervals: one FIFO per interval
 *
 * Every NOTIFY in flight on the fast path waits for its answer behind a
 * retransmission timer (subdlg.c), and the intervals are few: T1, 2*T1,
 * 4*T1, T2 = 8*T1 (RFC 3261 17.1.2.2; what is left of 64*T1 at the end
 * is again a multiple of T1).  In parkblf's timer heap (ptmr.c) each
 * NOTIFY cost an insertion and, on its answer, a removal: O(log n) and
 * cache misses over the heap (heap_remove and sift_up ~5-6 % of a
 * fan-out's CPU, docs/BENCHMARKS.md).  Timers of one interval expire in
 * the order they were started, so here each interval has one list,
 * oldest first, and one ptmr at its head's expiry: start is an append,
 * cancel an unlink, both O(1), and the heap holds one timer per
 * interval instead of one per NOTIFY.
 *
 * A set (struct tfifo) has one handler for all its entries, called with
 * the argument the entry was started with, and at most LANES_MAX
 * intervals running at once (an interval whose list is empty gives its
 * place to another).  As with ptmr: an entry is off its list before its
 * handler runs, the handler may start it again (in any interval) or
 * cancel others; entries of one interval fire in the order they were
 * started; the clock is tmr_jiffies().  A cancelled head leaves its
 * interval's timer armed: it fires once for nothing and re-arms.
 * ptmr_expire_all (at exit) forces an interval's timer before its
 * time: then the entries up to the expiry it was armed at fire, as
 * their own timers would have.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum { LANES_MAX = 16 };

/** The entries of one interval, oldest first */
struct lane {
	struct list l;               /**< struct tfent                    */
	struct ptmr tmr;             /**< At the head's expiry            */
	uint32_t ms;                 /**< The interval                    */
	struct tfifo *tf;
};

/** A set of intervals with one handler */
struct tfifo {
	struct lane lane[LANES_MAX];
	tfifo_h *h;
};


static void destructor(void *arg)
{
	struct tfifo *tf = arg;
	unsigned i;

	/* entries still linked are only unlinked: their owners may
	   outlive the set, and then see them stopped */
	for (i = 0; i < LANES_MAX; i++) {
		list_clear(&tf->lane[i].l);
		ptmr_cancel(&tf->lane[i].tmr);
	}
}


static struct lane *lane_of(const struct tfent *e)
{
	return (struct lane *)(void *)e->le.list;   /* l is its first member */
}


static void lane_handler(void *arg)
{
	struct lane *ln = arg;
	const uint64_t now = tmr_jiffies();
	/* forced early (ptmr_expire_all): up to what it was armed for */
	const uint64_t upto = ln->tmr.jfs > now ? ln->tmr.jfs : now;
	struct le *le;

	while ((le = list_head(&ln->l))) {
		struct tfent *e = (struct tfent *)(void *)le;

		if (e->due > upto)
			break;

		list_unlink(le);
		ln->tf->h(le->data);
	}

	le = list_head(&ln->l);
	if (le) {
		const uint64_t due = ((struct tfent *)(void *)le)->due;

		ptmr_start(&ln->tmr, due > now ? due - now : 0, lane_handler,
			   ln);
	}
}


/**
 * Allocate a set of timer FIFOs
 *
 * @param tfp Where to store it
 * @param h   Handler of every entry, called with its argument
 *
 * @return 0 if success, otherwise errorcode
 */
int tfifo_alloc(struct tfifo **tfp, tfifo_h *h)
{
	struct tfifo *tf;
	unsigned i;

	if (!tfp || !h)
		return EINVAL;

	tf = mem_zalloc(sizeof(*tf), destructor);
	if (!tf)
		return ENOMEM;

	for (i = 0; i < LANES_MAX; i++) {
		list_init(&tf->lane[i].l);
		ptmr_init(&tf->lane[i].tmr);
		tf->lane[i].tf = tf;
	}
	tf->h = h;
	*tfp = tf;

	return 0;
}


/**
 * Start an entry, or restart it if running
 *
 * @param tf  Set
 * @param e   Entry (zeroed, or stopped, or running)
 * @param ms  Milliseconds from now
 * @param arg Handler argument
 *
 * @return 0 if success, ENOSPC if LANES_MAX other intervals are running
 *         (the entry is then stopped), otherwise errorcode
 */
int tfifo_start(struct tfifo *tf, struct tfent *e, uint32_t ms, void *arg)
{
	struct lane *ln = NULL, *spare = NULL;
	unsigned i;

	if (!tf || !e)
		return EINVAL;

	tfifo_cancel(e);

	for (i = 0; i < LANES_MAX; i++) {
		struct lane *l = &tf->lane[i];

		if (l->ms == ms && !list_isempty(&l->l)) {
			ln = l;
			break;
		}
		if (!spare && list_isempty(&l->l))
			spare = l;
	}

	if (!ln) {
		if (!spare)
			return ENOSPC;
		ln = spare;
		ptmr_cancel(&ln->tmr);
		ln->ms = ms;
	}

	e->due = tmr_jiffies() + ms;
	list_append(&ln->l, &e->le, arg);

	if (!ptmr_isrunning(&ln->tmr))
		ptmr_start(&ln->tmr, ms, lane_handler, ln);

	return 0;
}


/**
 * Stop an entry (harmless if not running)
 *
 * @param e Entry
 */
void tfifo_cancel(struct tfent *e)
{
	struct lane *ln;

	if (!e || !e->le.list)
		return;

	ln = lane_of(e);
	list_unlink(&e->le);

	if (list_isempty(&ln->l))
		ptmr_cancel(&ln->tmr);
}


/**
 * Milliseconds until an entry fires
 *
 * @param e Entry
 *
 * @return Milliseconds left, 0 if due or not running
 */
uint64_t tfifo_get_expire(const struct tfent *e)
{
	uint64_t now;

	if (!tfifo_isrunning(e))
		return 0;

	now = tmr_jiffies();

	return e->due > now ? e->due - now : 0;
}


/**
 * Number of entries running
 *
 * @param tf Set
 *
 * @return Entries in all its intervals
 */
uint32_t tfifo_count(const struct tfifo *tf)
{
	uint32_t n = 0;
	unsigned i;

	if (!tf)
		return 0;

	for (i = 0; i < LANES_MAX; i++)
		n += list_count(&tf->lane[i].l);

	return n;
}
