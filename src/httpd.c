/**
 * @file httpd.c  HTTP endpoint: /status, /metrics, /parks.xml
 *
 * GET /status     the daemon's state as JSON (admins, monitoring)
 * GET /metrics    counters and gauges, Prometheus text format 0.0.4
 * GET /parks.xml  the orbits and their parked callers as a phone
 *                 XML-browser page (parksxml.c)
 * GET /board      the live board for the front desk, and
 *     /board/events  its Server-Sent Events stream (board.c)
 *
 * These show parkblf.conf's own PBX (the default tenant); /status also
 * lists the tenants of tenants_dir.  One tenant's own view is under
 * /t/NAME/: /t/NAME/board (and its board/events), /t/NAME/parks.xml,
 * and /t/NAME/status (that tenant alone, as /status's top level shows
 * the default one).  /t/default/ is parkblf.conf's PBX.  A NAME no
 * tenant has is answered 404.
 *
 * Only addresses in http_allow are served (403 otherwise); with
 * http_users, the boards and the status pages need basic credentials
 * from that file (401 with a challenge otherwise).  parkblf.conf's
 * users may see every page (/status lists every tenant); a tenant
 * file's http_users may see only that tenant's /t/NAME/board and
 * /t/NAME/status, so one customer's admin does not see another's parks
 * (as long as parkblf.conf has http_users too: without, every board is
 * open to http_allow).
 *
 * Everything is rendered per request from the daemon's read-only
 * accessors; nothing is cached.  Strings from the PBX (caller numbers
 * and names) and from the orbit map are untrusted: they are escaped for
 * the format they land in, and invalid UTF-8 becomes U+FFFD so that
 * every document stays well-formed.
 *
 * Config keys: http_listen, http_allow, http_users.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <malloc.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "notifier.h"
#include "upstream.h"
#include "metrics.h"
#include "app.h"
#include "phonevendor.h"
#include "parksxml.h"
#include "httpsrv.h"
#include "httpd.h"
#include "alert.h"
#include "acl.h"
#include "subauth.h"
#include "board.h"
#include "history.h"
#include "tenant.h"


/** Realm of the basic challenge, and of http_users' digests */
#define HTTP_REALM TENANT_HTTP_REALM

enum {
	BODY_SIZE = 4096,     /**< Initial size of a response body       */
	TIME_SIZE = 32,       /**< Room for an ISO 8601 time             */
};

struct httpd {
	struct httpsrv *srv;       /**< Connections, capped           */
	struct board *board;       /**< Live boards' event streams    */
	struct acl *allow;         /**< http_allow                    */
	struct subauth *users;     /**< http_users, or NULL           */
	const struct app *app;   /**< Owner (not referenced: it owns us) */
};

/** A counter of struct metrics as /metrics exports it */
struct counter {
	const char *name;        /**< parkblf_<name>_total                */
	const char *help;
	const uint64_t *val;
};

static const struct counter counters[] = {
	{"subscribes_accepted", "Phone SUBSCRIBEs accepted.",
	 &metrics.subscribes_accepted},
	{"subscribes_refused", "Phone SUBSCRIBEs refused (4xx/5xx).",
	 &metrics.subscribes_refused},
	{"notifies_sent", "NOTIFY documents sent to phones.",
	 &metrics.notifies_sent},
	{"notifies_failed",
	 "Phone subscriptions ended by a failed NOTIFY.",
	 &metrics.notifies_failed},
	{"upstream_attempts", "SUBSCRIBEs sent to the PBX.",
	 &metrics.upstream_attempts},
	{"upstream_reconnects",
	 "Times the upstream link came back up after being down.",
	 &metrics.upstream_reconnects},
	{"upstream_notifies", "NOTIFYs received from the PBX.",
	 &metrics.upstream_notifies},
	{"upstream_notify_retransmissions", "Retransmitted NOTIFYs from "
	 "the PBX, answered again and not applied.",
	 &metrics.upstream_notify_retransmissions},
	{"decode_errors", "Upstream bodies refused as undecodable.",
	 &metrics.decode_errors},
	{"orbit_changes", "Orbit state changes fanned out to phones.",
	 &metrics.orbit_changes},
	{"fanout_waits", "Fan-out batches held back a loop turn while "
	 "phones' answers queued unread.", &metrics.fanout_waits},
	{"nat_keepalives_sent", "Keepalives (OPTIONS) sent to phones behind "
	 "NAT.", &metrics.nat_keepalives_sent},
	{"nat_keepalives_answered", "Keepalives phones behind NAT answered.",
	 &metrics.nat_keepalives_answered},
	{"nat_phones_lost", "Phones behind NAT whose subscriptions ended "
	 "because they stopped answering keepalives.",
	 &metrics.nat_phones_lost},
	{"unverified_withheld", "NOTIFY datagrams not sent to an address "
	 "that has not answered parkblf: over 3 times the bytes of its "
	 "requester (RFC 9000 8.1).", &metrics.unverified_withheld},
	{"http_refused", "HTTP connections closed at once: over "
	 "http_max_connections.", &metrics.http_refused},
	{"alerts", "Times an orbit's oldest call reached its alert time "
	 "(park_alert_after).", &metrics.alerts},
	{"orbits_discovered", "Orbits discover lines made (a DN the PBX "
	 "reported, or a name a phone asked for).",
	 &metrics.orbits_discovered},
	{"discover_refused", "DNs and names a discover line covers that "
	 "were not made orbits: its max= was reached.",
	 &metrics.discover_refused},
	{"requests_refused", "Requests other than SUBSCRIBEs refused "
	 "(4xx/5xx): not allowed, in no dialog, or of a method parkblf does "
	 "not take.", &metrics.requests_refused},
	{"log_suppressed", "Log lines of refused requests not printed: over "
	 "10 of a kind in 10 s.", &metrics.log_suppressed},
};


