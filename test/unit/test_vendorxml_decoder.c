/**
 * @file test_vendorxml_decoder.c  The config-driven vendor XML decoder
 *
 * Each test makes a config with vendor_xml_* keys current and re-runs
 * the module's init (which reads vendor_xml_ctype); the teardown puts
 * the module back in its unconfigured state.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


extern const struct mod_export DECL_EXPORTS(vendorxml_decoder);

static const char ctype[] = "application/x-3cx-dn+xml";
static struct config *cfg;


/* Make a config current: the required keys plus the text given */
static int configure(const char *keys)
{
	struct mbuf *mb = mbuf_alloc(1024);

	(void)mbuf_printf(mb, "sip_listen 127.0.0.1:5070\n"
			  "upstream_uri sip:any-dn@192.0.2.1\n"
			  "orbit_map orbits.conf\n%s", keys);

	config_set_current(NULL);
	cfg = mem_deref(cfg);
	assert_int_equal(0, config_parse(&cfg, "/tmp/parkblf.conf",
					 mb->buf, mb->end, NULL));
	mem_deref(mb);

	config_set_current(cfg);
	(void)DECL_EXPORTS(vendorxml_decoder).close();

	return DECL_EXPORTS(vendorxml_decoder).init();
}


/*
 * The keys of test/fixtures/vendor-3cx.conf; extra ("key value\n")
 * replaces the line of the same key (a key may be set only once)
 */
static void configure_3cx(const char *extra)
{
	struct mbuf *mb = unit_fixture("vendor-3cx.conf");
	struct mbuf *keys = mbuf_alloc(1024);
	struct pl rest, line;
	size_t klen = strcspn(extra, " \t\n");

	(void)mbuf_write_str(keys, extra);
	rest.p = (const char *)mb->buf;
	rest.l = mb->end;
	while (rest.l) {
		const char *eol = pl_strchr(&rest, '\n');

		line.p = rest.p;
		line.l = eol ? (size_t)(eol - rest.p) + 1 : rest.l;
		pl_advance(&rest, line.l);

		if (klen && line.l > klen && !strncmp(line.p, extra, klen) &&
		    (line.p[klen] == ' ' || line.p[klen] == '\t'))
			continue;
		(void)mbuf_write_pl(keys, &line);
	}
	(void)mbuf_write_u8(keys, 0);

	assert_int_equal(0, configure((const char *)keys->buf));
	mem_deref(keys);
	mem_deref(mb);
}


static int teardown(void **state)
{
	(void)state;

	config_set_current(NULL);
	(void)DECL_EXPORTS(vendorxml_decoder).close();
	cfg = mem_deref(cfg);

	return 0;
}


static struct dn_update *decode_text(const char *text, int *errp)
{
	struct mbuf *mb = mbuf_alloc(512);
	struct dn_update *upd;

	(void)mbuf_write_str(mb, text);
	upd = unit_decode(ctype, mb, errp);
	mem_deref(mb);

	return upd;
}


static const struct dn_report *report(const struct dn_update *upd,
				      size_t idx)
{
	struct le *le = list_head(&upd->reports);

	while (le && idx--)
		le = le->next;
	assert_non_null(le);

	return le->data;
}


static const struct dn_call *call(const struct dn_report *rep, size_t idx)
{
	struct le *le = list_head(&rep->calls);

	while (le && idx--)
		le = le->next;
	assert_non_null(le);

	return le->data;
}


static void test_unconfigured(void **state)
{
	struct mbuf *mb = unit_fixture("vendor-3cx.xml");
	struct dn_update *upd;
	char buf[512];
	int err;
	(void)state;

	/* no vendor_xml_ctype: no type claimed, none offered */
	assert_int_equal(0, configure(""));
	upd = unit_decode(ctype, mb, &err);
	assert_int_equal(ENOTSUP, err);
	mem_deref(upd);

	assert_true(re_snprintf(buf, sizeof(buf), "%H",
				decoder_accept_print, NULL) > 0);
	assert_null(strstr(buf, "x-3cx"));
	assert_null(strstr(buf, "(null)"));
	mem_deref(mb);
}


