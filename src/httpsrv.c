/**
 * @file httpsrv.c  The HTTP endpoint's connections, capped
 *
 * libre 1.1.0's HTTP server (http_listen) accepts every connection
 * and keeps each up to 10 s before a request and 600 s after one: a
 * client that opens connections without end takes every file
 * descriptor, and with them the phones' SIP over TCP and TLS.  So the
 * connections are taken here, on a libre TCP socket: at most
 * http_max_connections at a time (one more is closed at once), each
 * with 10 s for its request (headers up to REQ_MAX bytes), one request
 * per connection (the answer says Connection: close).  Requests are
 * parsed by libre (http_msg_decode).
 *
 * Config key: http_max_connections.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "metrics.h"
#include "httpsrv.h"


enum {
	REQ_MAX     = 16384,   /**< Bytes of one request                  */
	TIMEOUT_MS  = 10000,   /**< For the request, and the close after  */
	REFUSED_LOG = 1000,    /**< Refusals logged once per this many    */
};

struct httpsrv {
	struct tcp_sock *ts;
	struct list conns;
	uint32_t n;            /**< Connections in conns                  */
	uint32_t max;
	uint64_t refused;
	httpsrv_req_h *reqh;
	void *arg;
};

struct httpsrv_conn {
	struct le le;
	struct httpsrv *srv;
	struct tcp_conn *tc;
	struct mbuf *mb;
	struct ptmr tmr;
	struct sa local;
	struct sa peer;
	bool answered;
	httpsrv_close_h *closeh; /**< A stream's owner, told at the end  */
	void *arg;
};


static void conn_destructor(void *arg)
{
	struct httpsrv_conn *c = arg;

	if (c->le.list) {
		list_unlink(&c->le);
		--c->srv->n;
	}
	if (c->closeh)
		c->closeh(c->arg);
	ptmr_cancel(&c->tmr);
	mem_deref(c->tc);
	mem_deref(c->mb);
}


static void srv_destructor(void *arg)
{
	struct httpsrv *s = arg;

	list_flush(&s->conns);
	mem_deref(s->ts);
}


static void timeout_handler(void *arg)
{
	mem_deref(arg);
}


static void close_handler(int err, void *arg)
{
	(void)err;

	mem_deref(arg);
}


/* Bytes of the request; once its headers are in, it is answered */
static void recv_handler(struct mbuf *mb, void *arg)
{
	struct httpsrv_conn *c = arg;
	struct http_msg *msg = NULL;
	int err;

	/* one request per connection: what follows the first is dropped */
	if (c->answered)
		return;

	if (c->mb->end + mbuf_get_left(mb) > REQ_MAX) {
		(void)httpsrv_reply(c, 431, "Request Header Fields Too Large",
				    "Content-Length: 0\r\n\r\n");
		return;
	}

	c->mb->pos = c->mb->end;
	err = mbuf_write_mem(c->mb, mbuf_buf(mb), mbuf_get_left(mb));
	c->mb->pos = 0;
	if (err) {
		mem_deref(c);
		return;
	}

	err = http_msg_decode(&msg, c->mb, true);
	c->mb->pos = 0;
	if (err == ENODATA)
		return;
	if (err) {
		(void)httpsrv_reply(c, 400, "Bad Request",
				    "Content-Length: 0\r\n\r\n");
		return;
	}

	c->srv->reqh(c, msg, c->srv->arg);
	mem_deref(msg);
}


static void connect_handler(const struct sa *peer, void *arg)
{
	struct httpsrv *s = arg;
	struct httpsrv_conn *c;
	int err;

	if (s->n >= s->max) {
		if (s->refused++ % REFUSED_LOG == 0)
			log_warn("http: connection from %J refused: %u open "
				 "(http_max_connections); %llu refused so far",
				 peer, s->max,
				 (unsigned long long)s->refused);
		++metrics.http_refused;
		tcp_reject(s->ts);
		return;
	}

	c = mem_zalloc(sizeof(*c), conn_destructor);
	if (!c) {
		tcp_reject(s->ts);
		return;
	}

	c->srv = s;
	ptmr_init(&c->tmr);
	c->mb = mbuf_alloc(512);
	err = c->mb ? tcp_accept(&c->tc, s->ts, NULL, recv_handler,
				 close_handler, c) : ENOMEM;
	if (err) {
		tcp_reject(s->ts);
		mem_deref(c);
		return;
	}

	(void)tcp_conn_local_get(c->tc, &c->local);
	c->peer = *peer;
	list_append(&s->conns, &c->le, c);
	++s->n;
	ptmr_start(&c->tmr, TIMEOUT_MS, timeout_handler, c);
}


