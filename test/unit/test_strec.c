/**
 * @file test_strec.c  SUBSCRIBEs libre may hold a server transaction for
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


/* A SUBSCRIBE as libre decodes it */
static struct sip_msg *subscribe(const char *callid, const char *branch)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(512);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"SUBSCRIBE sip:park-1@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=%s\r\n"
		"From: <sip:phone@127.0.0.2>;tag=f1\r\n"
		"To: <sip:park-1@127.0.0.1>\r\n"
		"Call-ID: %s\r\n"
		"CSeq: 1 SUBSCRIBE\r\n"
		"Event: dialog\r\n"
		"Content-Length: 0\r\n\r\n", branch, callid));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);

	return msg;
}


/* Recorded by Call-ID (a merged request: another branch) or by branch
   (a retransmission); anything else is not */
static void test_match(void **state)
{
	struct sip_msg *a = subscribe("call-a", "z9hG4bK-1");
	struct sip_msg *merged = subscribe("call-a", "z9hG4bK-2");
	struct sip_msg *same_branch = subscribe("call-b", "z9hG4bK-1");
	struct sip_msg *other = subscribe("call-c", "z9hG4bK-3");
	(void)state;

	strec_reset();
	strec_set_now(1000);
	assert_false(strec_has(a));
	assert_int_equal(0, strec_count());

	strec_add(a);
	assert_int_equal(1, strec_count());
	assert_true(strec_has(a));
	assert_true(strec_has(merged));
	assert_true(strec_has(same_branch));
	assert_false(strec_has(other));

	strec_reset();
	assert_false(strec_has(a));
	strec_set_now(0);
	mem_deref(a);
	mem_deref(merged);
	mem_deref(same_branch);
	mem_deref(other);
}


/* An entry lives as long as libre's transaction may (32 s), with a
   margin; the oldest go first */
static void test_expiry(void **state)
{
	struct sip_msg *a = subscribe("call-a", "z9hG4bK-1");
	struct sip_msg *b = subscribe("call-b", "z9hG4bK-2");
	(void)state;

	strec_reset();
	strec_set_now(1000);
	strec_add(a);
	strec_set_now(20000);
	strec_add(b);
	assert_int_equal(2, strec_count());

	strec_set_now(1000 + 32000);
	assert_true(strec_has(a));            /* Timer J not over */
	strec_set_now(1000 + 40000);
	assert_false(strec_has(a));
	assert_true(strec_has(b));
	assert_int_equal(1, strec_count());
	strec_set_now(20000 + 40000);
	assert_false(strec_has(b));
	assert_int_equal(0, strec_count());

	strec_reset();
	strec_set_now(0);
	mem_deref(a);
	mem_deref(b);
}


/* A flood of SUBSCRIBEs answered statefully keeps at most strec_max
   records; past it, for as long as one not recorded may have a
   transaction, every SUBSCRIBE goes libre's way */
static void test_cap(void **state)
{
	struct sip_msg *other = subscribe("call-other", "z9hG4bK-other");
	const uint32_t max = strec_max();
	char callid[32], branch[32];
	uint32_t i;
	(void)state;

	strec_reset();
	strec_set_now(1000);
	for (i = 0; i < max + 100; i++) {
		struct sip_msg *m;

		(void)re_snprintf(callid, sizeof(callid), "flood-%u", i);
		(void)re_snprintf(branch, sizeof(branch), "z9hG4bK%u", i);
		m = subscribe(callid, branch);
		strec_add(m);
		mem_deref(m);
		if (i + 1 == max)
			assert_false(strec_has(other));
	}
	assert_int_equal(max, strec_count());
	assert_true(strec_full());
	assert_true(strec_has(other));        /* not recorded: full */

	/* the first ones expire, the last not recorded may still have
	   its transaction */
	strec_set_now(1000 + 39999);
	assert_true(strec_has(other));
	strec_set_now(1000 + 40000);
	assert_int_equal(0, strec_count());
	assert_false(strec_full());
	assert_false(strec_has(other));

	strec_reset();
	strec_set_now(0);
	mem_deref(other);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_match),
	cmocka_unit_test(test_expiry),
	cmocka_unit_test(test_cap),
};

const struct unit_group unit_strec = UNIT_GROUP(strec, tests);