/*
 * Escaping
 */


/* A JSON string with its quotes, or null */
static int json_string_print(struct re_printf *pf, const char *str)
{
	const uint8_t *p, *end;
	int err;

	if (!str)
		return re_hprintf(pf, "null");

	p = (const uint8_t *)str;
	end = p + strlen(str);

	err = re_hprintf(pf, "\"");

	while (p < end && !err) {
		size_t n = utf8_char_len(p, (size_t)(end - p));

		if (!n) {
			err = re_hprintf(pf, "\\ufffd");
			n = 1;
		}
		else if (*p == '"' || *p == '\\')
			err = re_hprintf(pf, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			err = re_hprintf(pf, "\\u%04x", *p);
		else
			err = pf->vph((const char *)p, n, pf->arg);

		p += n;
	}

	err |= re_hprintf(pf, "\"");

	return err;
}


/**
 * Print a JSON string with its quotes, or null, as /status does
 *
 * @param pf  Print handler
 * @param str String (UTF-8; invalid bytes become U+FFFD), or NULL
 *
 * @return 0 if success, otherwise errorcode
 */
int httpd_json_print(struct re_printf *pf, const char *str)
{
	return json_string_print(pf, str);
}


/* A Prometheus label value: backslash, double quote and newline escaped */
static int prom_label_print(struct re_printf *pf, const char *str)
{
	const char *p;
	int err = 0;

	for (p = str; p && *p && !err; p++) {
		if (*p == '\\')
			err = re_hprintf(pf, "\\\\");
		else if (*p == '"')
			err = re_hprintf(pf, "\\\"");
		else if (*p == '\n')
			err = re_hprintf(pf, "\\n");
		else
			err = re_hprintf(pf, "%c", *p);
	}

	return err;
}


/* ISO 8601 in UTC, e.g. 2026-01-31T12:00:00Z */
static const char *iso_time(char *buf, size_t sz, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return "1970-01-01T00:00:00Z";

	return buf;
}


/**
 * Format a time as ISO 8601 in UTC, as /status does
 *
 * @param buf Buffer
 * @param sz  Its size (at least 21)
 * @param ms  ms since the epoch
 *
 * @return The text (buf, or a constant)
 */
const char *httpd_iso_time(char *buf, size_t sz, uint64_t ms)
{
	return iso_time(buf, sz, ms);
}


static uint64_t elapsed_ms(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}


/*
 * GET /status
 */

/* Whether a call has waited its orbit's alert time (0: none) */
static bool call_overdue(const struct parked_call *pc, uint32_t after_s,
			 uint64_t now)
{
	return after_s && elapsed_ms(now, pc->parked_at) >=
		(uint64_t)after_s * 1000;
}


static int status_call_print(struct mbuf *mb, const struct parked_call *pc,
			     uint32_t after_s, uint64_t now)
{
	char tbuf[TIME_SIZE];

	return mbuf_printf(mb, "{\"number\":%H,\"name\":%H,"
			   "\"parked_at\":\"%s\",\"parked_s\":%llu,"
			   "\"overdue\":%s}",
			   json_string_print, pc->number,
			   json_string_print, pc->name,
			   iso_time(tbuf, sizeof(tbuf), pc->parked_at),
			   (unsigned long long)
			   (elapsed_ms(now, pc->parked_at) / 1000),
			   call_overdue(pc, after_s, now) ? "true" : "false");
}


/* One orbit of a tenant as a JSON object */
static int orbit_json(struct mbuf *mb, const struct tenant *t,
		      const struct orbit *orbit, uint64_t now)
{
	const struct store *store = tenant_store(t);
	const struct list *calls = store_calls(store, orbit->dn);
	const uint32_t after_s = alert_after(tenant_config(t), orbit);
	static const char *originv[] = {"line", "range", "discovered"};
	struct le *le;
	int err;

	err = mbuf_printf(mb, "{\"name\":%H,\"dn\":%H,\"label\":%H,"
			  "\"origin\":\"%s\","
			  "\"retrieve\":%H,\"watchers\":%u,"
			  "\"alert_after_s\":%u,\"overdue\":%s,"
			  "\"occupied\":%s,%s\"calls\":[",
			  json_string_print, orbit->name,
			  json_string_print, orbit->dn,
			  json_string_print, orbit->label,
			  originv[orbit->origin % ARRAY_SIZE(originv)],
			  json_string_print, orbit->retrieve,
			  notifier_count_orbit(tenant_notifier(t),
					       orbit->name), after_s,
			  alert_overdue(tenant_alert(t), orbit->name) ?
			  "true" : "false",
			  store_occupied(store, orbit->dn) ?
			  "true" : "false", store_known(store, orbit->dn) ?
			  "" : "\"unknown\":true,");

	for (le = calls ? list_head(calls) : NULL; le && !err;
	     le = le->next) {
		err = status_call_print(mb, le->data, after_s, now);
		if (!err && le->next)
			err = mbuf_write_u8(mb, ',');
	}

	if (!err)
		err = mbuf_printf(mb, "]}");

	return err;
}


static int orbits_json(struct mbuf *mb, const struct tenant *t,
		       uint64_t now)
{
	const struct orbitmap *map = tenant_map(t);
	struct le *le;
	int err = 0;

	for (le = map ? list_head(&map->orbits) : NULL; le && !err;
	     le = le->next) {
		err = orbit_json(mb, t, le->data, now);
		if (!err && le->next)
			err = mbuf_write_u8(mb, ',');
	}

	return err;
}


/**
 * Print one orbit of a tenant as /status and the board show it (a
 * JSON object)
 *
 * @param mb    Buffer to append to
 * @param t     Tenant
 * @param orbit Orbit
 * @param now   Current time, ms since the epoch
 *
 * @return 0 if success, otherwise errorcode
 */
int httpd_orbit_json(struct mbuf *mb, const struct tenant *t,
		     const struct orbit *orbit, uint64_t now)
{
	return orbit_json(mb, t, orbit, now);
}


/**
 * Print every orbit of a tenant's map as JSON objects separated by
 * commas (the elements of an array)
 *
 * @param mb  Buffer to append to
 * @param t   Tenant, NULL for none (nothing printed)
 * @param now Current time, ms since the epoch
 *
 * @return 0 if success, otherwise errorcode
 */
int httpd_orbits_json(struct mbuf *mb, const struct tenant *t, uint64_t now)
{
	return orbits_json(mb, t, now);
}


/* "upstream":{...},"subscriptions":N,"orbits":[...] of a tenant */
static int tenant_json(struct mbuf *mb, const struct tenant *t,
		       uint64_t now)
{
	const struct config *cfg = tenant_config(t);
	uint64_t since = 0;
	const char *state;
	char tbuf[TIME_SIZE];
	int err;

	state = upstream_state(tenant_upstream(t), &since);

	err = mbuf_printf(mb, "\"upstream\":{\"uri\":%H,\"state\":%H,",
			  json_string_print, cfg ? cfg->upstream_uri : NULL,
			  json_string_print, state);
	if (err)
		return err;

	if (since)
		err = mbuf_printf(mb, "\"since\":\"%s\"},",
				  iso_time(tbuf, sizeof(tbuf), since));
	else
		err = mbuf_printf(mb, "\"since\":null},");

	err |= mbuf_printf(mb, "\"subscriptions\":%u,\"orbits\":[",
			   notifier_count(tenant_notifier(t)));

	if (!err)
		err = orbits_json(mb, t, now);
	if (!err)
		err = mbuf_printf(mb, "]");

	return err;
}


struct tenants_print {
	struct mbuf *mb;
	uint64_t now;
	int history;
	bool first;
	int err;
};


/* "name":..,"domain":..,"upstream":..,..[,"history":[..]] of a tenant */
static int tenant_fields(struct mbuf *mb, const struct tenant *t,
			 uint64_t now, int history)
{
	const struct config *cfg = tenant_config(t);
	int err;

	err = mbuf_printf(mb, "\"name\":%H,\"domain\":%H,",
			  json_string_print, tenant_name(t),
			  json_string_print, cfg->tenant_domain ?
			  cfg->tenant_domain : tenant_domain(t));
	if (!err)
		err = tenant_json(mb, t, now);
	if (!err && history >= 0) {
		err = mbuf_printf(mb, ",\"history\":");
		err |= history_json(mb, tenant_history(t), (uint32_t)history);
	}

	return err;
}


static void tenant_status(const struct tenant *t, void *arg)
{
	struct tenants_print *tp = arg;

	if (tp->err)
		return;

	tp->err = mbuf_printf(tp->mb, "%s{", tp->first ? "" : ",");
	tp->first = false;
	if (!tp->err)
		tp->err = tenant_fields(tp->mb, t, tp->now, tp->history);
	if (!tp->err)
		tp->err = mbuf_printf(tp->mb, "}");
}


/* {"version":..,"uptime_s":.., of every status page */
static int status_head(struct mbuf *mb, const struct app *app, uint64_t now)
{
	return mbuf_printf(mb, "{\"version\":\"%s\",\"uptime_s\":%llu,",
			   PARKBLF_VERSION,
			   (unsigned long long)
			   (elapsed_ms(now, app_started(app)) / 1000));
}


/* GET /t/NAME/status: one tenant, in the shape of /status's top level,
   with its name and domain */
static int tenant_status_render(struct mbuf *mb, const struct app *app,
				const struct tenant *t, int history)
{
	uint64_t now = store_now_ms();
	int err;

	err = status_head(mb, app, now);
	if (!err)
		err = tenant_fields(mb, t, now, history);
	if (!err)
		err = mbuf_printf(mb, "}\n");

	return err;
}


/* history: the newest calls that left their orbits, -1: none.  The top
   level is the default tenant (parkblf.conf's PBX), as before tenants;
   "tenants" lists those of tenants_dir. */
static int status_render(struct mbuf *mb, const struct app *app,
			 int history)
{
	const struct tenant *dflt = app_default(app);
	struct tenants_print tp;
	uint64_t now = store_now_ms();
	int err;

	err = status_head(mb, app, now);
	if (!err)
		err = tenant_json(mb, dflt, now);
	if (!err && history >= 0) {
		err = mbuf_printf(mb, ",\"history\":");
		if (dflt)
			err |= history_json(mb, tenant_history(dflt),
					    (uint32_t)history);
		else
			err |= mbuf_printf(mb, "[]");
	}
	if (!err && app_config(app)->tenants_dir) {
		memset(&tp, 0, sizeof(tp));
		tp.mb = mb;
		tp.now = now;
		tp.history = history;
		tp.first = true;
		err = mbuf_printf(mb, ",\"tenants\":[");
		tenants_apply(app_tenants(app), tenant_status, &tp);
		err |= tp.err;
		err |= mbuf_printf(mb, "]");
	}
	if (!err)
		err = mbuf_printf(mb, "}\n");

	return err;
}


/*
 * GET /metrics
 *
 * The default tenant's series carry no tenant label (as before
 * tenants); each tenant of tenants_dir adds its own with
 * tenant="NAME".  Counters (_total) are the process's, all tenants.
 */

/** A tenant's figures for the gauges of /metrics */
struct tenant_gauges {
	uint64_t subscriptions;
	uint64_t up;
	uint64_t orbits;
	uint64_t parked;
	uint64_t overdue;
};


/* Whether an orbit earlier in the map watches the same DN */
static bool dn_seen_before(const struct orbit *orbit)
{
	const struct le *le;

	for (le = orbit->le.prev; le; le = le->prev) {
		const struct orbit *o = le->data;

		if (!strcmp(o->dn, orbit->dn))
			return true;
	}

	return false;
}


static void gauges_of(struct tenant_gauges *g, const struct tenant *t,
		      uint64_t now)
{
	const struct orbitmap *map = tenant_map(t);
	const struct store *store = tenant_store(t);
	const struct le *le;

	memset(g, 0, sizeof(*g));
	g->subscriptions = notifier_count(tenant_notifier(t));
	g->up = upstream_is_up(tenant_upstream(t));
	g->orbits = orbitmap_count(map);

	/* several names may watch one DN: count its calls once; the
	   store keeps each DN's calls oldest first: the count of an
	   orbit stops at its first call not yet overdue */
	for (le = map ? list_head(&map->orbits) : NULL; le; le = le->next) {
		const struct orbit *orbit = le->data;
		const uint32_t after_s = alert_after(tenant_config(t), orbit);
		const struct le *cle;

		if (dn_seen_before(orbit))
			continue;

		g->parked += list_count(store_calls(store, orbit->dn));
		if (!after_s)
			continue;

		for (cle = list_head(store_calls(store, orbit->dn));
		     cle && call_overdue(cle->data, after_s, now);
		     cle = cle->next)
			++g->overdue;
	}
}


/** One gauge of /metrics, each tenant's sample */
struct gauge_print {
	struct mbuf *mb;
	const char *name;
	size_t off;                /**< Of the figure in tenant_gauges */
	const struct orbit *orbit; /**< Per orbit series: NULL         */
	uint64_t now;
	int err;
};


static uint64_t figure(const struct tenant_gauges *g, size_t off)
{
	return *(const uint64_t *)(const void *)((const uint8_t *)g + off);
}


static void tenant_gauge(const struct tenant *t, void *arg)
{
	struct gauge_print *gp = arg;
	struct tenant_gauges g;

	if (gp->err)
		return;

	gauges_of(&g, t, gp->now);
	gp->err = mbuf_printf(gp->mb, "parkblf_%s{tenant=\"%H\"} %llu\n",
			      gp->name, prom_label_print, tenant_name(t),
			      (unsigned long long)figure(&g, gp->off));
}


static int gauge_print(struct mbuf *mb, const struct app *app,
		       const char *name, const char *help, size_t off,
		       uint64_t now)
{
	struct gauge_print gp = {mb, name, off, NULL, now, 0};
	const struct tenant *dflt = app_default(app);
	struct tenant_gauges g;
	int err;

	err = mbuf_printf(mb, "# HELP parkblf_%s %s\n"
			  "# TYPE parkblf_%s gauge\n", name, help, name);
	if (!err && dflt) {
		gauges_of(&g, dflt, now);
		err = mbuf_printf(mb, "parkblf_%s %llu\n", name,
				  (unsigned long long)figure(&g, off));
	}
	if (err)
		return err;

	tenants_apply(app_tenants(app), tenant_gauge, &gp);

	return gp.err;
}


static int value_print(struct mbuf *mb, const char *name, const char *help,
		       uint64_t val)
{
	return mbuf_printf(mb, "# HELP parkblf_%s %s\n"
			   "# TYPE parkblf_%s gauge\n"
			   "parkblf_%s %llu\n",
			   name, help, name, name, (unsigned long long)val);
}


/* The per orbit series of one tenant; label: "" or tenant="NAME", */
static int orbit_series(struct mbuf *mb, const struct tenant *t,
			const char *series, uint64_t now)
{
	const struct orbitmap *map = tenant_map(t);
	const struct store *store = tenant_store(t);
	const bool named = tenant_config(t)->tenant;
	const struct le *le;
	int err = 0;

	for (le = map ? list_head(&map->orbits) : NULL; le && !err;
	     le = le->next) {
		const struct orbit *orbit = le->data;
		const struct le *cle = list_head(store_calls(store,
							     orbit->dn));
		const struct parked_call *pc = cle ? cle->data : NULL;
		uint64_t val;

		if (!strcmp(series, "parked_calls"))
			val = list_count(store_calls(store, orbit->dn));
		else if (!strcmp(series, "watchers"))
			val = notifier_count_orbit(tenant_notifier(t),
						   orbit->name);
		else
			val = pc ? elapsed_ms(now, pc->parked_at) / 1000 : 0;

		err = mbuf_printf(mb, "parkblf_orbit_%s{%s%H%sorbit=\"%H\"} "
				  "%llu\n", series, named ? "tenant=\"" : "",
				  prom_label_print, named ? tenant_name(t) :
				  "", named ? "\"," : "",
				  prom_label_print, orbit->name,
				  (unsigned long long)val);
	}

	return err;
}


struct series_print {
	struct mbuf *mb;
	const char *series;
	uint64_t now;
	int err;
};


static void tenant_series(const struct tenant *t, void *arg)
{
	struct series_print *sp = arg;

	if (!sp->err)
		sp->err = orbit_series(sp->mb, t, sp->series, sp->now);
}


static int orbit_family(struct mbuf *mb, const struct app *app,
			const char *series, const char *help, uint64_t now)
{
	struct series_print sp = {mb, series, now, 0};
	int err;

	err = mbuf_printf(mb, "# HELP parkblf_orbit_%s %s\n"
			  "# TYPE parkblf_orbit_%s gauge\n", series, help,
			  series);
	if (!err && app_default(app))
		err = orbit_series(mb, app_default(app), series, now);
	if (err)
		return err;

	tenants_apply(app_tenants(app), tenant_series, &sp);

	return sp.err;
}


#define GOFF(m) offsetof(struct tenant_gauges, m)


static int metrics_render(struct mbuf *mb, const struct app *app)
{
	const struct mallinfo2 mi = mallinfo2();
	uint64_t now = store_now_ms();
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(counters) && !err; i++) {
		const struct counter *c = &counters[i];

		err = mbuf_printf(mb, "# HELP parkblf_%s_total %s\n"
				  "# TYPE parkblf_%s_total counter\n"
				  "parkblf_%s_total %llu\n",
				  c->name, c->help, c->name, c->name,
				  (unsigned long long)*c->val);
	}

	err |= gauge_print(mb, app, "subscriptions",
			   "Active phone subscriptions.",
			   GOFF(subscriptions), now);
	err |= gauge_print(mb, app, "upstream_up",
			   "1 if the PBX subscription delivers NOTIFYs.",
			   GOFF(up), now);
	err |= gauge_print(mb, app, "orbits", "Orbits in the orbit map.",
			   GOFF(orbits), now);
	err |= gauge_print(mb, app, "parked_calls",
			   "Calls parked in the mapped orbits "
			   "(each DN counted once).", GOFF(parked), now);
	err |= gauge_print(mb, app, "overdue_calls",
			   "Parked calls that have waited their orbit's "
			   "alert time (park_alert_after) or longer.",
			   GOFF(overdue), now);
	err |= value_print(mb, "nat_phones",
			   "Phone addresses behind NAT that NOTIFYs and "
			   "keepalives go to.", app_nat_count(app));

	/* resident size minus these is heap fragmentation */
	err |= value_print(mb, "heap_in_use_bytes",
			   "Heap bytes allocated (malloc).", mi.uordblks);
	err |= value_print(mb, "heap_free_bytes",
			   "Heap bytes free but not returned to the system.",
			   mi.fordblks);

	/* libre's sorted list: each start walks past the later timers,
	   so it must stay short (docs/BENCHMARKS.md, change 10) */
	err |= value_print(mb, "timers",
			   "parkblf's timers running (expiries, "
			   "retransmissions, pacing, keepalives...).",
			   ptmr_count());
	err |= value_print(mb, "stateful_subscribes",
			   "SUBSCRIBEs answered statefully in the last 40 s "
			   "(at most 65,536; past that, every SUBSCRIBE takes "
			   "libre's slower path for 40 s).", strec_count());
	err |= value_print(mb, "libre_timers",
			   "libre's own timers (its transactions and "
			   "connections, and the one that drives parkblf's).",
			   list_count(ptmr_libre_list()));
	if (err)
		return err;

	err = orbit_family(mb, app, "parked_calls",
			   "Calls parked in the orbit.", now);
	err |= orbit_family(mb, app, "watchers",
			    "Phone subscriptions to the orbit.", now);
	/* what a receptionist forgot: alert on it (the store keeps each
	   DN's calls oldest first, so this costs one look per orbit) */
	err |= orbit_family(mb, app, "oldest_wait_seconds",
			    "Seconds the oldest call parked in the orbit has "
			    "waited; 0 without a call.", now);

	if (!err && app_history(app))
		err = history_metrics(mb, app_history(app));
	return err;
}


