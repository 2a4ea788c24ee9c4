/**
 * @file rlmi_decoder.c  Decoder for RFC 4662 resource list notifications
 *
 * multipart/related;type="application/rlmi+xml": the RLMI part says
 * whether the notification is full state (fullState="true": every DN
 * not listed is idle); every other part is decoded by the decoder for
 * its own Content-Type.  Each <resource> names its DN (the user part of
 * its uri, %-decoded); the part its instance's cid points to reports
 * that DN's state.  A resource listed without such a part (no
 * <instance>, or pending ones) has a state not known yet, which is not
 * idle: it is reported pending, and what is known of it stays (RFC 4662
 * section 5).  A resource whose instances are all terminated (reason
 * noresource, rejected, deactivated, timeout, ...: the list's
 * subscription to it ended) has no known state any more: it is
 * reported unknown, whatever part came with it.  No config keys.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include <libxml/tree.h>
#include "parkblf.h"


enum {
	MAX_DEPTH = 3,     /**< Lists of lists, bounded                   */
	MAX_PARTS = 4096,
};

static const char ns_rlmi[] = "urn:ietf:params:xml:ns:rlmi";
static unsigned depth;


struct part {
	struct msg_ctype ctype;
	struct pl cid;            /**< Content-ID without <>, may be unset */
	const uint8_t *body;
	size_t len;
};

/** A decoded part: its Content-ID and the reports it added */
struct seen {
	struct le le;
	struct pl cid;
	struct le *first;         /**< Its first report, NULL if none     */
	unsigned nrep;
	bool list;                /**< A list of lists                    */
};


static const uint8_t *find(const uint8_t *p, const uint8_t *end,
			   const char *needle, size_t nlen)
{
	while (p + nlen <= end) {
		const uint8_t *q = memchr(p, needle[0], end - p);

		if (!q || q + nlen > end)
			return NULL;
		if (!memcmp(q, needle, nlen))
			return q;
		p = q + 1;
	}

	return NULL;
}


/* The value of a MIME header (name case-insensitive), blanks trimmed */
static int header_find(struct pl *val, const struct pl *hdrs,
		       const char *name)
{
	const size_t nlen = strlen(name);
	struct pl rest = *hdrs;

	while (rest.l) {
		const char *eol = memchr(rest.p, '\n', rest.l);
		struct pl line;

		line.p = rest.p;
		line.l = eol ? (size_t)(eol - rest.p) : rest.l;
		pl_advance(&rest, line.l + (eol ? 1 : 0));

		if (line.l > nlen && line.p[nlen] == ':' &&
		    !strncasecmp(line.p, name, nlen)) {
			pl_advance(&line, nlen + 1);
			while (line.l && (line.p[0] == ' ' ||
					  line.p[0] == '\t'))
				pl_advance(&line, 1);
			while (line.l && (line.p[line.l - 1] == '\r' ||
					  line.p[line.l - 1] == ' '))
				--line.l;
			*val = line;
			return 0;
		}
	}

	return ENOENT;
}


/* Split one part into its Content-Type and body */
static int part_decode(struct part *part, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len, *hend;
	struct pl hdrs, ct;

	/* an empty line ends the headers; a part may have none */
	if (len >= 2 && p[0] == '\r' && p[1] == '\n')
		hend = p;
	else if (len >= 1 && p[0] == '\n')
		hend = p;
	else {
		hend = find(p, end, "\n\r\n", 3);
		if (!hend)
			hend = find(p, end, "\n\n", 2);
		if (!hend)
			return EBADMSG;
		++hend;
	}

	hdrs.p = (const char *)p;
	hdrs.l = hend - p;

	part->body = hend + (hend[0] == '\r' ? 2 : 1);
	part->len = end - part->body;

	memset(&part->cid, 0, sizeof(part->cid));
	if (!header_find(&part->cid, &hdrs, "Content-ID") &&
	    part->cid.l >= 2 && part->cid.p[0] == '<' &&
	    part->cid.p[part->cid.l - 1] == '>') {
		++part->cid.p;
		part->cid.l -= 2;
	}

	memset(&part->ctype, 0, sizeof(part->ctype));
	if (header_find(&ct, &hdrs, "Content-Type")) {
		/* RFC 2046: the default type of a part */
		pl_set_str(&ct, "text/plain");
	}

	return msg_ctype_decode(&part->ctype, &ct) ? EBADMSG : 0;
}


