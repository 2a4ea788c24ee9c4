/**
 * @file rlmi_decoder.c  Decoder for RFC 4662 resource list notifications
 *
 * multipart/related;type="application/rlmi+xml": the RLMI part says
 * whether the notification is full state (fullState="true": every DN
 * not listed is idle); every other part is decoded by the decoder for
 * its own Content-Type.  No config keys.
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
	const uint8_t *body;
	size_t len;
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

	memset(&part->ctype, 0, sizeof(part->ctype));
	if (header_find(&ct, &hdrs, "Content-Type")) {
		/* RFC 2046: the default type of a part */
		pl_set_str(&ct, "text/plain");
	}

	return msg_ctype_decode(&part->ctype, &ct) ? EBADMSG : 0;
}


static bool rlmi_is_fullstate(const struct part *part, int *errp)
{
	xmlDoc *doc = NULL;
	xmlNode *root;
	xmlChar *fs;
	bool full = false;

	*errp = xmlsafe_parse(&doc, part->body, part->len);
	if (*errp)
		return false;

	root = xmlDocGetRootElement(doc);
	if (!root->ns || strcmp((const char *)root->ns->href, ns_rlmi) ||
	    strcmp((const char *)root->name, "list")) {
		*errp = EBADMSG;
		goto out;
	}

	fs = xmlGetNoNsProp(root, (const xmlChar *)"fullState");
	full = fs && (!strcmp((const char *)fs, "true") ||
		      !strcmp((const char *)fs, "1"));
	xmlFree(fs);

 out:
	xmlsafe_free(doc);
	return full;
}


static int decode_parts(struct dn_update *upd, const uint8_t *buf,
			size_t len, const struct pl *boundary)
{
	const uint8_t *p = buf, *end = buf + len;
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

		p += dlen;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;                         /* close delimiter */

		/* transport padding, then the line end */
		while (p < end && (*p == ' ' || *p == '\t'))
			++p;
		if (p < end && *p == '\r')
			++p;
		if (p >= end || *p != '\n')
			return EBADMSG;
		start = p + 1;

		next = start;
		for (;;) {
			next = find(next, end, delim, dlen);
			if (!next)
				return EBADMSG;        /* no close delimiter */
			if (next[-1] == '\n')
				break;
			next += dlen;
		}
		pend = next - 1;                       /* drop the CRLF */
		if (pend > start && pend[-1] == '\r')
			--pend;
		if (pend < start)
			pend = start;

		if (++parts > MAX_PARTS)
			return EBADMSG;

		err = part_decode(&part, start, pend - start);
		if (err)
			return err;

		if (msg_ctype_cmp(&part.ctype, "application", "rlmi+xml")) {
			fullstate = rlmi_is_fullstate(&part, &err);
			seen_rlmi = true;
		}
		else {
			err = decoder_decode(upd, &part.ctype, part.body,
					     part.len);
		}
		if (err)
			return err;

		p = next;
	}

	if (!seen_rlmi)
		return EBADMSG;

	/* only the outermost list speaks for the whole picture */
	if (depth == 1 && fullstate)
		upd->fullstate = true;

	return 0;
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
