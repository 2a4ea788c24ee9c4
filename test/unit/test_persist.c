/**
 * @file test_persist.c  The subscription database
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "persist.h"
#include "unit.h"


struct seen {
	unsigned n;
	char callid[64];
	char ltag[64];      /**< Of the last row                         */
	uint32_t version, cseq;
	uint64_t expires_at;
	int tp;
	struct sa nat, laddr, phone;
	char tenant[32];    /**< Of the last row                         */
	bool list;          /**< Of the last row                         */
};


static void load_h(const struct persist_sub *s, void *arg)
{
	struct seen *seen = arg;

	++seen->n;
	str_ncpy(seen->callid, s->callid, sizeof(seen->callid));
	str_ncpy(seen->ltag, s->ltag, sizeof(seen->ltag));
	seen->version = s->version;
	seen->cseq = s->cseq;
	seen->expires_at = s->expires_at;
	seen->tp = s->tp;
	seen->nat = s->nat;
	seen->laddr = s->laddr;
	seen->phone = s->phone;
	str_ncpy(seen->tenant, s->tenant, sizeof(seen->tenant));
	seen->list = s->list;
	assert_string_equal("sip:park-1@h", s->local);
	assert_string_equal("park-1", s->orbit);
}


static void remove_side_files(const char *path)
{
	char f[80];

	(void)re_snprintf(f, sizeof(f), "%s-wal", path);
	unlink(f);
	(void)re_snprintf(f, sizeof(f), "%s-shm", path);
	unlink(f);
}


static void sub_init(struct persist_sub *s, const char *callid)
{
	memset(s, 0, sizeof(*s));
	s->callid = callid;
	s->ltag = "00000000deadbeef";
	s->rtag = "phone-tag";
	s->local = "sip:park-1@h";
	s->remote = "sip:phone@10.0.0.5";
	s->target = "sip:phone@10.0.0.5:5062";
	s->orbit = "park-1";
	s->event = "dialog";
	s->entity = "sip:park-1@h";
	s->expires_at = 1800000000000ULL;
	s->version = 3;
	s->tp = 1;
}


static void test_save_update_delete_reopen(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	struct persist *p = NULL;
	struct persist_sub s;
	struct seen seen;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	unlink(path);

	assert_int_equal(0, persist_open(&p, path));
	sub_init(&s, "call-a");
	assert_int_equal(0, persist_save(p, &s));
	sub_init(&s, "call-b");
	assert_int_equal(0, persist_save(p, &s));
	assert_int_equal(0, persist_update(p, "call-b", "phone-tag",
					   "00000000deadbeef", 9,
					   1879048300, 1900000000000ULL));
	assert_int_equal(0, persist_delete(p, "call-a", "phone-tag",
					   "00000000deadbeef"));
	p = mem_deref(p);

	/* what a new process finds */
	assert_int_equal(0, persist_open(&p, path));
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(0, persist_load(p, load_h, &seen));
	assert_int_equal(1, seen.n);
	assert_string_equal("call-b", seen.callid);
	assert_int_equal(9, seen.version);
	assert_int_equal(1879048300, seen.cseq);
	assert_true(seen.expires_at == 1900000000000ULL);
	assert_int_equal(1, seen.tp);
	p = mem_deref(p);

	unlink(path);
	remove_side_files(path);
}


static void test_corrupt_set_aside(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	char aside[64];
	struct persist *p = NULL;
	struct seen seen;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	assert_true(write(fd, "not a database at all, just text\n", 33) ==
		    33);
	close(fd);

	assert_int_equal(0, persist_open(&p, path));
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(0, persist_load(p, load_h, &seen));
	assert_int_equal(0, seen.n);
	p = mem_deref(p);

	(void)re_snprintf(aside, sizeof(aside), "%s.corrupt", path);
	assert_int_equal(0, access(aside, F_OK));
	unlink(aside);
	unlink(path);
	remove_side_files(path);
}


