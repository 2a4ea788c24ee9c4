/**
 * @file histdb.c  The history of parked calls kept in state_db
 *
 * With state_db set, each call that leaves its orbit is also written to
 * the table "history" of that SQLite file (its own connection, one for
 * every tenant; the subscriptions' table is persist.c's), capped at the
 * tenant's history_max rows, so /status?history=N and the board's table
 * survive a restart.  Each row names its tenant (NAME of
 * tenants_dir/NAME.conf; '' for parkblf.conf's own PBX, as the rows of
 * a file from before tenants read: the column is added to such a file).
 * A write that fails is logged; the history in memory goes on.
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
	sqlite3_stmt *drop;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS history ("
	" id INTEGER PRIMARY KEY,"
	" orbit TEXT NOT NULL,"
	" number TEXT,"
	" name TEXT,"
	" parked_at INTEGER NOT NULL,"
	" ended_at INTEGER NOT NULL,"
	" tenant TEXT NOT NULL DEFAULT '')";

/* A tenant's newest rows are found, and its oldest trimmed, by index */
static const char index_sql[] =
	"CREATE INDEX IF NOT EXISTS history_tenant ON history (tenant, id)";


static void destructor(void *arg)
{
	struct histdb *h = arg;

	(void)sqlite3_finalize(h->insert);
	(void)sqlite3_finalize(h->trim);
	(void)sqlite3_finalize(h->drop);
	(void)sqlite3_close(h->db);
}


/* A table of the schema before tenants gets the column (its rows are
   parkblf.conf's PBX's) */
static int migrate(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc, has = 0;

	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info("
				"'history') WHERE name='tenant'", -1, &st,
				NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		has = sqlite3_column_int(st, 0);
	(void)sqlite3_finalize(st);

	if (rc == SQLITE_OK && !has)
		rc = sqlite3_exec(db, "ALTER TABLE history ADD COLUMN tenant "
				  "TEXT NOT NULL DEFAULT ''", NULL, NULL,
				  NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, index_sql, NULL, NULL, NULL);

	return rc;
}


/**
 * Open the history table of a state_db file (every tenant's)
 *
 * @param hp   Where to store it
 * @param path SQLite file (persist.c has opened, or set aside, it)
 *
 * @return 0 if success, otherwise errorcode
 */
int histdb_open(struct histdb **hp, const char *path)
{
	struct histdb *h;
	int rc;

	if (!hp || !path)
		return EINVAL;

	h = mem_zalloc(sizeof(*h), destructor);
	if (!h)
		return ENOMEM;

	rc = sqlite3_open(path, &h->db);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(h->db, BUSY_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h->db, schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = migrate(h->db);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "INSERT INTO history (orbit,"
					" number, name, parked_at, ended_at,"
					" tenant) VALUES (?, ?, ?, ?, ?, ?)",
					-1, &h->insert, NULL);
	/* the tenant's rows older than its max-th newest */
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "DELETE FROM history WHERE "
					"tenant = ?1 AND id < (SELECT id FROM "
					"history WHERE tenant = ?1 ORDER BY "
					"id DESC LIMIT 1 OFFSET ?2 - 1)", -1,
					&h->trim, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "DELETE FROM history WHERE "
					"tenant = ?", -1, &h->drop, NULL);
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


static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}


/**
 * Write a call that left a tenant's orbit; the tenant's oldest rows
 * past its history_max go
 *
 * @param h        History table
 * @param tenant   Tenant ("" for parkblf.conf's PBX)
 * @param max      Its history_max (0: nothing is written)
 * @param orbit    Orbit name
 * @param pc       The call
 * @param ended_at When it left, ms since the epoch
 *
 * @return 0 if success, otherwise errorcode
 */
int histdb_add(struct histdb *h, const char *tenant, uint32_t max,
	       const char *orbit, const struct parked_call *pc,
	       uint64_t ended_at)
{
	int err;

	if (!h || !tenant || !orbit || !pc)
		return EINVAL;
	if (!max)
		return 0;

	bind_text(h->insert, 1, orbit);
	bind_text(h->insert, 2, pc->number);
	bind_text(h->insert, 3, pc->name);
	(void)sqlite3_bind_int64(h->insert, 4, (sqlite3_int64)pc->parked_at);
	(void)sqlite3_bind_int64(h->insert, 5, (sqlite3_int64)ended_at);
	bind_text(h->insert, 6, tenant);
	err = run(h, h->insert);
	if (err)
		return err;

	bind_text(h->trim, 1, tenant);
	(void)sqlite3_bind_int64(h->trim, 2, (sqlite3_int64)max);

	return run(h, h->trim);
}


/**
 * Forget a tenant's history (its file is gone)
 *
 * @param h      History table
 * @param tenant Tenant
 *
 * @return 0 if success, otherwise errorcode
 */
int histdb_drop(struct histdb *h, const char *tenant)
{
	if (!h || !tenant)
		return EINVAL;

	bind_text(h->drop, 1, tenant);

	return run(h, h->drop);
}


/**
 * Forget the history of every tenant a handler does not keep (at
 * start-up: tenants whose file is gone)
 *
 * @param h     History table
 * @param keeph Called with each tenant that has rows; false drops them
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int histdb_prune(struct histdb *h, histdb_keep_h *keeph, void *arg)
{
	struct list gone = LIST_INIT;
	sqlite3_stmt *st = NULL;
	struct le *le;
	int rc, err = 0;

	if (!h || !keeph)
		return EINVAL;

	rc = sqlite3_prepare_v2(h->db, "SELECT DISTINCT tenant FROM history",
				-1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = col_text(st, 0);
		struct le *e;

		rc = SQLITE_OK;
		if (!t || keeph(t, arg))
			continue;

		/* dropped once the SELECT is done */
		e = mem_zalloc(sizeof(*e), NULL);
		if (!e || str_dup((char **)&e->data, t)) {
			mem_deref(e);
			err = ENOMEM;
			break;
		}
		list_append(&gone, e, e->data);
	}
	(void)sqlite3_finalize(st);

	if (!err && rc != SQLITE_DONE) {
		log_warn("histdb: %s", sqlite3_errmsg(h->db));
		err = EIO;
	}

	while ((le = list_head(&gone))) {
		list_unlink(le);
		if (!err) {
			log_info("histdb: tenant '%s' is not served: its "
				 "history dropped", (char *)le->data);
			err = histdb_drop(h, le->data);
		}
		mem_deref(le->data);
		mem_deref(le);
	}

	return err;
}


/**
 * Read a tenant's stored calls, oldest first
 *
 * @param h      History table
 * @param tenant Tenant ("" for parkblf.conf's PBX)
 * @param max    Its history_max: the newest so many
 * @param loadh  Called for each
 * @param arg    Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int histdb_load(struct histdb *h, const char *tenant, uint32_t max,
		histdb_load_h *loadh, void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!h || !tenant || !loadh)
		return EINVAL;

	rc = sqlite3_prepare_v2(h->db, "SELECT orbit, number, name, "
				"parked_at, ended_at FROM (SELECT * FROM "
				"history WHERE tenant = ? ORDER BY id DESC "
				"LIMIT ?) ORDER BY id", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		bind_text(st, 1, tenant);
		(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	}

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
