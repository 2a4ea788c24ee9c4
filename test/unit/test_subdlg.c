/**
 * @file test_subdlg.c  A phone subscription's dialog, against a phone
 *                      made of a bare UDP socket on loopback
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "persist.h"
#include "metrics.h"
#include "subdlg.h"
#include "doctpl.h"
#include "unit.h"


enum { MAX_RX = 16 };

struct rig {
	struct sip *sip;
	struct sip_lsnr *lsnr;
	struct subdlgs *ctx;
	struct subdlg *sd;
	struct udp_sock *phone;
	struct udp_sock *phone2;  /**< The phone after it moved         */
	struct sa sip_addr;       /**< parkblf's side                   */
	struct sa phone_addr;
	struct mbuf *rx[MAX_RX];  /**< Datagrams the phone received     */
	unsigned nrx;
	unsigned nrx2;            /**< ... of them on phone2            */
	unsigned nresp;           /**< Calls of the response handler   */
	int resp_err;
	uint16_t resp_scode;
	char resp_reason[64];
	unsigned nmatch;          /**< Requests of the dialog           */
	bool retrans;             /**< The last one was a retransmission */
};

static struct tmr tmr_wait;


/* A document of fill bytes 'x', or of text */
struct docsrc {
	const char *text;
	size_t fill;
};

static int doc_render(struct mbuf *mb, const char *entity, uint32_t version,
		      void *arg)
{
	const struct docsrc *ds = arg;
	(void)entity;
	(void)version;

	return ds->fill ? mbuf_fill(mb, 'x', ds->fill)
		: mbuf_write_str(mb, ds->text);
}


static struct doctpl *doc_of(const char *text, size_t fill)
{
	struct docsrc ds = {text, fill};
	struct doctpl *t = NULL;

	assert_int_equal(0, doctpl_literal(&t, doc_render, &ds, "sip:x", 1));

	return t;
}


static void resp_handler(int err, uint16_t scode, const struct pl *reason,
			 void *arg)
{
	struct rig *r = arg;

	++r->nresp;
	r->resp_err = err;
	r->resp_scode = scode;
	r->resp_reason[0] = '\0';
	if (reason)
		(void)pl_strcpy(reason, r->resp_reason,
				sizeof(r->resp_reason));
	re_cancel();
}


static bool req_handler(const struct sip_msg *msg, void *arg)
{
	struct rig *r = arg;
	struct doctpl *body;
	struct pl ev = PL("dialog");

	sipsock_tune(msg);

	if (r->sd && subdlg_match(r->sd, msg)) {
		++r->nmatch;
		(void)subdlg_follow(r->sd, msg);
		r->retrans = subdlg_retransmission(r->sd, msg);
		assert_int_equal(0, subdlg_reply(r->sd, msg, 600));
		return true;
	}
	assert_false(pl_isset(&msg->to.tag));

	assert_int_equal(0, subdlg_accept(&r->sd, r->ctx, msg, &ev,
					  "park-1", 600, resp_handler, r));
	body = doc_of("<doc/>", 0);
	assert_int_equal(0, subdlg_notify(r->sd, 600, "application/x-test",
					  body, 1));
	assert_true(subdlg_busy(r->sd));
	assert_int_equal(EBUSY, subdlg_notify(r->sd, 600, "x/y", body, 2));
	mem_deref(body);

	return true;
}


static void phone_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct rig *r = arg;
	(void)src;

	/* kept NUL-terminated, for strstr */
	if (r->nrx < MAX_RX) {
		const size_t n = mbuf_get_left(mb);
		struct mbuf *c = mbuf_alloc(n + 1);

		assert_non_null(c);
		assert_int_equal(0, mbuf_write_mem(c, mbuf_buf(mb), n));
		c->buf[n] = '\0';
		r->rx[r->nrx++] = c;
	}
	re_cancel();
}


static void phone2_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct rig *r = arg;

	++r->nrx2;
	phone_recv(src, mb, arg);
}


static void timeout_handler(void *arg)
{
	(void)arg;
	re_cancel();
}


/* Run the loop until something arrives or ms pass */
static void run(uint32_t ms)
{
	tmr_start(&tmr_wait, ms, timeout_handler, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr_wait);
}


/* Run until the phone has n datagrams, at most ms in all */
static void wait_rx(struct rig *r, unsigned n, uint32_t ms)
{
	const uint64_t end = tmr_jiffies() + ms;

	while (r->nrx < n && tmr_jiffies() < end)
		run((uint32_t)(end - tmr_jiffies()));
}


static void send_str(struct rig *r, const char *s)
{
	struct mbuf *mb = mbuf_alloc(strlen(s));

	assert_non_null(mb);
	assert_int_equal(0, mbuf_write_str(mb, s));
	mb->pos = 0;
	assert_int_equal(0, udp_send(r->phone, &r->sip_addr, mb));
	mem_deref(mb);
}


/* A first SUBSCRIBE from the phone's socket with Contact <contact>;
   returns its size */
