/**
 * @file tmrheap.c  The process's timers in a binary heap
 *
 * libre 1.1.0 keeps every timer of the process in one sorted list, and
 * tmr_start finds its place by walking that list from the tail.  Every
 * subscription owns a timer far in the future (its expiry), so each
 * short timer started afterwards (a NOTIFY's transaction timers E, F,
 * K) walks past all of them: one NOTIFY cost O(subscriptions), which
 * was 86 % of parkblf's CPU at 10,000 subscriptions (docs/BENCHMARKS.md).
 *
 * This file defines libre's timer API in the executable.  libre.so
 * calls tmr_start, tmr_cancel, tmr_poll, tmr_next_timeout and
 * tmr_get_expire through its PLT, so the dynamic linker binds libre's
 * own calls (transactions, dialogs, re_main's loop) to these
 * definitions too; libre's list stays empty.  The Makefile exports
 * the symbols (-Wl,--export-dynamic-symbol) and tmrheap_selftest
 * checks at start-up that libre binds to them: by name (interpose.c),
 * and by running libre's main loop until a timer started here fires.
 * The second check is the one that matters: a libre linked with
 * -Bsymbolic-functions (Ubuntu's default for packages) binds its own
 * calls to its own timer list whatever the global scope holds, and
 * re_main would never fire a timer of parkblf's.
 *
 * Semantics kept from libre 1.1.0 (src/tmr/tmr.c): struct tmr is the
 * handle, th != NULL means running (tmr_isrunning is an inline that
 * reads it), timers fire in order of expiry and, for equal expiry, in
 * the order they were started; tmr_poll runs every timer due when it
 * starts (and ones started due meanwhile), clearing th before calling
 * the handler; tmr_next_timeout returns 0 for "no timer" and at
 * least 1 when one is due.  The list arguments are ignored.
 *
 * Costs: start, cancel and pop O(log n); the heap holds (expiry,
 * sequence, timer) triples in one array, so comparisons touch no
 * timer.  The timer's heap index lives in tmr->le.data, a field only
 * libre's list-based tmr.c used.  Single-threaded, like parkblf.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdlib.h>
#include <string.h>
#include <assert.h>
#include <unistd.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


struct tmrent {
	uint64_t jfs;               /**< Expiry, ms of tmr_jiffies()      */
	uint64_t seq;               /**< Start order, ties broken by it   */
	struct tmr *tmr;
};

static struct {
	struct tmrent *v;
	size_t n;
	size_t sz;
	uint64_t seq;
} heap;


static inline bool before(const struct tmrent *a, const struct tmrent *b)
{
	if (a->jfs != b->jfs)
		return a->jfs < b->jfs;

	return a->seq < b->seq;
}


static inline size_t index_of(const struct tmr *tmr)
{
	return (size_t)(uintptr_t)tmr->le.data;
}


static inline void place(size_t i, const struct tmrent *e)
{
	heap.v[i] = *e;
	heap.v[i].tmr->le.data = (void *)(uintptr_t)i;
}


static void sift_up(size_t i, const struct tmrent *e)
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


static void sift_down(size_t i, const struct tmrent *e)
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