static bool is_rlmi(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns &&
		!strcmp((const char *)n->ns->href, ns_rlmi) &&
		!strcmp((const char *)n->name, name);
}


static struct seen *seen_find(const struct list *seenl, const char *cid)
{
	struct le *le;

	for (le = list_head(seenl); le; le = le->next) {
		struct seen *sn = le->data;

		if (pl_isset(&sn->cid) && !pl_strcmp(&sn->cid, cid))
			return sn;
	}

	return NULL;
}


/* The part of one of the resource's instances, if it came */
static struct seen *resource_part(const xmlNode *res,
				  const struct list *seenl)
{
	const xmlNode *n;

	for (n = res->children; n; n = n->next) {
		xmlChar *cid;
		struct seen *sn;

		if (!is_rlmi(n, "instance"))
			continue;

		cid = xmlGetNoNsProp(n, (const xmlChar *)"cid");
		sn = cid ? seen_find(seenl, (const char *)cid) : NULL;
		xmlFree(cid);
		if (sn)
			return sn;
	}

	return NULL;
}


/* Whether a resource has instances, all of them terminated */
static bool resource_ended(const xmlNode *res)
{
	const xmlNode *n;
	bool any = false;

	for (n = res->children; n; n = n->next) {
		xmlChar *st;
		bool term;

		if (!is_rlmi(n, "instance"))
			continue;

		st = xmlGetNoNsProp(n, (const xmlChar *)"state");
		term = st && !strcmp((const char *)st, "terminated");
		xmlFree(st);
		if (!term)
			return false;
		any = true;
	}

	return any;
}


/* One <resource>: its part's report is named by its uri; without a
   part its state is not known yet (pending); with every instance
   terminated it is not known any more (unknown) */
static int apply_resource(struct dn_update *upd, const xmlNode *res,
			  const struct list *seenl)
{
	xmlChar *uri = xmlGetNoNsProp(res, (const xmlChar *)"uri");
	struct dn_report *rep;
	struct seen *sn;
	char *dn = NULL;
	bool ended;
	int err = 0;

	/* a resource without a usable uri names nothing */
	if (!uri || uri_user_dup(&dn, (const char *)uri)) {
		log_debug("rlmi: resource without a DN in its uri '%s'",
			  uri ? (const char *)uri : "");
		goto out;
	}

	ended = resource_ended(res);
	sn = resource_part(res, seenl);
	if (!sn || (ended && (sn->list || sn->nrep != 1))) {
		err = dn_report_add(&rep, upd, dn, strlen(dn));
		if (!err) {
			rep->pending = !ended;
			rep->unknown = ended;
		}
		goto out;
	}

	/* a part of one DN (not a list of lists) reports the resource */
	if (!sn->list && sn->nrep == 1) {
		rep = sn->first->data;
		if (strcmp(rep->dn, dn)) {
			mem_deref(rep->dn);
			rep->dn = mem_ref(dn);
		}
		/* a last state sent as the subscription ended is not
		   the state now */
		rep->unknown = ended;
	}

 out:
	xmlFree(uri);
	mem_deref(dn);

	return err;
}


/* The RLMI document: full state or not, and the resources it lists */
static int rlmi_apply(struct dn_update *upd, bool *fullp,
		      const struct part *part, const struct list *seenl)
{
	xmlDoc *doc = NULL;
	xmlNode *root, *n;
	xmlChar *fs;
	int err;

	err = xmlsafe_parse(&doc, part->body, part->len);
	if (err)
		return err;

	root = xmlDocGetRootElement(doc);
	if (!is_rlmi(root, "list")) {
		err = EBADMSG;
		goto out;
	}

	fs = xmlGetNoNsProp(root, (const xmlChar *)"fullState");
	*fullp = fs && (!strcmp((const char *)fs, "true") ||
			!strcmp((const char *)fs, "1"));
	xmlFree(fs);

	for (n = root->children; n && !err; n = n->next) {
		if (is_rlmi(n, "resource"))
			err = apply_resource(upd, n, seenl);
	}

 out:
	xmlsafe_free(doc);
	return err;
}


