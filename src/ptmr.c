/**
 * @file ptmr.c  parkblf's timers: one binary heap, driven by one libre timer
 *
 * libre 1.1.0 keeps its timers in one sorted list, and tmr_start finds
 * a timer's place by walking that list from the tail.  Every
 * subscription owns a timer far in the future (its expiry), so in that
 * list each short timer started afterwards (a NOTIFY's retransmission)
 * walks past all of them: one NOTIFY cost O(subscriptions), 86 % of
 * parkblf's CPU at 10,000 subscriptions (docs/BENCHMARKS.md).
 *
 * So parkblf's own timers (subscription expiry, pacing, flushes,
 * fan-out batches, NAT keepalives, park alerts, ...) live here, in a
 * binary heap: start, cancel and pop O(log n); the NOTIFY
 * retransmissions, one per NOTIFY in flight, live in tfifo.c's lists,
 * one per interval, each behind one timer here.  One
 * libre timer (drv) is armed at the soonest deadline of the heap;
 * libre's main loop fires it, and its handler runs every parkblf timer
 * due.  libre's own list holds only that timer and libre's own (its
 * transactions, the upstream subscription, TCP connections, DNS): a
 * handful, whatever the number of subscriptions.  Nothing of libre is
 * redefined; any libre that runs its own timers runs these.
 *
 * The driver is re-armed only when a timer starts before the deadline
 * it is armed at; a cancelled soonest timer leaves it armed, and it
 * fires once for nothing.  While its handler runs, starts do not re-arm
 * it: it re-arms once at the end.
 *
 * Semantics as libre's: th != NULL means running, timers fire in order
 * of expiry and, for equal expiry, in the order they were started; a
 * poll runs every timer due when it starts (and ones started due
 * meanwhile), clearing th before calling the handler; the clock is
 * tmr_jiffies().  Single-threaded, like parkblf.
 *
 * The heap holds (expiry, sequence, timer) triples in one array, so
 * comparisons touch no timer; a timer keeps its heap index.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdlib.h>
#include <string.h>
#include <assert.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum { YEAR_MS = 365ULL * 24 * 3600 * 1000 };

struct ptmrent {
	uint64_t jfs;               /**< Expiry, ms of tmr_jiffies()      */
	uint64_t seq;               /**< Start order, ties broken by it   */
	struct ptmr *tmr;
};

static struct {
	struct ptmrent *v;
	size_t n;
	size_t sz;
	uint64_t seq;
	struct tmr drv;             /**< libre's, at the soonest deadline */
	bool polling;               /**< In drv's handler                 */
} heap;


static inline bool before(const struct ptmrent *a, const struct ptmrent *b)
{
	if (a->jfs != b->jfs)
		return a->jfs < b->jfs;

	return a->seq < b->seq;
}


static inline void place(size_t i, const struct ptmrent *e)
{
	heap.v[i] = *e;
	heap.v[i].tmr->idx = i;
}


static void sift_up(size_t i, const struct ptmrent *e)
{
	while (i > 0) {
		const size_t parent = (i - 1) / 2;

		if (!before(e, &heap.v[parent]))
			break;

		place(i, &heap.v[parent]);
		i = parent;
	}

	place(i, e);
}


static void sift_down(size_t i, const struct ptmrent *e)
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= heap.n)
			break;

		if (c + 1 < heap.n && before(&heap.v[c + 1], &heap.v[c]))
			++c;

		if (!before(&heap.v[c], e))
			break;

		place(i, &heap.v[c]);
		i = c;
	}

	place(i, e);
}


static void heap_remove(struct ptmr *tmr)
{
	const size_t i = tmr->idx;
	struct ptmrent last;

	assert(i < heap.n && heap.v[i].tmr == tmr);
	if (i >= heap.n || heap.v[i].tmr != tmr)
		return;

	last = heap.v[--heap.n];

	if (i < heap.n) {
		if (i > 0 && before(&last, &heap.v[(i - 1) / 2]))
			sift_up(i, &last);
		else
			sift_down(i, &last);
	}

	/* the daemon always has timers; this frees the array at exit */
	if (heap.n == 0) {
		free(heap.v);
		heap.v  = NULL;
		heap.sz = 0;
	}
}


static bool heap_insert(struct ptmr *tmr)
{
	struct ptmrent e;

	if (heap.n == heap.sz) {
		const size_t sz = heap.sz ? heap.sz * 2 : 256;
		struct ptmrent *v = realloc(heap.v, sz * sizeof(*v));

		if (!v)
			return false;

		heap.v  = v;
		heap.sz = sz;
	}

	e.jfs = tmr->jfs;
	e.seq = heap.seq++;
	e.tmr = tmr;
	sift_up(heap.n++, &e);

	return true;
}


/* Take the soonest timer off the heap and run its handler */
static inline void run_first(void)
{
	struct ptmr *tmr = heap.v[0].tmr;
	ptmr_h *th = tmr->th;
	void *arg = tmr->arg;

	heap_remove(tmr);
	tmr->th = NULL;

	if (th)
		th(arg);
}


static void drv_handler(void *arg);


/* libre's timer at the soonest deadline */
static void arm(uint64_t jfs, uint64_t now)
{
	tmr_start(&heap.drv, jfs > now ? jfs - now : 0, drv_handler, NULL);
}


