/**
 * @file dialog_decoder.c  Decoder for application/dialog-info+xml (RFC 4235)
 *
 * One document reports one DN: the user part of `entity`.  Every
 * <dialog> whose <state> is not "terminated" is a parked call; the
 * caller is <remote><identity> and its display name.  state="partial"
 * lists only changed dialogs.  No config keys.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include <libxml/tree.h>
#include "parkblf.h"


static const char ns_dialog[] = "urn:ietf:params:xml:ns:dialog-info";


static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns &&
		!strcmp((const char *)n->ns->href, ns_dialog) &&
		!strcmp((const char *)n->name, name);
}


static xmlNode *child(const xmlNode *n, const char *name)
{
	xmlNode *c;

	for (c = n->children; c; c = c->next) {
		if (is_elem(c, name))
			return c;
	}

	return NULL;
}


/* Property or element text as a mem string; NULL if absent */
static int text_dup(char **dst, xmlChar *x)
{
	int err = 0;

	if (x) {
		struct pl pl;

		pl_set_str(&pl, (const char *)x);
		/* trim the blanks XML allows around element text */
		while (pl.l && strchr(" \t\r\n", pl.p[0]))
			pl_advance(&pl, 1);
		while (pl.l && strchr(" \t\r\n", pl.p[pl.l - 1]))
			--pl.l;
		err = pl.l ? pl_strdup(dst, &pl) : 0;
		xmlFree(x);
	}

	return err;
}


static int prop_dup(char **dst, xmlNode *n, const char *name)
{
	return text_dup(dst, xmlGetNoNsProp(n, (const xmlChar *)name));
}


static int content_dup(char **dst, xmlNode *n)
{
	return n ? text_dup(dst, xmlNodeGetContent(n)) : 0;
}


static int u32_decode(uint32_t *val, const char *str)
{
	struct pl pl;
	size_t i;

	if (!str || !*str || strlen(str) > 9)
		return EBADMSG;

	for (i = 0; str[i]; i++) {
		if (str[i] < '0' || str[i] > '9')
			return EBADMSG;
	}

	pl_set_str(&pl, str);
	*val = pl_u32(&pl);

	return 0;
}


static int decode_dialog(struct dn_report *rep, xmlNode *dn, unsigned idx)
{
	char *id = NULL, *state = NULL, *duration = NULL, *uri = NULL;
	struct dn_call *dc;
	xmlNode *remote, *ident = NULL;
	int err;

	err  = prop_dup(&id, dn, "id");
	err |= content_dup(&state, child(dn, "state"));
	err |= content_dup(&duration, child(dn, "duration"));
	if (err)
		goto out;

	/* id is mandatory in RFC 4235; tolerate its absence */
	if (!id) {
		err = re_sdprintf(&id, "dialog-%u", idx);
		if (err)
			goto out;
	}

	err = dn_call_add(&dc, rep, id);
	if (err)
		goto out;

	dc->terminated = state && !strcmp(state, "terminated");

	if (duration && !u32_decode(&dc->duration, duration))
		dc->has_duration = true;

	remote = child(dn, "remote");
	if (remote)
		ident = child(remote, "identity");
	if (ident) {
		err = content_dup(&uri, ident);
		if (!err && uri && uri_user_dup(&dc->number, uri))
			err = str_dup(&dc->number, uri);
		if (!err)
			err = prop_dup(&dc->name, ident, "display");
	}

 out:
	mem_deref(id);
	mem_deref(state);
	mem_deref(duration);
	mem_deref(uri);

	return err;
}


static int decode(struct dn_update *upd, const struct msg_ctype *ctype,
		  const uint8_t *buf, size_t len)
{
	char *entity = NULL, *dn = NULL, *version = NULL, *state = NULL;
	struct dn_report *rep;
	xmlDoc *doc = NULL;
	xmlNode *root, *n;
	unsigned idx = 0;
	int err;
	(void)ctype;

	err = xmlsafe_parse(&doc, buf, len);
	if (err)
		return err;

	root = xmlDocGetRootElement(doc);
	if (!is_elem(root, "dialog-info")) {
		err = EBADMSG;
		goto out;
	}

	err  = prop_dup(&entity, root, "entity");
	err |= prop_dup(&version, root, "version");
	err |= prop_dup(&state, root, "state");
	if (err)
		goto out;

	if (!entity || uri_user_dup(&dn, entity)) {
		err = EBADMSG;
		goto out;
	}

	err = dn_report_add(&rep, upd, dn, strlen(dn));
	if (err)
		goto out;

	rep->partial = state && !strcmp(state, "partial");
	if (version && !u32_decode(&rep->version, version))
		rep->has_version = true;

	for (n = root->children; n && !err; n = n->next) {
		if (is_elem(n, "dialog"))
			err = decode_dialog(rep, n, idx++);
	}

 out:
	xmlsafe_free(doc);
	mem_deref(entity);
	mem_deref(dn);
	mem_deref(version);
	mem_deref(state);

	return err;
}


static struct decoder dialog_decoder = {
	.type    = "application",
	.subtype = "dialog-info+xml",
	.decodeh = decode,
};


static int module_init(void)
{
	decoder_register(&dialog_decoder);

	return 0;
}


static int module_close(void)
{
	decoder_unregister(&dialog_decoder);

	return 0;
}


const struct mod_export DECL_EXPORTS(dialog_decoder) = {
	.name  = "dialog_decoder",
	.type  = "decoder",
	.init  = module_init,
	.close = module_close,
};
