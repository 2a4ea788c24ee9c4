/**
 * @file test_history.c  What happened today: the ring and the histogram
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>
#include "history.h"
#include "histdb.h"
#include "unit.h"


static struct parked_call call(const char *number, uint64_t parked_at)
{
	struct parked_call pc;

	memset(&pc, 0, sizeof(pc));
	pc.number = (char *)number;
	pc.parked_at = parked_at;

	return pc;
}


static const char *text(struct mbuf *mb)
{
	(void)mbuf_write_u8(mb, 0);

	return (const char *)mb->buf;
}


/* Newest first; the oldest drops out past history_max */
static void test_ring(void **state)
{
	struct history *h = NULL;
	struct mbuf *mb = mbuf_alloc(256);
	struct parked_call a = call("100", 1000000), b = call("200", 2000000),
		c = call("300", 3000000);
	(void)state;

	assert_int_equal(0, history_alloc(&h, 2));
	assert_int_equal(0, history_json(mb, h, 5));
	assert_string_equal("[]", text(mb));

	history_add(h, "park-1", &a, 1005000);
	history_add(h, "park-2", &b, 2065000);
	history_add(h, "park-1", &c, 3000500);

	mbuf_rewind(mb);
	assert_int_equal(0, history_json(mb, h, 5));
	assert_non_null(strstr(text(mb), "[{\"orbit\":\"park-1\","
			       "\"number\":\"300\",\"name\":null,"));
	assert_non_null(strstr((char *)mb->buf, "\"waited_s\":0},"
			       "{\"orbit\":\"park-2\",\"number\":\"200\""));
	assert_non_null(strstr((char *)mb->buf, "\"waited_s\":65}]"));
	assert_null(strstr((char *)mb->buf, "\"100\""));

	/* N limits */
	mbuf_rewind(mb);
	assert_int_equal(0, history_json(mb, h, 1));
	assert_null(strstr(text(mb), "\"200\""));

	mem_deref(h);
	mem_deref(mb);
}


/* Every call counts in the histogram, kept or not */
static void test_histogram(void **state)
{
	struct history *h = NULL;
	struct mbuf *mb = mbuf_alloc(1024);
	struct parked_call a = call("1", 0);
	(void)state;

	assert_int_equal(0, history_alloc(&h, 0));
	history_add(h, "park-1", &a, 5000);      /* 5 s    */
	history_add(h, "park-1", &a, 10000);     /* 10 s: le 10 */
	history_add(h, "park-1", &a, 10001);     /* just over */
	history_add(h, "park-1", &a, 4000000);   /* over 1800 s */

	assert_int_equal(0, history_metrics(mb, h));
	text(mb);
	assert_non_null(strstr((char *)mb->buf, "# TYPE parkblf_park_wait_"
			       "seconds histogram\n"));
	assert_non_null(strstr((char *)mb->buf, "_bucket{le=\"10\"} 2\n"));
	assert_non_null(strstr((char *)mb->buf, "_bucket{le=\"30\"} 3\n"));
	assert_non_null(strstr((char *)mb->buf, "_bucket{le=\"1800\"} 3\n"));
	assert_non_null(strstr((char *)mb->buf, "_bucket{le=\"+Inf\"} 4\n"));
	assert_non_null(strstr((char *)mb->buf,
			       "parkblf_park_wait_seconds_sum 4025.001\n"));
	assert_non_null(strstr((char *)mb->buf,
			       "parkblf_park_wait_seconds_count 4\n"));

	mbuf_rewind(mb);
	assert_int_equal(0, history_json(mb, h, 5));
	assert_string_equal("[]", text(mb));

	mem_deref(h);
	mem_deref(mb);
}


static void loaded(const char *orbit, const struct parked_call *pc,
		   uint64_t ended_at, void *arg)
{
	struct mbuf *mb = arg;

	(void)mbuf_printf(mb, "%s %s %s %llu %llu;", orbit,
			  pc->number ? pc->number : "-",
			  pc->name ? pc->name : "-",
			  (unsigned long long)pc->parked_at,
			  (unsigned long long)ended_at);
}


/* state_db keeps the newest history_max calls across a restart */
static void test_histdb(void **state)
{
	char path[] = "/tmp/parkblf-histdb-XXXXXX";
	struct histdb *h = NULL;
	struct mbuf *mb = mbuf_alloc(256);
	struct parked_call a = call("100", 1000), b = call("200", 2000),
		c = call("300", 3000);
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	(void)close(fd);
	b.name = "Bob \"B\"";

	assert_int_equal(0, histdb_open(&h, path));
	assert_int_equal(0, histdb_add(h, "", 2, "park-1", &a, 1500));
	assert_int_equal(0, histdb_add(h, "", 2, "park-2", &b, 2500));
	assert_int_equal(0, histdb_add(h, "", 2, "park-1", &c, 3500));
	h = mem_deref(h);

	assert_int_equal(0, histdb_open(&h, path));
	assert_int_equal(0, histdb_load(h, "", 2, loaded, mb));
	(void)mbuf_write_u8(mb, 0);
	assert_string_equal("park-2 200 Bob \"B\" 2000 2500;"
			    "park-1 300 - 3000 3500;", (char *)mb->buf);

	mem_deref(h);
	mem_deref(mb);
	(void)unlink(path);
}


