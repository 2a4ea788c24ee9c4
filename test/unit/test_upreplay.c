/**
 * @file test_upreplay.c  The PBX's NOTIFYs answered again when
 *                        retransmitted (src/upreplay.c)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "upstream.h"
#include "metrics.h"
#include "unit.h"


struct fixture {
	struct sip *sip;
	struct upreplay *r;
	struct upreplay_dlg *d;
};


/* An upstream NOTIFY as libre decodes it; answers go to the discard
   port */
static struct sip_msg *notify(const char *callid, uint32_t cseq,
			      const char *branch)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(512);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"NOTIFY sip:9999@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:9;branch=%s\r\n"
		"From: <sip:any-dn@127.0.0.1>;tag=pbx\r\n"
		"To: <sip:9999@127.0.0.1>;tag=us\r\n"
		"Call-ID: %s\r\n"
		"CSeq: %u NOTIFY\r\n"
		"Event: dialog\r\n"
		"Subscription-State: active;expires=600\r\n"
		"Content-Length: 0\r\n\r\n", branch, callid, cseq));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);
	assert_int_equal(0, sa_set_str(&msg->src, "127.0.0.1", 9));

	return msg;
}


static void setup(struct fixture *f)
{
	struct sa laddr;

	memset(f, 0, sizeof(*f));
	assert_int_equal(0, sip_alloc(&f->sip, NULL, 32, 32, 32, "test",
				      NULL, NULL));
	assert_int_equal(0, sa_set_str(&laddr, "127.0.0.1", 0));
	assert_int_equal(0, sip_transp_add(f->sip, SIP_TRANSP_UDP, &laddr));
	assert_int_equal(0, upreplay_alloc(&f->r));
	upreplay_set_now(1000);
}


static void teardown(struct fixture *f)
{
	upreplay_set_now(0);
	mem_deref(f->d);
	mem_deref(f->r);
	sip_close(f->sip, true);
	mem_deref(f->sip);
}


/* Answer one new NOTIFY (as upstream.c does) */
static void answer(struct fixture *f, const char *callid, uint32_t cseq,
		   const char *branch)
{
	struct sip_msg *msg = notify(callid, cseq, branch);

	assert_int_equal(0, upreplay_reply(&f->d, f->r, f->sip, msg, 200,
					   "OK", "application/x"));
	mem_deref(msg);
}


/* Is this NOTIFY taken as a retransmission? */
static bool again(struct fixture *f, const char *callid, uint32_t cseq,
		  const char *branch)
{
	struct sip_msg *msg = notify(callid, cseq, branch);
	bool taken = upreplay_request(f->r, f->sip, msg);

	mem_deref(msg);

	return taken;
}


/* Same dialog, CSeq and branch: answered again; a new CSeq, another
   branch, another dialog or another method: not */
static void test_retransmission(void **state)
{
	struct fixture f;
	struct sip_msg *msg;
	uint64_t n0 = metrics.upstream_notify_retransmissions;
	(void)state;

	setup(&f);
	answer(&f, "c1", 5, "z9hG4bK-5");
	answer(&f, "c1", 6, "z9hG4bK-6");

	assert_true(again(&f, "c1", 5, "z9hG4bK-5"));
	assert_true(again(&f, "c1", 6, "z9hG4bK-6"));
	assert_int_equal(n0 + 2, metrics.upstream_notify_retransmissions);

	assert_false(again(&f, "c1", 7, "z9hG4bK-7"));   /* new */
	assert_false(again(&f, "c1", 6, "z9hG4bK-x"));   /* same CSeq */
	assert_false(again(&f, "c1", 4, "z9hG4bK-4"));   /* older */
	assert_false(again(&f, "c2", 5, "z9hG4bK-5"));   /* other dialog */

	msg = notify("c1", 5, "z9hG4bK-5");
	assert_int_equal(0, pl_strcmp(&msg->met, "NOTIFY"));
	msg->met.l = 3;                                   /* "NOT" */
	assert_false(upreplay_request(f.r, f.sip, msg));
	mem_deref(msg);

	/* libre lets an equal CSeq through: both are remembered */
	answer(&f, "c1", 6, "z9hG4bK-6b");
	assert_true(again(&f, "c1", 6, "z9hG4bK-6"));
	assert_true(again(&f, "c1", 6, "z9hG4bK-6b"));

	/* a new dialog (a new subscription): the old one's are gone */
	answer(&f, "c2", 1, "z9hG4bK-1");
	assert_true(again(&f, "c2", 1, "z9hG4bK-1"));
	assert_false(again(&f, "c1", 5, "z9hG4bK-5"));

	teardown(&f);
}


/* Thousands in the ring (it grows and wraps), each found; 32 s later
   gone, the newer ones kept while the ring shrinks */
static void test_ring(void **state)
{
	struct fixture f;
	char b[32];
	uint32_t i;
	(void)state;

	setup(&f);
	for (i = 1; i <= 3000; i++) {
		(void)re_snprintf(b, sizeof(b), "z9hG4bK-%u", i);
		upreplay_set_now(1000 + i);
		answer(&f, "c1", i, b);
	}
	for (i = 1; i <= 3000; i += 7) {
		(void)re_snprintf(b, sizeof(b), "z9hG4bK-%u", i);
		assert_true(again(&f, "c1", i, b));
	}

	/* 64*T1 after the first 2,990: only the last 10 are left */
	upreplay_set_now(1000 + 2990 + 32000);
	assert_false(again(&f, "c1", 1, "z9hG4bK-1"));
	assert_false(again(&f, "c1", 2990, "z9hG4bK-2990"));
	assert_true(again(&f, "c1", 2991, "z9hG4bK-2991"));

	/* the next answer prunes them; the ring shrinks and still finds
	   every one left */
	answer(&f, "c1", 3001, "z9hG4bK-3001");
	for (i = 2991; i <= 3001; i++) {
		(void)re_snprintf(b, sizeof(b), "z9hG4bK-%u", i);
		assert_true(again(&f, "c1", i, b));
	}
	assert_false(again(&f, "c1", 2990, "z9hG4bK-2990"));

	teardown(&f);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_retransmission),
	cmocka_unit_test(test_ring),
};

const struct unit_group unit_upreplay = UNIT_GROUP(upreplay, tests);
