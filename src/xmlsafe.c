/**
 * @file xmlsafe.c  libxml2 parsing for untrusted upstream bodies
 *
 * No network access, no entity substitution, no DTD at all: a body
 * with a DOCTYPE is refused before libxml2 sees it, which rules out
 * external entities (XXE) and entity-expansion bombs.  Size is capped.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include <libxml/parser.h>
#include "parkblf.h"
#include "core.h"


static bool has_doctype(const uint8_t *buf, size_t len)
{
	static const char tag[] = "<!DOCTYPE";
	const size_t tl = sizeof(tag) - 1;
	size_t i;

	for (i = 0; i + tl <= len; i++) {
		if (buf[i] == '<' && !memcmp(buf + i, tag, tl))
			return true;
	}

	return false;
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
	xmlDoc *doc;

	if (!docp || !buf)
		return EINVAL;

	if (len > XMLSAFE_MAX_BODY || len > INT32_MAX)
		return EMSGSIZE;

	if (has_doctype(buf, len))
		return EPROTO;

	doc = xmlReadMemory((const char *)buf, (int)len, NULL, NULL, opts);
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
