/**
 * @file test_acceptlist.c  A SUBSCRIBE's Accept headers (acceptlist.c)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "acceptlist.h"
#include "unit.h"


static const char *DIALOG = "application/dialog-info+xml";


/* Whether a SUBSCRIBE with these header lines ("" for none) allows
   ctype */
static bool allows(const char *hdrs, const char *ctype)
{
	struct mbuf *mb = mbuf_alloc(512);
	struct sip_msg *msg = NULL;
	bool ok;

	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"SUBSCRIBE sip:park-1@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKa\r\n"
		"From: <sip:201@192.0.2.1>;tag=a\r\n"
		"To: <sip:park-1@192.0.2.1>\r\n"
		"Call-ID: c1\r\n"
		"CSeq: 1 SUBSCRIBE\r\n"
		"Event: dialog\r\n"
		"%s"
		"Content-Length: 0\r\n\r\n", hdrs));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);

	ok = acceptlist_allows(msg, ctype);
	mem_deref(msg);

	return ok;
}


static void test_none(void **state)
{
	(void)state;

	/* no Accept: the package's default type */
	assert_true(allows("", DIALOG));
	/* an empty one: nothing */
	assert_false(allows("Accept: \r\n", DIALOG));
	assert_false(acceptlist_allows(NULL, DIALOG));
}


static void test_ranges(void **state)
{
	(void)state;

	assert_true(allows("Accept: application/dialog-info+xml\r\n",
			   DIALOG));
	assert_true(allows("Accept: Application/Dialog-Info+XML\r\n",
			   DIALOG));
	assert_true(allows("Accept: */*\r\n", DIALOG));
	assert_true(allows("Accept: application/*\r\n", DIALOG));
	assert_true(allows("Accept: APPLICATION/*;q=0.1\r\n", DIALOG));

	assert_false(allows("Accept: application/pidf+xml\r\n", DIALOG));
	assert_false(allows("Accept: text/*\r\n", DIALOG));
	assert_false(allows("Accept: */xml\r\n", DIALOG));
	assert_false(allows("Accept: application/dialog-info+xmlx\r\n",
			    DIALOG));
	assert_false(allows("Accept: application/dialog-info\r\n",
			    DIALOG));
	assert_false(allows("Accept: dialog-info+xml\r\n", DIALOG));
	assert_false(allows("Accept: application\r\n", DIALOG));
	assert_false(allows("Accept: /dialog-info+xml\r\n", DIALOG));

	/* the other encoders' types */
	assert_true(allows("Accept: application/pidf+xml\r\n",
			   "application/pidf+xml"));
	assert_false(allows("Accept: application/dialog-info+xml\r\n",
			    "application/pidf+xml"));
}


static void test_lists(void **state)
{
	(void)state;

	assert_true(allows("Accept: application/pidf+xml, "
			   "application/dialog-info+xml\r\n", DIALOG));
	assert_true(allows("Accept: application/pidf+xml;q=0.5,"
			   "application/dialog-info+xml;q=1\r\n", DIALOG));
	/* white space around every part */
	assert_true(allows("Accept:  application / dialog-info+xml ; "
			   "q=0.5 , text/plain\r\n", DIALOG));
	assert_true(allows("Accept: text/plain,\t*/*\r\n", DIALOG));
	/* empty items */
	assert_true(allows("Accept: ,, application/dialog-info+xml,\r\n",
			   DIALOG));
	assert_false(allows("Accept: application/pidf+xml, text/plain\r\n",
			    DIALOG));

	/* several headers: any of them */
	assert_true(allows("Accept: application/pidf+xml\r\n"
			   "Accept: application/dialog-info+xml\r\n",
			   DIALOG));
	assert_false(allows("Accept: application/pidf+xml\r\n"
			    "Accept: text/plain\r\n", DIALOG));
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_none),
	cmocka_unit_test(test_ranges),
	cmocka_unit_test(test_lists),
};

const struct unit_group unit_acceptlist = UNIT_GROUP(acceptlist, tests);