/* The columns every schema has */
#define COLS_V1 \
	"callid TEXT NOT NULL, rtag TEXT NOT NULL, ltag TEXT NOT NULL," \
	" local TEXT NOT NULL, remote TEXT NOT NULL, target TEXT NOT NULL," \
	" orbit TEXT NOT NULL, event TEXT NOT NULL, entity TEXT NOT NULL," \
	" expires_at INTEGER NOT NULL, cseq INTEGER NOT NULL," \
	" version INTEGER NOT NULL, tp INTEGER NOT NULL"


/* A database an earlier parkblf left: its table, and the rows SQL
   inserts */
static void made_database(const char *path, const char *table,
			  const char *rows)
{
	sqlite3 *db;

	assert_int_equal(SQLITE_OK, sqlite3_open(path, &db));
	assert_int_equal(SQLITE_OK, sqlite3_exec(db, table, NULL, NULL,
						 NULL));
	assert_int_equal(SQLITE_OK, sqlite3_exec(db, rows, NULL, NULL,
						 NULL));
	sqlite3_close(db);
}


/* As parkblf 0.1.0 left it (schema 1: keyed by Call-ID and the
   phone's tag, no nat and laddr) */
static void old_database(const char *path, const char *rows)
{
	made_database(path, "CREATE TABLE subs (" COLS_V1 ", PRIMARY KEY "
		      "(callid, rtag));", rows);
}


/* As the parkblf before tenants left it (schema 2: keyed by the whole
   dialog, nat and laddr; no tenant, no phone) */
static void v2_database(const char *path, const char *rows)
{
	made_database(path, "CREATE TABLE subs (" COLS_V1 ", nat TEXT NOT "
		      "NULL DEFAULT '', laddr TEXT NOT NULL DEFAULT '', "
		      "PRIMARY KEY (callid, rtag, ltag));", rows);
}


/* As the parkblf before persisted BLF lists left it (schema 3: tenant
   and phone; no list) */
static void v3_database(const char *path, const char *rows)
{
	made_database(path, "CREATE TABLE subs (" COLS_V1 ", nat TEXT NOT "
		      "NULL DEFAULT '', laddr TEXT NOT NULL DEFAULT '', "
		      "tenant TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL "
		      "DEFAULT '', PRIMARY KEY (callid, rtag, ltag));"
		      "PRAGMA user_version=3;", rows);
}


/* What a new process finds: open (again) and load every row */
static void reopen(struct persist **pp, const char *path, struct seen *seen)
{
	*pp = mem_deref(*pp);
	assert_int_equal(0, persist_open(pp, path));
	memset(seen, 0, sizeof(*seen));
	assert_int_equal(0, persist_load(*pp, load_h, seen));
}


static void temp_path(char *path)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	unlink(path);
}


/* Two subscriptions that share Call-ID and the phone's tag (a phone
 * that forks, or one hostile) are two dialogs, told apart by parkblf's
 * own tag: each keeps its row, ending one leaves the other's */
static void test_dialog_key(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	struct persist *p = NULL;
	struct persist_sub s;
	struct seen seen;
	(void)state;

	temp_path(path);
	assert_int_equal(0, persist_open(&p, path));
	sub_init(&s, "call-same");
	s.ltag = "000000000000000a";
	assert_int_equal(0, persist_save(p, &s));
	s.ltag = "000000000000000b";
	s.target = "sip:other@10.0.0.6:5062";
	assert_int_equal(0, persist_save(p, &s));
	p = mem_deref(p);

	reopen(&p, path, &seen);
	assert_int_equal(2, seen.n);

	/* only the first one ends */
	assert_int_equal(0, persist_update(p, "call-same", "phone-tag",
					   "000000000000000b", 7, 0,
					   1900000000000ULL));
	assert_int_equal(0, persist_delete(p, "call-same", "phone-tag",
					   "000000000000000a"));
	p = mem_deref(p);

	reopen(&p, path, &seen);
	assert_int_equal(1, seen.n);
	assert_string_equal("000000000000000b", seen.ltag);
	assert_int_equal(7, seen.version);
	p = mem_deref(p);
	unlink(path);
	remove_side_files(path);
}