/*
 * Requests
 */

/* A short text answer; none after the headers for HEAD (RFC 9110) */
static void reply_text(struct httpsrv_conn *conn,
		       const struct http_msg *msg, uint16_t scode,
		       const char *reason, const char *extra, const char *text)
{
	const bool head = !pl_strcmp(&msg->met, "HEAD");

	(void)httpsrv_reply(conn, scode, reason,
			    "%s"
			    "Content-Type: text/plain; charset=utf-8\r\n"
			    "Content-Length: %zu\r\n"
			    "\r\n"
			    "%s",
			    extra, strlen(text), head ? "" : text);
}


/* 400 for /parks.xml with an unknown vendor or a bad page number */
static void parks_refuse(struct httpsrv_conn *conn,
			 const struct http_msg *msg, int err)
{
	char *text = NULL;

	if (err == ENOENT)
		(void)re_sdprintf(&text, "unknown vendor: use %H\n",
				  phonevendors_print, NULL);
	else
		(void)re_sdprintf(&text, "page must be a number from 1\n");

	reply_text(conn, msg, 400, "Bad Request", "",
		   text ? text : "bad request\n");
	mem_deref(text);
}


/* ?history=N of /status: N (at most 10000), or -1 */
static int history_param(const struct pl *prm)
{
	struct pl val;

	if (!parksxml_query_get(prm, "history", &val) || !val.l ||
	    val.l > 5 || pl_u32(&val) > 10000)
		return -1;

	return (int)pl_u32(&val);
}


