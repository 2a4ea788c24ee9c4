/**
 * @file xmlsafe.c  libxml2 parsing for untrusted upstream bodies
 *
 * No network access, no entity substitution, no DTD at all: a document
 * that declares one (internal or external subset, in any encoding) is
 * refused.  This is decided on what libxml2 parsed, not on the bytes:
 * the parser stops at the DOCTYPE (SAX internalSubset/externalSubset),
 * before any entity is declared, and a document that still carries a
 * subset is refused too.  That rules out external entities (XXE),
 * entity-expansion bombs and text injected through internal entities.
 * Size is capped.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include <libxml/parser.h>
#include "parkblf.h"
#include "core.h"


/* SAX: a DOCTYPE was parsed; the document is refused, parsing stops */
static void subset_handler(void *ctx, const xmlChar *name,
			   const xmlChar *external_id,
			   const xmlChar *system_id)
{
	xmlParserCtxt *ctxt = ctx;
	bool *dtd = ctxt->_private;
	(void)name;
	(void)external_id;
	(void)system_id;

	*dtd = true;
	xmlStopParser(ctxt);
}


/**
 * Parse an untrusted XML document
 *
 * @param docp Where to store the document (free with xmlsafe_free)
 * @param buf  Document text
 * @param len  Length of text
 *
 * @return 0 if success, EMSGSIZE if too large, EPROTO if it has a DTD,
 *         EBADMSG if not well-formed
 */
int xmlsafe_parse(struct _xmlDoc **docp, const uint8_t *buf, size_t len)
{
	const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
	xmlParserCtxt *ctxt;
	bool dtd = false;
	xmlDoc *doc;

	if (!docp || !buf)
		return EINVAL;

	if (len > XMLSAFE_MAX_BODY || len > INT32_MAX)
		return EMSGSIZE;

	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return ENOMEM;

	ctxt->sax->internalSubset = subset_handler;
	ctxt->sax->externalSubset = subset_handler;
	ctxt->_private = &dtd;

	doc = xmlCtxtReadMemory(ctxt, (const char *)buf, (int)len, NULL,
				NULL, opts);
	if (doc && (doc->intSubset || doc->extSubset))
		dtd = true;
	xmlFreeParserCtxt(ctxt);

	if (dtd) {
		if (doc)
			xmlFreeDoc(doc);
		return EPROTO;
	}

	if (!doc)
		return EBADMSG;

	if (!xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		return EBADMSG;
	}

	*docp = doc;

	return 0;
}


/**
 * Free a document from xmlsafe_parse
 *
 * @param doc Document, may be NULL
 */
void xmlsafe_free(struct _xmlDoc *doc)
{
	if (doc)
		xmlFreeDoc(doc);
}