static void heap_remove(struct tmr *tmr)
{
	const size_t i = index_of(tmr);
	struct tmrent last;

	assert(i < heap.n && heap.v[i].tmr == tmr);
	if (i >= heap.n || heap.v[i].tmr != tmr)
		return;

	tmr->le.data = NULL;
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


static bool heap_insert(struct tmr *tmr)
{
	struct tmrent e;

	if (heap.n == heap.sz) {
		const size_t sz = heap.sz ? heap.sz * 2 : 256;
		struct tmrent *v = realloc(heap.v, sz * sizeof(*v));

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


void tmr_init(struct tmr *tmr)
{
	if (!tmr)
		return;

	memset(tmr, 0, sizeof(*tmr));
}


void tmr_start(struct tmr *tmr, uint64_t delay, tmr_h *th, void *arg)
{
	if (!tmr)
		return;

	if (tmr->th)
		heap_remove(tmr);

	tmr->th  = th;
	tmr->arg = arg;

	if (!th)
		return;

	tmr->jfs = tmr_jiffies() + delay;

	/* out of memory: the timer cannot run; say so rather than hang */
	if (!heap_insert(tmr)) {
		tmr->th  = NULL;
		tmr->arg = NULL;
		log_error("timer: out of memory, a timer was dropped");
	}
}


void tmr_cancel(struct tmr *tmr)
{
	tmr_start(tmr, 0, NULL, NULL);
}


uint64_t tmr_get_expire(const struct tmr *tmr)
{
	uint64_t now;

	if (!tmr || !tmr->th)
		return 0;

	now = tmr_jiffies();

	return tmr->jfs > now ? tmr->jfs - now : 0;
}


/* Take the soonest timer off the heap and run its handler */
static inline void run_first(void)
{
	struct tmr *tmr = heap.v[0].tmr;
	tmr_h *th = tmr->th;
	void *arg = tmr->arg;

	heap_remove(tmr);
	tmr->th = NULL;

	if (th)
		th(arg);
}


void tmr_poll(struct list *tmrl)
{
	const uint64_t now = tmr_jiffies();
	(void)tmrl;

	while (heap.n > 0 && heap.v[0].jfs <= now)
		run_first();
}


uint64_t tmr_next_timeout(struct list *tmrl)
{
	uint64_t now;
	(void)tmrl;

	if (heap.n == 0)
		return 0;

	now = tmr_jiffies();

	return heap.v[0].jfs > now ? heap.v[0].jfs - now : 1;
}


int tmr_status(struct re_printf *pf, void *unused)
{
	const uint64_t now = tmr_jiffies();
	size_t i;
	int err;
	(void)unused;

	err = re_hprintf(pf, "Timers (%zu, heap):\n", heap.n);

	/* the heap's first entries: the soonest timer and some others */
	for (i = 0; i < heap.n && i < 16 && !err; i++) {
		const struct tmrent *e = &heap.v[i];

		err = re_hprintf(pf, "  %p: th=%p expire=%llums\n",
				 (void *)e->tmr, (void *)e->tmr->th,
				 (unsigned long long)(e->jfs > now ?
						      e->jfs - now : 0));
	}

	if (heap.n > 16 && !err)
		err = re_hprintf(pf, "  (%zu more)\n", heap.n - 16);

	return err;
}


void tmr_debug(void)
{
	if (heap.n)
		(void)re_fprintf(stderr, "%H", tmr_status, NULL);
}


size_t tmrheap_count(void)
{
	return heap.n;
}


enum { PROBE_TURNS = 4 };    /**< Loop turns a due timer may wait  */

/* A due timer and a pipe that stays readable: each turn of re_main
   runs the pipe's handler, then (libre's tmr_poll) the timers due */
struct probe {
	struct tmr tmr;
	bool fired;
	unsigned turns;
};


static void probe_timer(void *arg)
{
	struct probe *pr = arg;

	pr->fired = true;
	re_cancel();
}


static void probe_fd(int flags, void *arg)
{
	struct probe *pr = arg;
	(void)flags;

	if (++pr->turns >= PROBE_TURNS)
		re_cancel();
}


/* Whether libre's main loop fires a timer started in this heap */
static int loop_probe(void)
{
	struct probe pr;
	int fds[2];
	int err;

	memset(&pr, 0, sizeof(pr));
	if (pipe(fds))
		return errno;

	tmr_init(&pr.tmr);
	tmr_start(&pr.tmr, 0, probe_timer, &pr);
	err = fd_listen(fds[0], FD_READ, probe_fd, &pr);
	if (!err && write(fds[1], "x", 1) != 1)
		err = errno;
	if (!err)
		err = re_main(NULL);

	fd_close(fds[0]);
	tmr_cancel(&pr.tmr);
	(void)close(fds[0]);
	(void)close(fds[1]);
	if (err)
		return err;

	if (!pr.fired) {
		log_error("tmr: libre's main loop does not run this "
			  "executable's timers (a libre linked with "
			  "-Bsymbolic-functions?); parkblf cannot work "
			  "with this libre: relink libre without it, or "
			  "link parkblf with a static libre");
		return ENOSYS;
	}

	return 0;
}


/**
 * Run the pending timers now, soonest first.  After the main loop,
 * what still waits is libre's: e.g. a subscription whose un-SUBSCRIBE
 * was answered waits up to 10 s for the NOTIFY that ends it, holding
 * its SIP stack, and so its sockets.  Its timer releases it.
 *
 * @param max Most timers to run (handlers may start new ones)
 *
 * @return Timers run
 */
size_t tmrheap_expire_all(size_t max)
{
	size_t ran;

	for (ran = 0; heap.n > 0 && ran < max; ++ran)
		run_first();

	return ran;
}


/**
 * Check that libre's timers run here: by name (interpose.c), then by
 * running libre's main loop until a timer of this heap fires
 *
 * @return 0 if so, ENOSYS if libre binds to its own
 */
int tmrheap_selftest(void)
{
	static const struct interposed api[] = {
		{"tmr_start",        (void *)tmr_start},
		{"tmr_cancel",       (void *)tmr_cancel},
		{"tmr_poll",         (void *)tmr_poll},
		{"tmr_next_timeout", (void *)tmr_next_timeout},
		{"tmr_get_expire",   (void *)tmr_get_expire},
	};
	int err;

	err = interpose_check("tmr", api, ARRAY_SIZE(api));
	if (err)
		return err;

	return loop_probe();
}