/**
 * Listen for HTTP connections, at most max at a time
 *
 * @param sp    Where to store the server
 * @param laddr Address to listen on (port 0: one the OS picks)
 * @param max   Most connections open at once (> 0)
 * @param reqh  Called with each request
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int httpsrv_listen(struct httpsrv **sp, const struct sa *laddr,
		   uint32_t max, httpsrv_req_h *reqh, void *arg)
{
	struct httpsrv *s;
	int err;

	if (!sp || !laddr || !max || !reqh)
		return EINVAL;

	s = mem_zalloc(sizeof(*s), srv_destructor);
	if (!s)
		return ENOMEM;

	s->max = max;
	s->reqh = reqh;
	s->arg = arg;

	err = tcp_listen(&s->ts, laddr, connect_handler, s);
	if (err)
		mem_deref(s);
	else
		*sp = s;

	return err;
}


/**
 * Get the address the server listens on
 *
 * @param s     Server
 * @param local Where to store it
 *
 * @return 0 if success, otherwise errorcode
 */
int httpsrv_local(const struct httpsrv *s, struct sa *local)
{
	return s ? tcp_sock_local_get(s->ts, local) : EINVAL;
}


/** @return The number of connections open */
uint32_t httpsrv_count(const struct httpsrv *s)
{
	return s ? s->n : 0;
}


/**
 * Answer the connection's request; the connection then closes (the
 * client closes it on Connection: close, or the timer does)
 *
 * @param c      Connection
 * @param scode  Status code
 * @param reason Reason phrase
 * @param fmt    Header lines, the empty line, and the body
 *
 * @return 0 if success, otherwise errorcode
 */
int httpsrv_reply(struct httpsrv_conn *c, uint16_t scode,
		  const char *reason, const char *fmt, ...)
{
	struct mbuf *mb;
	va_list ap;
	int err;

	if (!c || !reason || !fmt || c->answered)
		return EINVAL;

	mb = mbuf_alloc(1024);
	if (!mb)
		return ENOMEM;

	c->answered = true;
	err = mbuf_printf(mb, "HTTP/1.1 %u %s\r\n"
			  "Connection: close\r\n", scode, reason);
	va_start(ap, fmt);
	err |= mbuf_vprintf(mb, fmt, ap);
	va_end(ap);
	if (!err) {
		mb->pos = 0;
		err = tcp_send(c->tc, mb);
	}
	mem_deref(mb);

	ptmr_start(&c->tmr, TIMEOUT_MS, timeout_handler, c);

	return err;
}


/** @return The local address the request came in on */
const struct sa *httpsrv_conn_local(const struct httpsrv_conn *c)
{
	return c ? &c->local : NULL;
}


/** @return The address the request came from */
const struct sa *httpsrv_conn_peer(const struct httpsrv_conn *c)
{
	return c ? &c->peer : NULL;
}


/**
 * Keep an answered connection open as a stream (Server-Sent Events):
 * no timeout; it ends when the client closes it or a write fails
 *
 * @param c      Connection, answered with the stream's headers
 * @param closeh Called once when the connection ends (not after a
 *               httpsrv_stream with NULL)
 * @param arg    Handler argument
 */
void httpsrv_stream(struct httpsrv_conn *c, httpsrv_close_h *closeh,
		    void *arg)
{
	if (!c)
		return;

	ptmr_cancel(&c->tmr);
	c->closeh = closeh;
	c->arg = arg;
}


/**
 * End a stream (its close handler runs)
 *
 * @param c Connection of httpsrv_stream
 */
void httpsrv_end(struct httpsrv_conn *c)
{
	mem_deref(c);
}


/**
 * Write to a stream; a failed write ends it (its close handler runs)
 *
 * @param c  Connection of httpsrv_stream
 * @param mb Bytes from mb->pos
 *
 * @return 0 if success, otherwise errorcode
 */
int httpsrv_write(struct httpsrv_conn *c, struct mbuf *mb)
{
	int err;

	if (!c || !mb)
		return EINVAL;

	err = tcp_send(c->tc, mb);
	if (err)
		mem_deref(c);

	return err;
}
