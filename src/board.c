/**
 * @file board.c  The live board: a page and its event stream
 *
 * GET /board serves one self-contained page (src/board.html: no
 * external assets, it works on a LAN without internet).  The page opens
 * GET /board/events, a Server-Sent Events stream: first the event
 * "orbits" with every orbit, then an event "orbit" whenever one
 * changes (a call parked or gone, or its wait passing the alert time),
 * pushed as the change happens.  Times are sent as seconds waited, not
 * as clock times, so the page counts up with its own clock and a wrong
 * clock on the receptionist's PC does not matter.  A comment line every
 * KEEPALIVE_MS keeps proxies from closing an idle stream and shows a
 * dead client; "retry:" tells the browser to reconnect after a restart.
 *
 * Each stream shows one tenant: parkblf.conf's PBX for /board, tenant
 * NAME of tenants_dir for /t/NAME/board.  A tenant removed on reload
 * ends its streams (the page then finds /t/NAME/board/events gone:
 * 404); one replaced or whose map changed sends every orbit again.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "app.h"
#include "httpsrv.h"
#include "httpd.h"
#include "board.h"
#include "tenant.h"


enum {
	KEEPALIVE_MS = 15000,  /**< Between comment lines on a stream     */
	RETRY_MS     = 2000,   /**< When the browser reconnects           */
	EVENT_SIZE   = 1024,
};

struct board {
	struct list streams;   /**< struct stream                         */
	struct ptmr tmr;        /**< Keepalive                             */
	const struct app *app;
	uint32_t n;
};

/** One page's event stream */
struct stream {
	struct le le;
	struct board *b;
	struct httpsrv_conn *conn;  /**< Owns us through its close handler */
	char *tenant;               /**< Its name, NULL: the default one  */
};


static void stream_destructor(void *arg)
{
	struct stream *s = arg;

	if (s->le.list) {
		list_unlink(&s->le);
		--s->b->n;
	}
	mem_deref(s->tenant);
}


/* Whether a stream shows a tenant (NULL: the default one) */
static bool stream_shows(const struct stream *s, const char *tenant)
{
	if (!s->tenant || !tenant)
		return !s->tenant && !tenant;

	return !strcmp(s->tenant, tenant);
}


/* The tenant a stream shows, if it is still there */
static const struct tenant *tenant_of(const struct board *b,
				      const char *tenant)
{
	struct pl pl;

	if (!tenant)
		return app_tenant(b->app, NULL);

	pl_set_str(&pl, tenant);

	return app_tenant(b->app, &pl);
}


/* The connection ended (the client left, a write failed, or the
   server stops) */
static void stream_close(void *arg)
{
	mem_deref(arg);
}


static void destructor(void *arg)
{
	struct board *b = arg;
	struct le *le;

	ptmr_cancel(&b->tmr);

	/* the connections outlive us only until the server goes: they
	   must not call back */
	while ((le = list_head(&b->streams))) {
		struct stream *s = le->data;

		httpsrv_stream(s->conn, NULL, NULL);
		mem_deref(s);
	}
}


/* To every stream (all: true), or to those of one tenant */
static void send_all(struct board *b, struct mbuf *mb, bool all,
		     const char *tenant)
{
	struct le *le = list_head(&b->streams);

	while (le) {
		struct stream *s = le->data;

		le = le->next;   /* a failed write ends s */
		if (!all && !stream_shows(s, tenant))
			continue;
		mb->pos = 0;
		(void)httpsrv_write(s->conn, mb);
	}
}


static void keepalive(void *arg)
{
	struct board *b = arg;
	struct mbuf *mb = mbuf_alloc(16);

	if (mb && !mbuf_write_str(mb, ":\n\n"))
		send_all(b, mb, true, NULL);
	mem_deref(mb);

	if (!list_isempty(&b->streams))
		ptmr_start(&b->tmr, KEEPALIVE_MS, keepalive, b);
}


/**
 * Allocate the board
 *
 * @param bp  Where to store it
 * @param app The daemon whose orbits it shows; must outlive it
 *
 * @return 0 if success, otherwise errorcode
 */
int board_alloc(struct board **bp, const struct app *app)
{
	struct board *b;

	if (!bp || !app)
		return EINVAL;

	b = mem_zalloc(sizeof(*b), destructor);
	if (!b)
		return ENOMEM;

	b->app = app;
	ptmr_init(&b->tmr);
	*bp = b;

	return 0;
}


/* event "orbits": {["tenant":"NAME",]"orbits":[...]}, NAME for a
   tenant of tenants_dir */
