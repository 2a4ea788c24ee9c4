/**
 * @file test_dialog_decoder.c  application/dialog-info+xml decoder
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static const char ctype[] = "application/dialog-info+xml";


static struct dn_update *decode_fixture(const char *name, int *errp)
{
	struct mbuf *mb = unit_fixture(name);
	struct dn_update *upd = unit_decode(ctype, mb, errp);

	mem_deref(mb);

	return upd;
}


static void test_parked_calls(void **state)
{
	struct dn_update *upd;
	const struct dn_report *rep;
	const struct dn_call *dc;
	int err;
	(void)state;

	upd = decode_fixture("dialog-parked.xml", &err);
	assert_int_equal(0, err);
	assert_false(upd->fullstate);
	assert_int_equal(1, list_count(&upd->reports));

	rep = list_ledata(list_head(&upd->reports));
	assert_string_equal("*00", rep->dn);
	assert_false(rep->partial);
	assert_true(rep->has_version);
	assert_int_equal(3, rep->version);
	assert_int_equal(3, list_count(&rep->calls));

	dc = list_ledata(list_head(&rep->calls));
	assert_string_equal("call-a", dc->id);
	assert_string_equal("+4930111", dc->number);
	assert_string_equal("Alice & Co", dc->name);
	assert_true(dc->has_duration);
	assert_int_equal(42, dc->duration);
	assert_false(dc->terminated);

	dc = list_ledata(rep->calls.head->next);
	assert_string_equal("call-b", dc->id);
	assert_string_equal("200", dc->number);     /* from tel:200 */
	assert_null(dc->name);
	assert_false(dc->has_duration);

	dc = list_ledata(list_tail(&rep->calls));
	assert_string_equal("call-c", dc->id);
	assert_true(dc->terminated);

	mem_deref(upd);
}


static void test_idle_and_partial(void **state)
{
	struct dn_update *upd;
	const struct dn_report *rep;
	int err;
	(void)state;

	upd = decode_fixture("dialog-idle.xml", &err);
	assert_int_equal(0, err);
	rep = list_ledata(list_head(&upd->reports));
	assert_string_equal("*00", rep->dn);
	assert_true(list_isempty(&rep->calls));
	mem_deref(upd);

	/* a namespace prefix is as good as a default namespace */
	upd = decode_fixture("dialog-partial.xml", &err);
	assert_int_equal(0, err);
	rep = list_ledata(list_head(&upd->reports));
	assert_true(rep->partial);
	assert_int_equal(5, rep->version);
	assert_true(((struct dn_call *)list_ledata(list_head(&rep->calls)))
		    ->terminated);
	mem_deref(upd);
}


static void test_refused_bodies(void **state)
{
	int err;
	(void)state;

	mem_deref(decode_fixture("dialog-wrongns.xml", &err));
	assert_int_equal(EBADMSG, err);

	mem_deref(decode_fixture("dialog-broken.xml", &err));
	assert_int_equal(EBADMSG, err);

	/* external entities never get near the parser */
	mem_deref(decode_fixture("dialog-xxe.xml", &err));
	assert_int_equal(EPROTO, err);

	/* nor internal ones, in any encoding: UTF-16LE with a BOM, an
	   internal DTD whose entity would name the caller */
	mem_deref(decode_fixture("dialog-dtd-utf16.xml", &err));
	assert_int_equal(EPROTO, err);
}


static void test_no_entity_user(void **state)
{
	struct mbuf *mb = mbuf_alloc(256);
	int err;
	(void)state;

	(void)mbuf_printf(mb, "<dialog-info xmlns=\"urn:ietf:params:xml:"
			  "ns:dialog-info\" version=\"1\" state=\"full\" "
			  "entity=\"sip:pbx.example.com\"/>");
	mem_deref(unit_decode(ctype, mb, &err));
	assert_int_equal(EBADMSG, err);
	mem_deref(mb);
}


static void test_size_limit(void **state)
{
	struct mbuf *mb = mbuf_alloc(XMLSAFE_MAX_BODY + 16);
	int err;
	(void)state;

	(void)mbuf_fill(mb, ' ', XMLSAFE_MAX_BODY + 1);
	mem_deref(unit_decode(ctype, mb, &err));
	assert_int_equal(EMSGSIZE, err);
	mem_deref(mb);
}


static void test_unknown_type(void **state)
{
	struct mbuf *mb = mbuf_alloc(16);
	int err;
	(void)state;

	(void)mbuf_printf(mb, "hello");
	mem_deref(unit_decode("text/plain", mb, &err));
	assert_int_equal(ENOTSUP, err);
	mem_deref(mb);
}


/* User parts of URIs, %-escapes decoded (RFC 3261 19.1.4); URIs
   without one, or with a broken escape, refused */
static void test_uri_user(void **state)
{
	static const char *good[][2] = {
		{"sip:*00@pbx.example.com", "*00"},
		{"<sips:101@[::1]:5061>", "101"},
		{"tel:+4930123;phone-context=x", "+4930123"},
		{"sip:%2A00@pbx", "*00"},
		{"sip:a%20b%2a@pbx", "a b*"},
	};
	static const char *bad[] = {
		"sip:pbx.example.com", "http://x@y", "alice",
		"sip:%2@pbx", "sip:%zz00@pbx", "sip:a%00b@pbx", "sip:ab%@pbx"
	};
	char *u = NULL;
	size_t i;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(0, uri_user_dup(&u, good[i][0]));
		assert_string_equal(good[i][1], u);
		u = mem_deref(u);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(EBADMSG, uri_user_dup(&u, bad[i]));
	assert_null(u);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parked_calls),
	cmocka_unit_test(test_idle_and_partial),
	cmocka_unit_test(test_refused_bodies),
	cmocka_unit_test(test_no_entity_user),
	cmocka_unit_test(test_size_limit),
	cmocka_unit_test(test_unknown_type),
	cmocka_unit_test(test_uri_user),
};

const struct unit_group unit_dialog_decoder =
	UNIT_GROUP(dialog_decoder, tests);
