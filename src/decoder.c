/**
 * @file decoder.c  Upstream body decoders, chosen by Content-Type
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


static struct list decoders;


static void update_destructor(void *arg)
{
	struct dn_update *upd = arg;

	list_flush(&upd->reports);
}


static void report_destructor(void *arg)
{
	struct dn_report *rep = arg;

	list_unlink(&rep->le);
	list_flush(&rep->calls);
	mem_deref(rep->dn);
}


static void call_destructor(void *arg)
{
	struct dn_call *dc = arg;

	list_unlink(&dc->le);
	mem_deref(dc->id);
	mem_deref(dc->number);
	mem_deref(dc->name);
}


/**
 * Allocate an empty update
 *
 * @param updp Where to store the update
 *
 * @return 0 if success, otherwise errorcode
 */
int dn_update_alloc(struct dn_update **updp)
{
	struct dn_update *upd;

	if (!updp)
		return EINVAL;

	upd = mem_zalloc(sizeof(*upd), update_destructor);
	if (!upd)
		return ENOMEM;

	*updp = upd;

	return 0;
}


/**
 * Append a DN report to an update
 *
 * @param repp   Where to store the report (not referenced)
 * @param upd    Update that owns the report
 * @param dn     DN
 * @param dn_len Length of DN
 *
 * @return 0 if success, otherwise errorcode
 */
int dn_report_add(struct dn_report **repp, struct dn_update *upd,
		  const char *dn, size_t dn_len)
{
	struct dn_report *rep;
	struct pl pl;
	int err;

	if (!repp || !upd || !dn || !dn_len)
		return EINVAL;

	rep = mem_zalloc(sizeof(*rep), report_destructor);
	if (!rep)
		return ENOMEM;

	pl.p = dn;
	pl.l = dn_len;
	err = pl_strdup(&rep->dn, &pl);
	if (err) {
		mem_deref(rep);
		return err;
	}

	list_append(&upd->reports, &rep->le, rep);
	*repp = rep;

	return 0;
}


/**
 * Append a call to a DN report
 *
 * @param callp Where to store the call (not referenced)
 * @param rep   Report that owns the call
 * @param id    Call (dialog) id
 *
 * @return 0 if success, otherwise errorcode
 */
int dn_call_add(struct dn_call **callp, struct dn_report *rep,
		const char *id)
{
	struct dn_call *dc;
	int err;

	if (!callp || !rep || !id)
		return EINVAL;

	dc = mem_zalloc(sizeof(*dc), call_destructor);
	if (!dc)
		return ENOMEM;

	err = str_dup(&dc->id, id);
	if (err) {
		mem_deref(dc);
		return err;
	}

	list_append(&rep->calls, &dc->le, dc);
	*callp = dc;

	return 0;
}


/**
 * Register a decoder
 *
 * @param dec Decoder, owned by the module
 */
void decoder_register(struct decoder *dec)
{
	if (!dec)
		return;

	list_append(&decoders, &dec->le, dec);
}


/**
 * Unregister a decoder
 *
 * @param dec Decoder
 */
void decoder_unregister(struct decoder *dec)
{
	if (!dec)
		return;

	list_unlink(&dec->le);
}


/**
 * Decode a body with the decoder for its Content-Type
 *
 * @param upd   Update to append reports to
 * @param ctype Content-Type of the body
 * @param buf   Body
 * @param len   Length of body
 *
 * @return 0 if success, ENOTSUP for a type no decoder takes, EMSGSIZE
 *         for a body over the limit, otherwise the decoder's errorcode
 */
int decoder_decode(struct dn_update *upd, const struct msg_ctype *ctype,
		   const uint8_t *buf, size_t len)
{
	struct le *le;

	if (!upd || !ctype || (!buf && len))
		return EINVAL;

	if (len > XMLSAFE_MAX_BODY)
		return EMSGSIZE;

	for (le = list_head(&decoders); le; le = le->next) {
		const struct decoder *dec = le->data;

		if (msg_ctype_cmp(ctype, dec->type, dec->subtype))
			return dec->decodeh(upd, ctype, buf, len);
	}

	return ENOTSUP;
}


/**
 * Print the registered decoders' types as an Accept header value
 *
 * @param pf     Print function
 * @param unused Unused
 *
 * @return 0 if success, otherwise errorcode
 */
int decoder_accept_print(struct re_printf *pf, void *unused)
{
	struct le *le;
	int err = 0;
	(void)unused;

	for (le = list_head(&decoders); le && !err; le = le->next) {
		const struct decoder *dec = le->data;

		const char *sep = le == decoders.head ? "" : ", ";

		if (dec->accept)
			err = re_hprintf(pf, "%s%s", sep, dec->accept);
		else
			err = re_hprintf(pf, "%s%s/%s", sep, dec->type,
					 dec->subtype);
	}

	return err;
}


static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;

	return -1;
}


/* A copy of user with its %HH escapes decoded (RFC 3261 section 19.1.4:
   "sip:%2A00@pbx" is "sip:*00@pbx"); a broken escape or %00 is EBADMSG */
static int unescape_dup(char **userp, const struct pl *user)
{
	char *out;
	size_t i, n = 0;

	out = mem_alloc(user->l + 1, NULL);
	if (!out)
		return ENOMEM;

	for (i = 0; i < user->l; i++) {
		int hi, lo;

		if (user->p[i] != '%') {
			out[n++] = user->p[i];
			continue;
		}

		hi = i + 2 < user->l ? hexval(user->p[i + 1]) : -1;
		lo = i + 2 < user->l ? hexval(user->p[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi | lo) == 0) {
			mem_deref(out);
			return EBADMSG;
		}
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[n] = '\0';
	*userp = out;

	return 0;
}


/**
 * Get the user part of a sip:, sips: or tel: URI, %-escapes decoded:
 * "sip:*00@pbx" and "sip:%2A00@pbx" give "*00", "tel:+4930123;x=y"
 * gives "+4930123"
 *
 * @param userp Where to store the user part (mem string)
 * @param uri   URI text, optionally in <>
 *
 * @return 0 if success, EBADMSG if the URI has no user part or a broken
 *         escape
 */
int uri_user_dup(char **userp, const char *uri)
{
	struct pl pl, scheme, user;

	if (!userp || !uri)
		return EINVAL;

	pl_set_str(&pl, uri);
	while (pl.l && (pl.p[0] == ' ' || pl.p[0] == '\t' || pl.p[0] == '<'))
		pl_advance(&pl, 1);

	if (re_regex(pl.p, pl.l, "[a-zA-Z]+:[^@;>? \t]+", &scheme, &user))
		return EBADMSG;
	if (scheme.p != pl.p)
		return EBADMSG;
	if (pl_strcasecmp(&scheme, "sip") && pl_strcasecmp(&scheme, "sips") &&
	    pl_strcasecmp(&scheme, "tel"))
		return EBADMSG;

	/* a sip URI without '@' has a host, not a user */
	if (pl_strcasecmp(&scheme, "tel") &&
	    (user.p + user.l >= pl.p + pl.l || user.p[user.l] != '@'))
		return EBADMSG;

	return unescape_dup(userp, &user);
}
