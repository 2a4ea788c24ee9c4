/**
 * @file httpsrv.h  The HTTP endpoint's connections, capped
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_HTTPSRV_H
#define PARKBLF_HTTPSRV_H

struct httpsrv;
struct httpsrv_conn;
struct http_msg;
struct sa;

/**
 * A request came in; answer it with httpsrv_reply
 *
 * @param conn Its connection
 * @param msg  The request
 * @param arg  Handler argument
 */
typedef void (httpsrv_req_h)(struct httpsrv_conn *conn,
			     const struct http_msg *msg, void *arg);

int  httpsrv_listen(struct httpsrv **sp, const struct sa *laddr,
		    uint32_t max, httpsrv_req_h *reqh, void *arg);
int  httpsrv_local(const struct httpsrv *s, struct sa *local);
uint32_t httpsrv_count(const struct httpsrv *s);
int  httpsrv_reply(struct httpsrv_conn *c, uint16_t scode,
		   const char *reason, const char *fmt, ...);
const struct sa *httpsrv_conn_local(const struct httpsrv_conn *c);
const struct sa *httpsrv_conn_peer(const struct httpsrv_conn *c);

/** A stream's connection has ended */
typedef void (httpsrv_close_h)(void *arg);
void httpsrv_stream(struct httpsrv_conn *c, httpsrv_close_h *closeh,
		    void *arg);
int  httpsrv_write(struct httpsrv_conn *c, struct mbuf *mb);
void httpsrv_end(struct httpsrv_conn *c);

#endif