static int decode_parts(struct dn_update *upd, const uint8_t *buf,
			size_t len, const struct pl *boundary)
{
	const uint8_t *p = buf, *end = buf + len;
	struct list seenl = LIST_INIT;
	struct part rlmi;
	char delim[80];
	size_t dlen;
	unsigned parts = 0;
	bool seen_rlmi = false, fullstate = false;
	int err = 0;

	if (!boundary->l || boundary->l > 70)
		return EBADMSG;

	dlen = re_snprintf(delim, sizeof(delim), "--%r", boundary);

	/* the first delimiter may open the body or follow a preamble */
	if (!(len >= dlen && !memcmp(buf, delim, dlen))) {
		p = find(buf, end, delim, dlen);
		if (!p || p[-1] != '\n')
			return EBADMSG;
	}

	for (;;) {
		const uint8_t *start, *next, *pend;
		struct part part;
		struct le *last;
		struct seen *sn;

		p += dlen;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;                         /* close delimiter */

		/* transport padding, then the line end */
		while (p < end && (*p == ' ' || *p == '\t'))
			++p;
		if (p < end && *p == '\r')
			++p;
		if (p >= end || *p != '\n') {
			err = EBADMSG;
			goto out;
		}
		start = p + 1;

		next = start;
		for (;;) {
			next = find(next, end, delim, dlen);
			if (!next) {
				err = EBADMSG; /* no close delimiter */
				goto out;
			}
			if (next[-1] == '\n')
				break;
			next += dlen;
		}
		pend = next - 1;                       /* drop the CRLF */
		if (pend > start && pend[-1] == '\r')
			--pend;
		if (pend < start)
			pend = start;

		if (++parts > MAX_PARTS) {
			err = EBADMSG;
			goto out;
		}

		err = part_decode(&part, start, pend - start);
		if (err)
			goto out;

		p = next;

		if (msg_ctype_cmp(&part.ctype, "application", "rlmi+xml")) {
			if (seen_rlmi) {
				err = EBADMSG;
				goto out;
			}
			rlmi = part;
			seen_rlmi = true;
			continue;
		}

		sn = mem_zalloc(sizeof(*sn), NULL);
		if (!sn) {
			err = ENOMEM;
			goto out;
		}
		sn->cid = part.cid;
		sn->list = msg_ctype_cmp(&part.ctype, "multipart", "related");
		list_append(&seenl, &sn->le, sn);

		last = list_tail(&upd->reports);
		err = decoder_decode(upd, &part.ctype, part.body, part.len);
		if (err)
			goto out;

		sn->first = last ? last->next : list_head(&upd->reports);
		for (last = sn->first; last; last = last->next)
			++sn->nrep;
	}

	if (!seen_rlmi) {
		err = EBADMSG;
		goto out;
	}

	err = rlmi_apply(upd, &fullstate, &rlmi, &seenl);
	if (err)
		goto out;

	/* only the outermost list speaks for the whole picture */
	if (depth == 1 && fullstate)
		upd->fullstate = true;

 out:
	list_flush(&seenl);
	return err;
}


static int decode(struct dn_update *upd, const struct msg_ctype *ctype,
		  const uint8_t *buf, size_t len)
{
	struct pl boundary, type;
	int err;

	if (msg_param_decode(&ctype->params, "boundary", &boundary))
		return EBADMSG;
	/* multipart/related of something other than a resource list */
	if (!msg_param_decode(&ctype->params, "type", &type) &&
	    re_regex(type.p, type.l, "rlmi"))
		return ENOTSUP;

	if (boundary.l >= 2 && boundary.p[0] == '"' &&
	    boundary.p[boundary.l - 1] == '"') {
		++boundary.p;
		boundary.l -= 2;
	}

	if (depth >= MAX_DEPTH)
		return EBADMSG;

	++depth;
	err = decode_parts(upd, buf, len, &boundary);
	--depth;

	return err;
}


static struct decoder rlmi_decoder = {
	.type    = "multipart",
	.subtype = "related",
	.accept  = "multipart/related, application/rlmi+xml",
	.decodeh = decode,
};


static int module_init(void)
{
	decoder_register(&rlmi_decoder);

	return 0;
}


static int module_close(void)
{
	decoder_unregister(&rlmi_decoder);

	return 0;
}


const struct mod_export DECL_EXPORTS(rlmi_decoder) = {
	.name  = "rlmi_decoder",
	.type  = "decoder",
	.init  = module_init,
	.close = module_close,
};
