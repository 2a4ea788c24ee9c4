/**
 * @file vendorxml_decoder.c  Decoder for a vendor XML format set in config
 *
 * For a PBX whose any-dn NOTIFY is neither dialog-info nor PIDF (3CX's
 * format is not public): the admin names the elements and attributes
 * with XPath 1.0 expressions, taken from a capture, without recompiling.
 *
 * Config keys (single words, no blanks):
 *
 *   vendor_xml_ctype   type/subtype the decoder takes, e.g.
 *                      application/x-3cx-dn+xml.  Read at module init
 *                      (so the core must make the config current before
 *                      it inits the modules): when unset the decoder is
 *                      not registered, claims no type and is not offered
 *                      in the upstream Accept.  Parameters are ignored; a
 *                      type another decoder already takes stays with
 *                      that decoder.  Not type/subtype: init fails.
 *   vendor_xml_ns      prefix=URI pairs separated by ",", bound for every
 *                      expression below (XPath has no default namespace:
 *                      elements in a namespace need a prefix), e.g.
 *                      p=urn:x-3cx:dn,q=urn:x-3cx:call.  Optional.
 *   vendor_xml_dn      absolute expression selecting, for each DN, the
 *                      node that holds the DN's name: an attribute
 *                      (//p:dn/@id) or a leaf element (//p:dn/p:number,
 *                      or its text()).  The element that owns that
 *                      attribute, or contains that leaf element, is the
 *                      "DN element".  Required.
 *   vendor_xml_call    expression relative to the DN element selecting
 *                      one node per parked call, filtered as needed
 *                      (p:call[@state='parked']; "." when the DN element
 *                      is itself the call).  Unset: no DN has calls.
 *   vendor_xml_call_id expression relative to a call node giving its
 *                      stable id (@id).  Unset or empty: "call-N", N the
 *                      call's position under its DN (parked time is then
 *                      only as exact as the order is stable).
 *   vendor_xml_number  expression relative to a call node giving the
 *                      caller number (@from, p:caller/p:number).
 *                      Optional.
 *   vendor_xml_name    the same for the caller's display name.  Optional.
 *
 * Values: a node-set gives the string value of its first node, any
 * other result (string(), concat(), ...) its XPath string value; blanks
 * around it are trimmed and an empty value counts as absent.  A DN or
 * number that is a sip:, sips: or tel: URI is reduced to its user part.
 *
 * Every DN the document names gets a full report (a DN named twice
 * collects the calls of both); DNs it does not name keep their state.
 * All keys but vendor_xml_ctype are read for every body, so the last
 * configuration made current applies.  A bad expression or ns pair is
 * logged (log_warn, with libxml2's reason) and the body refused with
 * EINVAL.  Bodies are parsed with xmlsafe_parse (no DTD, no network).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include "parkblf.h"


/** The keys in force for one body */
struct vkeys {
	const char *ns;
	const char *dn;
	const char *call;
	const char *call_id;
	const char *number;
	const char *name;
};

/** One body being decoded: the document and its XPath context */
struct vdoc {
	xmlDoc *doc;
	xmlXPathContext *ctx;
	struct dn_update *upd;
	struct le *before;    /**< Last report before this body, or NULL   */
};


static char *dec_type;        /**< From vendor_xml_ctype, at init  */
static char *dec_subtype;


static void vdoc_destructor(void *arg)
{
	struct vdoc *vd = arg;

	if (vd->ctx)
		xmlXPathFreeContext(vd->ctx);
	xmlsafe_free(vd->doc);
}


/* XPath errors stay in ctx->lastError; libxml2 must not print them */
static void silent_error(void *arg, xmlError *error)
{
	(void)arg;
	(void)error;
}


/* Some XPath errors also go to the generic handler: keep it quiet */
static void silent_generic(void *arg, const char *msg, ...)
{
	(void)arg;
	(void)msg;
}