static size_t send_subscribe_c(struct rig *r, const char *callid,
			       const char *contact, const char *extra)
{
	char buf[1024];

	(void)re_snprintf(buf, sizeof(buf),
			  "SUBSCRIBE sip:park-1@%J SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP %J;branch=z9hG4bK%s;rport\r\n"
			  "From: <sip:phone@%J>;tag=ph1\r\n"
			  "To: <sip:park-1@%J>\r\n"
			  "Call-ID: %s\r\n"
			  "CSeq: 1 SUBSCRIBE\r\n"
			  "Contact: <%s>\r\n"
			  "%s"
			  "Event: dialog\r\n"
			  "Expires: 600\r\n"
			  "Max-Forwards: 70\r\n"
			  "Content-Length: 0\r\n\r\n",
			  &r->sip_addr, &r->phone_addr, callid,
			  &r->phone_addr, &r->sip_addr, callid, contact,
			  extra);
	send_str(r, buf);

	return strlen(buf);
}


static void send_subscribe(struct rig *r, const char *callid,
			   const char *extra)
{
	char contact[64];

	(void)re_snprintf(contact, sizeof(contact), "sip:phone@%J",
			  &r->phone_addr);
	send_subscribe_c(r, callid, contact, extra);
}


/* The phone's i-th datagram, decoded; a header that may occur only
   once (RFC 3261 section 7.3.1) occurs at most once, as strict parsers
   such as Kamailio's require */
static struct sip_msg *rx_msg(struct rig *r, unsigned i)
{
	static const enum sip_hdrid single[] = {
		SIP_HDR_MAX_FORWARDS, SIP_HDR_CALL_ID, SIP_HDR_CSEQ,
		SIP_HDR_FROM, SIP_HDR_TO, SIP_HDR_CONTENT_LENGTH,
		SIP_HDR_CONTENT_TYPE, SIP_HDR_EVENT,
		SIP_HDR_SUBSCRIPTION_STATE, SIP_HDR_EXPIRES,
	};
	struct sip_msg *msg = NULL;
	size_t k;

	assert_true(i < r->nrx);
	r->rx[i]->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, r->rx[i]));
	for (k = 0; k < ARRAY_SIZE(single); k++)
		assert_true(sip_msg_hdr_count(msg, single[k]) <= 1);

	return msg;
}


/* A new subscription with Contact <contact>: its 200 and its first
   NOTIFY are the phone's first two datagrams; returns that NOTIFY */
static struct sip_msg *nat_first(struct rig *r, const char *callid,
				 const char *contact, const char *extra)
{
	struct sip_msg *n;

	send_subscribe_c(r, callid, contact, extra);
	wait_rx(r, 2, 2000);
	assert_int_equal(2, r->nrx);
	n = rx_msg(r, 1);
	assert_int_equal(0, pl_strcmp(&n->met, "NOTIFY"));

	return n;
}


/* nat_first with the phone's own address as Contact */
static struct sip_msg *subscribe_first(struct rig *r, const char *callid,
				       const char *extra)
{
	char contact[64];

	(void)re_snprintf(contact, sizeof(contact), "sip:phone@%J",
			  &r->phone_addr);

	return nat_first(r, callid, contact, extra);
}


