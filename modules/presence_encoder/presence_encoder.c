/**
 * @file presence_encoder.c  Encoder for Event: presence (RFC 3863 PIDF)
 *
 * For softphones that only watch presence.  One tuple whose <basic> is
 * always "open" (the orbit exists and can be used).  An occupied orbit
 * adds the RPID activity on-the-phone (RFC 4480) in a data-model person
 * (RFC 4479) and a <note> naming the waiting caller; an idle one has
 * the note "free" and no activity.  The RPID and data-model namespaces
 * are bound to the literal prefixes rpid: and dm:, because baresip's
 * presence module matches the text "<rpid:on-the-phone/>".  The privacy
 * switch (view->privacy) leaves the caller out of the note.  An overdue
 * orbit's note says how long its oldest call has waited at least (its
 * alert time: the note stays true until the next change).  No config
 * keys of its own.
 *
 * The ids are constants: an orbit name need not be a valid xs:ID.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"


/* "NUMBER NAME", either part may be missing */
static int print_caller(struct mbuf *mb, const struct orbit_call *call)
{
	int err = 0;

	if (call->number)
		err |= mbuf_printf(mb, "%H", xml_escape_print, call->number);
	if (call->number && call->name)
		err |= mbuf_printf(mb, " ");
	if (call->name)
		err |= mbuf_printf(mb, "%H", xml_escape_print, call->name);

	return err;
}


/* How long the oldest call has waited, at least: its alert time */
static int print_overdue(struct mbuf *mb, uint32_t s)
{
	if (s >= 3600 && s % 3600 == 0)
		return mbuf_printf(mb, ", waiting over %u h", s / 3600);
	if (s >= 60 && s % 60 == 0)
		return mbuf_printf(mb, ", waiting over %u min", s / 60);

	return mbuf_printf(mb, ", waiting over %u s", s);
}


static int print_note(struct mbuf *mb, const struct orbit_view *v)
{
	const struct orbit_call *oldest = v->callc ? &v->callv[0] : NULL;
	bool caller;
	int err = 0;

	caller = oldest && !v->privacy && (oldest->number || oldest->name);

	err |= mbuf_printf(mb, "  <note>");

	if (v->callc > 1) {
		err |= mbuf_printf(mb, "%zu calls parked", v->callc);
		if (caller) {
			err |= mbuf_printf(mb, ", oldest: ");
			err |= print_caller(mb, oldest);
		}
	}
	else if (v->callc == 1 || v->occupied) {
		err |= mbuf_printf(mb, "Parked");
		if (caller) {
			err |= mbuf_printf(mb, ": ");
			err |= print_caller(mb, oldest);
		}
	}
	else {
		err |= mbuf_printf(mb, "free");
	}

	if (v->overdue_s && (v->callc || v->occupied))
		err |= print_overdue(mb, v->overdue_s);

	err |= mbuf_printf(mb, "</note>\r\n");

	return err;
}


static int encode(struct mbuf *mb, const struct orbit_view *v)
{
	bool busy;
	int err = 0;

	if (!mb || !v || !v->entity || !v->name || (v->callc && !v->callv))
		return EINVAL;

	busy = v->callc > 0 || v->occupied;

	err |= mbuf_printf(mb,
			   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			   "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
			   " xmlns:dm=\"urn:ietf:params:xml:ns:pidf:"
			   "data-model\""
			   " xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\""
			   " entity=\"%H\">\r\n"
			   " <tuple id=\"orbit\">\r\n"
			   "  <status><basic>open</basic></status>\r\n",
			   xml_escape_print, v->entity);

	if (v->retrieve_uri)
		err |= mbuf_printf(mb, "  <contact>%H</contact>\r\n",
				   xml_escape_print, v->retrieve_uri);

	err |= print_note(mb, v);
	err |= mbuf_printf(mb, " </tuple>\r\n");

	if (busy) {
		err |= mbuf_printf(mb,
				   " <dm:person id=\"orbit-person\">\r\n"
				   "  <rpid:activities>"
				   "<rpid:on-the-phone/></rpid:activities>\r\n"
				   " </dm:person>\r\n");
	}

	err |= mbuf_printf(mb, "</presence>\r\n");

	return err;
}


static struct encoder presence_encoder = {
	.event   = "presence",
	.ctype   = "application/pidf+xml",
	.encodeh = encode,
	.splice  = true,
};


static int module_init(void)
{
	encoder_register(&presence_encoder);

	return 0;
}


static int module_close(void)
{
	encoder_unregister(&presence_encoder);

	return 0;
}


const struct mod_export DECL_EXPORTS(presence_encoder) = {
	.name  = "presence_encoder",
	.type  = "encoder",
	.init  = module_init,
	.close = module_close,
};