static void test_fixture(void **state)
{
	struct mbuf *mb = unit_fixture("vendor-3cx.xml");
	const struct dn_report *rep;
	const struct dn_call *dc;
	struct dn_update *upd;
	char buf[512];
	int err;
	(void)state;

	configure_3cx("");

	/* offered upstream, parameters ignored when matching */
	assert_true(re_snprintf(buf, sizeof(buf), "%H",
				decoder_accept_print, NULL) > 0);
	assert_non_null(strstr(buf, ", application/x-3cx-dn+xml"));

	upd = unit_decode("Application/X-3CX-DN+XML;charset=UTF-8", mb,
			  &err);
	assert_int_equal(0, err);
	assert_false(upd->fullstate);
	assert_int_equal(3, list_count(&upd->reports));

	/* the extension 100 is not a park orbit: not reported */
	rep = report(upd, 0);
	assert_string_equal("*00", rep->dn);
	assert_false(rep->partial);
	assert_false(rep->occupied);
	assert_int_equal(2, list_count(&rep->calls));

	dc = call(rep, 0);
	assert_string_equal("a81c9e", dc->id);
	assert_string_equal("+4930111", dc->number);
	assert_string_equal("Alice & Co", dc->name);
	assert_false(dc->terminated);

	dc = call(rep, 1);
	assert_string_equal("a81ca0", dc->id);
	assert_string_equal("200", dc->number);
	assert_null(dc->name);

	rep = report(upd, 1);
	assert_string_equal("*01", rep->dn);
	assert_true(list_isempty(&rep->calls));

	/* DN given as a URI; a call without id, number, or blanks */
	rep = report(upd, 2);
	assert_string_equal("*02", rep->dn);
	assert_int_equal(1, list_count(&rep->calls));
	dc = call(rep, 0);
	assert_string_equal("call-0", dc->id);
	assert_null(dc->number);
	assert_string_equal("Bob", dc->name);

	mem_deref(upd);
	mem_deref(mb);
}


/* One element per call naming its DN: the calls of a DN are merged */
static void test_flat_calls(void **state)
{
	const struct dn_report *rep;
	const struct dn_call *dc;
	struct dn_update *upd;
	int err;
	(void)state;

	assert_int_equal(0, configure(
		"vendor_xml_ctype application/x-3cx-dn+xml\n"
		"vendor_xml_dn //call[@parked='1']/@dn\n"
		"vendor_xml_call .\n"
		"vendor_xml_call_id concat(@dn,'/',@seq)\n"
		"vendor_xml_number substring-before(@from,'@')\n"));

	upd = decode_text("<calls><call dn='*00' seq='1' parked='1' "
			  "from='101@h'/><call dn='*01' seq='2' parked='1' "
			  "from='102@h'/><call dn='*00' seq='3' parked='1' "
			  "from='103@h'/><call dn='*02' seq='4' "
			  "parked='0'/></calls>", &err);
	assert_int_equal(0, err);
	assert_int_equal(2, list_count(&upd->reports));

	rep = report(upd, 0);
	assert_string_equal("*00", rep->dn);
	assert_int_equal(2, list_count(&rep->calls));
	dc = call(rep, 0);
	assert_string_equal("*00/1", dc->id);
	assert_string_equal("101", dc->number);
	dc = call(rep, 1);
	assert_string_equal("*00/3", dc->id);
	assert_string_equal("103", dc->number);

	rep = report(upd, 1);
	assert_string_equal("*01", rep->dn);
	assert_int_equal(1, list_count(&rep->calls));

	mem_deref(upd);
}


/* The DN in a leaf element (or its text): the parent is the DN element */
static void test_leaf_element_dn(void **state)
{
	static const char doc[] =
		"<s:state xmlns:s='urn:example:s'><s:dn><s:id> 7001 </s:id>"
		"<s:call><s:cid>c1</s:cid><s:num>tel:+4930</s:num>"
		"</s:call></s:dn></s:state>";
	static const char *dnv[] = {
		"vendor_xml_dn /q:state/q:dn/q:id\n",
		"vendor_xml_dn //q:id/text()\n",
	};
	const struct dn_report *rep;
	struct dn_update *upd;
	char keys[512];
	size_t i;
	int err;
	(void)state;

	for (i = 0; i < sizeof(dnv) / sizeof(dnv[0]); i++) {
		(void)re_snprintf(keys, sizeof(keys),
				  "vendor_xml_ctype %s\n"
				  "vendor_xml_ns q=urn:example:s\n%s"
				  "vendor_xml_call q:call\n"
				  "vendor_xml_call_id q:cid\n"
				  "vendor_xml_number q:num\n", ctype, dnv[i]);
		assert_int_equal(0, configure(keys));

		upd = decode_text(doc, &err);
		assert_int_equal(0, err);
		assert_int_equal(1, list_count(&upd->reports));
		rep = report(upd, 0);
		assert_string_equal("7001", rep->dn);
		assert_int_equal(1, list_count(&rep->calls));
		assert_string_equal("c1", call(rep, 0)->id);
		assert_string_equal("+4930", call(rep, 0)->number);
		mem_deref(upd);
	}
}