/* Answer a NOTIFY; a nonzero twist changes its branch's last digit */
static void answer(struct rig *r, const struct sip_msg *notify,
		   uint16_t scode, const char *reason, bool twist)
{
	const struct sip_hdr *via = sip_msg_hdr(notify, SIP_HDR_VIA);
	const struct sip_hdr *from = sip_msg_hdr(notify, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(notify, SIP_HDR_TO);
	char vbuf[256], buf[1024];
	char *b;

	assert_non_null(via);
	assert_int_equal(0, pl_strcpy(&via->val, vbuf, sizeof(vbuf)));
	b = strstr(vbuf, ";rport");
	assert_non_null(b);
	if (twist)
		b[-1] = b[-1] == '0' ? '1' : '0';

	(void)re_snprintf(buf, sizeof(buf),
			  "SIP/2.0 %u %s\r\n"
			  "Via: %s\r\n"
			  "From: %r\r\n"
			  "To: %r\r\n"
			  "Call-ID: %r\r\n"
			  "CSeq: %u NOTIFY\r\n"
			  "Content-Length: 0\r\n\r\n",
			  scode, reason, vbuf, &from->val, &to->val,
			  &notify->callid, notify->cseq.num);
	send_str(r, buf);
}


static int rig_init(void **state, const char *addr)
{
	struct rig *r = mem_zalloc(sizeof(*r), NULL);
	struct sa laddr;

	assert_non_null(r);
	assert_int_equal(0, sip_alloc(&r->sip, NULL, 32, 32, 32, "test",
				      NULL, NULL));
	assert_int_equal(0, sa_set_str(&laddr, addr, 0));
	assert_int_equal(0, sip_transp_add(r->sip, SIP_TRANSP_UDP, &laddr));
	assert_int_equal(0, sip_transp_laddr(r->sip, &r->sip_addr,
					     SIP_TRANSP_UDP, NULL));
	assert_int_not_equal(0, sa_port(&r->sip_addr));
	assert_int_equal(0, sip_listen(&r->lsnr, r->sip, true, req_handler,
				       r));
	assert_int_equal(0, subdlgs_alloc(&r->ctx, r->sip));
	assert_int_equal(0, udp_listen(&r->phone, &laddr, phone_recv, r));
	assert_int_equal(0, udp_local_get(r->phone, &r->phone_addr));
	tmr_init(&tmr_wait);
	*state = r;

	return 0;
}


static int rig_setup(void **state)
{
	return rig_init(state, "127.0.0.1");
}


static int rig_setup6(void **state)
{
	return rig_init(state, "::1");
}


static int rig_teardown(void **state)
{
	struct rig *r = *state;
	unsigned i;

	for (i = 0; i < r->nrx; i++)
		mem_deref(r->rx[i]);
	mem_deref(r->sd);
	mem_deref(r->ctx);
	mem_deref(r->lsnr);
	mem_deref(r->phone);
	mem_deref(r->phone2);
	sipsock_reset();
	sip_close(r->sip, true);
	mem_deref(r->sip);
	mem_deref(r);

	return 0;
}


/* A phone on UDP at an IP address: 200 OK with a To tag, a NOTIFY on
 * the fast path (our branch), retransmitted unanswered after T1, done
 * on its 200; a repeated 200 changes nothing; the first SUBSCRIBE
 * repeated gets the same 200 again; an in-dialog request matches the
 * dialog by Call-ID and both tags */
static void test_fast_path(void **state)
{
	struct rig *r = *state;
	struct sip_msg *ok, *ok2, *ok3, *n1, *n2;
	char buf[1024];
	uint64_t t0;

	n1 = subscribe_first(r, "call-1", "");
	ok = rx_msg(r, 0);
	assert_int_equal(200, ok->scode);
	assert_true(pl_isset(&ok->to.tag));
	assert_true(subdlg_fast(r->sd));
	assert_non_null(strstr((char *)r->rx[1]->buf,
			       ";branch=z9hG4bKpbn"));
	assert_non_null(strstr((char *)r->rx[1]->buf,
			       "Subscription-State: active;expires=600"));
	assert_null(strstr((char *)r->rx[1]->buf, "Require:"));
	assert_int_equal(0, pl_strcmp(&n1->to.tag, "ph1"));
	assert_int_equal(0, pl_cmp(&n1->from.tag, &ok->to.tag));
	assert_int_equal(0, pl_strcmp(&n1->callid, "call-1"));
	assert_int_equal(6, mbuf_get_left(n1->mb));
	assert_int_equal(0, memcmp("<doc/>", mbuf_buf(n1->mb), 6));

	/* unanswered: the same request again after T1 (500 ms) */
	t0 = tmr_jiffies();
	wait_rx(r, 3, 2000);
	assert_int_equal(3, r->nrx);
	assert_true(tmr_jiffies() - t0 >= 400);
	n2 = rx_msg(r, 2);
	assert_int_equal(0, pl_cmp(&sip_msg_hdr(n1, SIP_HDR_VIA)->val,
				   &sip_msg_hdr(n2, SIP_HDR_VIA)->val));
	assert_int_equal(n1->cseq.num, n2->cseq.num);

	answer(r, n2, 200, "OK", false);
	run(300);
	assert_int_equal(1, r->nresp);
	assert_int_equal(0, r->resp_err);
	assert_int_equal(200, r->resp_scode);
	assert_false(subdlg_busy(r->sd));
	assert_int_equal(0, subdlgs_inflight(r->ctx));

	answer(r, n2, 200, "OK", false);     /* a retransmitted answer */
	run(200);
	assert_int_equal(1, r->nresp);
	assert_int_equal(3, r->nrx);         /* no more retransmissions */

	/* the first SUBSCRIBE again (its 200 was lost): the same 200,
	   with the same tag, statelessly; no new dialog */
	send_subscribe(r, "call-1", "");
	wait_rx(r, 4, 2000);
	assert_int_equal(4, r->nrx);
	assert_int_equal(1, r->nmatch);
	assert_true(r->retrans);
	ok2 = rx_msg(r, 3);
	assert_int_equal(200, ok2->scode);
	assert_int_equal(0, pl_cmp(&ok2->to.tag, &ok->to.tag));
	assert_int_equal(1, ok2->cseq.num);

	/* an in-dialog request with both tags is this dialog's */
	(void)re_snprintf(buf, sizeof(buf),
			  "SUBSCRIBE sip:park-1@%J SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP %J;branch=z9hG4bKref1;rport\r\n"
			  "From: <sip:phone@%J>;tag=ph1\r\n"
			  "To: <sip:park-1@%J>;tag=%r\r\n"
			  "Call-ID: call-1\r\n"
			  "CSeq: 2 SUBSCRIBE\r\n"
			  "Event: dialog\r\n"
			  "Content-Length: 0\r\n\r\n",
			  &r->sip_addr, &r->phone_addr, &r->phone_addr,
			  &r->sip_addr, &ok->to.tag);
	send_str(r, buf);
	wait_rx(r, 5, 2000);
	assert_int_equal(2, r->nmatch);
	assert_false(r->retrans);
	ok3 = rx_msg(r, 4);
	assert_int_equal(200, ok3->scode);
	assert_int_equal(2, ok3->cseq.num);

	mem_deref(ok3);
	mem_deref(ok2);
	mem_deref(ok);
	mem_deref(n1);
	mem_deref(n2);
}


/* An answer with the wrong nonce in its branch is ignored; the right
 * one with 481 ends the NOTIFY with that status and reason */
static void test_forged_answer(void **state)
{
	struct rig *r = *state;
	struct sip_msg *n1;

	n1 = subscribe_first(r, "call-2", "");

	answer(r, n1, 481, "Forged", true);
	run(100);
	assert_int_equal(0, r->nresp);
	assert_true(subdlg_busy(r->sd));

	/* our branch only in the body: not an answer of ours */
	{
		const struct sip_hdr *via = sip_msg_hdr(n1, SIP_HDR_VIA);
		char buf[1024];

		(void)re_snprintf(buf, sizeof(buf),
				  "SIP/2.0 200 OK\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.9"
				  ";branch=z9hG4bKx\r\n"
				  "Call-ID: %r\r\n"
				  "CSeq: %u NOTIFY\r\n"
				  "Content-Length: %zu\r\n\r\n"
				  "Via: %r",
				  &n1->callid, n1->cseq.num,
				  via->val.l + 5, &via->val);
		send_str(r, buf);
		run(100);
		assert_int_equal(0, r->nresp);
		assert_true(subdlg_busy(r->sd));
	}

	answer(r, n1, 481, "Call Does Not Exist", false);
	run(300);
	assert_int_equal(1, r->nresp);
	assert_int_equal(481, r->resp_scode);
	assert_string_equal("Call Does Not Exist", r->resp_reason);
	assert_false(subdlg_busy(r->sd));

	mem_deref(n1);
}


/* Behind a proxy (Record-Route of a loose router at an IP address),
 * the stateless 200 carries the Record-Route and the NOTIFYs take the
 * fast path to the proxy with the route set in a Route header; the
 * final NOTIFY says why it ends, on the fast path too (a stop sends
 * thousands: by sendmmsg, not libre's transactions), and its answer
 * ends it */
static void test_record_route(void **state)
{
	struct rig *r = *state;
	struct sip_msg *n1, *fin = NULL;
	char rr[128];
	unsigned i;

	(void)re_snprintf(rr, sizeof(rr),
			  "Record-Route: <sip:%J;lr>\r\n", &r->phone_addr);
	n1 = subscribe_first(r, "call-3", rr);
	assert_true(subdlg_fast(r->sd));
	assert_non_null(strstr((char *)r->rx[0]->buf, rr));
	assert_non_null(strstr((char *)r->rx[1]->buf, "z9hG4bKpbn"));
	assert_non_null(sip_msg_hdr(n1, SIP_HDR_ROUTE));
	answer(r, n1, 200, "OK", false);
	run(300);
	assert_int_equal(1, r->nresp);
	assert_int_equal(200, r->resp_scode);

	assert_int_equal(0, subdlg_terminate(r->sd, SIPEVENT_NORESOURCE, 0,
					     NULL, NULL, 0));
	wait_rx(r, 3, 2000);
	for (i = 2; i < r->nrx && !fin; i++) {
		struct sip_msg *m = rx_msg(r, i);

		if (m->req && m->cseq.num == n1->cseq.num + 1)
			fin = m;
		else
			mem_deref(m);
	}
	assert_non_null(fin);
	assert_non_null(strstr((char *)fin->mb->buf,
			       "Subscription-State: terminated;"
			       "reason=noresource"));
	assert_non_null(strstr((char *)fin->mb->buf, "z9hG4bKpbn"));
	assert_non_null(sip_msg_hdr(fin, SIP_HDR_ROUTE));
	answer(r, fin, 200, "OK", false);
	run(100);
	assert_int_equal(2, r->nresp);
	assert_int_equal(200, r->resp_scode);

	mem_deref(fin);
	mem_deref(n1);
}


/* A phone that never answers: retransmissions at T1, 2*T1, ... up to
 * T2, then the NOTIFY is given up after 64*T1 (ETIMEDOUT, no status) */
static void test_no_answer(void **state)
{
	struct rig *r = *state;
	struct sip_msg *n1;
	uint64_t t0;
	unsigned i;

	subdlgs_set_t1(r->ctx, 10);         /* given up after 640 ms */
	t0 = tmr_jiffies();
	send_subscribe(r, "call-4", "");
	while (!r->nresp && tmr_jiffies() - t0 < 3000)
		run(100);

	assert_int_equal(1, r->nresp);
	assert_int_equal(ETIMEDOUT, r->resp_err);
	assert_int_equal(0, r->resp_scode);
	assert_true(tmr_jiffies() - t0 >= 600);
	assert_false(subdlg_busy(r->sd));
	assert_int_equal(0, subdlgs_inflight(r->ctx));

	/* the 200, the NOTIFY and at least 8 copies of it, all the same
	   transaction */
	assert_true(r->nrx >= 10);
	n1 = rx_msg(r, 1);
	for (i = 2; i < r->nrx; i++) {
		struct sip_msg *m = rx_msg(r, i);

		assert_int_equal(0, pl_cmp(&sip_msg_hdr(n1, SIP_HDR_VIA)->val,
					   &sip_msg_hdr(m, SIP_HDR_VIA)->val));
		assert_int_equal(n1->cseq.num, m->cseq.num);
		mem_deref(m);
	}
	mem_deref(n1);

	/* given up: nothing more is sent */
	i = r->nrx;
	run(100);
	assert_int_equal(i, r->nrx);
}


/* Over IPv6 the fast path works the same; Via and Contact carry the
 * address in brackets */
static void test_ipv6(void **state)
{
	struct rig *r = *state;
	struct sip_msg *n1;

	n1 = subscribe_first(r, "call-5", "");
	assert_true(subdlg_fast(r->sd));
	assert_non_null(strstr((char *)r->rx[1]->buf,
			       "Via: SIP/2.0/UDP [::1]:"));
	assert_non_null(strstr((char *)r->rx[1]->buf,
			       "Contact: <sip:park-1@[::1]:"));

	answer(r, n1, 200, "OK", false);
	run(300);
	assert_int_equal(1, r->nresp);
	assert_int_equal(200, r->resp_scode);
	mem_deref(n1);
}


/* Find the datagram the phone got for a Call-ID and CSeq, from i on */
static struct sip_msg *find_rx(struct rig *r, unsigned i, const char *callid,
			       uint32_t cseq)
{
	for (; i < r->nrx; i++) {
		struct sip_msg *m = rx_msg(r, i);

		if (m->req && !pl_strcmp(&m->callid, callid) &&
		    m->cseq.num == cseq)
			return m;
		mem_deref(m);
	}

	return NULL;
}


/* Whether a message's top Via has parkblf's fast-path branch */
static bool fast_branch(const struct sip_msg *m)
{
	char via[256];

	assert_int_equal(0, pl_strcpy(&sip_msg_hdr(m, SIP_HDR_VIA)->val,
				      via, sizeof(via)));

	return NULL != strstr(via, ";branch=z9hG4bKpbn");
}


/* A UDP subscription as state_db keeps it (the phone's tag "ph6") */
static void saved_init(struct persist_sub *s, const char *callid,
		       const char *local, const char *remote,
		       const char *target)
{
	memset(s, 0, sizeof(*s));
	s->callid = callid;
	s->ltag = "00112233aabbccdd";
	s->rtag = "ph6";
	s->local = local;
	s->remote = remote;
	s->target = target;
	s->orbit = "park-1";
	s->event = "dialog";
	s->entity = local;
	s->tp = SIP_TRANSP_UDP;
}


/* A dialog saved by an earlier run: NOTIFYs on the phone's dialog (its
 * tags, our saved tag, the CSeq given) through libre at first; once a
 * request shows the socket, on the fast path.  A BLF list's (made
 * eventlist): Require: eventlist on both paths */
static void test_restore(void **state)
{
	struct rig *r = *state;
	struct persist_sub s;
	struct subdlg *sd = NULL;
	struct sip_msg *n;
	char local[64], remote[64];
	struct doctpl *body = doc_of("", 0);

	assert_non_null(body);
	(void)re_snprintf(local, sizeof(local), "sip:park-1@%J", &r->sip_addr);
	(void)re_snprintf(remote, sizeof(remote), "sip:phone@%J",
			  &r->phone_addr);
	saved_init(&s, "call-6", local, remote, remote);

	s.ltag = "0011";                    /* not one of ours */
	assert_int_equal(EBADMSG, subdlg_restore(&sd, r->ctx, &s, 100,
						 resp_handler, r));
	s.ltag = "00112233aabbccdd";
	assert_int_equal(0, subdlg_restore(&sd, r->ctx, &s, 0x70000064,
					   resp_handler, r));
	assert_false(subdlg_fast(sd));
	subdlg_set_eventlist(sd);

	assert_int_equal(0, subdlg_notify(sd, 60, "x/y", body, 1));
	wait_rx(r, 1, 2000);
	n = find_rx(r, 0, "call-6", 0x70000065);
	assert_non_null(n);
	assert_false(fast_branch(n));
	assert_true(sip_msg_hdr_has_value(n, SIP_HDR_REQUIRE, "eventlist"));
	assert_int_equal(0, pl_strcmp(&n->to.tag, "ph6"));
	assert_int_equal(0, pl_strcmp(&n->from.tag, "00112233aabbccdd"));
	answer(r, n, 200, "OK", false);
	mem_deref(n);
	run(300);
	assert_int_equal(1, r->nresp);
	assert_false(subdlg_busy(sd));

	/* a new subscription on the socket: the restored dialog moves */
	send_subscribe(r, "call-7", "");
	wait_rx(r, 3, 2000);
	assert_true(subdlg_fast(sd));

	assert_int_equal(0, subdlg_notify(sd, 60, "x/y", body, 1));
	wait_rx(r, 4, 2000);
	n = find_rx(r, 3, "call-6", 0x70000066);
	assert_non_null(n);
	assert_true(fast_branch(n));
	assert_true(sip_msg_hdr_has_value(n, SIP_HDR_REQUIRE, "eventlist"));
	answer(r, n, 200, "OK", false);
	mem_deref(n);
	run(300);
	assert_int_equal(2, r->nresp);
	assert_false(subdlg_busy(sd));

	mem_deref(sd);
	mem_deref(body);
}


/* Where a NOTIFY of the dialog went: the phone's socket or not */
static void notify_and_wait(struct rig *r, struct doctpl *body, unsigned n)
{
	assert_int_equal(0, subdlg_notify(r->sd, 600, "x/y", body, 1));
	wait_rx(r, n, 1500);
}


/* What an address that is not the SUBSCRIBE's source received */
static struct {
	size_t bytes;
	unsigned n;
	struct mbuf *last;
} victim;


static void victim_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)arg;

	victim.bytes += mbuf_get_left(mb);
	++victim.n;
	mem_deref(victim.last);
	victim.last = mem_ref(mb);
	re_cancel();
}


