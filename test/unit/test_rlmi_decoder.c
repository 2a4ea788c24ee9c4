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


/* The i-th report of upd: for DN dn, pending or not */
static const struct dn_report *report(const struct dn_update *upd,
				      unsigned i, const char *dn,
				      bool pending)
{
	struct le *le = list_head(&upd->reports);
	const struct dn_report *rep;

	while (le && i--)
		le = le->next;
	assert_non_null(le);
	rep = le->data;
	assert_string_equal(dn, rep->dn);
	assert_true(rep->pending == pending);

	return rep;
}


/* Kamailio's rls, the first NOTIFY of a new list subscription: every
   resource listed without <instance>: each DN pending, none idle */
static void test_resources_pending(void **state)
{
	struct mbuf *mb = mbuf_alloc(1024);
	struct dn_update *upd;
	int err;
	(void)state;

	(void)mbuf_printf(mb,
		"--b1\r\n"
		"Content-Transfer-Encoding: binary\r\n"
		"Content-ID: <1.sip:any-dn@h>\r\n"
		"Content-Type: application/rlmi+xml;charset=\"UTF-8\"\r\n\r\n"
		"<?xml version=\"1.0\"?>\n"
		"<list uri=\"sip:any-dn@h\" "
		"xmlns=\"urn:ietf:params:xml:ns:rlmi\" "
		"version=\"1\" fullState=\"true\">\n"
		"  <resource uri=\"sip:*00@h\"/>\n"
		"  <resource uri=\"sip:%%2A01@h\"><instance id=\"x\" "
		"state=\"pending\"/></resource>\n"
		"  <resource uri=\"sip:h\"/>\n"
		"</list>\r\n"
		"--b1--\r\n");
	upd = unit_decode(ctype, mb, &err);
	assert_int_equal(0, err);
	assert_true(upd->fullstate);
	assert_int_equal(2, list_count(&upd->reports));
	assert_true(list_isempty(&report(upd, 0, "*00", true)->calls));
	(void)report(upd, 1, "*01", true);

	mem_deref(upd);
	mem_deref(mb);
}


/* A resource whose instances are all terminated (the list ended its
   subscription to it) is unknown, not pending, even with a last part;
   one with a pending instance beside a terminated one is pending */
static void test_resources_ended(void **state)
{
	struct mbuf *mb = mbuf_alloc(2048);
	const struct dn_report *rep;
	struct dn_update *upd;
	int err;
	(void)state;

	(void)mbuf_printf(mb,
		"--b1\r\n"
		"Content-ID: <p1@h>\r\n"
		"Content-Type: application/dialog-info+xml\r\n\r\n"
		"<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
		"version=\"2\" state=\"full\" entity=\"sip:*01@h\">"
		"<dialog id=\"c1\"><state>confirmed</state></dialog>"
		"</dialog-info>\r\n"
		"--b1\r\n"
		"Content-Type: application/rlmi+xml\r\n\r\n"
		"<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:l@h\" "
		"version=\"3\" fullState=\"false\">"
		"<resource uri=\"sip:*00@h\"><instance id=\"a\" "
		"state=\"terminated\" reason=\"noresource\"/></resource>"
		"<resource uri=\"sip:*01@h\"><instance id=\"b\" "
		"state=\"terminated\" reason=\"rejected\" cid=\"p1@h\"/>"
		"</resource>"
		"<resource uri=\"sip:*02@h\"><instance id=\"c\" "
		"state=\"terminated\" reason=\"timeout\"/><instance "
		"id=\"d\" state=\"pending\"/></resource>"
		"</list>\r\n"
		"--b1--\r\n");
	upd = unit_decode(ctype, mb, &err);
	assert_int_equal(0, err);
	assert_false(upd->fullstate);
	assert_int_equal(3, list_count(&upd->reports));
	/* the part's report comes first, then the ones the RLMI adds */
	rep = report(upd, 0, "*01", false);
	assert_true(rep->unknown);
	rep = report(upd, 1, "*00", false);
	assert_true(rep->unknown);
	rep = report(upd, 2, "*02", true);
	assert_false(rep->unknown);

	mem_deref(upd);
	mem_deref(mb);
}


/* The resource uri names the DN of the part its instance's cid points
   to (%-escapes decoded in both); a resource whose part did not come
   is pending; the RLMI part need not come first */
static void test_resource_names_part(void **state)
{
	struct mbuf *mb = mbuf_alloc(2048);
	const struct dn_call *dc;
	struct dn_update *upd;
	int err;
	(void)state;

	(void)mbuf_printf(mb,
		"--b1\r\n"
		"Content-ID: <p0@h>\r\n"
		"Content-Type: application/dialog-info+xml\r\n\r\n"
		"<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
		"version=\"2\" state=\"full\" entity=\"sip:%%2A00@h\">"
		"<dialog id=\"c1\"><state>confirmed</state><remote>"
		"<identity>sip:%%2B4930@h</identity></remote></dialog>"
		"</dialog-info>\r\n"
		"--b1\r\n"
		"Content-ID: <p1@h>\r\n"
		"Content-Type: application/dialog-info+xml\r\n\r\n"
		"<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
		"version=\"0\" state=\"full\" entity=\"sip:other@h\"/>\r\n"
		"--b1\r\n"
		"Content-Type: application/rlmi+xml\r\n\r\n"
		"<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:l@h\" "
		"version=\"3\" fullState=\"true\">"
		"<resource uri=\"sip:*00@h\"><instance id=\"a\" "
		"state=\"active\" cid=\"p0@h\"/></resource>"
		"<resource uri=\"sip:%%2A01@h\"><instance id=\"b\" "
		"state=\"active\" cid=\"p1@h\"/></resource>"
		"<resource uri=\"sip:*02@h\"><instance id=\"c\" "
		"state=\"active\" cid=\"gone@h\"/></resource>"
		"</list>\r\n"
		"--b1--\r\n");
	upd = unit_decode(ctype, mb, &err);
	assert_int_equal(0, err);
	assert_true(upd->fullstate);
	assert_int_equal(3, list_count(&upd->reports));
	dc = list_ledata(list_head(&report(upd, 0, "*00", false)->calls));
	assert_string_equal("+4930", dc->number);
	assert_true(list_isempty(&report(upd, 1, "*01", false)->calls));
	(void)report(upd, 2, "*02", true);

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
	cmocka_unit_test(test_resources_pending),
	cmocka_unit_test(test_resources_ended),
	cmocka_unit_test(test_resource_names_part),
	cmocka_unit_test(test_broken_multipart),
	cmocka_unit_test(test_no_rlmi_part),
	cmocka_unit_test(test_nesting_bounded),
};

const struct unit_group unit_rlmi_decoder = UNIT_GROUP(rlmi_decoder, tests);