/* Basic credentials (RFC 7617) of parkblf.conf's http_users, or of a
   tenant file's for that tenant's pages */
static bool credentials_ok(const struct subauth *users,
			   const struct subauth *tusers,
			   const struct http_msg *msg)
{
	const struct http_hdr *hdr;
	uint8_t buf[256];
	size_t len = sizeof(buf) - 1;
	struct pl b64, user, pass;
	const char *colon;

	hdr = http_msg_hdr(msg, HTTP_HDR_AUTHORIZATION);
	if (!hdr || hdr->val.l < 6 ||
	    strncasecmp(hdr->val.p, "Basic ", 6))
		return false;

	b64 = hdr->val;
	pl_advance(&b64, 6);
	while (b64.l && b64.p[0] == ' ')
		pl_advance(&b64, 1);

	if (base64_decode(b64.p, b64.l, buf, &len))
		return false;

	buf[len] = '\0';
	colon = memchr(buf, ':', len);
	if (!colon)
		return false;

	user.p = (const char *)buf;
	user.l = (size_t)(colon - (const char *)buf);
	pass.p = colon + 1;
	pass.l = len - user.l - 1;

	return (users && subauth_basic(users, &user, &pass)) ||
		(tusers && subauth_basic(tusers, &user, &pass));
}


