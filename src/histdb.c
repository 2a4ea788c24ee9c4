/**
 * @file histdb.c  The history of parked calls kept in state_db
 *
 * With state_db set, each call that leaves its orbit is also written to
 * the table "history" of that SQLite file (its own connection; the
 * subscriptions' table is persist.c's), capped at history_max rows, so
 * /status?history=N and the board's table survive a restart.  A write
 * that fails is logged; the history in memory goes on.
 *
 * Config keys: state_db, history_max.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <sqlite3.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "histdb.h"


enum { BUSY_MS = 200 };

struct histdb {
	sqlite3 *db;
	sqlite3_stmt *insert;
	sqlite3_stmt *trim;
	uint32_t max;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS history ("
	" id INTEGER PRIMARY KEY,"
	" orbit TEXT NOT NULL,"
	" number TEXT,"
	" name TEXT,"
	" parked_at INTEGER NOT NULL,"
	" ended_at INTEGER NOT NULL)";


static void destructor(void *arg)
{
	struct histdb *h = arg;

	(void)sqlite3_finalize(h->insert);
	(void)sqlite3_finalize(h->trim);
	(void)sqlite3_close(h->db);
}


/**
 * Open the history table of a state_db file
 *
 * @param hp   Where to store it
 * @param path SQLite file (persist.c has opened, or set aside, it)
 * @param max  Rows kept (history_max, > 0)
 *
 * @return 0 if success, otherwise errorcode
 */
int histdb_open(struct histdb **hp, const char *path, uint32_t max)
{
	struct histdb *h;
	int rc;

	if (!hp || !path || !max)
		return EINVAL;

	h = mem_zalloc(sizeof(*h), destructor);
	if (!h)
		return ENOMEM;

	h->max = max;
	rc = sqlite3_open(path, &h->db);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(h->db, BUSY_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h->db, schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "INSERT INTO history (orbit,"
					" number, name, parked_at, ended_at)"
					" VALUES (?, ?, ?, ?, ?)", -1,
					&h->insert, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "DELETE FROM history WHERE "
					"id <= (SELECT max(id) FROM history)"
					" - ?", -1, &h->trim, NULL);
	if (rc != SQLITE_OK) {
		log_warn("histdb: %s: %s; the history of parked calls will "
			 "not survive a restart", path, h->db ?
			 sqlite3_errmsg(h->db) : sqlite3_errstr(rc));
		mem_deref(h);
		return EIO;
	}

	*hp = h;

	return 0;
}


static int run(struct histdb *h, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);

	if (rc != SQLITE_DONE) {
		log_warn("histdb: %s", sqlite3_errmsg(h->db));
		return EIO;
	}

	return 0;
}


static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		(void)sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		(void)sqlite3_bind_null(st, i);
}


/**
 * Write a call that left its orbit; the oldest rows past history_max go
 *
 * @param h        History table
 * @param orbit    Orbit name
 * @param pc       The call
 * @param ended_at When it left, ms since the epoch
 *
 * @return 0 if success, otherwise errorcode
 */
int histdb_add(struct histdb *h, const char *orbit,
	       const struct parked_call *pc, uint64_t ended_at)
{
	int err;

	if (!h || !orbit || !pc)
		return EINVAL;

	bind_text(h->insert, 1, orbit);
	bind_text(h->insert, 2, pc->number);
	bind_text(h->insert, 3, pc->name);
	(void)sqlite3_bind_int64(h->insert, 4, (sqlite3_int64)pc->parked_at);
	(void)sqlite3_bind_int64(h->insert, 5, (sqlite3_int64)ended_at);
	err = run(h, h->insert);
	if (err)
		return err;

	(void)sqlite3_bind_int64(h->trim, 1, (sqlite3_int64)h->max);

	return run(h, h->trim);
}


static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}


/**
 * Read the stored calls, oldest first
 *
 * @param h     History table
 * @param loadh Called for each
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int histdb_load(struct histdb *h, histdb_load_h *loadh, void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!h || !loadh)
		return EINVAL;

	rc = sqlite3_prepare_v2(h->db, "SELECT orbit, number, name, "
				"parked_at, ended_at FROM (SELECT * FROM "
				"history ORDER BY id DESC LIMIT ?) ORDER BY "
				"id", -1, &st, NULL);
	if (rc == SQLITE_OK)
		(void)sqlite3_bind_int64(st, 1, (sqlite3_int64)h->max);

	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct parked_call pc;

		memset(&pc, 0, sizeof(pc));
		pc.number = (char *)col_text(st, 1);
		pc.name = (char *)col_text(st, 2);
		pc.parked_at = (uint64_t)sqlite3_column_int64(st, 3);

		if (col_text(st, 0))
			loadh(col_text(st, 0), &pc,
			      (uint64_t)sqlite3_column_int64(st, 4), arg);
		rc = SQLITE_OK;
	}

	(void)sqlite3_finalize(st);

	if (rc != SQLITE_DONE) {
		log_warn("histdb: %s", sqlite3_errmsg(h->db));
		return EIO;
	}

	return 0;
}
