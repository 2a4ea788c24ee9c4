/**
 * @file test_presence_encoder.c  Event: presence bodies as a softphone
 *                                reads them
 *
 * Every document is parsed back with libxml2 and checked with XPath;
 * the literal rpid: prefix is checked as text, because that is what
 * baresip matches.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static const char * const ns[] = {
	"p", "urn:ietf:params:xml:ns:pidf",
	"r", "urn:ietf:params:xml:ns:pidf:rpid",
	"m", "urn:ietf:params:xml:ns:pidf:data-model",
	NULL
};


static struct unit_doc *encode(const struct orbit_view *view)
{
	return unit_encode("presence", "application/pidf+xml", view, ns);
}


static void test_idle(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	d = encode(&v);

	unit_expect(d, "/p:presence/@entity",
	       "sip:park-1@parkblf.example.com;user=phone");
	unit_expect(d, "count(/p:presence/p:tuple)", "1");
	unit_expect(d, "/p:presence/p:tuple/p:status/p:basic", "open");
	unit_expect(d, "/p:presence/p:tuple/p:contact",
		    "sip:*10@pbx.example.com");
	unit_expect(d, "/p:presence/p:tuple/p:note", "free");
	unit_expect(d, "count(//r:activities)", "0");
	assert_null(strstr(d->text, "on-the-phone"));
	unit_doc_free(d);
}


static void test_one_call(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.callv = unit_two_calls;
	v.callc = 1;
	d = encode(&v);

	unit_expect(d, "/p:presence/p:tuple/p:status/p:basic", "open");
	unit_expect(d, "count(/p:presence/m:person/r:activities/*)", "1");
	unit_expect(d, "count(/p:presence/m:person/r:activities/"
	       "r:on-the-phone)", "1");
	unit_expect(d, "/p:presence/p:tuple/p:note",
	       "Parked: +4930111 Alice <&> \"A\"");

	/* baresip matches these texts literally */
	assert_non_null(strstr(d->text, "<rpid:on-the-phone/>"));
	assert_non_null(strstr(d->text, "xmlns:rpid=\"urn:ietf:params:xml:"
			       "ns:pidf:rpid\""));
	assert_non_null(strstr(d->text, "xmlns:dm=\"urn:ietf:params:xml:"
			       "ns:pidf:data-model\""));
	assert_non_null(strstr(d->text, "<basic>open</basic>"));
	unit_doc_free(d);
}


/* An overdue orbit's note says how long its oldest call has waited */
static void test_overdue_note(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.callv = unit_two_calls;
	v.callc = 1;
	v.overdue_s = 120;
	d = encode(&v);
	unit_expect(d, "/p:presence/p:tuple/p:note",
	       "Parked: +4930111 Alice <&> \"A\", waiting over 2 min");
	unit_doc_free(d);

	v.overdue_s = 45;
	v.privacy = true;
	d = encode(&v);
	unit_expect(d, "/p:presence/p:tuple/p:note",
		    "Parked, waiting over 45 s");
	unit_doc_free(d);
}


static void test_two_calls(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.callv = unit_two_calls;
	v.callc = 2;
	d = encode(&v);

	unit_expect(d, "/p:presence/p:tuple/p:note",
	       "2 calls parked, oldest: +4930111 Alice <&> \"A\"");
	unit_expect(d, "count(//r:on-the-phone)", "1");
	unit_doc_free(d);

	/* the oldest caller with only a number */
	v.callv = &unit_two_calls[1];
	v.callc = 1;
	d = encode(&v);
	unit_expect(d, "/p:presence/p:tuple/p:note", "Parked: 200");
	unit_doc_free(d);
}


static void test_privacy(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.callv = unit_two_calls;
	v.callc = 2;
	v.privacy = true;
	d = encode(&v);
	unit_expect(d, "/p:presence/p:tuple/p:note", "2 calls parked");
	unit_expect(d, "count(//r:on-the-phone)", "1");
	assert_null(strstr(d->text, "4930111"));
	assert_null(strstr(d->text, "Alice"));
	unit_doc_free(d);

	v.callc = 1;
	d = encode(&v);
	unit_expect(d, "/p:presence/p:tuple/p:note", "Parked");
	unit_doc_free(d);
}


static void test_busy_without_details(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.occupied = true;
	d = encode(&v);

	unit_expect(d, "/p:presence/p:tuple/p:status/p:basic", "open");
	unit_expect(d, "count(//r:on-the-phone)", "1");
	unit_expect(d, "/p:presence/p:tuple/p:note", "Parked");
	unit_doc_free(d);
}


static void test_escape_everything(void **state)
{
	static const struct orbit_call evil[] = {
		{"id\"><x", "1<2", "</note>&amp;\x01", 0},
	};
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.entity = "sip:park-1@h;x=\"<>\"";
	v.name = "<park&1>";
	v.retrieve_uri = "sip:*10@h;a=\"&\"";
	v.callv = evil;
	v.callc = 1;
	d = encode(&v);

	unit_expect(d, "/p:presence/@entity", "sip:park-1@h;x=\"<>\"");
	unit_expect(d, "/p:presence/p:tuple/p:contact", "sip:*10@h;a=\"&\"");
	unit_expect(d, "/p:presence/p:tuple/p:note",
		    "Parked: 1<2 </note>&amp;");
	unit_doc_free(d);
}


static void test_bad_view(void **state)
{
	static const struct pl event = PL("presence");
	const struct encoder *enc = encoder_find(&event);
	struct mbuf *mb = mbuf_alloc(64);
	struct orbit_view v;
	(void)state;

	assert_non_null(enc);
	unit_view_init(&v);
	v.entity = NULL;
	assert_int_equal(EINVAL, enc->encodeh(mb, &v));
	unit_view_init(&v);
	v.callc = 1;
	assert_int_equal(EINVAL, enc->encodeh(mb, &v));
	assert_int_equal(EINVAL, enc->encodeh(NULL, &v));
	mem_deref(mb);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_idle),
	cmocka_unit_test(test_one_call),
	cmocka_unit_test(test_overdue_note),
	cmocka_unit_test(test_two_calls),
	cmocka_unit_test(test_privacy),
	cmocka_unit_test(test_busy_without_details),
	cmocka_unit_test(test_escape_everything),
	cmocka_unit_test(test_bad_view),
};

const struct unit_group unit_presence_encoder =
	UNIT_GROUP(presence_encoder, tests);