/** What a request asks for: a page, of a tenant */
struct route {
	struct pl page;            /**< /board, /status, ... (less /t/NAME) */
	struct pl name;            /**< NAME of /t/NAME/, or unset        */
	const struct tenant *t;    /**< Its tenant (the default one without
				        /t/NAME/), NULL if none           */
};


/* /t/NAME/PAGE: NAME's PAGE; anything else: the default tenant's */
static void route_get(struct route *r, const struct app *app,
		      const struct pl *path)
{
	const char *slash;

	memset(r, 0, sizeof(*r));
	r->page = *path;

	if (path->l < 3 || memcmp(path->p, "/t/", 3)) {
		r->t = app_default(app);
		return;
	}

	r->name.p = path->p + 3;
	r->name.l = path->l - 3;
	slash = pl_strchr(&r->name, '/');
	if (slash) {
		r->page.p = slash;
		r->page.l = (size_t)(path->p + path->l - slash);
		r->name.l = (size_t)(slash - r->name.p);
	}
	else {
		r->page.p = path->p + path->l;
		r->page.l = 0;
	}

	r->t = r->name.l ? app_tenant(app, &r->name) : NULL;
}


/* A tenant's NAME (letters, digits, '.', '_', '-') may be said back */
static bool name_printable(const struct pl *name)
{
	size_t i;

	for (i = 0; i < name->l; i++) {
		const char c = name->p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}

	return name->l && name->l <= 64;
}