/* No amplification (RFC 9000 8.1): with nat_mode never, a Contact at
 * another address than the SUBSCRIBE's source gets at most 3 times the
 * SUBSCRIBE's bytes, retransmissions included; past that its NOTIFY is
 * given up as unanswered, and the final NOTIFY is not sent.  A Contact
 * that answers is verified: then the budget no longer applies. */
static void test_budget(void **state)
{
	struct rig *r = *state;
	struct udp_sock *vs = NULL;
	struct sip_msg *n1 = NULL;
	struct doctpl *big;
	struct sa va;
	char contact[64];
	size_t sub;
	uint64_t t0;
	int err;

	memset(&victim, 0, sizeof(victim));
	subdlgs_set_nat(r->ctx, NAT_NEVER, 20, 60);
	subdlgs_set_t1(r->ctx, 10);
	assert_int_equal(0, sa_set_str(&va, "127.0.0.2", 0));
	assert_int_equal(0, udp_listen(&vs, &va, victim_recv, NULL));
	assert_int_equal(0, udp_local_get(vs, &va));
	(void)re_snprintf(contact, sizeof(contact), "sip:x@%J", &va);

	/* never answered: given up once over the budget, long before the
	   64*T1 of an unanswered NOTIFY */
	t0 = tmr_jiffies();
	sub = send_subscribe_c(r, "call-b1", contact, "");
	while (!r->nresp && tmr_jiffies() - t0 < 3000)
		run(100);
	assert_int_equal(1, r->nresp);
	assert_int_equal(ETIMEDOUT, r->resp_err);
	assert_false(subdlg_verified(r->sd));
	assert_true(victim.n >= 1);
	assert_true(victim.bytes <= 3 * sub);
	assert_true(victim.bytes + victim.bytes / victim.n > 3 * sub);

	err = subdlg_terminate(r->sd, SIPEVENT_TIMEOUT, 0, NULL, NULL,
			       0);
	assert_true(err == EALREADY || err == EPERM);
	run(50);
	assert_true(victim.bytes <= 3 * sub);
	r->sd = mem_deref(r->sd);

	/* answered: verified, and a NOTIFY bigger than any budget goes */
	mem_deref(victim.last);
	memset(&victim, 0, sizeof(victim));
	r->nresp = 0;
	sub = send_subscribe_c(r, "call-b2", contact, "");
	t0 = tmr_jiffies();
	while (!victim.n && tmr_jiffies() - t0 < 2000)
		run(100);
	assert_int_equal(1, victim.n);
	victim.last->pos = 0;
	assert_int_equal(0, sip_msg_decode(&n1, victim.last));
	answer(r, n1, 200, "OK", false);
	run(100);
	assert_int_equal(1, r->nresp);
	assert_true(subdlg_verified(r->sd));

	big = doc_of(NULL, 8 * sub);
	assert_int_equal(0, subdlg_notify(r->sd, 600, "x/y", big, 1));
	t0 = tmr_jiffies();
	while (victim.n < 2 && tmr_jiffies() - t0 < 2000)
		run(100);
	assert_int_equal(2, victim.n);
	assert_true(victim.bytes > 8 * sub);

	mem_deref(big);
	mem_deref(n1);
	mem_deref(victim.last);
	victim.last = NULL;
	mem_deref(vs);
}