static int snapshot_print(struct mbuf *mb, const struct tenant *t)
{
	const struct config *cfg = tenant_config(t);
	int err;

	err = mbuf_printf(mb, "event: orbits\ndata: {");
	if (!err && cfg && cfg->tenant)
		err = mbuf_printf(mb, "\"tenant\":%H,", httpd_json_print,
				  tenant_name(t));
	if (!err)
		err = mbuf_printf(mb, "\"orbits\":[");
	if (!err)
		err = httpd_orbits_json(mb, t, store_now_ms());
	if (!err)
		err = mbuf_printf(mb, "]}\n\n");

	return err;
}


/**
 * Answer GET /board/events: the stream's headers and every orbit; the
 * connection then stays open for the changes
 *
 * @param b      Board
 * @param conn   The request's connection
 * @param tenant The tenant it shows (NULL: parkblf.conf's PBX)
 *
 * @return 0 if success, otherwise errorcode
 */
int board_stream(struct board *b, struct httpsrv_conn *conn,
		 const struct tenant *tenant)
{
	struct stream *s;
	struct mbuf *mb;
	int err;

	if (!b || !conn)
		return EINVAL;

	mb = mbuf_alloc(EVENT_SIZE);
	s = mem_zalloc(sizeof(*s), stream_destructor);
	if (!mb || !s) {
		err = ENOMEM;
		goto out;
	}

	err = snapshot_print(mb, tenant);
	if (!err && tenant && tenant != app_tenant(b->app, NULL))
		err = str_dup(&s->tenant, tenant_name(tenant));
	if (err)
		goto out;

	err = httpsrv_reply(conn, 200, "OK",
			    "Content-Type: text/event-stream; "
			    "charset=utf-8\r\n"
			    "Cache-Control: no-store\r\n"
			    "X-Accel-Buffering: no\r\n"
			    "\r\n"
			    "retry: %u\n\n%b", RETRY_MS, mb->buf, mb->end);
	if (err)
		goto out;

	s->b = b;
	s->conn = conn;
	list_append(&b->streams, &s->le, s);
	++b->n;
	httpsrv_stream(conn, stream_close, s);
	s = NULL;

	if (!ptmr_isrunning(&b->tmr))
		ptmr_start(&b->tmr, KEEPALIVE_MS, keepalive, b);

 out:
	mem_deref(s);
	mem_deref(mb);

	return err;
}


/**
 * Push an orbit's new state to the boards of its tenant
 *
 * @param b      Board
 * @param tenant The tenant's name, NULL for parkblf.conf's PBX
 * @param name   Orbit name
 */
void board_orbit_changed(struct board *b, const char *tenant,
			 const char *name)
{
	const struct orbit *orbit;
	const struct tenant *t;
	struct mbuf *mb;
	struct pl pl;
	int err;

	if (!b || !name || list_isempty(&b->streams))
		return;

	t = tenant_of(b, tenant);
	pl_set_str(&pl, name);
	orbit = orbitmap_find(tenant_map(t), &pl);
	if (!orbit)
		return;

	mb = mbuf_alloc(EVENT_SIZE);
	if (!mb)
		return;

	err  = mbuf_printf(mb, "event: orbit\ndata: ");
	err |= httpd_orbit_json(mb, t, orbit, store_now_ms());
	err |= mbuf_printf(mb, "\n\n");
	if (!err)
		send_all(b, mb, false, tenant);
	else
		log_warn("board: %s: %m", name, err);

	mem_deref(mb);
}


/**
 * Push every orbit of a tenant again (its orbit map was reloaded, or
 * the tenant replaced); end its boards' streams if it is gone
 *
 * @param b      Board
 * @param tenant The tenant's name, NULL for parkblf.conf's PBX
 */
void board_map_changed(struct board *b, const char *tenant)
{
	const struct tenant *t;
	struct mbuf *mb;
	struct le *le;

	if (!b || list_isempty(&b->streams))
		return;

	t = tenant_of(b, tenant);
	if (!t) {
		le = list_head(&b->streams);
		while (le) {
			struct stream *s = le->data;

			le = le->next;
			if (stream_shows(s, tenant))
				httpsrv_end(s->conn);   /* ends s */
		}
		return;
	}

	mb = mbuf_alloc(EVENT_SIZE);
	if (mb && !snapshot_print(mb, t))
		send_all(b, mb, false, tenant);
	mem_deref(mb);
}


/** @return The number of open boards (event streams) */
uint32_t board_count(const struct board *b)
{
	return b ? b->n : 0;
}