/* A database keyed the old way (Call-ID, phone's tag) is rekeyed: its
 * rows resume, and then hold a second dialog of the same pair */
static void test_rekey_old_database(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	struct persist *p = NULL;
	struct persist_sub s;
	struct seen seen;
	(void)state;

	temp_path(path);
	old_database(path, "INSERT INTO subs VALUES ('call-same','phone-"
		     "tag','000000000000000a','sip:park-1@h','sip:p@h','sip:"
		     "p@h','park-1','dialog','sip:park-1@h',1800000000000,0,"
		     "4,0);");

	reopen(&p, path, &seen);
	assert_int_equal(1, seen.n);
	assert_string_equal("000000000000000a", seen.ltag);
	assert_int_equal(4, seen.version);

	sub_init(&s, "call-same");
	s.ltag = "000000000000000b";
	assert_int_equal(0, persist_save(p, &s));
	p = mem_deref(p);

	reopen(&p, path, &seen);
	assert_int_equal(2, seen.n);
	p = mem_deref(p);
	unlink(path);
	remove_side_files(path);
}


/* Behind NAT: where the phone is and the address it spoke to come
 * back; a database of the schema before them gets the columns, and its
 * rows read as not behind NAT */
static void test_nat_columns(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	struct persist *p = NULL;
	struct persist_sub s;
	struct seen seen;
	struct sa nat, la;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	unlink(path);

	/* as parkblf 0.1.0 (before nat and laddr) left it */
	old_database(path, "INSERT INTO subs VALUES ('call-old','phone-"
		     "tag','0000000000000001','sip:park-1@h','sip:p@h','sip:"
		     "p@h','park-1','dialog','sip:park-1@h',1800000000000,0,"
		     "1,0);");

	assert_int_equal(0, persist_open(&p, path));
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(0, persist_load(p, load_h, &seen));
	assert_int_equal(1, seen.n);
	assert_false(sa_isset(&seen.nat, SA_ADDR));
	assert_false(sa_isset(&seen.laddr, SA_ADDR));
	assert_int_equal(0, persist_delete(p, "call-old", "phone-tag",
					   "0000000000000001"));

	assert_int_equal(0, sa_set_str(&nat, "203.0.113.7", 40123));
	assert_int_equal(0, sa_set_str(&la, "::1", 5060));
	sub_init(&s, "call-nat");
	s.nat = nat;
	s.laddr = la;
	assert_int_equal(0, persist_save(p, &s));
	p = mem_deref(p);

	assert_int_equal(0, persist_open(&p, path));
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(0, persist_load(p, load_h, &seen));
	assert_int_equal(1, seen.n);
	assert_true(sa_cmp(&seen.nat, &nat, SA_ALL));
	assert_true(sa_cmp(&seen.laddr, &la, SA_ALL));
	p = mem_deref(p);

	unlink(path);
	remove_side_files(path);
}


static int user_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(SQLITE_OK, sqlite3_open(path, &db));
	assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db,
		"PRAGMA user_version", -1, &st, NULL));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);

	return v;
}


/* Each row names its tenant and the address the limits counted (a
 * trusted proxy's Via); a database from before tenants gets both
 * columns and schema version 3, its rows are parkblf.conf's PBX's and
 * count by their Contact as before */
