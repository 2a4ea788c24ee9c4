/**
 * @file test_tfifo.c  Timers of a few fixed intervals (tfifo.c): the
 *                     fast path's retransmission timers
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


enum { N = 2000 };

struct probe {
	struct tfent e;
	uint64_t started;           /**< tmr_jiffies() when started       */
	uint32_t ms;                /**< Its interval                     */
	uint64_t fired_at;
	unsigned fired;
	unsigned restarts;          /**< Restart with a doubled interval  */
};

static struct probe probes[N];
static unsigned order[N * 4];
static unsigned nfired;
static struct tfifo *cur;
static unsigned stop_after;


static void probe_h(void *arg)
{
	struct probe *p = arg;

	assert_false(tfifo_isrunning(&p->e));
	++p->fired;
	p->fired_at = tmr_jiffies();
	order[nfired++] = (unsigned)(p - probes);

	/* a retransmission: again, at twice the interval */
	if (p->restarts) {
		--p->restarts;
		p->ms *= 2;
		p->started = tmr_jiffies();
		assert_int_equal(0, tfifo_start(cur, &p->e, p->ms, p));
	}

	if (stop_after && nfired == stop_after)
		re_cancel();
}


static void start(struct probe *p, uint32_t ms)
{
	p->ms = ms;
	p->started = tmr_jiffies();
	assert_int_equal(0, tfifo_start(cur, &p->e, ms, p));
}


static void guard_h(void *arg)
{
	(void)arg;
	re_cancel();
}


/* Run the main loop until stop_after handlers ran, or ms passed */
static void run(unsigned n, uint32_t ms)
{
	struct tmr guard;

	tmr_init(&guard);
	stop_after = n;
	tmr_start(&guard, ms, guard_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&guard);
	stop_after = 0;
}


/* Entries of one interval fire in the order they were started, never
 * before their time; the cancelled ones (head, middle, tail) never;
 * parkblf's timer heap holds one timer for all of them. */
static void test_one_interval(void **state)
{
	const size_t base = ptmr_count();
	unsigned i, live = 0;
	(void)state;

	memset(probes, 0, sizeof(probes));
	nfired = 0;
	assert_int_equal(0, tfifo_alloc(&cur, probe_h));

	for (i = 0; i < N; i++) {
		start(&probes[i], 40);
		if (i % 500 == 499)
			sys_msleep(2);      /* several start times */
	}
	assert_int_equal(N, tfifo_count(cur));
	assert_int_equal(base + 1, ptmr_count());
	assert_true(tfifo_get_expire(&probes[N - 1].e) <= 40);
	assert_true(probes[N - 1].e.due >= probes[N - 1].started + 40);

	/* the head, one in the middle, the tail, and every 7th */
	for (i = 0; i < N; i++) {
		if (i == 0 || i == N / 2 || i == N - 1 || i % 7 == 3)
			tfifo_cancel(&probes[i].e);
		else
			++live;
	}
	tfifo_cancel(&probes[0].e);          /* twice: harmless */
	assert_false(tfifo_isrunning(&probes[0].e));
	assert_int_equal(live, tfifo_count(cur));

	run(live, 10000);
	assert_int_equal(live, nfired);
	for (i = 1; i < nfired; i++)
		assert_true(order[i - 1] < order[i]);
	for (i = 0; i < N; i++) {
		const struct probe *p = &probes[i];

		if (i == 0 || i == N / 2 || i == N - 1 || i % 7 == 3) {
			assert_int_equal(0, p->fired);
			continue;
		}
		assert_int_equal(1, p->fired);
		assert_true(p->fired_at >= p->started + 40);
	}
	assert_int_equal(0, tfifo_count(cur));
	assert_int_equal(base, ptmr_count());

	cur = mem_deref(cur);
}


/* Retransmissions: each entry restarts itself at twice its interval
 * (10, 20, 40 ms: three intervals in use); every one fires at its own
 * time, in order of expiry across intervals within a few ms. */
