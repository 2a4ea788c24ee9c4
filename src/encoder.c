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
 * Print text with the five XML special characters escaped, tab, CR
 * and LF as character references; control characters that XML 1.0
 * forbids are left out
 *
 * @param pf  Print function
 * @param str Text, NULL prints nothing
 *
 * @return 0 if success, otherwise errorcode
 */
int xml_escape_print(struct re_printf *pf, const char *str)
{
	const char *p, *start;
	int err = 0;

	if (!str)
		return 0;

	for (p = start = str; *p && !err; p++) {
		const char *esc;

		switch (*p) {

		case '&':  esc = "&amp;";  break;
		case '<':  esc = "&lt;";   break;
		case '>':  esc = "&gt;";   break;
		case '"':  esc = "&quot;"; break;
		case '\'': esc = "&apos;"; break;
		/* as references, so that attribute values keep them and no
		   line of a multipart body can start inside our text */
		case '\t': esc = "&#9;";  break;
		case '\n': esc = "&#10;"; break;
		case '\r': esc = "&#13;"; break;
		default:
			if ((unsigned char)*p < 0x20)
				esc = "";
			else
				continue;
			break;
		}

		/* a zero-length write is an error for some print handlers */
		if (p > start)
			err = pf->vph(start, p - start, pf->arg);
		if (!err && *esc)
			err = re_hprintf(pf, "%s", esc);
		start = p + 1;
	}

	if (!err && p > start)
		err = pf->vph(start, p - start, pf->arg);

	return err;
}
