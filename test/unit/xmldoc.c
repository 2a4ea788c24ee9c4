/**
 * @file xmldoc.c  Encoder output parsed back with libxml2, checked by
 *                 XPath (shared by the encoder tests)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


/**
 * Encode a view with the encoder of an event package and parse it
 *
 * @param event Event package
 * @param ctype Content-Type the encoder must declare
 * @param view  Orbit view
 * @param nsv   XPath namespaces: prefix, URI, ..., NULL
 *
 * @return The parsed document (free with unit_doc_free)
 */
struct unit_doc *unit_encode(const char *event, const char *ctype,
			     const struct orbit_view *view,
			     const char * const *nsv)
{
	const struct encoder *enc;
	struct unit_doc *d = mem_zalloc(sizeof(*d), NULL);
	struct mbuf *mb = mbuf_alloc(1024);
	struct pl ev;

	pl_set_str(&ev, event);
	enc = encoder_find(&ev);
	assert_non_null(enc);
	assert_string_equal(ctype, enc->ctype);
	assert_int_equal(0, enc->encodeh(mb, view));
	assert_true(mb->end < sizeof(d->text));
	memcpy(d->text, mb->buf, mb->end);

	assert_int_equal(0, xmlsafe_parse(&d->doc, mb->buf, mb->end));
	d->ctx = xmlXPathNewContext(d->doc);
	for (; nsv && nsv[0] && nsv[1]; nsv += 2)
		xmlXPathRegisterNs(d->ctx, (const xmlChar *)nsv[0],
				   (const xmlChar *)nsv[1]);
	mem_deref(mb);

	return d;
}


/**
 * Free a document from unit_encode
 *
 * @param d Document
 */
void unit_doc_free(struct unit_doc *d)
{
	xmlXPathFreeContext(d->ctx);
	xmlsafe_free(d->doc);
	mem_deref(d);
}


/**
 * Assert the string value of an XPath expression
 *
 * @param d     Document
 * @param xpath Expression
 * @param value Expected string value
 */
void unit_expect(struct unit_doc *d, const char *xpath, const char *value)
{
	xmlXPathObject *o;
	char expr[256];

	(void)re_snprintf(expr, sizeof(expr), "string(%s)", xpath);
	o = xmlXPathEvalExpression((const xmlChar *)expr, d->ctx);
	assert_non_null(o);
	if (strcmp((const char *)o->stringval, value)) {
		print_error("%s: got '%s', want '%s'\n%s\n", xpath,
			    o->stringval, value, d->text);
	}
	assert_string_equal(value, (const char *)o->stringval);
	xmlXPathFreeObject(o);
}


/** Two parked calls, oldest first, for the encoder tests */
const struct orbit_call unit_two_calls[2] = {
	{"c-old", "+4930111", "Alice <&> \"A\"", 75},
	{"c-new", "200", NULL, 3},
};


/**
 * The orbit view the encoder tests start from: park-1, idle
 *
 * @param v View to fill in
 */
void unit_view_init(struct orbit_view *v)
{
	memset(v, 0, sizeof(*v));
	v->entity = "sip:park-1@parkblf.example.com;user=phone";
	v->name = "park-1";
	v->label = "Orbit 0";
	v->retrieve_uri = "sip:*10@pbx.example.com";
	v->domain = "pbx.example.com";
	v->version = 7;
}
