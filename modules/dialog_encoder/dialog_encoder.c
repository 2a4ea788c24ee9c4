/**
 * @file dialog_encoder.c  Encoder for Event: dialog (RFC 4235 bodies)
 *
 * Always state="full".  An idle orbit is one stable terminated dialog
 * (many phones show nothing sensible for an empty document).  An
 * occupied orbit is one dialog for the oldest call (the one a retrieve
 * takes), or one per call, oldest first.  No call-id or tags: with them
 * phones try a Replaces pickup that the PBX cannot match.  The config
 * keys dialog_all_calls, dialog_lamp and privacy (and the orbit's
 * privacy=) reach it through the view.  An overdue orbit (a call waited
 * past park_alert_after) asks for attention: every dialog is early, the
 * state that flashes; with dialog_lamp early it already was, so the
 * lamp keeps flashing (a solid lamp would look calmer, not more urgent).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"


static int print_identity(struct mbuf *mb, const char *display,
			  const char *user, const char *domain)
{
	int err = 0;

	err |= mbuf_printf(mb, "   <identity");
	if (display)
		err |= mbuf_printf(mb, " display=\"%H\"", xml_escape_print,
				   display);
	if (user && domain)
		err |= mbuf_printf(mb, ">sip:%H@%H</identity>\r\n",
				   xml_escape_print, user, xml_escape_print,
				   domain);
	else
		err |= mbuf_printf(mb, ">%H</identity>\r\n",
				   xml_escape_print, user);

	return err;
}


static int print_call(struct mbuf *mb, const struct orbit_view *v,
		      const struct orbit_call *call)
{
	int err = 0;

	err |= mbuf_printf(mb,
			   " <dialog id=\"%H\" direction=\"recipient\">\r\n"
			   "  <state>%s</state>\r\n"
			   "  <duration>%u</duration>\r\n",
			   xml_escape_print, call->id,
			   v->lamp == LAMP_EARLY || v->overdue_s ?
			   "early" : "confirmed",
			   call->duration);

	err |= mbuf_printf(mb, "  <local>\r\n");
	err |= print_identity(mb, v->label ? v->label : v->name, v->entity,
			      NULL);
	err |= mbuf_printf(mb, "   <target uri=\"%H\"/>\r\n"
			   "  </local>\r\n", xml_escape_print,
			   v->retrieve_uri);

	err |= mbuf_printf(mb, "  <remote>\r\n");
	if (!v->privacy && (call->number || call->name))
		err |= print_identity(mb, call->name,
				      call->number ? call->number
				      : "anonymous", v->domain);
	err |= mbuf_printf(mb, "   <target uri=\"%H\"/>\r\n"
			   "  </remote>\r\n"
			   " </dialog>\r\n", xml_escape_print,
			   v->retrieve_uri);

	return err;
}


static int encode(struct mbuf *mb, const struct orbit_view *v)
{
	int err = 0;
	size_t i;

	if (!mb || !v || !v->entity || !v->name || !v->retrieve_uri)
		return EINVAL;

	err |= mbuf_printf(mb,
			   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			   "<dialog-info xmlns=\"urn:ietf:params:xml:ns:"
			   "dialog-info\" version=\"%u\" state=\"full\" "
			   "entity=\"%H\">\r\n",
			   v->version, xml_escape_print, v->entity);

	for (i = 0; i < v->callc && !err; i++) {
		err = print_call(mb, v, &v->callv[i]);
		if (!v->all_calls)
			break;
	}

	if (v->callc == 0 && v->occupied) {
		/* busy, but the PBX gave no call details */
		const struct orbit_call anon = {.id = v->name};

		err |= print_call(mb, v, &anon);
	}
	else if (v->callc == 0) {
		err |= mbuf_printf(mb,
				   " <dialog id=\"%H-idle\" "
				   "direction=\"recipient\">\r\n"
				   "  <state>terminated</state>\r\n"
				   " </dialog>\r\n",
				   xml_escape_print, v->name);
	}

	err |= mbuf_printf(mb, "</dialog-info>\r\n");

	return err;
}


static struct encoder dialog_encoder = {
	.event   = "dialog",
	.ctype   = "application/dialog-info+xml",
	.encodeh = encode,
	.splice  = true,
};


static int module_init(void)
{
	encoder_register(&dialog_encoder);

	return 0;
}


static int module_close(void)
{
	encoder_unregister(&dialog_encoder);

	return 0;
}


const struct mod_export DECL_EXPORTS(dialog_encoder) = {
	.name  = "dialog_encoder",
	.type  = "encoder",
	.init  = module_init,
	.close = module_close,
};
