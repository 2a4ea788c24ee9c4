/**
 * @file test_alert.c  Calls waiting too long: the per-orbit timer
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "alert.h"
#include "unit.h"


static char fired[64];
static unsigned nfired;


static void on_alert(const char *name, void *arg)
{
	(void)arg;

	(void)re_snprintf(fired, sizeof(fired), "%s", name);
	++nfired;
	re_cancel();
}


static void give_up(void *arg)
{
	(void)arg;
	re_cancel();
}


/* Run the main loop until an alert fires, or at most ms */
static void run_loop(uint64_t ms)
{
	struct tmr tmr;

	tmr_init(&tmr);
	tmr_start(&tmr, ms, give_up, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr);
}


/* A call parked now: nothing yet; its orbit's timer fires once, at its
   deadline, and the orbit is then overdue */
static void test_timer_fires(void **state)
{
	struct alert *al = NULL;
	const uint64_t now = store_now_ms();
	(void)state;

	nfired = 0;
	assert_int_equal(0, alert_alloc(&al, on_alert, NULL));
	assert_false(alert_update(al, "park-1", 1, now, now));
	assert_int_equal(0, alert_overdue(al, "park-1"));
	assert_int_equal(0, alert_count(al));

	/* the one timer of the orbit is armed for parked + 1 s */
	assert_in_range(ptmr_next_timeout(), 900, 1000);

	run_loop(5000);
	assert_int_equal(1, nfired);
	assert_string_equal("park-1", fired);
	assert_int_equal(1, alert_overdue(al, "park-1"));
	assert_int_equal(1, alert_count(al));

	/* retrieved: no longer overdue, no timer left */
	assert_true(alert_update(al, "park-1", 1, 0, now));
	assert_int_equal(0, alert_overdue(al, "park-1"));
	assert_int_equal(0, ptmr_next_timeout());

	mem_deref(al);
}


/* A call that has waited long already (a restart, a map reload) is
   overdue at once; the next call in line re-arms the timer */
static void test_already_overdue(void **state)
{
	struct alert *al = NULL;
	const uint64_t now = store_now_ms();
	(void)state;

	nfired = 0;
	assert_int_equal(0, alert_alloc(&al, on_alert, NULL));
	assert_true(alert_update(al, "park-2", 60, now - 61000, now));
	assert_int_equal(60, alert_overdue(al, "park-2"));
	assert_int_equal(0, ptmr_next_timeout());

	/* the oldest retrieved, the next has waited 10 s of 60 */
	assert_true(alert_update(al, "park-2", 60, now - 10000, now));
	assert_int_equal(0, alert_overdue(al, "park-2"));
	assert_in_range(ptmr_next_timeout(), 49000, 50000);

	/* off for this orbit (alert_after=0): no timer */
	assert_false(alert_update(al, "park-2", 0, now - 10000, now));
	assert_int_equal(0, ptmr_next_timeout());
	assert_int_equal(0, nfired);

	mem_deref(al);
}


/* The orbit's alert_after= wins over park_alert_after, 0 included */
static void test_after_precedence(void **state)
{
	struct config cfg;
	struct orbit o;
	(void)state;

	memset(&cfg, 0, sizeof(cfg));
	memset(&o, 0, sizeof(o));
	cfg.park_alert_after = 120;
	o.alert_after = -1;
	assert_int_equal(120, alert_after(&cfg, &o));
	o.alert_after = 30;
	assert_int_equal(30, alert_after(&cfg, &o));
	o.alert_after = 0;
	assert_int_equal(0, alert_after(&cfg, &o));
	cfg.park_alert_after = 0;
	o.alert_after = -1;
	assert_int_equal(0, alert_after(&cfg, &o));
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_timer_fires),
	cmocka_unit_test(test_already_overdue),
	cmocka_unit_test(test_after_precedence),
};

const struct unit_group unit_alert = UNIT_GROUP(alert, tests);
