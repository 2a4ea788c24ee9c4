/**
 * @file persist.c  Phone subscriptions kept in SQLite across restarts
 *
 * Phones refresh rarely (often hourly): after a restart, or a crash,
 * parkblf must NOTIFY them on their existing dialogs.  Each phone
 * subscription is a row, written when it is made, refreshed or ended;
 * document versions are written in batches.  WAL journal, so a crash
 * leaves the database consistent.  A database that cannot be opened or
 * read is renamed aside (*.corrupt) and a new one started: never fatal.
 *
 * BLF list subscriptions (RFC 4662) are rows too, marked list (their
 * orbit column is the list's name, their version the next RLMI
 * version).  Every tenant's phones are kept, each row naming its
 * tenant (NAME of tenants_dir/NAME.conf; '' for parkblf.conf's own
 * PBX, as every row of
 * a database from before tenants reads).  A database an earlier version
 * wrote gets the columns added since (PRAGMA user_version says which
 * schema a file has).  Config key: state_db.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "persist.h"


struct persist {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *ins;
	sqlite3_stmt *del;
	sqlite3_stmt *upd;
};

/* The table; a subscription is a dialog: Call-ID, the phone's tag and
   parkblf's own tag (two subscriptions may share the first two) */
#define SUBS_TABLE(name) \
	"CREATE TABLE IF NOT EXISTS " name " (" \
	" callid TEXT NOT NULL, rtag TEXT NOT NULL, ltag TEXT NOT NULL," \
	" local TEXT NOT NULL, remote TEXT NOT NULL, target TEXT NOT NULL," \
	" orbit TEXT NOT NULL, event TEXT NOT NULL, entity TEXT NOT NULL," \
	" expires_at INTEGER NOT NULL, cseq INTEGER NOT NULL," \
	" version INTEGER NOT NULL, tp INTEGER NOT NULL," \
	" nat TEXT NOT NULL DEFAULT '', laddr TEXT NOT NULL DEFAULT ''," \
	" tenant TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT ''," \
	" list INTEGER NOT NULL DEFAULT 0," \
	" PRIMARY KEY (callid, rtag, ltag));"

#define SUBS_COLUMNS "callid, rtag, ltag, local, remote, target, orbit, " \
	"event, entity, expires_at, cseq, version, tp, nat, laddr, tenant, " \
	"phone, list"

/* The schema this code writes (PRAGMA user_version): 1 keyed by
   (callid, rtag), 2 with nat and laddr, 3 with tenant and phone (and
   history.tenant, histdb.c), 4 with list (1: a BLF list subscription,
   blflist.c).  Files of versions 0..3 are migrated. */
enum { SCHEMA_VERSION = 4 };

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	SUBS_TABLE("subs");

/* A table keyed by (callid, rtag) alone, as 0.1.0 made it: copied into
   one keyed by the whole dialog, in one transaction */
static const char rekey[] =
	"BEGIN;"
	SUBS_TABLE("subs_rekey")
	"INSERT INTO subs_rekey (" SUBS_COLUMNS ") SELECT " SUBS_COLUMNS
	" FROM subs;"
	"DROP TABLE subs;"
	"ALTER TABLE subs_rekey RENAME TO subs;"
	"COMMIT;";

/* Columns added since the first schema: ALTER TABLE for a database an
   earlier version wrote (its rows get the default) */
static const struct {
	const char *name;
	const char *alter;
} added[] = {
	{"nat",   "ALTER TABLE subs ADD COLUMN nat TEXT NOT NULL DEFAULT ''"},
	{"laddr", "ALTER TABLE subs ADD COLUMN laddr TEXT NOT NULL "
		  "DEFAULT ''"},
	{"tenant", "ALTER TABLE subs ADD COLUMN tenant TEXT NOT NULL "
		   "DEFAULT ''"},
	{"phone", "ALTER TABLE subs ADD COLUMN phone TEXT NOT NULL "
		  "DEFAULT ''"},
	{"list",  "ALTER TABLE subs ADD COLUMN list INTEGER NOT NULL "
		  "DEFAULT 0"},
};

enum { ADDED_N = sizeof(added) / sizeof(added[0]) };


static void destructor(void *arg)
{
	struct persist *p = arg;

	sqlite3_finalize(p->ins);
	sqlite3_finalize(p->del);
	sqlite3_finalize(p->upd);
	if (p->db)
		sqlite3_close(p->db);
	mem_deref(p->path);
}


/* The number a SELECT count(*) gives, with one text parameter or none */
static int count(struct persist *p, const char *sql, const char *param,
		 int *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(p->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if (param)
			sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : SQLITE_ERROR;
		*n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);

	return rc;
}


