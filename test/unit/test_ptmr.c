/**
 * @file test_ptmr.c  parkblf's timers (ptmr.c) and random numbers
 *                   (randbuf.c)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


enum { N = 3000 };

struct probe {
	struct ptmr tmr;
	uint64_t jfs;               /**< Expiry when last started         */
	unsigned seq;               /**< Order it was last started in     */
	unsigned fired;
	bool cancelled;
};

static struct probe probes[N];
static unsigned order[N * 2];
static unsigned nfired;


static void sleep_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};

	(void)nanosleep(&ts, NULL);
}


static void probe_h(void *arg)
{
	struct probe *p = arg;

	assert_false(ptmr_isrunning(&p->tmr));
	++p->fired;
	order[nfired++] = (unsigned)(p - probes);
}


static void start(struct probe *p, uint64_t delay, unsigned *seq)
{
	ptmr_start(&p->tmr, delay, probe_h, p);
	p->jfs = p->tmr.jfs;
	p->seq = (*seq)++;
	p->cancelled = false;
}


static void loop_h(void *arg)
{
	unsigned *n = arg;

	++*n;
	re_cancel();
}


/* libre's main loop runs parkblf's timers through one timer of its own:
 * its list holds that one, however many parkblf has; it is armed at
 * the soonest, re-armed when an earlier one starts, and fires for
 * nothing once when the soonest was cancelled. */
static void test_libre_loop(void **state)
{
	struct ptmr near, far;
	struct tmr guard;
	unsigned n = 0, m = 0, i;
	struct list *tmrl = ptmr_libre_list();
	unsigned base;
	(void)state;

	assert_non_null(tmrl);
	assert_int_equal(0, ptmr_count());
	base = list_count(tmrl);

	ptmr_init(&near);
	ptmr_init(&far);
	tmr_init(&guard);
	memset(probes, 0, sizeof(probes));
	for (i = 0; i < N; i++)
		ptmr_start(&probes[i].tmr, 60000 + i, probe_h, &probes[i]);
	assert_int_equal(N, ptmr_count());
	assert_int_equal(base + 1, list_count(tmrl));
	assert_in_range(tmr_next_timeout(tmrl), 59000, 60000);

	/* an earlier one re-arms libre's timer */
	ptmr_start(&far, 300, loop_h, &m);
	assert_in_range(tmr_next_timeout(tmrl), 200, 300);
	ptmr_start(&near, 30, loop_h, &n);
	assert_in_range(tmr_next_timeout(tmrl), 1, 30);
	assert_int_equal(base + 1, list_count(tmrl));

	tmr_start(&guard, 2000, loop_h, &m);
	(void)re_main(NULL);
	assert_int_equal(1, n);
	assert_int_equal(0, m);
	assert_false(ptmr_isrunning(&near));
	assert_true(ptmr_isrunning(&far));
	tmr_cancel(&guard);
	assert_in_range(tmr_next_timeout(tmrl), 1, 300);

	/* the soonest cancelled: libre's timer fires once for nothing,
	   then waits for the next */
	ptmr_cancel(&far);
	tmr_start(&guard, 600, loop_h, &m);
	(void)re_main(NULL);
	assert_int_equal(1, m);
	assert_int_equal(base + 1, list_count(tmrl));
	assert_in_range(tmr_next_timeout(tmrl), 55000, 60000);

	for (i = 0; i < N; i++)
		ptmr_cancel(&probes[i].tmr);
	assert_int_equal(0, ptmr_count());
	ptmr_poll();
	assert_int_equal(base, list_count(tmrl));
	for (i = 0; i < N; i++)
		assert_int_equal(0, probes[i].fired);
}


/* Thousands of timers, restarted and cancelled at random, fire in
 * order of expiry, ties in the order they were (last) started; the
 * cancelled ones never. */
static void test_order(void **state)
{
	const size_t base = ptmr_count();
	unsigned seq = 0, i;
	(void)state;

	memset(probes, 0, sizeof(probes));
	nfired = 0;
	srand(42);

	for (i = 0; i < N; i++)
		start(&probes[i], (uint64_t)(rand() % 25), &seq);

	for (i = 0; i < N; i += 7) {
		ptmr_cancel(&probes[i].tmr);
		probes[i].cancelled = true;
		assert_false(ptmr_isrunning(&probes[i].tmr));
	}

	for (i = 3; i < N; i += 11)
		start(&probes[i], (uint64_t)(rand() % 25), &seq);

	for (i = 0; i < N; i += 13)
		ptmr_cancel(&probes[i].tmr);  /* twice for some: harmless */
	for (i = 0; i < N; i += 13)
		probes[i].cancelled = true;

	sleep_ms(40);
	ptmr_poll();

	for (i = 0; i < N; i++) {
		assert_int_equal(probes[i].cancelled ? 0 : 1,
				 probes[i].fired);
		assert_false(ptmr_isrunning(&probes[i].tmr));
	}

	for (i = 1; i < nfired; i++) {
		const struct probe *a = &probes[order[i - 1]];
		const struct probe *b = &probes[order[i]];

		assert_true(a->jfs < b->jfs ||
			    (a->jfs == b->jfs && a->seq < b->seq));
	}

	assert_int_equal(base, ptmr_count());
}


struct owner {
	struct ptmr tmr;
	struct ptmr other;
	unsigned *hits;
};


static void owner_destructor(void *arg)
{
	struct owner *o = arg;

	ptmr_cancel(&o->tmr);
	ptmr_cancel(&o->other);
}


static void other_h(void *arg)
{
	struct owner *o = arg;

	++*o->hits;
}