static void test_doubling(void **state)
{
	const size_t base = ptmr_count();
	unsigned i;
	(void)state;

	memset(probes, 0, sizeof(probes));
	nfired = 0;
	assert_int_equal(0, tfifo_alloc(&cur, probe_h));

	for (i = 0; i < 100; i++) {
		probes[i].restarts = 2;
		start(&probes[i], 10);
		if (i % 25 == 24)
			sys_msleep(3);
	}
	assert_int_equal(base + 1, ptmr_count());

	run(300, 10000);
	assert_int_equal(300, nfired);
	for (i = 0; i < 100; i++) {
		const struct probe *p = &probes[i];

		assert_int_equal(3, p->fired);
		assert_int_equal(40, p->ms);
		assert_true(p->fired_at >= p->started + 40);
		assert_false(tfifo_isrunning(&p->e));
	}
	assert_int_equal(0, tfifo_count(cur));
	assert_int_equal(base, ptmr_count());

	cur = mem_deref(cur);
}


/* A restart moves an entry (to the tail of its new interval); at most
 * 16 intervals run at once, and one whose list emptied is free for
 * another */
static void test_lanes(void **state)
{
	unsigned i;
	(void)state;

	memset(probes, 0, sizeof(probes));
	nfired = 0;
	assert_int_equal(0, tfifo_alloc(&cur, probe_h));

	start(&probes[0], 30);
	start(&probes[1], 30);
	start(&probes[0], 30);              /* now after 1 */
	run(2, 10000);
	assert_int_equal(2, nfired);
	assert_int_equal(1, order[0]);
	assert_int_equal(0, order[1]);

	for (i = 0; i < 16; i++)
		start(&probes[10 + i], 60000 + i);
	assert_int_equal(ENOSPC, tfifo_start(cur, &probes[40].e, 5, NULL));
	assert_false(tfifo_isrunning(&probes[40].e));
	/* one of the 16 intervals runs again: fine */
	start(&probes[41], 60003);
	/* one emptied: its place is free */
	tfifo_cancel(&probes[10].e);
	start(&probes[40], 5);
	assert_int_equal(17, tfifo_count(cur));

	/* freeing the set stops its entries */
	cur = mem_deref(cur);
	for (i = 0; i < 42; i++)
		assert_false(tfifo_isrunning(&probes[i].e));
	tfifo_cancel(&probes[41].e);        /* harmless */

	assert_int_equal(EINVAL, tfifo_alloc(NULL, probe_h));
	assert_int_equal(EINVAL, tfifo_start(NULL, &probes[0].e, 1, NULL));
	tfifo_cancel(NULL);
	assert_int_equal(0, tfifo_count(NULL));
}


/* At exit (ptmr_expire_all) far entries run at once, soonest first,
 * as their own timers would */
static void test_expire_all(void **state)
{
	(void)state;

	memset(probes, 0, sizeof(probes));
	nfired = 0;
	assert_int_equal(0, tfifo_alloc(&cur, probe_h));

	start(&probes[0], 50000);
	start(&probes[1], 20000);
	start(&probes[2], 50000);
	assert_true(ptmr_expire_all(10) >= 2);
	assert_int_equal(3, nfired);
	assert_int_equal(1, order[0]);
	assert_int_equal(0, order[1]);
	assert_int_equal(2, order[2]);
	assert_int_equal(0, tfifo_count(cur));

	cur = mem_deref(cur);
}


/* A failed test leaves no entry running into the next one */
static int teardown(void **state)
{
	(void)state;
	cur = mem_deref(cur);

	return 0;
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_one_interval, teardown),
	cmocka_unit_test_teardown(test_doubling, teardown),
	cmocka_unit_test_teardown(test_lanes, teardown),
	cmocka_unit_test_teardown(test_expire_all, teardown),
};

const struct unit_group unit_tfifo = UNIT_GROUP(tfifo, tests);
