/**
 * @file test_reach.c  Addresses that have shown they are reachable
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "reach.h"
#include "unit.h"


static void addr_n(struct sa *sa, uint32_t n)
{
	sa_set_in(sa, 0x0a000000 | n, 5060);     /* 10.x.y.z */
}


/* An address is known once it answered, by its IP (any port) */
static void test_known(void **state)
{
	struct reach *r = NULL;
	struct sa a, b;
	(void)state;

	assert_int_equal(0, reach_alloc(&r));
	assert_int_equal(0, sa_set_str(&a, "192.0.2.1", 5060));
	assert_int_equal(0, sa_set_str(&b, "192.0.2.1", 5062));
	assert_false(reach_known(r, &a));
	reach_add(r, &a);
	assert_true(reach_known(r, &a));
	assert_true(reach_known(r, &b));
	assert_int_equal(0, sa_set_str(&b, "192.0.2.2", 5060));
	assert_false(reach_known(r, &b));
	reach_add(r, &a);
	assert_int_equal(1, reach_count(r));
	mem_deref(r);
}


/* Bounded: past REACH_MAX the one that answered least recently goes */
static void test_bounded(void **state)
{
	struct reach *r = NULL;
	struct sa a;
	uint32_t i;
	(void)state;

	assert_int_equal(0, reach_alloc(&r));
	for (i = 1; i <= REACH_MAX; i++) {
		addr_n(&a, i);
		reach_add(r, &a);
	}
	assert_int_equal(REACH_MAX, reach_count(r));

	/* the first answers again: now the second is the oldest */
	addr_n(&a, 1);
	reach_add(r, &a);
	addr_n(&a, REACH_MAX + 1);
	reach_add(r, &a);
	assert_int_equal(REACH_MAX, reach_count(r));

	addr_n(&a, 1);
	assert_true(reach_known(r, &a));
	addr_n(&a, 2);
	assert_false(reach_known(r, &a));
	addr_n(&a, REACH_MAX + 1);
	assert_true(reach_known(r, &a));
	mem_deref(r);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_known),
	cmocka_unit_test(test_bounded),
};

const struct unit_group unit_reach = UNIT_GROUP(reach, tests);