static bool keep_not_b(const char *tenant, void *arg)
{
	(void)arg;

	return strcmp(tenant, "b") != 0;
}


/* Every tenant's calls in one table, each its own history_max: one
 * tenant's calls never push out another's; a tenant not kept is
 * dropped, the others stay */
static void test_histdb_tenants(void **state)
{
	char path[] = "/tmp/parkblf-histdb-XXXXXX";
	struct histdb *h = NULL;
	struct mbuf *mb = mbuf_alloc(256);
	struct parked_call a = call("100", 1000), b = call("200", 2000),
		c = call("300", 3000), d = call("400", 4000);
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	(void)close(fd);

	assert_int_equal(0, histdb_open(&h, path));
	assert_int_equal(0, histdb_add(h, "a", 1, "park-1", &a, 1500));
	assert_int_equal(0, histdb_add(h, "", 5, "park-1", &b, 2500));
	assert_int_equal(0, histdb_add(h, "b", 5, "park-9", &c, 3500));
	assert_int_equal(0, histdb_add(h, "a", 1, "park-2", &d, 4500));
	/* history_max 0: not written */
	assert_int_equal(0, histdb_add(h, "z", 0, "park-1", &d, 4500));
	h = mem_deref(h);

	assert_int_equal(0, histdb_open(&h, path));
	assert_int_equal(0, histdb_load(h, "a", 5, loaded, mb));
	assert_int_equal(0, histdb_load(h, "", 5, loaded, mb));
	assert_int_equal(0, histdb_load(h, "b", 5, loaded, mb));
	assert_int_equal(0, histdb_load(h, "z", 5, loaded, mb));
	(void)mbuf_write_u8(mb, 0);
	assert_string_equal("park-2 400 - 4000 4500;"
			    "park-1 200 - 2000 2500;"
			    "park-9 300 - 3000 3500;", (char *)mb->buf);

	assert_int_equal(0, histdb_prune(h, keep_not_b, NULL));
	h = mem_deref(h);

	assert_int_equal(0, histdb_open(&h, path));
	mbuf_rewind(mb);
	assert_int_equal(0, histdb_load(h, "b", 5, loaded, mb));
	assert_int_equal(0, histdb_load(h, "", 5, loaded, mb));
	(void)mbuf_write_u8(mb, 0);
	assert_string_equal("park-1 200 - 2000 2500;", (char *)mb->buf);

	mem_deref(h);
	mem_deref(mb);
	(void)unlink(path);
}


/* A history table of the schema before tenants: its rows are
 * parkblf.conf's PBX's */
static void test_histdb_old_table(void **state)
{
	char path[] = "/tmp/parkblf-histdb-XXXXXX";
	struct histdb *h = NULL;
	struct mbuf *mb = mbuf_alloc(256);
	struct parked_call c = call("300", 3000);
	sqlite3 *db;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	(void)close(fd);
	assert_int_equal(SQLITE_OK, sqlite3_open(path, &db));
	assert_int_equal(SQLITE_OK, sqlite3_exec(db,
		"CREATE TABLE history ( id INTEGER PRIMARY KEY, orbit TEXT NOT"
		" NULL, number TEXT, name TEXT, parked_at INTEGER NOT NULL,"
		" ended_at INTEGER NOT NULL);"
		"INSERT INTO history (orbit, number, name, parked_at, "
		"ended_at) VALUES ('park-1', '100', 'Alice', 1000, 1500);",
		NULL, NULL, NULL));
	sqlite3_close(db);

	assert_int_equal(0, histdb_open(&h, path));
	assert_int_equal(0, histdb_add(h, "a", 5, "park-3", &c, 3500));
	assert_int_equal(0, histdb_load(h, "", 5, loaded, mb));
	(void)mbuf_write_u8(mb, 0);
	assert_string_equal("park-1 100 Alice 1000 1500;", (char *)mb->buf);

	mem_deref(h);
	mem_deref(mb);
	(void)unlink(path);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_histdb),
	cmocka_unit_test(test_histdb_tenants),
	cmocka_unit_test(test_histdb_old_table),
	cmocka_unit_test(test_ring),
	cmocka_unit_test(test_histogram),
};

const struct unit_group unit_history = UNIT_GROUP(history, tests);
