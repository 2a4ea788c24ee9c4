/**
 * @file acceptlist.c  Whether a request's Accept headers allow a type
 *
 * Each Accept header is a comma-separated list of media ranges,
 * "type/subtype" with optional parameters and linear white space
 * around its parts (RFC 3261 20.1 and 25.1).  Read here by hand: with
 * libre's regular expressions (a split, msg_ctype_decode and a
 * printout per range) it was ~1.6 % of parkblf's CPU while phones
 * subscribed (docs/BENCHMARKS.md change 28).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "acceptlist.h"


static bool lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/* The token at *p (up to end): white space before it skipped, and *p
   left after it */
static void token(struct pl *t, const char **p, const char *end,
		  const char *stops)
{
	while (*p < end && lws(**p))
		++*p;
	t->p = *p;
	while (*p < end && !lws(**p) && !strchr(stops, **p))
		++*p;
	t->l = (size_t)(*p - t->p);
	while (*p < end && lws(**p))
		++*p;
}


/* Whether the range "type/subtype" covers ctype ("type/subtype") */
static bool covers(const struct pl *type, const struct pl *sub,
		   const char *ctype)
{
	const char *slash = strchr(ctype, '/');
	const size_t tl = slash ? (size_t)(slash - ctype) : 0;

	if (!slash || !type->l || !sub->l)
		return false;
	if (!pl_strcmp(type, "*"))
		return !pl_strcmp(sub, "*");
	if (type->l != tl || strncasecmp(type->p, ctype, tl))
		return false;

	return !pl_strcmp(sub, "*") || !pl_strcasecmp(sub, slash + 1);
}


/* Whether one header's value lists a range that covers ctype */
static bool value_allows(const struct pl *val, const char *ctype)
{
	const char *p = val->p, *end = val->p + val->l;

	while (p < end) {
		struct pl type, sub = PL_INIT;

		token(&type, &p, end, "/;,");
		if (p < end && *p == '/') {
			++p;
			token(&sub, &p, end, ";,");
		}
		if (covers(&type, &sub, ctype))
			return true;

		/* the range's parameters, up to the next one */
		while (p < end && *p != ',')
			++p;
		if (p < end)
			++p;
	}

	return false;
}


/**
 * Whether a request's Accept headers allow a content type: yes without
 * any Accept header (RFC 6665 allows the event package's default); an
 * empty one allows nothing
 *
 * @param msg   Request
 * @param ctype Content type, "type/subtype"
 *
 * @return true if one of the ranges covers it
 */
bool acceptlist_allows(const struct sip_msg *msg, const char *ctype)
{
	struct le *le;
	bool any = false;

	if (!msg || !ctype)
		return false;

	for (le = list_head(&msg->hdrl); le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (hdr->id != SIP_HDR_ACCEPT)
			continue;
		any = true;
		if (value_allows(&hdr->val, ctype))
			return true;
	}

	return !any;
}
