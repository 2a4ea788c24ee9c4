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
 * A row is not trusted (anyone who can write the file can write one):
 * an expiry that is not a time, a transport parkblf does not speak,
 * an empty dialog identifier or a version or CSeq near overflow drop
 * it with a log line; an expiry beyond subscribe_max_expires from now
 * is capped there; and a resumed subscription counts against
 * subscribe_max_total and subscribe_max_per_source like a new one
 * (notifier_resume refuses one over them: EOVERFLOW).
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
	uint32_t max_expires;      /**< subscribe_max_expires, s       */
	uint32_t n;                /**< Subscriptions taken back       */
	bool started;              /**< The PBX's state is known       */
};


/* Why a row is unusable, or NULL if it is not */
static const char *row_refusal(const struct persist_sub *s)
{
	if (!s->callid[0] || !s->rtag[0] || !s->ltag[0])
		return "empty dialog identifier";

	if ((int64_t)s->expires_at <= 0)
		return "expires_at is not a time";

	if (s->tp != SIP_TRANSP_UDP && s->tp != SIP_TRANSP_TCP &&
	    s->tp != SIP_TRANSP_TLS)
		return "no transport parkblf speaks";

	if (s->version > INT32_MAX || s->cseq > INT32_MAX)
		return "version or CSeq out of range";

	return NULL;
}


static void load_handler(const struct persist_sub *s, void *arg)
{
	struct resume *rs = arg;
	const uint64_t now = store_now_ms();
	const uint64_t latest = now + (uint64_t)rs->max_expires * 1000;
	struct persist_sub row = *s;
	const char *refusal;
	int err;

	refusal = row_refusal(s);
	if (refusal) {
		log_warn("resume: Call-ID %s: %s (expires_at %lld, transport "
			 "%d): row dropped", s->callid, refusal,
			 (long long)s->expires_at, s->tp);
		(void)persist_delete(rs->db, s->callid, s->rtag, s->ltag);
		return;
	}

	if (s->expires_at < now + MIN_LEFT_MS) {
		(void)persist_delete(rs->db, s->callid, s->rtag, s->ltag);
		return;
	}

	if (row.expires_at > latest) {
		log_info("resume: Call-ID %s: expiry capped at "
			 "subscribe_max_expires (%u s)", s->callid,
			 rs->max_expires);
		row.expires_at = latest;
	}

	err = notifier_resume(rs->nt, &row);
	if (!err) {
		if (row.expires_at != s->expires_at)
			(void)persist_update(rs->db, s->callid, s->rtag,
					     s->ltag, s->version, s->cseq,
					     row.expires_at);
		++rs->n;
		return;
	}

	if (err == ENOENT)
		log_info("resume: Call-ID %s: %s is no longer served; told "
			 "so (noresource)", s->callid, s->orbit);
	else if (err == EOVERFLOW)
		log_warn("resume: Call-ID %s: over subscribe_max_total or "
			 "subscribe_max_per_source (%s): row dropped",
			 s->callid, s->target);
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
 * @param cfg Configuration (subscribe_max_expires)
 *
 * @return 0 if success, otherwise errorcode
 */
int resume_load(struct resume **rsp, struct persist *db, struct notifier *nt,
		const struct config *cfg)
{
	struct resume *rs;
	int err;

	if (!rsp || !db || !nt || !cfg)
		return EINVAL;

	rs = mem_zalloc(sizeof(*rs), NULL);
	if (!rs)
		return ENOMEM;

	rs->db = db;
	rs->nt = nt;
	rs->max_expires = cfg->subscribe_max_expires;

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