/* libxml2 keeps only a code in ctx->lastError: say it in words */
static const char *xpath_reason(int code)
{
	switch (code) {

	case XML_XPATH_NUMBER_ERROR:            return "bad number";
	case XML_XPATH_UNFINISHED_LITERAL_ERROR:
	case XML_XPATH_START_LITERAL_ERROR:     return "bad string literal";
	case XML_XPATH_VARIABLE_REF_ERROR:
	case XML_XPATH_UNDEF_VARIABLE_ERROR:    return "undefined variable";
	case XML_XPATH_INVALID_PREDICATE_ERROR: return "bad predicate";
	case XML_XPATH_UNCLOSED_ERROR:          return "missing ] or )";
	case XML_XPATH_UNKNOWN_FUNC_ERROR:      return "unknown function";
	case XML_XPATH_INVALID_OPERAND:         return "bad operand";
	case XML_XPATH_INVALID_TYPE:            return "wrong type";
	case XML_XPATH_INVALID_ARITY:
		return "wrong number of arguments";
	case XML_XPATH_UNDEF_PREFIX_ERROR:
		return "namespace prefix not bound in vendor_xml_ns";
	case XML_XPATH_INVALID_CHAR_ERROR:      return "invalid character";
	default:                                return "invalid expression";
	}
}


static void warn_xpath(const struct vdoc *vd, const char *key,
		       const char *expr)
{
	const xmlError *e = &vd->ctx->lastError;

	if (e->domain == XML_FROM_XPATH && e->str1)
		log_warn("vendorxml: %s '%s': %s at offset %d", key, expr,
			 xpath_reason(e->code), e->int1);
	else
		log_warn("vendorxml: %s '%s': %s", key, expr,
			 xpath_reason(e->code));
}


/* Blanks trimmed; NULL for an empty value */
static int text_dup(char **dst, const xmlChar *x)
{
	struct pl pl;

	*dst = NULL;
	if (!x)
		return 0;

	pl_set_str(&pl, (const char *)x);
	while (pl.l && strchr(" \t\r\n", pl.p[0]))
		pl_advance(&pl, 1);
	while (pl.l && strchr(" \t\r\n", pl.p[pl.l - 1]))
		--pl.l;

	return pl.l ? pl_strdup(dst, &pl) : 0;
}


/* The user part of a sip:, sips: or tel: URI, else the text itself */
static int user_or_text(char **dst, const xmlChar *x)
{
	char *text = NULL;
	int err;

	err = text_dup(&text, x);
	if (err || !text)
		goto out;

	if (uri_user_dup(dst, text)) {
		*dst = text;
		text = NULL;
	}

 out:
	mem_deref(text);
	return err;
}


static int eval(xmlXPathObject **objp, struct vdoc *vd, const char *key,
		const char *expr, xmlNode *node)
{
	xmlXPathCompExpr *comp;
	xmlXPathObject *obj;

	xmlGenericErrorFunc gfunc = xmlGenericError;
	void *gctx = xmlGenericErrorContext;
	int err = 0;

	xmlResetError(&vd->ctx->lastError);
	vd->ctx->node = node;
	xmlSetGenericErrorFunc(NULL, silent_generic);

	comp = xmlXPathCtxtCompile(vd->ctx, (const xmlChar *)expr);
	if (!comp) {
		err = EINVAL;
		goto out;
	}

	obj = xmlXPathCompiledEval(comp, vd->ctx);
	xmlXPathFreeCompExpr(comp);
	if (!obj) {
		err = EINVAL;
		goto out;
	}

	*objp = obj;

 out:
	xmlSetGenericErrorFunc(gctx, gfunc);
	if (err)
		warn_xpath(vd, key, expr);

	return err;
}


/* An expression that must select nodes */
static int eval_nodes(xmlXPathObject **objp, struct vdoc *vd,
		      const char *key, const char *expr, xmlNode *node)
{
	xmlXPathObject *obj;
	int err;

	err = eval(&obj, vd, key, expr, node);
	if (err)
		return err;

	if (obj->type != XPATH_NODESET) {
		log_warn("vendorxml: %s '%s' must select nodes, not a value",
			 key, expr);
		xmlXPathFreeObject(obj);
		return EINVAL;
	}

	*objp = obj;

	return 0;
}


static size_t nodes_count(const xmlXPathObject *obj)
{
	return obj->nodesetval ? (size_t)obj->nodesetval->nodeNr : 0;
}


/* Namespace nodes in a node-set are xmlNs, not xmlNode: refuse them */
static xmlNode *node_at(const xmlXPathObject *obj, size_t i)
{
	xmlNode *n = obj->nodesetval->nodeTab[i];

	return n->type == XML_NAMESPACE_DECL ? NULL : n;
}


/* The value of an optional expression, as text (see the banner) */
static int eval_value(xmlChar **xp, struct vdoc *vd, const char *key,
		      const char *expr, xmlNode *node)
{
	xmlXPathObject *obj;
	xmlNode *first;
	int err;

	*xp = NULL;
	if (!expr)
		return 0;

	err = eval(&obj, vd, key, expr, node);
	if (err)
		return err;

	if (obj->type != XPATH_NODESET)
		*xp = xmlXPathCastToString(obj);
	else if (nodes_count(obj) && (first = node_at(obj, 0)) != NULL)
		*xp = xmlXPathCastNodeToString(first);

	xmlXPathFreeObject(obj);

	return 0;
}