static void test_bad_config(void **state)
{
	static const char *extra[] = {
		"vendor_xml_dn //x:dn[@type=\n",        /* syntax */
		"vendor_xml_dn //y:dn/@number\n",       /* unbound prefix */
		"vendor_xml_dn count(//x:dn)\n",        /* not nodes */
		"vendor_xml_dn //namespace::*\n",       /* namespace nodes */
		"vendor_xml_call x:call[\n",
		"vendor_xml_call string(x:call)\n",
		"vendor_xml_call_id @id)\n",
		"vendor_xml_number nosuchfunction(@a)\n",
		"vendor_xml_name x:caller/@name]\n",
		"vendor_xml_ns x\n",
		"vendor_xml_ns =urn:a\n",
		"vendor_xml_ns x=urn:x-3cx:dnstate,y=\n",
	};
	struct mbuf *mb = unit_fixture("vendor-3cx.xml");
	struct dn_update *upd;
	size_t i;
	int err;
	(void)state;

	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		configure_3cx(extra[i]);
		upd = unit_decode(ctype, mb, &err);
		if (err != EINVAL)
			print_error("case %zu (%s): %d\n", i, extra[i], err);
		assert_int_equal(EINVAL, err);
		mem_deref(upd);
	}

	/* vendor_xml_ctype without vendor_xml_dn */
	assert_int_equal(0, configure("vendor_xml_ctype a/b\n"));
	upd = unit_decode("a/b", mb, &err);
	assert_int_equal(EINVAL, err);
	mem_deref(upd);

	/* a vendor_xml_ctype that is not type/subtype fails the init */
	assert_int_equal(EINVAL, configure("vendor_xml_ctype nonsense\n"));
	mem_deref(mb);
}


static void test_broken_bodies(void **state)
{
	static const char *bad[] = {
		"<dnstate xmlns='urn:x-3cx:dnstate'><dn number='*00'>",
		"\x01\x02 not xml",
		"",
	};
	struct dn_update *upd;
	size_t i;
	int err;
	(void)state;

	configure_3cx("");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		upd = decode_text(bad[i], &err);
		assert_int_equal(EBADMSG, err);
		assert_true(list_isempty(&upd->reports));
		mem_deref(upd);
	}

	upd = decode_text("<?xml version='1.0'?><!DOCTYPE d [<!ENTITY e "
			  "SYSTEM 'file:///etc/passwd'>]><dnstate xmlns="
			  "'urn:x-3cx:dnstate'><dn type='park' number='&e;'/>"
			  "</dnstate>", &err);
	assert_int_equal(EPROTO, err);
	assert_true(list_isempty(&upd->reports));
	mem_deref(upd);

	/* another namespace: nothing matches, nothing reported */
	upd = decode_text("<dnstate xmlns='urn:other'><dn type='park' "
			  "number='*00'/></dnstate>", &err);
	assert_int_equal(0, err);
	assert_true(list_isempty(&upd->reports));
	mem_deref(upd);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_unconfigured, teardown),
	cmocka_unit_test_teardown(test_fixture, teardown),
	cmocka_unit_test_teardown(test_flat_calls, teardown),
	cmocka_unit_test_teardown(test_leaf_element_dn, teardown),
	cmocka_unit_test_teardown(test_bad_config, teardown),
	cmocka_unit_test_teardown(test_broken_bodies, teardown),
};

const struct unit_group unit_vendorxml_decoder =
	UNIT_GROUP(vendorxml_decoder, tests);
