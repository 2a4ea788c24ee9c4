/**
 * @file test_dialog_encoder.c  Event: dialog bodies as a phone reads them
 *
 * Every document is parsed back with libxml2 and checked with XPath.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static const char * const ns[] = {
	"d", "urn:ietf:params:xml:ns:dialog-info", NULL
};


static struct unit_doc *encode(const struct orbit_view *view)
{
	return unit_encode("dialog", "application/dialog-info+xml", view,
			   ns);
}


static void test_idle(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	d = encode(&v);

	unit_expect(d, "/d:dialog-info/@version", "7");
	unit_expect(d, "/d:dialog-info/@state", "full");
	unit_expect(d, "/d:dialog-info/@entity",
	       "sip:park-1@parkblf.example.com;user=phone");
	unit_expect(d, "count(/d:dialog-info/d:dialog)", "1");
	unit_expect(d, "/d:dialog-info/d:dialog/@id", "park-1-idle");
	unit_expect(d, "/d:dialog-info/d:dialog/d:state", "terminated");
	unit_doc_free(d);
}


static void test_oldest_call_only(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.callv = unit_two_calls;
	v.callc = 2;
	d = encode(&v);

	unit_expect(d, "count(/d:dialog-info/d:dialog)", "1");
	unit_expect(d, "/d:dialog-info/d:dialog/@id", "c-old");
	unit_expect(d, "/d:dialog-info/d:dialog/@direction", "recipient");
	unit_expect(d, "/d:dialog-info/d:dialog/d:state", "confirmed");
	unit_expect(d, "/d:dialog-info/d:dialog/d:duration", "75");
	unit_expect(d, "/d:dialog-info/d:dialog/d:remote/d:identity",
	       "sip:+4930111@pbx.example.com");
	unit_expect(d, "/d:dialog-info/d:dialog/d:remote/d:identity/@display",
	       "Alice <&> \"A\"");
	unit_expect(d, "/d:dialog-info/d:dialog/d:remote/d:target/@uri",
	       "sip:*10@pbx.example.com");
	unit_expect(d, "/d:dialog-info/d:dialog/d:local/d:identity",
	       "sip:park-1@parkblf.example.com;user=phone");
	unit_expect(d, "/d:dialog-info/d:dialog/d:local/d:identity/@display",
	       "Orbit 0");
	unit_expect(d, "/d:dialog-info/d:dialog/d:local/d:target/@uri",
	       "sip:*10@pbx.example.com");

	/* no call-id or tags: phones would try a Replaces pickup */
	unit_expect(d, "count(//@call-id)", "0");
	unit_expect(d, "count(//@local-tag)", "0");
	unit_expect(d, "count(//@remote-tag)", "0");
	unit_doc_free(d);
}


static void test_all_calls_early(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.callv = unit_two_calls;
	v.callc = 2;
	v.all_calls = true;
	v.lamp = LAMP_EARLY;
	v.label = NULL;
	d = encode(&v);

	unit_expect(d, "count(/d:dialog-info/d:dialog)", "2");
	unit_expect(d, "/d:dialog-info/d:dialog[1]/@id", "c-old");
	unit_expect(d, "/d:dialog-info/d:dialog[2]/@id", "c-new");
	unit_expect(d, "/d:dialog-info/d:dialog[2]/d:state", "early");
	unit_expect(d, "/d:dialog-info/d:dialog[2]/d:remote/d:identity",
	       "sip:200@pbx.example.com");
	unit_expect(d, "count(/d:dialog-info/d:dialog[2]/d:remote/d:identity/"
	       "@display)", "0");
	/* without a label the key shows the orbit name */
	unit_expect(d,
		    "/d:dialog-info/d:dialog[1]/d:local/d:identity/@display",
	       "park-1");
	unit_doc_free(d);
}


/* A call waited past park_alert_after: the attention state, also when
   the lamp is already early; an idle orbit stays idle */
