/**
 * @file test_store.c  Orbit store: applying reports, change detection
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


struct fixture {
	struct orbitmap *map;
	struct store *store;
	char changed[16][8];   /**< DNs the change handler saw, in order */
	unsigned nchanged;
};


static void change_h(const char *dn, void *arg)
{
	struct fixture *f = arg;

	assert_true(f->nchanged < 16);
	str_ncpy(f->changed[f->nchanged++], dn, 8);
}


static int setup(void **state)
{
	static const char map[] = "park-1 *00\npark-2 *01\n";
	struct fixture *f = mem_zalloc(sizeof(*f), NULL);

	assert_int_equal(0, orbitmap_parse(&f->map, "m", (const uint8_t *)map,
					   strlen(map), NULL));
	assert_int_equal(0, store_alloc(&f->store, change_h, f));
	*state = f;

	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->store);
	mem_deref(f->map);
	mem_deref(f);

	return 0;
}


/* A report: "id:number:name:duration" per call, "-id" for terminated */
static struct dn_update *update(const char *dn, int version, bool partial,
				const char *calls[], size_t n)
{
	struct dn_update *upd;
	struct dn_report *rep;
	size_t i;

	assert_int_equal(0, dn_update_alloc(&upd));
	assert_int_equal(0, dn_report_add(&rep, upd, dn, strlen(dn)));
	rep->partial = partial;
	if (version >= 0) {
		rep->has_version = true;
		rep->version = version;
	}

	for (i = 0; i < n; i++) {
		struct dn_call *dc;
		struct pl id, num, name, dur;

		if (calls[i][0] == '-') {
			assert_int_equal(0, dn_call_add(&dc, rep,
							 calls[i] + 1));
			dc->terminated = true;
			continue;
		}
		assert_int_equal(0, re_regex(calls[i], strlen(calls[i]),
					     "[^:]+:[^:]*:[^:]*:[0-9]*", &id,
					     &num, &name, &dur));
		assert_int_equal(0, dn_call_add(&dc, rep, ""));
		mem_deref(dc->id);
		assert_int_equal(0, pl_strdup(&dc->id, &id));
		if (num.l)
			assert_int_equal(0, pl_strdup(&dc->number, &num));
		if (name.l)
			assert_int_equal(0, pl_strdup(&dc->name, &name));
		if (dur.l) {
			dc->has_duration = true;
			dc->duration = pl_u32(&dur);
		}
	}

	return upd;
}


static void apply(struct fixture *f, struct dn_update *upd, uint64_t now)
{
	assert_int_equal(0, store_apply(f->store, f->map, upd, now));
	mem_deref(upd);
}


static const struct parked_call *call_at(const struct fixture *f,
					 const char *dn, unsigned i)
{
	struct le *le = list_head(store_calls(f->store, dn));

	while (le && i--)
		le = le->next;

	return le ? le->data : NULL;
}


static void test_park_and_retrieve(void **state)
{
	struct fixture *f = *state;
	const char *one[] = {"c1:100:Alice:0"};
	const struct parked_call *pc;

	apply(f, update("*00", 0, false, one, 1), 1000000);
	assert_int_equal(1, f->nchanged);
	assert_string_equal("*00", f->changed[0]);
	assert_true(store_occupied(f->store, "*00"));

	pc = call_at(f, "*00", 0);
	assert_string_equal("c1", pc->id);
	assert_string_equal("100", pc->number);
	assert_string_equal("Alice", pc->name);
	assert_int_equal(1000000, pc->parked_at);

	/* the same state again is no change */
	apply(f, update("*00", 1, false, one, 1), 1005000);
	assert_int_equal(1, f->nchanged);
	assert_int_equal(1000000, call_at(f, "*00", 0)->parked_at);

	apply(f, update("*00", 2, false, NULL, 0), 1010000);
	assert_int_equal(2, f->nchanged);
	assert_false(store_occupied(f->store, "*00"));
}


static void test_oldest_first(void **state)
{
	struct fixture *f = *state;
	const char *two[] = {"new:200:Bob:5", "old:100:Alice:60"};
	const char *three[] = {"new:200:Bob:6", "old:100:Alice:61",
			       "newest:300::0"};

	apply(f, update("*00", 0, false, two, 2), 100000);
	assert_string_equal("old", call_at(f, "*00", 0)->id);
	assert_string_equal("new", call_at(f, "*00", 1)->id);

	apply(f, update("*00", 1, false, three, 3), 101000);
	assert_string_equal("old", call_at(f, "*00", 0)->id);
	assert_string_equal("new", call_at(f, "*00", 1)->id);
	assert_string_equal("newest", call_at(f, "*00", 2)->id);
	assert_null(call_at(f, "*00", 2)->name);
}