/* 404 for /t/NAME/ of a NAME no tenant has */
static void no_tenant(struct httpsrv_conn *conn, const struct http_msg *msg,
		      const struct route *r)
{
	char *text = NULL;

	if (name_printable(&r->name))
		(void)re_sdprintf(&text, "no tenant '%r' (tenants_dir has no "
				  "%r.conf)\n", &r->name, &r->name);

	reply_text(conn, msg, 404, "Not Found", "",
		   text ? text : "no such tenant\n");
	mem_deref(text);
}


/* http_allow for everything; http_users for the boards and the status
   pages: parkblf.conf's for all of them, a tenant file's for that
   tenant's under /t/NAME/.  A refused request is answered here. */
static bool allowed(const struct httpd *hd, struct httpsrv_conn *conn,
		    const struct http_msg *msg, const struct route *r)
{
	const struct subauth *tusers =
		pl_isset(&r->name) ? tenant_http_users(r->t) : NULL;

	if (!acl_allows(hd->allow, httpsrv_conn_peer(conn))) {
		log_info("http: %r %r from %J refused: not in http_allow",
			 &msg->met, &msg->path, httpsrv_conn_peer(conn));
		reply_text(conn, msg, 403, "Forbidden", "",
			   "not allowed from this address\n");
		return false;
	}

	if ((!hd->users && !tusers) || !pl_strcmp(&r->page, "/metrics") ||
	    !pl_strcmp(&r->page, "/parks.xml") ||
	    credentials_ok(hd->users, tusers, msg))
		return true;

	reply_text(conn, msg, 401, "Unauthorized",
		   "WWW-Authenticate: Basic realm=\"" HTTP_REALM "\", "
		   "charset=\"UTF-8\"\r\n", "credentials needed\n");

	return false;
}


