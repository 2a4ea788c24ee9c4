/**
 * @file test_pacer.c  Pacing slots inside their owner or alone
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "pacer.h"
#include "unit.h"


/* An owner with its slot inside, as a watcher has it */
struct owner {
	unsigned sent;
	struct pacer_slot pace;
};

static struct tmr tmr_stop;


static void send_handler(void *arg)
{
	struct owner *o = arg;

	++o->sent;
}


static void stop_handler(void *arg)
{
	(void)arg;
	re_cancel();
}


/* A slot inside its owner and one allocated alone count alike for
   their phone address, and closing one lets go of the address */
static void test_embedded_count(void **state)
{
	struct pacer *p = NULL;
	struct pacer_slot *alone = NULL;
	struct owner o;
	struct sa peer, other;
	(void)state;

	assert_int_equal(0, pacer_alloc(&p, NULL, 0, 10));
	assert_int_equal(0, sa_set_str(&peer, "192.0.2.7", 5060));
	assert_int_equal(0, sa_set_str(&other, "192.0.2.7", 5062));

	memset(&o, 0, sizeof(o));
	assert_int_equal(0, pacer_slot_init(&o.pace, p, &peer, send_handler,
					    &o));
	assert_int_equal(0, pacer_slot_alloc(&alone, p, &other, send_handler,
					     &o));
	assert_int_equal(2, pacer_count(p, &peer));      /* by IP */
	assert_true(sa_cmp(pacer_slot_addr(&o.pace), &peer, SA_ADDR));

	pacer_slot_close(&o.pace);
	assert_int_equal(1, pacer_count(p, &peer));
	pacer_slot_close(&o.pace);                       /* twice: fine */
	assert_int_equal(1, pacer_count(p, &peer));

	alone = mem_deref(alone);
	assert_int_equal(0, pacer_count(p, &peer));
	mem_deref(p);
}


/* An embedded slot paces as an allocated one: requests within the
   interval make one NOTIFY at its end, from the slot's timer */
static void test_embedded_paces(void **state)
{
	struct pacer *p = NULL;
	struct owner o;
	struct sa peer;
	(void)state;

	assert_int_equal(0, pacer_alloc(&p, NULL, 50, 100));
	assert_int_equal(0, sa_set_str(&peer, "192.0.2.8", 5060));
	memset(&o, 0, sizeof(o));
	assert_int_equal(0, pacer_slot_init(&o.pace, p, &peer, send_handler,
					    &o));

	pacer_sent(&o.pace);                 /* the first NOTIFY */
	pacer_request(&o.pace);
	pacer_request(&o.pace);
	assert_int_equal(0, o.sent);
	assert_true(pacer_pending(&o.pace));

	tmr_start(&tmr_stop, 300, stop_handler, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr_stop);

	assert_int_equal(1, o.sent);
	assert_false(pacer_pending(&o.pace));

	/* closed with its timer running: nothing fires later */
	pacer_sent(&o.pace);
	pacer_request(&o.pace);
	assert_true(pacer_pending(&o.pace));
	pacer_slot_close(&o.pace);
	assert_false(pacer_pending(&o.pace));
	tmr_start(&tmr_stop, 100, stop_handler, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr_stop);
	assert_int_equal(1, o.sent);

	mem_deref(p);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_embedded_count),
	cmocka_unit_test(test_embedded_paces),
};

const struct unit_group unit_pacer = UNIT_GROUP(pacer, tests);
