/**
 * @file pidf_decoder.c  Decoder for application/pidf+xml (RFC 3863)
 *
 * One document reports one DN: the user part of `entity` (sip:, sips:,
 * tel: or pres: URI).  The DN is occupied when an RPID <activities>
 * element (RFC 4480), wherever it is (tuple status or data-model
 * person), holds <on-the-phone/> or <busy/>; namespaces are matched by
 * URI, whatever the prefix.  PIDF carries no caller details, so the
 * report is full and lists no calls.  Notes and <basic> are ignored.
 * No config keys.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include <libxml/tree.h>
#include "parkblf.h"


static const char ns_pidf[] = "urn:ietf:params:xml:ns:pidf";
static const char ns_rpid[] = "urn:ietf:params:xml:ns:pidf:rpid";


static bool is_elem(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
		!strcmp((const char *)n->ns->href, ns) &&
		!strcmp((const char *)n->name, name);
}


static bool activities_busy(const xmlNode *act)
{
	const xmlNode *c;

	for (c = act->children; c; c = c->next) {
		if (is_elem(c, ns_rpid, "on-the-phone") ||
		    is_elem(c, ns_rpid, "busy"))
			return true;
	}

	return false;
}


/* Depth-first walk without recursion (the parser bounds the depth) */
static bool doc_busy(const xmlNode *root)
{
	const xmlNode *n = root;

	while (n) {
		if (is_elem(n, ns_rpid, "activities") && activities_busy(n))
			return true;

		if (n->children && n->type == XML_ELEMENT_NODE) {
			n = n->children;
			continue;
		}

		while (n && n != root && !n->next)
			n = n->parent;
		if (!n || n == root)
			break;
		n = n->next;
	}

	return false;
}


/* The DN of a sip:, sips:, tel: or pres: (RFC 3859) entity */
static int entity_dn(char **dnp, const char *entity)
{
	char *sip = NULL;
	int err;

	if (strncasecmp(entity, "pres:", 5))
		return uri_user_dup(dnp, entity);

	err = re_sdprintf(&sip, "sip:%s", entity + 5);
	if (!err)
		err = uri_user_dup(dnp, sip);
	mem_deref(sip);

	return err;
}


static int decode(struct dn_update *upd, const struct msg_ctype *ctype,
		  const uint8_t *buf, size_t len)
{
	struct dn_report *rep;
	xmlChar *entity = NULL;
	xmlDoc *doc = NULL;
	xmlNode *root;
	char *dn = NULL;
	int err;
	(void)ctype;

	if (!upd)
		return EINVAL;

	err = xmlsafe_parse(&doc, buf, len);
	if (err)
		return err;

	root = xmlDocGetRootElement(doc);
	if (!is_elem(root, ns_pidf, "presence")) {
		err = EBADMSG;
		goto out;
	}

	entity = xmlGetNoNsProp(root, (const xmlChar *)"entity");
	if (!entity || entity_dn(&dn, (const char *)entity)) {
		err = EBADMSG;
		goto out;
	}

	err = dn_report_add(&rep, upd, dn, strlen(dn));
	if (err)
		goto out;

	rep->occupied = doc_busy(root);

 out:
	xmlFree(entity);
	xmlsafe_free(doc);
	mem_deref(dn);

	return err;
}


static struct decoder pidf_decoder = {
	.type    = "application",
	.subtype = "pidf+xml",
	.decodeh = decode,
};


static int module_init(void)
{
	decoder_register(&pidf_decoder);

	return 0;
}


static int module_close(void)
{
	decoder_unregister(&pidf_decoder);

	return 0;
}


const struct mod_export DECL_EXPORTS(pidf_decoder) = {
	.name  = "pidf_decoder",
	.type  = "decoder",
	.init  = module_init,
	.close = module_close,
};