static void test_stale_version_ignored(void **state)
{
	struct fixture *f = *state;
	const char *one[] = {"c1:100:Alice:0"};

	apply(f, update("*00", 5, false, one, 1), 1000);
	apply(f, update("*00", 4, false, NULL, 0), 2000);
	apply(f, update("*00", 5, false, NULL, 0), 2000);
	assert_int_equal(1, f->nchanged);
	assert_true(store_occupied(f->store, "*00"));

	/* a new upstream subscription starts versions over */
	store_new_session(f->store);
	apply(f, update("*00", 0, false, NULL, 0), 3000);
	assert_int_equal(2, f->nchanged);
	assert_false(store_occupied(f->store, "*00"));
}


static void test_partial(void **state)
{
	struct fixture *f = *state;
	const char *two[] = {"a:100:A:20", "b:200:B:10"};
	const char *gone_a[] = {"-a"};
	const char *add_c[] = {"c:300:C:0"};

	apply(f, update("*00", 0, false, two, 2), 100000);
	apply(f, update("*00", 1, true, gone_a, 1), 101000);
	assert_string_equal("b", call_at(f, "*00", 0)->id);
	assert_null(call_at(f, "*00", 1));

	apply(f, update("*00", 2, true, add_c, 1), 102000);
	assert_string_equal("b", call_at(f, "*00", 0)->id);
	assert_string_equal("c", call_at(f, "*00", 1)->id);
	assert_int_equal(3, f->nchanged);
}


static void test_unmapped_dn_ignored(void **state)
{
	struct fixture *f = *state;
	const char *one[] = {"c1:100:Alice:0"};

	apply(f, update("100", 0, false, one, 1), 1000);
	assert_int_equal(0, f->nchanged);
	assert_null(store_calls(f->store, "100"));
}


static void test_fullstate_clears_unreported(void **state)
{
	struct fixture *f = *state;
	const char *one[] = {"c1:100:Alice:0"};
	struct dn_update *upd;

	apply(f, update("*00", -1, false, one, 1), 1000);
	apply(f, update("*01", -1, false, one, 1), 1000);
	assert_int_equal(2, f->nchanged);

	/* a full-state list that reports only *01, unchanged */
	upd = update("*01", -1, false, one, 1);
	upd->fullstate = true;
	apply(f, upd, 2000);
	assert_int_equal(3, f->nchanged);
	assert_string_equal("*00", f->changed[2]);
	assert_false(store_occupied(f->store, "*00"));
	assert_true(store_occupied(f->store, "*01"));
}


static void test_session_sweep(void **state)
{
	struct fixture *f = *state;
	const char *one[] = {"c1:100:Alice:0"};
	const char *two[] = {"c2:200:Bob:0"};

	apply(f, update("*00", 3, false, one, 1), 1000);
	apply(f, update("*01", 7, false, two, 1), 1000);
	assert_int_equal(2, f->nchanged);

	/* a new upstream session whose first report names only *01 */
	store_new_session(f->store);
	apply(f, update("*01", 0, false, two, 1), 2000);
	assert_int_equal(2, f->nchanged);
	store_session_sweep(f->store);

	assert_int_equal(3, f->nchanged);
	assert_string_equal("*00", f->changed[2]);
	assert_false(store_occupied(f->store, "*00"));
	assert_true(store_occupied(f->store, "*01"));

	/* sweeping again changes nothing */
	store_session_sweep(f->store);
	assert_int_equal(3, f->nchanged);
}


/* A DN listed with its state unknown (an RLMI resource without a body
   part) keeps its calls and their times: not by a full-state list,
   not by a new session's sweep */
static struct dn_update *unknown(const char *dn)
{
	struct dn_update *upd;
	struct dn_report *rep;

	assert_int_equal(0, dn_update_alloc(&upd));
	assert_int_equal(0, dn_report_add(&rep, upd, dn, strlen(dn)));
	rep->unknown = true;

	return upd;
}


/* A DN the PBX stopped reporting: neither lit nor idle, once; when its
   state comes back (versions starting over) it is shown again, a call
   still parked with the time it was parked at */
