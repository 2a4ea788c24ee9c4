/**
 * @file test_rlmi_decoder.c  RFC 4662 multipart/related list decoder
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static const char ctype[] = "multipart/related;type=\"application/rlmi+xml\""
	";start=\"<rlmi@pbx>\";boundary=\"b1\"";


static void test_full_list(void **state)
{
	struct mbuf *mb = unit_fixture("rlmi-full.multipart");
	const struct dn_report *rep;
	const struct dn_call *dc;
	struct dn_update *upd;
	int err;
	(void)state;

	upd = unit_decode(ctype, mb, &err);
	assert_int_equal(0, err);
	assert_true(upd->fullstate);
	assert_int_equal(2, list_count(&upd->reports));

	rep = list_ledata(list_head(&upd->reports));
	assert_string_equal("*00", rep->dn);
	dc = list_ledata(list_head(&rep->calls));
	assert_string_equal("c1", dc->id);
	assert_string_equal("101", dc->number);
	assert_string_equal("Bob", dc->name);

	rep = list_ledata(list_tail(&upd->reports));
	assert_string_equal("*01", rep->dn);
	assert_true(list_isempty(&rep->calls));

	mem_deref(upd);
	mem_deref(mb);
}


static void test_partial_list_with_preamble(void **state)
{
	struct mbuf *mb = mbuf_alloc(1024);
	struct dn_update *upd;
	int err;
	(void)state;

	(void)mbuf_printf(mb,
		"preamble to ignore\r\n"
		"--b1\r\n"
		"Content-Type: application/rlmi+xml\r\n\r\n"
		"<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:l@h\" "
		"version=\"1\" fullState=\"false\"/>\r\n"
		"--b1\r\n"
		"Content-Type: application/dialog-info+xml\r\n\r\n"
		"<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
		"version=\"1\" state=\"full\" entity=\"sip:*02@h\"/>\r\n"
		"--b1--\r\n");
	upd = unit_decode("multipart/related;type=\"application/rlmi+xml\";"
			  "boundary=b1", mb, &err);
	assert_int_equal(0, err);
	assert_false(upd->fullstate);
	assert_int_equal(1, list_count(&upd->reports));
	mem_deref(upd);
	mem_deref(mb);
}


static void test_broken_multipart(void **state)
{
	struct mbuf *mb = unit_fixture("rlmi-full.multipart");
	struct mbuf *cut = mbuf_alloc(mb->end);
	int err;
	(void)state;

	/* no boundary parameter */
	mem_deref(unit_decode("multipart/related;type=\"application/"
			      "rlmi+xml\"", mb, &err));
	assert_int_equal(EBADMSG, err);

	/* another boundary than the body uses */
	mem_deref(unit_decode("multipart/related;boundary=zz", mb, &err));
	assert_int_equal(EBADMSG, err);

	/* truncated: no close delimiter */
	(void)mbuf_write_mem(cut, mb->buf, mb->end / 2);
	mem_deref(unit_decode(ctype, cut, &err));
	assert_int_equal(EBADMSG, err);

	/* a multipart/related that is not a resource list */
	mem_deref(unit_decode("multipart/related;type=\"text/html\";"
			      "boundary=b1", mb, &err));
	assert_int_equal(ENOTSUP, err);

	mem_deref(cut);
	mem_deref(mb);
}


static void test_no_rlmi_part(void **state)
{
	struct mbuf *mb = mbuf_alloc(512);
	int err;
	(void)state;

	(void)mbuf_printf(mb,
		"--b1\r\n"
		"Content-Type: application/dialog-info+xml\r\n\r\n"
		"<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
		"version=\"1\" state=\"full\" entity=\"sip:*02@h\"/>\r\n"
		"--b1--\r\n");
	mem_deref(unit_decode("multipart/related;boundary=b1", mb, &err));
	assert_int_equal(EBADMSG, err);
	mem_deref(mb);
}


static void test_nesting_bounded(void **state)
{
	struct mbuf *mb = mbuf_alloc(4096);
	int err, i;
	(void)state;

	/* five lists deep: more than the decoder takes */
	for (i = 0; i < 5; i++) {
		(void)mbuf_printf(mb, "--b%d\r\nContent-Type: application/"
				  "rlmi+xml\r\n\r\n<list xmlns=\"urn:ietf:"
				  "params:xml:ns:rlmi\"/>\r\n--b%d\r\n"
				  "Content-Type: multipart/related;"
				  "boundary=b%d\r\n\r\n", i, i, i + 1);
	}
	for (i = 4; i >= 0; i--)
		(void)mbuf_printf(mb, "\r\n--b%d--", i);
	mem_deref(unit_decode("multipart/related;boundary=b0", mb, &err));
	assert_int_equal(EBADMSG, err);
	mem_deref(mb);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_full_list),
	cmocka_unit_test(test_partial_list_with_preamble),
	cmocka_unit_test(test_broken_multipart),
	cmocka_unit_test(test_no_rlmi_part),
	cmocka_unit_test(test_nesting_bounded),
};

const struct unit_group unit_rlmi_decoder = UNIT_GROUP(rlmi_decoder, tests);