static int ns_register(struct vdoc *vd, const char *ns)
{
	struct pl rest, item;
	int err = 0;

	if (!ns)
		return 0;

	pl_set_str(&rest, ns);
	while (rest.l && !err) {
		const char *comma = pl_strchr(&rest, ',');
		char *prefix = NULL, *uri = NULL;
		struct pl p, u;
		const char *eq;

		item.p = rest.p;
		item.l = comma ? (size_t)(comma - rest.p) : rest.l;
		pl_advance(&rest, item.l + (comma ? 1 : 0));

		eq = pl_strchr(&item, '=');
		if (!eq || eq == item.p || eq == item.p + item.l - 1) {
			log_warn("vendorxml: vendor_xml_ns: '%r' is not "
				 "prefix=URI", &item);
			return EINVAL;
		}

		p.p = item.p;
		p.l = eq - item.p;
		u.p = eq + 1;
		u.l = item.l - p.l - 1;

		err  = pl_strdup(&prefix, &p);
		err |= pl_strdup(&uri, &u);
		if (!err && xmlXPathRegisterNs(vd->ctx, (xmlChar *)prefix,
					       (xmlChar *)uri)) {
			log_warn("vendorxml: vendor_xml_ns: cannot bind "
				 "'%s'", prefix);
			err = EINVAL;
		}

		mem_deref(prefix);
		mem_deref(uri);
	}

	return err;
}


/* The report for dn from this body, or a new one */
static int report_get(struct dn_report **repp, struct vdoc *vd,
		      const char *dn)
{
	struct le *le;

	le = vd->before ? vd->before->next : list_head(&vd->upd->reports);
	for (; le; le = le->next) {
		struct dn_report *rep = le->data;

		if (!strcmp(rep->dn, dn)) {
			*repp = rep;
			return 0;
		}
	}

	return dn_report_add(repp, vd->upd, dn, strlen(dn));
}


static int decode_call(struct vdoc *vd, const struct vkeys *k,
		       struct dn_report *rep, xmlNode *cn)
{
	xmlChar *id = NULL, *number = NULL, *name = NULL;
	char *idstr = NULL;
	struct dn_call *dc;
	int err;

	err = eval_value(&id, vd, "vendor_xml_call_id", k->call_id, cn);
	if (!err)
		err = eval_value(&number, vd, "vendor_xml_number",
				 k->number, cn);
	if (!err)
		err = eval_value(&name, vd, "vendor_xml_name", k->name, cn);
	if (err)
		goto out;

	err = text_dup(&idstr, id);
	if (!err && !idstr)
		err = re_sdprintf(&idstr, "call-%u", list_count(&rep->calls));
	if (err)
		goto out;

	err = dn_call_add(&dc, rep, idstr);
	if (err)
		goto out;

	err  = user_or_text(&dc->number, number);
	err |= text_dup(&dc->name, name);

 out:
	xmlFree(id);
	xmlFree(number);
	xmlFree(name);
	mem_deref(idstr);

	return err;
}


/* The DN element of the node that holds a DN's name (see the banner) */
static xmlNode *dn_element(xmlNode *n)
{
	switch (n->type) {

	case XML_ATTRIBUTE_NODE:
	case XML_ELEMENT_NODE:
		return n->parent;

	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		return n->parent ? n->parent->parent : NULL;

	default:
		return NULL;
	}
}


static int decode_dn(struct vdoc *vd, const struct vkeys *k, xmlNode *n)
{
	xmlXPathObject *calls = NULL;
	struct dn_report *rep;
	xmlNode *dnel = dn_element(n);
	xmlChar *x;
	char *dn = NULL;
	size_t i;
	int err;

	if (!dnel) {
		log_warn("vendorxml: vendor_xml_dn '%s' must select "
			 "attributes or elements", k->dn);
		return EINVAL;
	}

	x = xmlXPathCastNodeToString(n);
	err = user_or_text(&dn, x);
	xmlFree(x);
	if (err)
		return err;
	if (!dn) {
		log_debug("vendorxml: a DN node without a value, skipped");
		return 0;
	}

	err = report_get(&rep, vd, dn);
	if (err || !k->call)
		goto out;

	err = eval_nodes(&calls, vd, "vendor_xml_call", k->call, dnel);
	if (err)
		goto out;

	for (i = 0; i < nodes_count(calls) && !err; i++) {
		xmlNode *cn = node_at(calls, i);

		if (!cn) {
			log_warn("vendorxml: vendor_xml_call '%s' selects "
				 "namespace nodes", k->call);
			err = EINVAL;
			break;
		}
		err = decode_call(vd, k, rep, cn);
	}

 out:
	if (calls)
		xmlXPathFreeObject(calls);
	mem_deref(dn);

	return err;
}


