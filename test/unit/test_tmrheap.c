/**
 * @file test_tmrheap.c  libre's timer and random API as parkblf
 *                      defines them (tmrheap.c, randbuf.c)
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
	struct tmr tmr;
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

	assert_false(tmr_isrunning(&p->tmr));
	++p->fired;
	order[nfired++] = (unsigned)(p - probes);
}


static void start(struct probe *p, uint64_t delay, unsigned *seq)
{
	tmr_start(&p->tmr, delay, probe_h, p);
	p->jfs = p->tmr.jfs;
	p->seq = (*seq)++;
	p->cancelled = false;
}


/* libre binds to this executable's timers (the unit test links the
 * same way as the daemon) */
static void test_interposed(void **state)
{
	(void)state;

	assert_int_equal(0, tmrheap_selftest());
}


/* Thousands of timers, restarted and cancelled at random, fire in
 * order of expiry, ties in the order they were (last) started; the
 * cancelled ones never. */
static void test_order(void **state)
{
	const size_t base = tmrheap_count();
	unsigned seq = 0, i;
	(void)state;

	memset(probes, 0, sizeof(probes));
	nfired = 0;
	srand(42);

	for (i = 0; i < N; i++)
		start(&probes[i], (uint64_t)(rand() % 25), &seq);

	for (i = 0; i < N; i += 7) {
		tmr_cancel(&probes[i].tmr);
		probes[i].cancelled = true;
		assert_false(tmr_isrunning(&probes[i].tmr));
	}

	for (i = 3; i < N; i += 11)
		start(&probes[i], (uint64_t)(rand() % 25), &seq);

	for (i = 0; i < N; i += 13)
		tmr_cancel(&probes[i].tmr);  /* twice for some: harmless */
	for (i = 0; i < N; i += 13)
		probes[i].cancelled = true;

	sleep_ms(40);
	tmr_poll(NULL);

	for (i = 0; i < N; i++) {
		assert_int_equal(probes[i].cancelled ? 0 : 1,
				 probes[i].fired);
		assert_false(tmr_isrunning(&probes[i].tmr));
	}

	for (i = 1; i < nfired; i++) {
		const struct probe *a = &probes[order[i - 1]];
		const struct probe *b = &probes[order[i]];

		assert_true(a->jfs < b->jfs ||
			    (a->jfs == b->jfs && a->seq < b->seq));
	}

	assert_int_equal(base, tmrheap_count());
}


struct owner {
	struct tmr tmr;
	struct tmr other;
	unsigned *hits;
};


static void owner_destructor(void *arg)
{
	struct owner *o = arg;

	tmr_cancel(&o->tmr);
	tmr_cancel(&o->other);
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
	const size_t base = tmrheap_count();
	struct owner *o = mem_zalloc(sizeof(*o), owner_destructor);
	unsigned hits = 0;
	(void)state;

	assert_non_null(o);
	o->hits = &hits;
	tmr_start(&o->tmr, 0, owner_h, o);
	tmr_start(&o->other, 0, other_h, o);
	assert_int_equal(base + 2, tmrheap_count());

	tmr_poll(NULL);

	assert_int_equal(1, hits);          /* other_h never ran */
	assert_int_equal(base, tmrheap_count());
}


static void restart_h(void *arg)
{
	struct probe *p = arg;

	++p->fired;
	tmr_start(&p->tmr, 60000, restart_h, p);
}


/* A handler may start its own timer again; tmr_get_expire and
 * tmr_next_timeout see it; a restart replaces the old expiry. */
static void test_restart_and_expiry(void **state)
{
	struct probe p, q;
	uint64_t exp;
	(void)state;

	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	assert_int_equal(0, tmrheap_count());
	assert_int_equal(0, tmr_next_timeout(NULL));  /* no timer */
	assert_int_equal(0, tmr_get_expire(&p.tmr));

	tmr_start(&p.tmr, 0, restart_h, &p);
	assert_int_equal(1, tmr_next_timeout(NULL));  /* due now */
	tmr_poll(NULL);
	assert_int_equal(1, p.fired);
	assert_true(tmr_isrunning(&p.tmr));

	exp = tmr_get_expire(&p.tmr);
	assert_true(exp > 59000 && exp <= 60000);
	exp = tmr_next_timeout(NULL);
	assert_true(exp > 59000 && exp <= 60000);

	/* an earlier timer becomes the next one, and leaves again */
	tmr_start(&q.tmr, 5000, probe_h, &q);
	exp = tmr_next_timeout(NULL);
	assert_true(exp > 4000 && exp <= 5000);
	tmr_start(&q.tmr, 120000, probe_h, &q);     /* moved back */
	exp = tmr_next_timeout(NULL);
	assert_true(exp > 59000 && exp <= 60000);

	tmr_poll(NULL);
	assert_int_equal(1, p.fired);
	assert_int_equal(0, q.fired);

	tmr_cancel(&q.tmr);
	tmr_cancel(&p.tmr);
	assert_int_equal(0, tmrheap_count());
	assert_int_equal(0, tmr_next_timeout(NULL));

	tmr_cancel(NULL);
	tmr_start(NULL, 10, probe_h, NULL);
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
	assert_int_equal(0, tmrheap_count());
	assert_int_equal(0, tmrheap_expire_all(10));

	tmr_start(&probes[0].tmr, 10000, probe_h, &probes[0]);
	tmr_start(&probes[1].tmr, 5000, probe_h, &probes[1]);
	assert_int_equal(2, tmrheap_expire_all(10));
	assert_int_equal(2, nfired);
	assert_int_equal(1, order[0]);
	assert_int_equal(0, order[1]);
	assert_int_equal(0, tmrheap_count());

	tmr_start(&r.tmr, 60000, restart_h, &r);
	assert_int_equal(3, tmrheap_expire_all(3));
	assert_int_equal(3, r.fired);
	assert_int_equal(1, tmrheap_count());
	tmr_cancel(&r.tmr);
}


/* libre's tags, branches and Call-IDs come from randbuf.c: strings
 * of [A-Za-z0-9], every value fresh, across buffer refills */
static void test_random(void **state)
{
	static uint64_t seen[2048];
	char s[33];
	uint8_t big[10000];
	size_t i, j, zeros = 0;
	(void)state;

	assert_int_equal(0, randbuf_selftest());

	for (i = 0; i < ARRAY_SIZE(seen); i++) {
		seen[i] = rand_u64();
		for (j = 0; j < i; j++)
			assert_true(seen[i] != seen[j]);
	}

	for (i = 0; i < 200; i++) {
		rand_str(s, sizeof(s));
		assert_int_equal(32, strlen(s));
		for (j = 0; j < 32; j++)
			assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					       "abcdefghijklmnopqrstuvwxyz"
					       "0123456789", s[j]));
	}

	/* more than one 4 KiB buffer at once: no run of zeros */
	memset(big, 0, sizeof(big));
	rand_bytes(big, sizeof(big));
	for (i = 0; i < sizeof(big); i++)
		zeros += big[i] == 0;
	assert_true(zeros < 100);           /* ~39 expected */

	rand_str(s, 1);
	assert_int_equal('\0', s[0]);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_interposed),
	cmocka_unit_test(test_random),
	cmocka_unit_test(test_restart_and_expiry),
	cmocka_unit_test(test_order),
	cmocka_unit_test(test_handler_frees_owner),
	cmocka_unit_test(test_expire_all),
};

const struct unit_group unit_tmrheap = UNIT_GROUP(tmrheap, tests);