static void test_unknown_hides_state(void **state)
{
	struct fixture *f = *state;
	const char *one[] = {"c1:100:Alice:0"};

	apply(f, update("*00", 7, false, one, 1), 1000);
	assert_int_equal(1, f->nchanged);
	assert_true(store_known(f->store, "*00"));

	apply(f, unknown("*00"), 2000);
	assert_int_equal(2, f->nchanged);
	assert_string_equal("*00", f->changed[1]);
	assert_false(store_known(f->store, "*00"));
	assert_false(store_occupied(f->store, "*00"));
	assert_null(store_calls(f->store, "*00"));
	assert_true(store_known(f->store, "*01"));

	apply(f, unknown("*00"), 3000);
	assert_int_equal(2, f->nchanged);

	apply(f, update("*00", 0, false, one, 1), 9000);
	assert_int_equal(3, f->nchanged);
	assert_true(store_known(f->store, "*00"));
	assert_true(store_occupied(f->store, "*00"));
	assert_int_equal(1000, call_at(f, "*00", 0)->parked_at);

	/* and once more: back idle */
	apply(f, unknown("*00"), 10000);
	apply(f, update("*00", 0, false, NULL, 0), 11000);
	assert_int_equal(5, f->nchanged);
	assert_true(store_known(f->store, "*00"));
	assert_false(store_occupied(f->store, "*00"));
}


/* A full state that does not name an unknown DN makes it idle; so does
   a new session's sweep */
static void test_unknown_cleared_by_full_state(void **state)
{
	struct fixture *f = *state;
	const char *one[] = {"c1:100:Alice:0"};
	struct dn_update *upd;

	apply(f, update("*00", 0, false, one, 1), 1000);
	apply(f, update("*01", 0, false, one, 1), 1000);
	apply(f, unknown("*00"), 2000);
	apply(f, unknown("*01"), 2000);
	assert_int_equal(4, f->nchanged);

	upd = update("*01", -1, false, NULL, 0);
	upd->fullstate = true;
	apply(f, upd, 3000);
	assert_int_equal(6, f->nchanged);
	assert_true(store_known(f->store, "*00"));
	assert_false(store_occupied(f->store, "*00"));
	assert_true(store_known(f->store, "*01"));

	apply(f, unknown("*00"), 4000);
	store_new_session(f->store);
	store_session_sweep(f->store);
	assert_int_equal(8, f->nchanged);
	assert_true(store_known(f->store, "*00"));
}


static void test_pending_keeps_state(void **state)
{
	struct fixture *f = *state;
	const char *one[] = {"c1:100:Alice:0"};
	struct dn_update *upd;
	struct dn_report *rep;

	apply(f, update("*00", 3, false, one, 1), 1000);
	apply(f, update("*01", 4, false, one, 1), 1000);
	assert_int_equal(2, f->nchanged);

	store_new_session(f->store);
	assert_int_equal(0, dn_update_alloc(&upd));
	assert_int_equal(0, dn_report_add(&rep, upd, "*00", 3));
	rep->pending = true;
	upd->fullstate = true;
	apply(f, upd, 5000);
	store_session_sweep(f->store);

	/* *01 was not listed: idle; *00 was pending: as it was */
	assert_int_equal(3, f->nchanged);
	assert_string_equal("*01", f->changed[2]);
	assert_true(store_occupied(f->store, "*00"));
	assert_false(store_occupied(f->store, "*01"));

	/* its state then comes, version 0 of the new session, and the
	   call keeps the time it was parked at */
	apply(f, update("*00", 0, false, one, 1), 9000);
	assert_int_equal(3, f->nchanged);
	assert_int_equal(1000, call_at(f, "*00", 0)->parked_at);
}


static void test_caller_change_is_change(void **state)
{
	struct fixture *f = *state;
	const char *a[] = {"c1:100:Alice:0"};
	const char *b[] = {"c1:100:Alice Smith:0"};

	apply(f, update("*00", -1, false, a, 1), 1000);
	apply(f, update("*00", -1, false, b, 1), 2000);
	assert_int_equal(2, f->nchanged);
	assert_string_equal("Alice Smith", call_at(f, "*00", 0)->name);
}


#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_park_and_retrieve),
	T(test_oldest_first),
	T(test_stale_version_ignored),
	T(test_partial),
	T(test_unmapped_dn_ignored),
	T(test_fullstate_clears_unreported),
	T(test_session_sweep),
	T(test_pending_keeps_state),
	T(test_unknown_hides_state),
	T(test_unknown_cleared_by_full_state),
	T(test_caller_change_is_change),
};

const struct unit_group unit_store = UNIT_GROUP(store, tests);
