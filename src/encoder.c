/**
 * @file encoder.c  Downstream body encoders, chosen by event package
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


static struct list encoders;


/**
 * Register an encoder
 *
 * @param enc Encoder, owned by the module
 */
void encoder_register(struct encoder *enc)
{
	if (!enc)
		return;

	list_append(&encoders, &enc->le, enc);
}


/**
 * Unregister an encoder
 *
 * @param enc Encoder
 */
void encoder_unregister(struct encoder *enc)
{
	if (!enc)
		return;

	list_unlink(&enc->le);
}


/**
 * Find the encoder for an event package
 *
 * @param event Event package name
 *
 * @return The encoder, or NULL if none serves that package
 */
const struct encoder *encoder_find(const struct pl *event)
{
	struct le *le;

	for (le = list_head(&encoders); le; le = le->next) {
		const struct encoder *enc = le->data;

		if (!pl_strcasecmp(event, enc->event))
			return enc;
	}

	return NULL;
}


/**
 * Print the served event packages as an Allow-Events value
 *
 * @param pf     Print function
 * @param unused Unused
 *
 * @return 0 if success, otherwise errorcode
 */
int encoder_events_print(struct re_printf *pf, void *unused)
{
	struct le *le;
	int err = 0;
	(void)unused;

	for (le = list_head(&encoders); le && !err; le = le->next) {
		const struct encoder *enc = le->data;

		err = re_hprintf(pf, "%s%s", le == encoders.head ? "" : ", ",
				 enc->event);
	}

	return err;
}


/**
 * Length of the valid UTF-8 sequence at p
 *
 * @param p Text
 * @param n Bytes left
 *
 * @return 1..4, or 0 if the sequence is not valid UTF-8
 */
size_t utf8_char_len(const uint8_t *p, size_t n)
{
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	else if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;

	if (n < len)
		return 0;

	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}

	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;

	return len;
}


/**
 * Print text for XML character data or an attribute value: the five
 * special characters escaped, tab, CR and LF as references (so that
 * attribute values keep them and no line of a multipart body can start
 * inside our text), other control characters left out, and invalid
 * UTF-8 (an orbit map label, say) as U+FFFD, so the document stays
 * well-formed
 *
 * @param pf  Print function
 * @param str Text, NULL prints nothing
 *
 * @return 0 if success, otherwise errorcode
 */
int xml_escape_print(struct re_printf *pf, const char *str)
{
	const uint8_t *p, *start, *end;
	int err = 0;

	if (!str)
		return 0;

	p = start = (const uint8_t *)str;
	end = p + strlen(str);

	while (p < end && !err) {
		size_t n = utf8_char_len(p, (size_t)(end - p));
		const char *esc;

		if (!n)
			esc = "\xef\xbf\xbd";
		else if (*p == '&')
			esc = "&amp;";
		else if (*p == '<')
			esc = "&lt;";
		else if (*p == '>')
			esc = "&gt;";
		else if (*p == '"')
			esc = "&quot;";
		else if (*p == '\'')
			esc = "&apos;";
		else if (*p == '\t')
			esc = "&#9;";
		else if (*p == '\n')
			esc = "&#10;";
		else if (*p == '\r')
			esc = "&#13;";
		else if (*p < 0x20)
			esc = "";
		else {
			p += n;          /* plain text: written in one go */
			continue;
		}

		/* a zero-length write is an error for some print handlers */
		if (p > start)
			err = pf->vph((const char *)start, p - start,
				      pf->arg);
		if (!err && *esc)
			err = re_hprintf(pf, "%s", esc);
		p += n ? n : 1;
		start = p;
	}

	if (!err && p > start)
		err = pf->vph((const char *)start, p - start, pf->arg);

	return err;
}
