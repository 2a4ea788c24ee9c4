/**
 * @file tcpswitch.c  A phone's NOTIFYs over TCP (RFC 3261 18.1.1)
 *
 * RFC 3261 18.1.1: a request larger than 1300 bytes (with no path MTU
 * known) must go over a congestion-controlled transport such as TCP,
 * and if the TCP connection is refused the element should retry over
 * UDP.  A phone that subscribed over UDP may or may not listen on TCP
 * at its Contact's address: before the SUBSCRIBE is answered, a TCP
 * connection to that address is tried.  If it is taken, the SUBSCRIBE
 * is handed on as if its Contact said ";transport=tcp" (the list's
 * dialog sends along the Contact, so every NOTIFY of the dialog then
 * goes over TCP); if not, the SUBSCRIBE is handed on as it came, with
 * the reason.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "contactfix.h"
#include "tcpswitch.h"


struct tcpswitch {
	struct tcp_conn *tc;
	struct ptmr tmr;
	struct sip_msg *msg;         /**< The SUBSCRIBE, referenced       */
	struct sip_msg *tcp;         /**< The same, Contact over TCP      */
	tcpswitch_h *h;
	void *arg;
	int err;
	bool fired;                  /**< The result is known             */
};


static void destructor(void *arg)
{
	struct tcpswitch *ts = arg;

	ptmr_cancel(&ts->tmr);
	mem_deref(ts->tc);
	mem_deref(ts->tcp);
	mem_deref(ts->msg);
}


/**
 * The SUBSCRIBE again, its Contact with ;transport=tcp (any other
 * transport parameter dropped, the other URI and header parameters
 * kept), answerable as the original: same source, socket, transport
 *
 * @param msgp Where to store the new message
 * @param msg  The SUBSCRIBE
 *
 * @return 0 if success, EBADMSG without a usable Contact, otherwise
 *         errorcode
 */
int tcpswitch_rewrite(struct sip_msg **msgp, const struct sip_msg *msg)
{
	return contactfix_copy(msgp, msg, NULL, SIP_TRANSP_TCP);
}


/* In loop context, never inside the connection's own handlers */
static void done_handler(void *arg)
{
	struct tcpswitch *ts = arg;

	ts->tc = mem_deref(ts->tc);

	if (!ts->err && tcpswitch_rewrite(&ts->tcp, ts->msg))
		ts->err = EBADMSG;

	ts->h(ts->err, ts->err ? ts->msg : ts->tcp, ts->arg);
}


static void finish(struct tcpswitch *ts, int err)
{
	if (ts->fired)
		return;

	ts->fired = true;
	ts->err = err;
	ptmr_start(&ts->tmr, 0, done_handler, ts);
}


static void estab_handler(void *arg)
{
	finish(arg, 0);
}


static void close_handler(int err, void *arg)
{
	finish(arg, err ? err : ECONNRESET);
}


static void timeout_handler(void *arg)
{
	struct tcpswitch *ts = arg;

	ts->fired = true;
	ts->err = ETIMEDOUT;
	done_handler(ts);
}


/**
 * Try the Contact of a SUBSCRIBE over TCP before answering it
 *
 * @param tsp        Where to store the attempt
 * @param msg        The SUBSCRIBE (referenced until the attempt ends)
 * @param timeout_ms How long a connection may take
 * @param h          Called once with the result (the attempt may be
 *                   dereferenced there)
 * @param arg        Handler argument
 *
 * @return 0 if the attempt runs, EAFNOSUPPORT if the Contact is not an
 *         IP address and port, otherwise errorcode
 */
int tcpswitch_start(struct tcpswitch **tsp, const struct sip_msg *msg,
		    uint32_t timeout_ms, tcpswitch_h *h, void *arg)
{
	const struct sip_hdr *hdr;
	struct tcpswitch *ts;
	struct sip_addr addr;
	struct sa peer;
	int err;

	if (!tsp || !msg || !h)
		return EINVAL;

	hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (!hdr || sip_addr_decode(&addr, &hdr->val))
		return EBADMSG;

	if (sa_set(&peer, &addr.uri.host,
		   addr.uri.port ? addr.uri.port : SIP_PORT))
		return EAFNOSUPPORT;

	ts = mem_zalloc(sizeof(*ts), destructor);
	if (!ts)
		return ENOMEM;

	ts->msg = mem_ref((struct sip_msg *)msg);
	ts->h = h;
	ts->arg = arg;

	err = tcp_connect(&ts->tc, &peer, estab_handler, NULL, close_handler,
			  ts);
	if (err) {
		mem_deref(ts);
		return err;
	}

	ptmr_start(&ts->tmr, timeout_ms, timeout_handler, ts);
	*tsp = ts;

	return 0;
}


/**
 * Tell whether a SUBSCRIBE is the one being tried (a retransmission)
 *
 * @param ts  The attempt
 * @param msg A SUBSCRIBE
 *
 * @return true if it has the same Call-ID, From tag and CSeq
 */
bool tcpswitch_same(const struct tcpswitch *ts, const struct sip_msg *msg)
{
	if (!ts || !msg)
		return false;

	return !pl_cmp(&ts->msg->callid, &msg->callid) &&
		!pl_cmp(&ts->msg->from.tag, &msg->from.tag) &&
		ts->msg->cseq.num == msg->cseq.num;
}