static int migrate(struct persist *p)
{
	size_t i;
	int keyc = 0, version = 0;
	int rc;

	rc = count(p, "PRAGMA user_version", NULL, &version);
	if (rc == SQLITE_OK && version > SCHEMA_VERSION)
		log_warn("persist: %s: schema version %d is a later "
			 "parkblf's (this one writes %d); reading it anyway",
			 p->path, version, SCHEMA_VERSION);

	for (i = 0; i < ADDED_N && rc == SQLITE_OK; i++) {
		int has = 0;

		rc = count(p, "SELECT count(*) FROM pragma_table_info('subs') "
			   "WHERE name=?", added[i].name, &has);
		if (rc == SQLITE_OK && !has) {
			rc = sqlite3_exec(p->db, added[i].alter, NULL, NULL,
					  NULL);
			if (rc == SQLITE_OK)
				log_info("persist: %s: added column %s",
					 p->path, added[i].name);
		}
	}

	if (rc == SQLITE_OK)
		rc = count(p, "SELECT count(*) FROM pragma_table_info('subs') "
			   "WHERE pk>0", NULL, &keyc);
	if (rc == SQLITE_OK && keyc != 3) {
		rc = sqlite3_exec(p->db, rekey, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			log_info("persist: %s: subscriptions keyed by their "
				 "whole dialog", p->path);
		else
			(void)sqlite3_exec(p->db, "ROLLBACK", NULL, NULL,
					   NULL);
	}

	if (rc == SQLITE_OK && version < SCHEMA_VERSION) {
		char sql[40];

		(void)re_snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
				  SCHEMA_VERSION);
		rc = sqlite3_exec(p->db, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK && version)
			log_info("persist: %s: schema version %d -> %d",
				 p->path, version, SCHEMA_VERSION);
	}

	return rc;
}


static int prepare(struct persist *p)
{
	int rc;

	rc = sqlite3_exec(p->db, schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = migrate(p);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(p->db,
			"INSERT OR REPLACE INTO subs (" SUBS_COLUMNS ")"
			" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
			&p->ins,
			NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(p->db,
			"DELETE FROM subs WHERE callid=? AND rtag=? AND "
			"ltag=?", -1,
			&p->del, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(p->db,
			"UPDATE subs SET version=?, cseq=?, expires_at=? "
			"WHERE callid=? AND rtag=? AND ltag=?", -1, &p->upd,
			NULL);
	/* a database that reads back wrong is no better than none */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(p->db, "SELECT count(*) FROM subs", NULL,
				  NULL, NULL);

	return rc;
}


static void close_db(struct persist *p)
{
	sqlite3_finalize(p->ins);
	sqlite3_finalize(p->del);
	sqlite3_finalize(p->upd);
	p->ins = p->del = p->upd = NULL;
	sqlite3_close(p->db);
	p->db = NULL;
}


/**
 * Open (or create) the subscription database
 *
 * @param pp   Where to store the handle
 * @param path Database file
 *
 * @return 0 if success, otherwise errorcode
 */
int persist_open(struct persist **pp, const char *path)
{
	struct persist *p;
	int rc, err;

	if (!pp || !path)
		return EINVAL;

	p = mem_zalloc(sizeof(*p), destructor);
	if (!p)
		return ENOMEM;

	err = str_dup(&p->path, path);
	if (err)
		goto out;

	rc = sqlite3_open(path, &p->db);
	if (rc == SQLITE_OK)
		rc = prepare(p);

	if (rc != SQLITE_OK) {
		char aside[512];

		log_error("persist: %s: %s; setting it aside and starting "
			  "afresh", path, p->db ? sqlite3_errmsg(p->db)
			  : sqlite3_errstr(rc));
		close_db(p);
		(void)re_snprintf(aside, sizeof(aside), "%s.corrupt", path);
		if (rename(path, aside))
			(void)remove(path);
		(void)re_snprintf(aside, sizeof(aside), "%s-wal", path);
		(void)remove(aside);
		(void)re_snprintf(aside, sizeof(aside), "%s-shm", path);
		(void)remove(aside);

		rc = sqlite3_open(path, &p->db);
		if (rc == SQLITE_OK)
			rc = prepare(p);
		if (rc != SQLITE_OK) {
			log_error("persist: %s: %s; subscriptions will not "
				  "survive a restart", path,
				  p->db ? sqlite3_errmsg(p->db)
				  : sqlite3_errstr(rc));
			err = EIO;
		}
	}

 out:
	if (err)
		mem_deref(p);
	else
		*pp = p;

	return err;
}


static int step(struct persist *p, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_warn("persist: %s", sqlite3_errmsg(p->db));
		return EIO;
	}

	return 0;
}


/**
 * Store a subscription (insert or replace)
 *
 * @param p Database
 * @param s Subscription
 *
 * @return 0 if success, otherwise errorcode
 */
int persist_save(struct persist *p, const struct persist_sub *s)
{
	char nat[64] = "", laddr[64] = "", phone[64] = "";
	sqlite3_stmt *st;

	if (!p || !s)
		return EINVAL;

	st = p->ins;
	sqlite3_bind_text(st, 1, s->callid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->rtag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->ltag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, s->local, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, s->remote, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, s->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, s->orbit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, s->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, s->entity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)s->expires_at);
	sqlite3_bind_int64(st, 11, s->cseq);
	sqlite3_bind_int64(st, 12, s->version);
	sqlite3_bind_int(st, 13, s->tp);
	if (sa_isset(&s->nat, SA_ALL))
		(void)re_snprintf(nat, sizeof(nat), "%J", &s->nat);
	if (sa_isset(&s->laddr, SA_ALL))
		(void)re_snprintf(laddr, sizeof(laddr), "%J", &s->laddr);
	sqlite3_bind_text(st, 14, nat, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, laddr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, s->tenant ? s->tenant : "", -1,
			  SQLITE_STATIC);
	if (sa_isset(&s->phone, SA_ALL))
		(void)re_snprintf(phone, sizeof(phone), "%J", &s->phone);
	sqlite3_bind_text(st, 17, phone, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 18, s->list ? 1 : 0);

	return step(p, st);
}


/**
 * Forget a subscription
 *
 * @param p      Database
 * @param callid Call-ID
 * @param rtag   The phone's tag
 * @param ltag   parkblf's tag
 *
 * @return 0 if success, otherwise errorcode
 */
int persist_delete(struct persist *p, const char *callid, const char *rtag,
		   const char *ltag)
{
	if (!p || !callid || !rtag || !ltag)
		return EINVAL;

	sqlite3_bind_text(p->del, 1, callid, -1, SQLITE_STATIC);
	sqlite3_bind_text(p->del, 2, rtag, -1, SQLITE_STATIC);
	sqlite3_bind_text(p->del, 3, ltag, -1, SQLITE_STATIC);

	return step(p, p->del);
}


/**
 * Update what changes during a subscription
 *
 * @param p          Database
 * @param callid     Call-ID
 * @param rtag       The phone's tag
 * @param ltag       parkblf's tag
 * @param version    Next document version
 * @param cseq       Last CSeq used (0: libre's)
 * @param expires_at ms since the epoch
 *
 * @return 0 if success, otherwise errorcode
 */
int persist_update(struct persist *p, const char *callid, const char *rtag,
		   const char *ltag, uint32_t version, uint32_t cseq,
		   uint64_t expires_at)
{
	if (!p || !callid || !rtag || !ltag)
		return EINVAL;

	sqlite3_bind_int64(p->upd, 1, version);
	sqlite3_bind_int64(p->upd, 2, cseq);
	sqlite3_bind_int64(p->upd, 3, (sqlite3_int64)expires_at);
	sqlite3_bind_text(p->upd, 4, callid, -1, SQLITE_STATIC);
	sqlite3_bind_text(p->upd, 5, rtag, -1, SQLITE_STATIC);
	sqlite3_bind_text(p->upd, 6, ltag, -1, SQLITE_STATIC);

	return step(p, p->upd);
}


static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}