static int decode(struct dn_update *upd, const struct msg_ctype *ctype,
		  const uint8_t *buf, size_t len)
{
	xmlXPathObject *dns = NULL;
	struct vdoc *vd = NULL;
	struct vkeys k;
	size_t i;
	int err;
	(void)ctype;

	if (!upd)
		return EINVAL;

	/* the configuration in force may no longer name a type */
	if (!config_module_str("vendor_xml_ctype"))
		return ENOTSUP;

	k.ns      = config_module_str("vendor_xml_ns");
	k.dn      = config_module_str("vendor_xml_dn");
	k.call    = config_module_str("vendor_xml_call");
	k.call_id = config_module_str("vendor_xml_call_id");
	k.number  = config_module_str("vendor_xml_number");
	k.name    = config_module_str("vendor_xml_name");

	if (!k.dn) {
		log_warn("vendorxml: vendor_xml_ctype is set but "
			 "vendor_xml_dn is not");
		return EINVAL;
	}

	vd = mem_zalloc(sizeof(*vd), vdoc_destructor);
	if (!vd)
		return ENOMEM;

	vd->upd = upd;
	vd->before = list_tail(&upd->reports);

	err = xmlsafe_parse(&vd->doc, buf, len);
	if (err)
		goto out;

	vd->ctx = xmlXPathNewContext(vd->doc);
	if (!vd->ctx) {
		err = ENOMEM;
		goto out;
	}
	vd->ctx->error = silent_error;

	err = ns_register(vd, k.ns);
	if (err)
		goto out;

	err = eval_nodes(&dns, vd, "vendor_xml_dn", k.dn,
			 (xmlNode *)vd->doc);
	if (err)
		goto out;

	for (i = 0; i < nodes_count(dns) && !err; i++) {
		xmlNode *n = node_at(dns, i);

		if (!n) {
			log_warn("vendorxml: vendor_xml_dn '%s' selects "
				 "namespace nodes", k.dn);
			err = EINVAL;
			break;
		}
		err = decode_dn(vd, &k, n);
	}

 out:
	if (dns)
		xmlXPathFreeObject(dns);
	mem_deref(vd);

	return err;
}


/* type and subtype are filled from vendor_xml_ctype at init */
static struct decoder vendorxml_decoder = {
	.decodeh = decode,
};


static int module_init(void)
{
	const char *ct = config_module_str("vendor_xml_ctype");
	struct msg_ctype mct;
	struct pl pl;
	int err;

	if (!ct)
		return 0;

	pl_set_str(&pl, ct);
	if (msg_ctype_decode(&mct, &pl) || !pl_isset(&mct.type) ||
	    !pl_isset(&mct.subtype)) {
		log_error("vendorxml: vendor_xml_ctype '%s' is not "
			  "type/subtype", ct);
		return EINVAL;
	}

	err  = pl_strdup(&dec_type, &mct.type);
	err |= pl_strdup(&dec_subtype, &mct.subtype);
	if (err) {
		dec_type = mem_deref(dec_type);
		dec_subtype = mem_deref(dec_subtype);
		return err;
	}

	vendorxml_decoder.type = dec_type;
	vendorxml_decoder.subtype = dec_subtype;
	decoder_register(&vendorxml_decoder);

	log_info("vendorxml: decoding %s/%s with the vendor_xml_* paths",
		 dec_type, dec_subtype);

	return 0;
}


static int module_close(void)
{
	decoder_unregister(&vendorxml_decoder);
	vendorxml_decoder.type = NULL;
	vendorxml_decoder.subtype = NULL;
	dec_type = mem_deref(dec_type);
	dec_subtype = mem_deref(dec_subtype);

	return 0;
}


const struct mod_export DECL_EXPORTS(vendorxml_decoder) = {
	.name  = "vendorxml_decoder",
	.type  = "decoder",
	.init  = module_init,
	.close = module_close,
};
