/**
 * @file resume.c  Phone subscriptions resumed after a restart
 *
 * The subscriptions state_db kept (persist.c) become watchers again
 * (notifier_resume) of their tenant's notifier, on the phones' existing
 * dialogs: counted, paced, refreshed, ended and saved like new ones, and
 * told the truth once their PBX's picture is complete (tenant.c).  Rows
 * of a tenant that does not run (its file is gone, or was not loaded)
 * are deleted: its phones are not told, as none is served.  Their NOTIFYs
 * continue the dialog's CSeq and document versions upward
 * (subdlg_restore).  Rows with less than MIN_LEFT_MS to live, and
 * unusable ones, are deleted; a subscription to an orbit no longer in
 * the map is told so (terminated, noresource) and deleted.
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
#include <string.h>
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
	struct persist *db;
	resume_find_h *findh;
	void *arg;
	uint32_t n;                /**< Subscriptions taken back       */
	uint32_t orphans;          /**< Rows of tenants not served     */
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
	struct persist_sub row = *s;
	struct notifier *nt;
	const char *refusal;
	uint32_t max_expires = 0;
	uint64_t latest;
	int err;

	nt = rs->findh(s->tenant, &max_expires, rs->arg);
	if (!nt) {
		log_debug("resume: Call-ID %s: tenant '%s' is not served: "
			  "row dropped", s->callid, s->tenant);
		++rs->orphans;
		(void)persist_delete(rs->db, s->callid, s->rtag, s->ltag);
		return;
	}
	latest = now + (uint64_t)max_expires * 1000;

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
			 max_expires);
		row.expires_at = latest;
	}

	err = notifier_resume(nt, &row);
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
 * Take back the subscriptions saved by an earlier run, each into its
 * tenant's notifier (expired ones, and those of tenants not served, go)
 *
 * @param db    Database
 * @param findh Gives a row's tenant's notifier (its orbit map set) and
 *              subscribe_max_expires, NULL if the tenant is not served
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int resume_load(struct persist *db, resume_find_h *findh, void *arg)
{
	struct resume rs;
	int err;

	if (!db || !findh)
		return EINVAL;

	memset(&rs, 0, sizeof(rs));
	rs.db = db;
	rs.findh = findh;
	rs.arg = arg;

	err = persist_load(db, load_handler, &rs);
	if (err)
		return err;

	if (rs.orphans)
		log_info("resume: %u subscription(s) of tenants not served "
			 "dropped", rs.orphans);
	if (rs.n)
		log_info("resume: %u phone subscription(s) from the last run",
			 rs.n);

	return 0;
}