/* A phone behind NAT: its Contact names a private address its requests
 * do not come from.  Its NOTIFYs go where its SUBSCRIBE came from (fast
 * path, its socket); with nat_mode never, to the Contact (lost) */
static void test_nat_contact(void **state)
{
	struct rig *r = *state;
	struct sip_msg *n1;

	n1 = nat_first(r, "call-n1", "sip:phone@10.1.2.3:5062", "");
	assert_true(subdlg_fast(r->sd));
	assert_true(subdlg_reachable(r->sd));
	assert_int_equal(1, subdlgs_nat_count(r->ctx));
	/* the Request-URI is still the phone's Contact */
	assert_int_equal(0, pl_strcmp(&n1->ruri, "sip:phone@10.1.2.3:5062"));
	answer(r, n1, 200, "OK", false);
	run(300);
	assert_int_equal(1, r->nresp);
	assert_int_equal(200, r->resp_scode);
	mem_deref(n1);

	r->sd = mem_deref(r->sd);
	assert_int_equal(0, subdlgs_nat_count(r->ctx));

	/* never: the Contact, where nothing answers */
	subdlgs_set_nat(r->ctx, NAT_NEVER, 20, 60);
	send_subscribe_c(r, "call-n2", "sip:phone@10.1.2.3:5062", "");
	wait_rx(r, 4, 1000);
	assert_int_equal(3, r->nrx);              /* its 200 only */
	assert_int_equal(0, subdlgs_nat_count(r->ctx));
}