static void test_overdue_early(void **state)
{
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.callv = unit_two_calls;
	v.callc = 2;
	d = encode(&v);
	unit_expect(d, "/d:dialog-info/d:dialog/d:state", "confirmed");
	unit_doc_free(d);

	v.overdue_s = 120;
	d = encode(&v);
	unit_expect(d, "/d:dialog-info/d:dialog/d:state", "early");
	unit_doc_free(d);

	v.lamp = LAMP_EARLY;
	d = encode(&v);
	unit_expect(d, "/d:dialog-info/d:dialog/d:state", "early");
	unit_doc_free(d);

	v.callc = 0;
	d = encode(&v);
	unit_expect(d, "/d:dialog-info/d:dialog/d:state", "terminated");
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

	unit_expect(d, "count(/d:dialog-info/d:dialog)", "1");
	unit_expect(d, "/d:dialog-info/d:dialog/d:state", "confirmed");
	unit_expect(d, "count(/d:dialog-info/d:dialog/d:remote/d:identity)",
	       "0");
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

	unit_expect(d, "/d:dialog-info/d:dialog/d:state", "confirmed");
	unit_expect(d, "count(//d:remote/d:identity)", "0");
	unit_expect(d, "/d:dialog-info/d:dialog/d:remote/d:target/@uri",
	       "sip:*10@pbx.example.com");
	unit_doc_free(d);
}


static void test_escape_everything(void **state)
{
	static const struct orbit_call evil[] = {
		{"id\"><x", "1<2", "</identity>&amp;\x01", 0},
	};
	struct orbit_view v;
	struct unit_doc *d;
	(void)state;

	unit_view_init(&v);
	v.entity = "sip:park-1@h;x=\"<>\"";
	v.label = "Tom & Jerry's";
	v.callv = evil;
	v.callc = 1;
	d = encode(&v);

	unit_expect(d, "/d:dialog-info/@entity", "sip:park-1@h;x=\"<>\"");
	unit_expect(d, "/d:dialog-info/d:dialog/@id", "id\"><x");
	unit_expect(d, "/d:dialog-info/d:dialog/d:remote/d:identity/@display",
	       "</identity>&amp;");
	unit_expect(d, "/d:dialog-info/d:dialog/d:local/d:identity/@display",
	       "Tom & Jerry's");
	unit_doc_free(d);
}


/* Like fwrite-based handlers: a zero-length write is an error */
static int strict_vph(const char *p, size_t size, void *arg)
{
	struct mbuf *mb = arg;

	if (!size)
		return EINVAL;

	return mbuf_write_mem(mb, (const uint8_t *)p, size);
}


static void test_escape_adjacent(void **state)
{
	struct mbuf *mb = mbuf_alloc(64);
	struct re_printf pf = {strict_vph, mb};
	(void)state;

	/* escapes back to back, and at both ends */
	assert_int_equal(0, xml_escape_print(&pf, "<&>\"b\x01\x02\nc'"));
	assert_int_equal(0, mbuf_write_u8(mb, 0));
	assert_string_equal("&lt;&amp;&gt;&quot;b&#10;c&apos;",
			    (char *)mb->buf);

	/* invalid UTF-8 (a label in Latin-1, a cut sequence) */
	mb->pos = mb->end = 0;
	assert_int_equal(0, xml_escape_print(&pf, "Caf\xe9 \xc3"));
	assert_int_equal(0, mbuf_write_u8(mb, 0));
	assert_string_equal("Caf\xef\xbf\xbd \xef\xbf\xbd",
			    (char *)mb->buf);
	mem_deref(mb);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_escape_adjacent),
	cmocka_unit_test(test_idle),
	cmocka_unit_test(test_oldest_call_only),
	cmocka_unit_test(test_overdue_early),
	cmocka_unit_test(test_all_calls_early),
	cmocka_unit_test(test_busy_without_details),
	cmocka_unit_test(test_privacy),
	cmocka_unit_test(test_escape_everything),
};

const struct unit_group unit_dialog_encoder =
	UNIT_GROUP(dialog_encoder, tests);
