/**
 * @file resume.c  Phone subscriptions resumed after a restart
 *
 * The subscriptions state_db kept (persist.c) become watchers again
 * (notifier_resume), on the phones' existing dialogs: counted, paced,
 * refreshed, ended and saved like new ones, and told the truth once the
 * PBX's picture is complete (resume_start).  Their NOTIFYs continue the
 * dialog's CSeq and document versions upward (subdlg_restore).  Rows
 * with less than MIN_LEFT_MS to live, and unusable ones, are deleted;
 * a subscription to an orbit no longer in the map is told so
 * (terminated, noresource) and deleted.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "notifier.h"
#include "persist.h"
#include "resume.h"


enum {
	MIN_LEFT_MS = 5000,        /**< Less left: not worth resuming  */
};

struct resume {
	struct notifier *nt;
	struct persist *db;
	uint32_t n;                /**< Subscriptions taken back       */
	bool started;              /**< The PBX's state is known       */
};


static void load_handler(const struct persist_sub *s, void *arg)
{
	struct resume *rs = arg;
	int err;

	if (s->expires_at < store_now_ms() + MIN_LEFT_MS) {
		(void)persist_delete(rs->db, s->callid, s->rtag, s->ltag);
		return;
	}

	err = notifier_resume(rs->nt, s);
	if (!err) {
		++rs->n;
		return;
	}

	if (err == ENOENT)
		log_info("resume: Call-ID %s: %s is no longer served; told "
			 "so (noresource)", s->callid, s->orbit);
	else
		log_warn("resume: Call-ID %s: unusable row, dropped: %m",
			 s->callid, err);
	(void)persist_delete(rs->db, s->callid, s->rtag, s->ltag);
}


/**
 * Take back the subscriptions saved by an earlier run (expired ones go)
 *
 * @param rsp Where to store the state of resuming
 * @param db  Database
 * @param nt  Notifier (the orbit map must be set)
 *
 * @return 0 if success, otherwise errorcode
 */
int resume_load(struct resume **rsp, struct persist *db, struct notifier *nt)
{
	struct resume *rs;
	int err;

	if (!rsp || !db || !nt)
		return EINVAL;

	rs = mem_zalloc(sizeof(*rs), NULL);
	if (!rs)
		return ENOMEM;

	rs->db = db;
	rs->nt = nt;

	err = persist_load(db, load_handler, rs);
	if (err) {
		mem_deref(rs);
		return err;
	}

	if (rs->n)
		log_info("resume: %u phone subscription(s) from the last run",
			 rs->n);
	*rsp = rs;

	return 0;
}


/**
 * The PBX's state is known: send every resumed phone the truth (once)
 *
 * @param rs State of resuming
 */
void resume_start(struct resume *rs)
{
	if (!rs || rs->started)
		return;

	rs->started = true;
	notifier_resume_start(rs->nt);
}