/* A phone whose Contact is its source is not behind NAT, unless
 * nat_mode is always; a Record-Route keeps the route set even then
 * (its NOTIFYs go to the proxy, on the fast path) */
static void test_nat_modes(void **state)
{
	struct rig *r = *state;
	struct sip_msg *n1;
	char rr[128];

	n1 = subscribe_first(r, "call-m1", "");
	assert_int_equal(0, subdlgs_nat_count(r->ctx));
	mem_deref(n1);
	r->sd = mem_deref(r->sd);

	subdlgs_set_nat(r->ctx, NAT_ALWAYS, 20, 60);
	send_subscribe(r, "call-m2", "");
	wait_rx(r, 4, 2000);
	assert_int_equal(1, subdlgs_nat_count(r->ctx));
	r->sd = mem_deref(r->sd);

	(void)re_snprintf(rr, sizeof(rr),
			  "Record-Route: <sip:%J;lr>\r\n", &r->phone_addr);
	send_subscribe_c(r, "call-m3", "sip:phone@10.1.2.3:5062", rr);
	wait_rx(r, 6, 2000);
	assert_int_equal(0, subdlgs_nat_count(r->ctx));
	assert_true(subdlg_fast(r->sd));
}


/* The silent phone is given up (its subscription ends EHOSTDOWN) within
   6 s, after the answered keepalive and at least two unanswered ones */
