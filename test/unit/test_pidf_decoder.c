/**
 * @file test_pidf_decoder.c  application/pidf+xml upstream bodies, alone
 *                            and as parts of an RFC 4662 list
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static const char ctype[] = "application/pidf+xml";


static struct dn_update *decode_text(const char *text, int *errp)
{
	struct mbuf *mb = mbuf_alloc(512);
	struct dn_update *upd;

	(void)mbuf_write_str(mb, text);
	upd = unit_decode(ctype, mb, errp);
	mem_deref(mb);

	return upd;
}


static void test_busy_any_prefix(void **state)
{
	struct mbuf *mb = unit_fixture("pidf-busy.xml");
	const struct dn_report *rep;
	struct dn_update *upd;
	int err;
	(void)state;

	upd = unit_decode(ctype, mb, &err);
	assert_int_equal(0, err);
	assert_false(upd->fullstate);
	assert_int_equal(1, list_count(&upd->reports));

	rep = list_ledata(list_head(&upd->reports));
	assert_string_equal("*00", rep->dn);
	assert_true(rep->occupied);
	assert_false(rep->partial);
	assert_true(list_isempty(&rep->calls));

	mem_deref(upd);
	mem_deref(mb);
}


static void test_idle_pres_uri(void **state)
{
	struct mbuf *mb = unit_fixture("pidf-idle.xml");
	const struct dn_report *rep;
	struct dn_update *upd;
	int err;
	(void)state;

	upd = unit_decode(ctype, mb, &err);
	assert_int_equal(0, err);
	assert_int_equal(1, list_count(&upd->reports));

	/* pres: entity; a note, rpid:away and a foreign <busy/> are idle */
	rep = list_ledata(list_head(&upd->reports));
	assert_string_equal("*01", rep->dn);
	assert_false(rep->occupied);
	assert_false(rep->partial);
	assert_true(list_isempty(&rep->calls));

	mem_deref(upd);
	mem_deref(mb);
}


static void test_busy_in_tuple_status(void **state)
{
	struct dn_update *upd;
	const struct dn_report *rep;
	int err;
	(void)state;

	upd = decode_text("<presence xmlns='urn:ietf:params:xml:ns:pidf' "
			  "entity='tel:+4930123'><tuple id='t'><status>"
			  "<basic>open</basic><activities xmlns='urn:ietf:"
			  "params:xml:ns:pidf:rpid'><busy/></activities>"
			  "</status></tuple></presence>", &err);
	assert_int_equal(0, err);
	rep = list_ledata(list_head(&upd->reports));
	assert_non_null(rep);
	assert_string_equal("+4930123", rep->dn);
	assert_true(rep->occupied);
	mem_deref(upd);
}


static void test_refused(void **state)
{
	static const char *bad[] = {
		/* no entity */
		"<presence xmlns='urn:ietf:params:xml:ns:pidf'/>",
		/* an entity without a user part */
		"<presence xmlns='urn:ietf:params:xml:ns:pidf' "
		"entity='sip:pbx.example.com'/>",
		/* not a presence document */
		"<tuple xmlns='urn:ietf:params:xml:ns:pidf' "
		"entity='sip:1@h'/>",
		/* no namespace at all */
		"<presence entity='sip:1@h'/>",
		/* garbage */
		"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity=",
		"\x01\x02 not xml",
		"",
	};
	struct mbuf *mb;
	struct dn_update *upd;
	size_t i;
	int err;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		upd = decode_text(bad[i], &err);
		if (err != EBADMSG)
			print_error("case %zu: %d\n", i, err);
		assert_int_equal(EBADMSG, err);
		assert_true(list_isempty(&upd->reports));
		mem_deref(upd);
	}

	mb = unit_fixture("pidf-wrongns.xml");
	upd = unit_decode(ctype, mb, &err);
	assert_int_equal(EBADMSG, err);
	assert_true(list_isempty(&upd->reports));
	mem_deref(upd);
	mem_deref(mb);

	mb = unit_fixture("pidf-xxe.xml");
	upd = unit_decode(ctype, mb, &err);
	assert_int_equal(EPROTO, err);
	assert_true(list_isempty(&upd->reports));
	mem_deref(upd);
	mem_deref(mb);
}


/* RFC 4662 lists with PIDF parts need nothing but the two decoders */
static void test_rlmi_with_pidf_parts(void **state)
{
	struct mbuf *mb = unit_fixture("rlmi-pidf.multipart");
	const struct dn_report *rep;
	struct dn_update *upd;
	int err;
	(void)state;

	upd = unit_decode("multipart/related;type=\"application/rlmi+xml\";"
			  "start=\"<rlmi@pbx>\";boundary=\"pidf-b\"", mb,
			  &err);
	assert_int_equal(0, err);
	assert_true(upd->fullstate);
	assert_int_equal(2, list_count(&upd->reports));

	rep = list_ledata(list_head(&upd->reports));
	assert_string_equal("*00", rep->dn);
	assert_true(rep->occupied);
	assert_true(list_isempty(&rep->calls));

	rep = list_ledata(list_tail(&upd->reports));
	assert_string_equal("*01", rep->dn);
	assert_false(rep->occupied);
	assert_true(list_isempty(&rep->calls));

	mem_deref(upd);
	mem_deref(mb);
}


static void test_offered_in_accept(void **state)
{
	char buf[512];
	(void)state;

	assert_true(re_snprintf(buf, sizeof(buf), "%H",
				decoder_accept_print, NULL) > 0);
	assert_non_null(strstr(buf, "application/pidf+xml"));
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_busy_any_prefix),
	cmocka_unit_test(test_idle_pres_uri),
	cmocka_unit_test(test_busy_in_tuple_status),
	cmocka_unit_test(test_refused),
	cmocka_unit_test(test_rlmi_with_pidf_parts),
	cmocka_unit_test(test_offered_in_accept),
};

const struct unit_group unit_pidf_decoder =
	UNIT_GROUP(pidf_decoder, tests);