/* An address column: ADDRESS:PORT, or '' (and anything unreadable)
   for none.  Zeroed first: sa_decode leaves the padding (sin_zero) as
   it was, and the fast path hands the whole sockaddr to sendmmsg */
static void sa_addr(const char *str, struct sa *sa)
{
	sa_init(sa, AF_UNSPEC);
	if (str[0] && sa_decode(sa, str, strlen(str)))
		sa_init(sa, AF_UNSPEC);
}


/**
 * Call a handler for every stored subscription
 *
 * @param p   Database
 * @param h   Handler
 * @param arg Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int persist_load(struct persist *p, persist_load_h *h, void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!p || !h)
		return EINVAL;

	rc = sqlite3_prepare_v2(p->db, "SELECT " SUBS_COLUMNS " FROM subs",
				-1, &st, NULL);
	while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		struct persist_sub s;

		s.callid = col(st, 0);
		s.rtag = col(st, 1);
		s.ltag = col(st, 2);
		s.local = col(st, 3);
		s.remote = col(st, 4);
		s.target = col(st, 5);
		s.orbit = col(st, 6);
		s.event = col(st, 7);
		s.entity = col(st, 8);
		s.expires_at = (uint64_t)sqlite3_column_int64(st, 9);
		s.cseq = (uint32_t)sqlite3_column_int64(st, 10);
		s.version = (uint32_t)sqlite3_column_int64(st, 11);
		s.tp = sqlite3_column_int(st, 12);
		sa_addr(col(st, 13), &s.nat);
		sa_addr(col(st, 14), &s.laddr);
		s.tenant = col(st, 15);
		sa_addr(col(st, 16), &s.phone);
		s.list = sqlite3_column_int(st, 17) != 0;
		h(&s, arg);
	}
	sqlite3_finalize(st);

	return rc == SQLITE_OK ? 0 : EIO;
}


/** Start a batch of writes @return 0 if success */
int persist_begin(struct persist *p)
{
	return p && sqlite3_exec(p->db, "BEGIN", NULL, NULL, NULL) ==
		SQLITE_OK ? 0 : EIO;
}


/** End a batch of writes @return 0 if success */
int persist_commit(struct persist *p)
{
	return p && sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL) ==
		SQLITE_OK ? 0 : EIO;
}