static void assert_gone(struct rig *r, uint64_t lost0, uint64_t sent0)
{
	const uint64_t t0 = tmr_jiffies();

	while (r->nresp < 2 && tmr_jiffies() - t0 < 6000)
		run(200);
	assert_int_equal(2, r->nresp);
	assert_int_equal(EHOSTDOWN, r->resp_err);
	assert_int_equal(lost0 + 1, metrics.nat_phones_lost);
	assert_true(metrics.nat_keepalives_sent >= sent0 + 3);
}


/* Keepalives: OPTIONS from parkblf's socket to where the phone is, our
 * branch; answered, the phone stays; silent for the grace period, its
 * subscription ends (EHOSTDOWN) and that is counted */
static void test_nat_keepalive(void **state)
{
	struct rig *r = *state;
	const uint64_t sent0 = metrics.nat_keepalives_sent;
	const uint64_t ans0 = metrics.nat_keepalives_answered;
	const uint64_t lost0 = metrics.nat_phones_lost;
	struct sip_msg *n1, *opt = NULL;
	unsigned i;

	subdlgs_set_nat(r->ctx, NAT_AUTO, 1, 3);
	n1 = nat_first(r, "call-k1", "sip:phone@10.1.2.3:5062", "");
	answer(r, n1, 200, "OK", false);
	run(100);
	assert_int_equal(1, r->nresp);

	/* the first keepalive comes within the first interval */
	wait_rx(r, 3, 1500);
	assert_int_equal(3, r->nrx);
	opt = rx_msg(r, 2);
	assert_int_equal(0, pl_strcmp(&opt->met, "OPTIONS"));
	assert_int_equal(0, pl_strcmp(&opt->ruri, "sip:phone@10.1.2.3:5062"));
	assert_non_null(strstr((char *)r->rx[2]->buf, ";branch=z9hG4bKpbk"));
	assert_int_equal(sent0 + 1, metrics.nat_keepalives_sent);
	answer(r, opt, 200, "OK", false);
	run(100);
	assert_int_equal(ans0 + 1, metrics.nat_keepalives_answered);
	answer(r, opt, 200, "OK", false);         /* again: not counted */
	run(100);
	assert_int_equal(ans0 + 1, metrics.nat_keepalives_answered);
	mem_deref(opt);

	/* silent from now: gone within grace + an interval */
	assert_gone(r, lost0, sent0);

	/* every keepalive an OPTIONS to the phone's socket, spread */
	for (i = 2; i < r->nrx; i++) {
		struct sip_msg *m = rx_msg(r, i);

		assert_int_equal(0, pl_strcmp(&m->met, "OPTIONS"));
		mem_deref(m);
	}
	mem_deref(n1);
}


/* A phone is gone only once keepalives went unanswered: with a grace
   no longer than the interval (as when the loop is held up past the
   grace and the timer fires late), the next keepalive would come after
   the grace and the phone was dropped on none unanswered */