/* The libre idiom: a handler frees the object its timer lives in,
 * cancelling a sibling timer due in the same poll. */
static void owner_h(void *arg)
{
	struct owner *o = arg;

	++*o->hits;
	mem_deref(o);
}


static void test_handler_frees_owner(void **state)
{
	const size_t base = ptmr_count();
	struct owner *o = mem_zalloc(sizeof(*o), owner_destructor);
	unsigned hits = 0;
	(void)state;

	assert_non_null(o);
	o->hits = &hits;
	ptmr_start(&o->tmr, 0, owner_h, o);
	ptmr_start(&o->other, 0, other_h, o);
	assert_int_equal(base + 2, ptmr_count());

	ptmr_poll();

	assert_int_equal(1, hits);          /* other_h never ran */
	assert_int_equal(base, ptmr_count());
}


static void restart_h(void *arg)
{
	struct probe *p = arg;

	++p->fired;
	ptmr_start(&p->tmr, 60000, restart_h, p);
}


/* A handler may start its own timer again; ptmr_get_expire and
 * ptmr_next_timeout see it; a restart replaces the old expiry. */
static void test_restart_and_expiry(void **state)
{
	struct probe p, q;
	uint64_t exp;
	(void)state;

	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	assert_int_equal(0, ptmr_count());
	assert_int_equal(0, ptmr_next_timeout());  /* no timer */
	assert_int_equal(0, ptmr_get_expire(&p.tmr));

	ptmr_start(&p.tmr, 0, restart_h, &p);
	assert_int_equal(1, ptmr_next_timeout());  /* due now */
	ptmr_poll();
	assert_int_equal(1, p.fired);
	assert_true(ptmr_isrunning(&p.tmr));

	exp = ptmr_get_expire(&p.tmr);
	assert_true(exp > 59000 && exp <= 60000);
	exp = ptmr_next_timeout();
	assert_true(exp > 59000 && exp <= 60000);

	/* an earlier timer becomes the next one, and leaves again */
	ptmr_start(&q.tmr, 5000, probe_h, &q);
	exp = ptmr_next_timeout();
	assert_true(exp > 4000 && exp <= 5000);
	ptmr_start(&q.tmr, 120000, probe_h, &q);     /* moved back */
	exp = ptmr_next_timeout();
	assert_true(exp > 59000 && exp <= 60000);

	ptmr_poll();
	assert_int_equal(1, p.fired);
	assert_int_equal(0, q.fired);

	ptmr_cancel(&q.tmr);
	ptmr_cancel(&p.tmr);
	assert_int_equal(0, ptmr_count());
	assert_int_equal(0, ptmr_next_timeout());

	ptmr_cancel(NULL);
	ptmr_start(NULL, 10, probe_h, NULL);
}


/* After the main loop: every pending timer runs now, soonest first,
 * far ones too; one that restarts itself runs only up to the limit */
static void test_expire_all(void **state)
{
	struct probe r;
	(void)state;

	memset(probes, 0, sizeof(probes));
	memset(&r, 0, sizeof(r));
	nfired = 0;
	assert_int_equal(0, ptmr_count());
	assert_int_equal(0, ptmr_expire_all(10));

	ptmr_start(&probes[0].tmr, 10000, probe_h, &probes[0]);
	ptmr_start(&probes[1].tmr, 5000, probe_h, &probes[1]);
	assert_int_equal(2, ptmr_expire_all(10));
	assert_int_equal(2, nfired);
	assert_int_equal(1, order[0]);
	assert_int_equal(0, order[1]);
	assert_int_equal(0, ptmr_count());

	ptmr_start(&r.tmr, 60000, restart_h, &r);
	assert_int_equal(3, ptmr_expire_all(3));
	assert_int_equal(3, r.fired);
	assert_int_equal(1, ptmr_count());
	ptmr_cancel(&r.tmr);
}


/* parkblf's tags and nonces come from randbuf.c: every value fresh,
 * across buffer refills */
static void test_random(void **state)
{
	static uint64_t seen[2048];
	uint8_t big[10000];
	size_t i, j, zeros = 0;
	uint32_t or32 = 0;
	uint16_t or16 = 0;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(seen); i++) {
		seen[i] = randbuf_u64();
		for (j = 0; j < i; j++)
			assert_true(seen[i] != seen[j]);
	}

	for (i = 0; i < 64; i++) {
		or32 |= randbuf_u32();
		or16 |= randbuf_u16();
	}
	assert_int_equal(0xffffffffu, or32);
	assert_int_equal(0xffff, or16);

	/* more than one 4 KiB buffer at once: no run of zeros */
	memset(big, 0, sizeof(big));
	randbuf_bytes(big, sizeof(big));
	for (i = 0; i < sizeof(big); i++)
		zeros += big[i] == 0;
	assert_true(zeros < 100);           /* ~39 expected */

	/* libre's (OpenSSL's) come from the buffer once installed */
	assert_int_equal(0, randbuf_openssl());
	for (i = 0; i < 4; i++) {
		const uint64_t d0 = randbuf_drawn();

		seen[i] = rand_u64();
		assert_true(randbuf_drawn() >= d0 + 8);
		assert_true(i == 0 || seen[i] != seen[i - 1]);
	}
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_libre_loop),
	cmocka_unit_test(test_random),
	cmocka_unit_test(test_restart_and_expiry),
	cmocka_unit_test(test_order),
	cmocka_unit_test(test_handler_frees_owner),
	cmocka_unit_test(test_expire_all),
};

const struct unit_group unit_ptmr = UNIT_GROUP(ptmr, tests);