static void board_reply(struct httpd *hd, struct httpsrv_conn *conn,
			const struct http_msg *msg, const struct route *r)
{
	int err;

	if (!pl_strcmp(&r->page, "/board/events")) {
		err = board_stream(hd->board, conn, r->t);
	}
	else {
		/* inline script and style only; the stream from here */
		err = httpsrv_reply(conn, 200, "OK",
				    "Content-Type: text/html; "
				    "charset=utf-8\r\n"
				    "Content-Length: %zu\r\n"
				    "Cache-Control: no-store\r\n"
				    "Content-Security-Policy: default-src "
				    "'none'; script-src 'unsafe-inline'; "
				    "style-src 'unsafe-inline'; "
				    "connect-src 'self'\r\n"
				    "X-Content-Type-Options: nosniff\r\n"
				    "Referrer-Policy: no-referrer\r\n"
				    "\r\n"
				    "%s", strlen(board_page),
				    pl_strcmp(&msg->met, "HEAD") ?
				    board_page : "");
	}

	if (err) {
		log_warn("http: %r %r: %m", &msg->met, &msg->path, err);
		reply_text(conn, msg, 500, "Internal Server Error", "",
			   "internal server error\n");
	}
}


static void request_handler(struct httpsrv_conn *conn,
			    const struct http_msg *msg, void *arg)
{
	struct httpd *hd = arg;
	const char *ctype = NULL;
	struct mbuf *mb = NULL;
	struct route r;
	bool tenanted;
	int err;

	route_get(&r, hd->app, &msg->path);
	tenanted = pl_isset(&r.name);

	if (!allowed(hd, conn, msg, &r))
		return;

	if (tenanted && !r.t) {
		no_tenant(conn, msg, &r);
		return;
	}

	if (!pl_strcmp(&r.page, "/board") ||
	    !pl_strcmp(&r.page, "/board/events")) {
		if (pl_strcmp(&msg->met, "GET") &&
		    pl_strcmp(&msg->met, "HEAD"))
			reply_text(conn, msg, 405, "Method Not Allowed",
				   "Allow: GET, HEAD\r\n",
				   "only GET is allowed\n");
		else
			board_reply(hd, conn, msg, &r);
		return;
	}

	/* /metrics has every tenant, labelled: no /t/NAME/metrics */
	if (pl_strcmp(&r.page, "/status") &&
	    pl_strcmp(&r.page, "/parks.xml") &&
	    (tenanted || pl_strcmp(&r.page, "/metrics"))) {
		reply_text(conn, msg, 404, "Not Found", "", "not found\n");
		return;
	}

	if (pl_strcmp(&msg->met, "GET")) {
		reply_text(conn, msg, 405, "Method Not Allowed",
			   "Allow: GET\r\n", "only GET is allowed\n");
		return;
	}

	mb = mbuf_alloc(BODY_SIZE);
	if (!mb) {
		err = ENOMEM;
		goto out;
	}

	if (!pl_strcmp(&r.page, "/parks.xml")) {
		err = parksxml_render(mb, &ctype, r.t,
				      httpsrv_conn_local(conn), msg);
		if (err == ENOENT || err == EINVAL) {
			parks_refuse(conn, msg, err);
			mem_deref(mb);
			return;
		}
	}
	else if (!pl_strcmp(&r.page, "/status")) {
		ctype = "application/json";
		if (tenanted)
			err = tenant_status_render(mb, hd->app, r.t,
						   history_param(&msg->prm));
		else
			err = status_render(mb, hd->app,
					    history_param(&msg->prm));
	}
	else {
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		err = metrics_render(mb, hd->app);
	}
	if (err)
		goto out;

	err = httpsrv_reply(conn, 200, "OK",
			    "Content-Type: %s\r\n"
			    "Content-Length: %zu\r\n"
			    "Cache-Control: no-store\r\n"
			    "\r\n"
			    "%b",
			    ctype, mb->end, mb->buf, mb->end);

 out:
	if (err) {
		log_warn("http: %r %r: %m", &msg->met, &msg->path, err);
		reply_text(conn, msg, 500, "Internal Server Error", "",
			   "internal server error\n");
	}

	mem_deref(mb);
}