static void drv_handler(void *arg)
{
	(void)arg;

	ptmr_poll();
}


/**
 * Initialise a timer (not running)
 *
 * @param tmr Timer
 */
void ptmr_init(struct ptmr *tmr)
{
	if (!tmr)
		return;

	memset(tmr, 0, sizeof(*tmr));
}


/**
 * Start a timer, or restart it if running
 *
 * @param tmr   Timer
 * @param delay Milliseconds from now
 * @param th    Handler; NULL cancels
 * @param arg   Handler argument
 */
void ptmr_start(struct ptmr *tmr, uint64_t delay, ptmr_h *th, void *arg)
{
	uint64_t now;

	if (!tmr)
		return;

	if (tmr->th)
		heap_remove(tmr);

	tmr->th  = th;
	tmr->arg = arg;

	if (!th)
		return;

	now = tmr_jiffies();
	tmr->jfs = now + delay;

	/* out of memory: the timer cannot run; say so rather than hang */
	if (!heap_insert(tmr)) {
		tmr->th  = NULL;
		tmr->arg = NULL;
		log_error("timer: out of memory, a timer was dropped");
		return;
	}

	if (heap.polling || heap.v[0].tmr != tmr)
		return;

	if (!tmr_isrunning(&heap.drv) || tmr->jfs < heap.drv.jfs)
		arm(tmr->jfs, now);
}


/**
 * Stop a timer (harmless if not running)
 *
 * @param tmr Timer
 */
void ptmr_cancel(struct ptmr *tmr)
{
	ptmr_start(tmr, 0, NULL, NULL);
}


/**
 * Milliseconds until a timer fires
 *
 * @param tmr Timer
 *
 * @return Milliseconds left, 0 if due or not running
 */
uint64_t ptmr_get_expire(const struct ptmr *tmr)
{
	uint64_t now;

	if (!tmr || !tmr->th)
		return 0;

	now = tmr_jiffies();

	return tmr->jfs > now ? tmr->jfs - now : 0;
}


/**
 * Run every parkblf timer due now (libre's loop does it through its
 * timer; tests and the fuzzer may call it themselves), then arm libre's
 * timer at the next deadline
 */
void ptmr_poll(void)
{
	const uint64_t now = tmr_jiffies();
	const bool outer = !heap.polling;

	heap.polling = true;

	while (heap.n > 0 && heap.v[0].jfs <= now)
		run_first();

	if (!outer)
		return;

	heap.polling = false;

	if (heap.n > 0)
		arm(heap.v[0].jfs, tmr_jiffies());
	else
		tmr_cancel(&heap.drv);
}


/**
 * Milliseconds until parkblf's next timer is due
 *
 * @return 0 if there is none, at least 1 if one is due
 */
uint64_t ptmr_next_timeout(void)
{
	uint64_t now;

	if (heap.n == 0)
		return 0;

	now = tmr_jiffies();

	return heap.v[0].jfs > now ? heap.v[0].jfs - now : 1;
}


/**
 * Number of parkblf timers running
 *
 * @return Timers in the heap
 */
size_t ptmr_count(void)
{
	return heap.n;
}


/**
 * libre's own timer list (re_main's), found through the list element
 * of a libre timer started in it (struct tmr is public in re_tmr.h;
 * libre 1.1.0 declares no accessor)
 *
 * @return The list re_main polls
 */
struct list *ptmr_libre_list(void)
{
	struct list *tmrl;

	if (tmr_isrunning(&heap.drv))
		return heap.drv.le.list;

	/* a year from now: appended at the tail, unlinked at once */
	tmr_start(&heap.drv, YEAR_MS, drv_handler, NULL);
	tmrl = heap.drv.le.list;
	tmr_cancel(&heap.drv);

	return tmrl;
}


/* Run libre's soonest timer now: the soonest may become due at once
   without unsorting the list */
static void run_libre_first(struct list *tmrl)
{
	struct tmr *tmr = list_ledata(list_head(tmrl));

	tmr->jfs = 0;
	tmr_poll(tmrl);
}


/**
 * Run the pending timers now, parkblf's and libre's, soonest first.
 * After the main loop, what still waits is mostly libre's: e.g. a
 * subscription whose un-SUBSCRIBE was answered waits up to 10 s for the
 * NOTIFY that ends it, holding its SIP stack, and so its sockets.  Its
 * timer releases it.
 *
 * @param max Most timers to run (handlers may start new ones)
 *
 * @return Timers run
 */
size_t ptmr_expire_all(size_t max)
{
	struct list *tmrl;
	size_t ran;

	tmr_cancel(&heap.drv);
	tmrl = ptmr_libre_list();

	for (ran = 0; ran < max; ++ran) {
		const struct tmr *lt = list_ledata(list_head(tmrl));

		if (heap.n > 0 && (!lt || heap.v[0].jfs <= lt->jfs)) {
			heap.polling = true;
			run_first();
			heap.polling = false;
		}
		else if (lt)
			run_libre_first(tmrl);
		else
			break;

		tmr_cancel(&heap.drv);
	}

	if (heap.n > 0)
		arm(heap.v[0].jfs, tmr_jiffies());

	return ran;
}
