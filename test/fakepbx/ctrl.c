/**
 * @file ctrl.c  Fake PBX -- TCP control socket (one command per line)
 *
 * Any number of clients; each line gets exactly one reply line.
 *
 * Copyright (C) 2024 parkblf authors
 */
#include <string.h>
#include <re.h>
#include "fakepbx.h"


enum {
	LINE_MAX_LEN = 64 * 1024,
};

/** Control socket */
struct ctrl {
	struct tcp_sock *ts;
	struct list connl;    /**< struct ctrl_conn */
	struct pbx *pbx;
	struct sa laddr;      /**< Bound address    */
};

/** One control client */
struct ctrl_conn {
	struct le le;
	struct ctrl *ctrl;
	struct tcp_conn *tc;
	struct mbuf *buf;     /**< Unprocessed input, from offset 0 */
	struct sa peer;
};


static void conn_destructor(void *arg)
{
	struct ctrl_conn *cc = arg;

	list_unlink(&cc->le);
	mem_deref(cc->tc);
	mem_deref(cc->buf);
}


static void ctrl_destructor(void *arg)
{
	struct ctrl *ctrl = arg;

	list_flush(&ctrl->connl);
	mem_deref(ctrl->ts);
}


static void send_reply(struct ctrl_conn *cc, struct mbuf *reply)
{
	int err;

	reply->pos = 0;

	err = tcp_send(cc->tc, reply);
	if (err)
		fakepbx_log("control %J: send: %m", &cc->peer, err);
}


static void recv_handler(struct mbuf *mb, void *arg)
{
	struct ctrl_conn *cc = arg;
	struct mbuf *reply = NULL;
	size_t off = 0, i;
	int err;

	err = mbuf_write_mem(cc->buf, mbuf_buf(mb), mbuf_get_left(mb));
	if (err)
		goto fail;

	reply = mbuf_alloc(256);
	if (!reply) {
		err = ENOMEM;
		goto fail;
	}

	for (i = 0; i < cc->buf->end; i++) {
		struct pl line;

		if (cc->buf->buf[i] != '\n')
			continue;

		line.p = (const char *)cc->buf->buf + off;
		line.l = i - off;
		if (line.l && line.p[line.l - 1] == '\r')
			--line.l;

		off = i + 1;

		err = cmd_exec(cc->ctrl->pbx, reply, &line);
		if (err)
			goto fail;
	}

	if (reply->end)
		send_reply(cc, reply);

	/* keep the incomplete rest */
	memmove(cc->buf->buf, cc->buf->buf + off, cc->buf->end - off);
	cc->buf->end -= off;
	cc->buf->pos  = cc->buf->end;

	if (cc->buf->end > LINE_MAX_LEN) {
		fakepbx_log("control %J: line too long", &cc->peer);
		reply->end = 0;
		(void)mbuf_printf(reply, "error line too long\n");
		send_reply(cc, reply);
		mem_deref(cc);
	}

	mem_deref(reply);

	return;

 fail:
	fakepbx_log("control %J: %m", &cc->peer, err);
	mem_deref(reply);
	mem_deref(cc);
}


static void close_handler(int err, void *arg)
{
	struct ctrl_conn *cc = arg;

	if (err)
		fakepbx_log("control %J: closed (%m)", &cc->peer, err);

	mem_deref(cc);
}


static void conn_handler(const struct sa *peer, void *arg)
{
	struct ctrl *ctrl = arg;
	struct ctrl_conn *cc;
	int err;

	cc = mem_zalloc(sizeof(*cc), conn_destructor);
	if (!cc) {
		tcp_reject(ctrl->ts);
		return;
	}

	cc->ctrl = ctrl;
	cc->peer = *peer;

	cc->buf = mbuf_alloc(512);
	if (!cc->buf) {
		err = ENOMEM;
		goto out;
	}

	err = tcp_accept(&cc->tc, ctrl->ts, NULL, recv_handler,
			 close_handler, cc);
	if (err)
		goto out;

	list_append(&ctrl->connl, &cc->le, cc);

	return;

 out:
	fakepbx_log("control: cannot accept %J: %m", peer, err);
	tcp_reject(ctrl->ts);
	mem_deref(cc);
}


/**
 * Open the control socket
 *
 * @param ctrlp Where to store the control socket
 * @param pbx   Fake PBX
 * @param laddr Listen address (port 0 = any)
 *
 * @return 0 if success, otherwise errorcode
 */
int ctrl_alloc(struct ctrl **ctrlp, struct pbx *pbx,
	       const struct sa *laddr)
{
	struct ctrl *ctrl;
	int err;

	if (!ctrlp || !pbx || !laddr)
		return EINVAL;

	ctrl = mem_zalloc(sizeof(*ctrl), ctrl_destructor);
	if (!ctrl)
		return ENOMEM;

	ctrl->pbx = pbx;

	err = tcp_listen(&ctrl->ts, laddr, conn_handler, ctrl);
	if (err)
		goto out;

	err = tcp_sock_local_get(ctrl->ts, &ctrl->laddr);

 out:
	if (err)
		mem_deref(ctrl);
	else
		*ctrlp = ctrl;

	return err;
}


/**
 * Get the bound control port
 *
 * @param ctrl Control socket
 *
 * @return Port number
 */
uint16_t ctrl_port(const struct ctrl *ctrl)
{
	return ctrl ? sa_port(&ctrl->laddr) : 0;
}