static void destructor(void *arg)
{
	struct httpd *hd = arg;

	mem_deref(hd->board);
	mem_deref(hd->srv);
	mem_deref(hd->allow);
	mem_deref(hd->users);
}


/**
 * An orbit changed: push it to the live boards of its tenant
 *
 * @param hd     HTTP endpoint, may be NULL
 * @param tenant Its tenant's name, NULL for parkblf.conf's PBX
 * @param name   Orbit name
 */
void httpd_orbit_changed(struct httpd *hd, const char *tenant,
			 const char *name)
{
	if (hd)
		board_orbit_changed(hd->board, tenant, name);
}


/**
 * A tenant's orbit map was reloaded, or the tenant came, changed or
 * went: its live boards get every orbit again, or end
 *
 * @param hd     HTTP endpoint, may be NULL
 * @param tenant Its name, NULL for parkblf.conf's PBX
 */
void httpd_map_changed(struct httpd *hd, const char *tenant)
{
	if (hd)
		board_map_changed(hd->board, tenant);
}


/**
 * Start the HTTP endpoint
 *
 * @param hp    Where to store the endpoint
 * @param laddr Address to listen on (port 0: one the OS chooses)
 * @param app   The daemon whose state it serves; must outlive it
 *
 * @return 0 if success, otherwise errorcode
 */
int httpd_alloc(struct httpd **hp, const struct sa *laddr,
		const struct app *app)
{
	struct httpd *hd;
	struct pl allow;
	struct sa la;
	int err;

	if (!hp || !laddr || !app)
		return EINVAL;

	hd = mem_zalloc(sizeof(*hd), destructor);
	if (!hd)
		return ENOMEM;

	hd->app = app;

	pl_set_str(&allow, app_config(app)->http_allow);
	err = acl_alloc(&hd->allow, &allow, NULL);
	if (err)
		goto out;

	if (app_config(app)->http_users) {
		err = subauth_load(&hd->users, app_config(app)->http_users,
				   HTTP_REALM, NULL);
		if (err)
			goto out;
	}

	err = board_alloc(&hd->board, app);
	if (err)
		goto out;

	err = httpsrv_listen(&hd->srv, laddr,
			     app_config(app)->http_max_connections,
			     request_handler, hd);
	if (err) {
		log_error("http: cannot listen on %J: %m", laddr, err);
		goto out;
	}

	/* port 0: log the port the OS chose */
	err = httpsrv_local(hd->srv, &la);
	if (err)
		goto out;

	log_info("http: listening on %J", &la);

 out:
	if (err)
		mem_deref(hd);
	else
		*hp = hd;

	return err;
}