static void test_tenant_columns(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	struct persist *p = NULL;
	struct persist_sub s;
	struct seen seen;
	struct sa phone;
	(void)state;

	temp_path(path);
	v2_database(path, "INSERT INTO subs VALUES ('call-v2','phone-tag',"
		    "'0000000000000001','sip:park-1@h','sip:p@h','sip:p@h',"
		    "'park-1','dialog','sip:park-1@h',1800000000000,0,5,0,"
		    "'203.0.113.7:40123','');");
	assert_int_equal(0, user_version(path));

	reopen(&p, path, &seen);
	assert_int_equal(1, seen.n);
	assert_string_equal("", seen.tenant);
	assert_false(sa_isset(&seen.phone, SA_ADDR));
	assert_int_equal(5, seen.version);
	assert_true(sa_isset(&seen.nat, SA_ALL));
	assert_int_equal(4, user_version(path));
	assert_int_equal(0, persist_delete(p, "call-v2", "phone-tag",
					   "0000000000000001"));

	assert_int_equal(0, sa_set_str(&phone, "127.0.0.31", 40000));
	sub_init(&s, "call-tenant");
	s.tenant = "customer-a";
	s.phone = phone;
	assert_int_equal(0, persist_save(p, &s));
	p = mem_deref(p);

	reopen(&p, path, &seen);
	assert_int_equal(1, seen.n);
	assert_string_equal("customer-a", seen.tenant);
	assert_true(sa_cmp(&seen.phone, &phone, SA_ALL));

	/* NULL when saving: parkblf.conf's PBX */
	sub_init(&s, "call-tenant");
	assert_int_equal(0, persist_save(p, &s));
	reopen(&p, path, &seen);
	assert_int_equal(1, seen.n);
	assert_string_equal("", seen.tenant);
	assert_false(sa_isset(&seen.phone, SA_ADDR));
	p = mem_deref(p);

	/* opened again: nothing to migrate, the rows stay */
	reopen(&p, path, &seen);
	assert_int_equal(1, seen.n);
	assert_int_equal(4, user_version(path));
	p = mem_deref(p);
	unlink(path);
	remove_side_files(path);
}


/* The schema 0.1.0 wrote goes all the way: rekeyed, nat, laddr, tenant
 * and phone, version 3 */
static void test_v1_to_v3(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	struct persist *p = NULL;
	struct seen seen;
	(void)state;

	temp_path(path);
	old_database(path, "INSERT INTO subs VALUES ('call-v1','phone-"
		     "tag','000000000000000a','sip:park-1@h','sip:p@h','sip:"
		     "p@h','park-1','dialog','sip:park-1@h',1800000000000,0,"
		     "4,0);");
	reopen(&p, path, &seen);
	assert_int_equal(1, seen.n);
	assert_string_equal("", seen.tenant);
	assert_false(sa_isset(&seen.phone, SA_ADDR));
	assert_int_equal(4, user_version(path));
	p = mem_deref(p);
	unlink(path);
	remove_side_files(path);
}


/* A database of the version before gets the list column (its rows are
 * single-orbit subscriptions, as they were); a list subscription's row
 * reads back as one */
static void test_list_column(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	struct persist *p = NULL;
	struct persist_sub s;
	struct seen seen;
	(void)state;

	temp_path(path);
	v3_database(path, "INSERT INTO subs VALUES ('call-v3','phone-tag',"
		    "'0000000000000002','sip:park-1@h','sip:p@h','sip:p@h',"
		    "'park-1','dialog','sip:park-1@h',1800000000000,0,7,0,"
		    "'','','customer-b','');");
	assert_int_equal(3, user_version(path));

	reopen(&p, path, &seen);
	assert_int_equal(1, seen.n);
	assert_false(seen.list);
	assert_int_equal(7, seen.version);
	assert_string_equal("customer-b", seen.tenant);
	assert_int_equal(4, user_version(path));
	assert_int_equal(0, persist_delete(p, "call-v3", "phone-tag",
					   "0000000000000002"));

	sub_init(&s, "call-list");
	s.list = true;
	assert_int_equal(0, persist_save(p, &s));
	reopen(&p, path, &seen);
	assert_int_equal(1, seen.n);
	assert_true(seen.list);
	assert_string_equal("call-list", seen.callid);
	p = mem_deref(p);
	unlink(path);
	remove_side_files(path);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_save_update_delete_reopen),
	cmocka_unit_test(test_corrupt_set_aside),
	cmocka_unit_test(test_dialog_key),
	cmocka_unit_test(test_rekey_old_database),
	cmocka_unit_test(test_nat_columns),
	cmocka_unit_test(test_tenant_columns),
	cmocka_unit_test(test_v1_to_v3),
	cmocka_unit_test(test_list_column),
};

const struct unit_group unit_persist = UNIT_GROUP(persist, tests);