static void test_nat_unanswered(void **state)
{
	struct rig *r = *state;
	const uint64_t sent0 = metrics.nat_keepalives_sent;
	const uint64_t lost0 = metrics.nat_phones_lost;
	struct sip_msg *n1, *opt;

	subdlgs_set_nat(r->ctx, NAT_AUTO, 1, 1);
	n1 = nat_first(r, "call-k2", "sip:phone@10.1.2.3:5062", "");
	answer(r, n1, 200, "OK", false);
	run(100);

	wait_rx(r, 3, 1500);
	assert_int_equal(3, r->nrx);
	opt = rx_msg(r, 2);
	answer(r, opt, 200, "OK", false);
	mem_deref(opt);

	assert_gone(r, lost0, sent0);
	mem_deref(n1);
}


/* A phone that moves (its refresh from another address) is followed:
 * the next NOTIFY goes to the new address */
static void test_nat_follow(void **state)
{
	struct rig *r = *state;
	struct sip_msg *ok, *n1, *n2;
	struct doctpl *body = doc_of("", 0);
	struct sa addr2, la;
	char buf[1024];

	assert_non_null(body);
	n1 = nat_first(r, "call-f1", "sip:phone@10.1.2.3:5062", "");
	ok = rx_msg(r, 0);
	answer(r, n1, 200, "OK", false);
	run(100);

	assert_int_equal(0, sa_set_str(&la, "127.0.0.1", 0));
	assert_int_equal(0, udp_listen(&r->phone2, &la, phone2_recv, r));
	assert_int_equal(0, udp_local_get(r->phone2, &addr2));

	(void)re_snprintf(buf, sizeof(buf),
			  "SUBSCRIBE sip:park-1@%J SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.1.2.3:5062;branch=z9hG4bKmv;"
			  "rport\r\n"
			  "From: <sip:phone@%J>;tag=ph1\r\n"
			  "To: <sip:park-1@%J>;tag=%r\r\n"
			  "Call-ID: call-f1\r\n"
			  "CSeq: 2 SUBSCRIBE\r\n"
			  "Event: dialog\r\n"
			  "Content-Length: 0\r\n\r\n",
			  &r->sip_addr, &r->phone_addr, &r->sip_addr,
			  &ok->to.tag);
	{
		struct mbuf *mb = mbuf_alloc(strlen(buf));

		assert_non_null(mb);
		assert_int_equal(0, mbuf_write_str(mb, buf));
		mb->pos = 0;
		assert_int_equal(0, udp_send(r->phone2, &r->sip_addr, mb));
		mem_deref(mb);
	}
	wait_rx(r, 3, 2000);
	assert_int_equal(1, r->nmatch);

	notify_and_wait(r, body, 4);
	assert_int_equal(4, r->nrx);
	n2 = rx_msg(r, 3);
	assert_int_equal(0, pl_strcmp(&n2->met, "NOTIFY"));
	assert_int_equal(n1->cseq.num + 1, n2->cseq.num);
	/* the refresh's 200 and the NOTIFY came to the new address */
	assert_int_equal(2, r->nrx2);
	{
		struct persist_sub s;
		char ltag[17];

		memset(&s, 0, sizeof(s));
		subdlg_describe(r->sd, &s, ltag, sizeof(ltag));
		assert_true(sa_cmp(&s.nat, &addr2, SA_ALL));
		assert_true(sa_cmp(&s.laddr, &r->sip_addr, SA_ALL));
	}

	mem_deref(n2);
	mem_deref(n1);
	mem_deref(ok);
	mem_deref(body);
}


/* A dialog behind NAT saved by an earlier run: its NOTIFYs go where the
 * phone was, not to its Contact */
static void test_nat_restore(void **state)
{
	struct rig *r = *state;
	struct persist_sub s;
	struct doctpl *body = doc_of("", 0);
	char local[64];
	struct sip_msg *n;

	assert_non_null(body);
	(void)re_snprintf(local, sizeof(local), "sip:park-1@%J", &r->sip_addr);
	saved_init(&s, "call-r1", local, "sip:phone@10.1.2.3",
		   "sip:phone@10.1.2.3:5062");
	s.nat = r->phone_addr;
	s.laddr = r->sip_addr;

	assert_int_equal(0, subdlg_restore(&r->sd, r->ctx, &s, 0x70000064,
					   resp_handler, r));
	assert_int_equal(1, subdlgs_nat_count(r->ctx));
	notify_and_wait(r, body, 1);
	n = find_rx(r, 0, "call-r1", 0x70000065);
	assert_non_null(n);
	assert_int_equal(0, pl_strcmp(&n->ruri, "sip:phone@10.1.2.3:5062"));
	answer(r, n, 200, "OK", false);
	run(300);
	assert_int_equal(1, r->nresp);
	assert_int_equal(200, r->resp_scode);

	mem_deref(n);
	mem_deref(body);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_fast_path, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_forged_answer, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_record_route, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_no_answer, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_ipv6, rig_setup6,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_restore, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_budget, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_nat_contact, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_nat_modes, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_nat_keepalive, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_nat_unanswered, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_nat_follow, rig_setup,
					rig_teardown),
	cmocka_unit_test_setup_teardown(test_nat_restore, rig_setup,
					rig_teardown),
};

const struct unit_group unit_subdlg = UNIT_GROUP(subdlg, tests);
