/**
 * @file body.c  Fake PBX -- NOTIFY bodies (dialog-info, RLMI, PIDF, junk)
 *
 * Bodies are printed, not built as trees; every attribute and text value
 * that comes from a command goes through xml_esc().
 *
 * Copyright (C) 2024 parkblf authors
 */
#include <string.h>
#include <re.h>
#include "fakepbx.h"


enum {
	HUGE_SIZE = 2 * 1024 * 1024,
};

static const char xml_decl[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n";
static const char ns_dialog[] = "urn:ietf:params:xml:ns:dialog-info";


/* %H printer: XML-escaped string (for text and attribute values) */
static int xml_esc(struct re_printf *pf, void *arg)
{
	const char *s = arg, *start;
	int err = 0;

	if (!s)
		return 0;

	for (start = s; *s && !err; ++s) {
		const char *ent;

		switch (*s) {

		case '&':  ent = "&amp;";  break;
		case '<':  ent = "&lt;";   break;
		case '>':  ent = "&gt;";   break;
		case '"':  ent = "&quot;"; break;
		case '\'': ent = "&apos;"; break;
		default:   ent = NULL;     break;
		}

		if (!ent)
			continue;

		err  = pf->vph(start, s - start, pf->arg);
		err |= pf->vph(ent, strlen(ent), pf->arg);
		start = s + 1;
	}

	if (!err && s > start)
		err = pf->vph(start, s - start, pf->arg);

	return err;
}


static int print_dialog(struct mbuf *mb, const char *host,
			const struct pbx_dn *dn, const struct pbx_call *call,
			bool terminated, uint64_t now)
{
	int err;

	err = mbuf_printf(mb, "<dialog id=\"%H\" direction=\"recipient\">"
			  "<state>%s</state>",
			  xml_esc, call->callid,
			  terminated ? "terminated" : "confirmed");

	if (!terminated)
		err |= mbuf_printf(mb, "<duration>%llu</duration>",
				   (unsigned long long)
				   ((now - call->parked) / 1000));

	err |= mbuf_printf(mb, "<remote><identity");
	if (call->name)
		err |= mbuf_printf(mb, " display=\"%H\"",
				   xml_esc, call->name);

	err |= mbuf_printf(mb, ">sip:%H@%H</identity></remote>"
			   "<local><identity>sip:%H@%H</identity></local>"
			   "</dialog>\r\n",
			   xml_esc, call->number, xml_esc, host,
			   xml_esc, dn->dn, xml_esc, host);

	return err;
}


/**
 * Print an RFC 4235 dialog-info document for one DN
 *
 * @param mb      Buffer to print into (at its current position)
 * @param host    Host part of the URIs
 * @param dn      DN
 * @param version Document version
 * @param chg     Change to print as a partial document, or NULL for full
 *
 * @return 0 if success, otherwise errorcode
 */
int body_dialog(struct mbuf *mb, const char *host, const struct pbx_dn *dn,
		uint32_t version, const struct pbx_change *chg)
{
	uint64_t now = tmr_jiffies();
	struct le *le;
	size_t i;
	int err;

	if (!mb || !host || !dn)
		return EINVAL;

	err = mbuf_printf(mb, "%s<dialog-info xmlns=\"%s\" version=\"%u\" "
			  "state=\"%s\" entity=\"sip:%H@%H\">\r\n",
			  xml_decl, ns_dialog, version,
			  chg ? "partial" : "full",
			  xml_esc, dn->dn, xml_esc, host);

	if (chg) {
		for (i = 0; i < chg->callc; i++)
			err |= print_dialog(mb, host, dn, chg->callv[i],
					    chg->removed, now);
	}
	else {
		LIST_FOREACH(&dn->calls, le)
			err |= print_dialog(mb, host, dn, le->data, false,
					    now);
	}

	err |= mbuf_printf(mb, "</dialog-info>\r\n");

	return err;
}


/**
 * Print an RFC 3863 PIDF document for one DN (on-the-phone if occupied)
 *
 * @param mb   Buffer to print into
 * @param host Host part of the URIs
 * @param dn   DN
 *
 * @return 0 if success, otherwise errorcode
 */
int body_pidf(struct mbuf *mb, const char *host, const struct pbx_dn *dn)
{
	const struct pbx_call *call;
	int err;

	if (!mb || !host || !dn)
		return EINVAL;

	err = mbuf_printf(mb, "%s<presence"
			  " xmlns=\"urn:ietf:params:xml:ns:pidf\""
			  " xmlns:dm=\"urn:ietf:params:xml:ns:pidf:"
			  "data-model\""
			  " xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\""
			  " entity=\"sip:%H@%H\">\r\n"
			  "<tuple id=\"t1\"><status><basic>open</basic>"
			  "</status><contact>sip:%H@%H</contact></tuple>\r\n",
			  xml_decl, xml_esc, dn->dn, xml_esc, host,
			  xml_esc, dn->dn, xml_esc, host);

	call = list_ledata(list_head(&dn->calls));
	if (call) {
		err |= mbuf_printf(mb, "<dm:person id=\"p1\"><rpid:activities>"
				   "<rpid:on-the-phone/></rpid:activities>"
				   "<dm:note>parked: %H &lt;%H&gt; (%u)"
				   "</dm:note></dm:person>\r\n",
				   xml_esc, call->name ? call->name : "",
				   xml_esc, call->number,
				   list_count(&dn->calls));
	}

	err |= mbuf_printf(mb, "</presence>\r\n");

	return err;
}


/**
 * Print an RFC 4662 multipart/related RLMI notification
 *
 * @param mb       Buffer to print into
 * @param ctypep   Returns the Content-Type value (with boundary)
 * @param host     Host part of the URIs
 * @param resource User part of the list URI
 * @param version  RLMI list version
 * @param full     fullState of the list
 * @param chgv     One entry per DN included
 * @param verv     dialog-info version of each included DN
 * @param chgc     Number of DNs included
 * @param partial  Print the dialog-info parts as partial documents
 *
 * @return 0 if success, otherwise errorcode
 */
int body_rlmi(struct mbuf *mb, char **ctypep, const char *host,
	      const char *resource, uint32_t version, bool full,
	      const struct pbx_change *chgv, const uint32_t *verv,
	      size_t chgc, bool partial)
{
	char boundary[40], start[48];
	char *ctype = NULL;
	uint32_t rnd = rand_u32();
	size_t i;
	int err;

	if (!mb || !ctypep || !host || !resource || (chgc && !chgv))
		return EINVAL;

	(void)re_snprintf(boundary, sizeof(boundary), "fakepbx-%016llx",
			  rand_u64());
	(void)re_snprintf(start, sizeof(start), "rlmi.%u.%08x@fakepbx",
			  version, rnd);

	err = re_sdprintf(&ctype, "multipart/related;"
			  "type=\"application/rlmi+xml\";"
			  "start=\"<%s>\";boundary=\"%s\"", start, boundary);
	if (err)
		return err;

	err = mbuf_printf(mb, "--%s\r\n"
			  "Content-Transfer-Encoding: binary\r\n"
			  "Content-ID: <%s>\r\n"
			  "Content-Type: application/rlmi+xml;"
			  "charset=\"UTF-8\"\r\n"
			  "\r\n"
			  "%s<list xmlns=\"urn:ietf:params:xml:ns:rlmi\""
			  " uri=\"sip:%H@%H\" version=\"%u\""
			  " fullState=\"%s\">\r\n",
			  boundary, start, xml_decl,
			  xml_esc, resource, xml_esc, host, version,
			  full ? "true" : "false");

	for (i = 0; i < chgc; i++) {
		const struct pbx_dn *dn = chgv[i].dn;

		err |= mbuf_printf(mb, "<resource uri=\"sip:%H@%H\">"
				   "<instance id=\"%08x\" state=\"active\""
				   " cid=\"dn%zu.%u.%08x@fakepbx\"/>"
				   "</resource>\r\n",
				   xml_esc, dn->dn, xml_esc, host,
				   hash_joaat_str(dn->dn), i, version, rnd);
	}

	err |= mbuf_printf(mb, "</list>\r\n");

	for (i = 0; i < chgc; i++) {
		const struct pbx_change *chg = &chgv[i];

		err |= mbuf_printf(mb, "--%s\r\n"
				   "Content-Transfer-Encoding: binary\r\n"
				   "Content-ID: <dn%zu.%u.%08x@fakepbx>\r\n"
				   "Content-Type: application/dialog-info+xml;"
				   "charset=\"UTF-8\"\r\n"
				   "\r\n",
				   boundary, i, version, rnd);
		err |= body_dialog(mb, host, chg->dn, verv[i],
				   (partial && chg->callc) ? chg : NULL);
	}

	err |= mbuf_printf(mb, "--%s--\r\n", boundary);

	if (err)
		mem_deref(ctype);
	else
		*ctypep = ctype;

	return err;
}


static int print_bad_dialog(struct mbuf *mb, const char *host,
			    const struct pbx_dn *dn, const char *ns,
			    uint32_t version, const char *display)
{
	return mbuf_printf(mb, "<dialog-info xmlns=\"%s\" version=\"%u\" "
			   "state=\"full\" entity=\"sip:%H@%H\">\r\n"
			   "<dialog id=\"garbage-%u\" direction=\"recipient\">"
			   "<state>confirmed</state><remote>"
			   "<identity display=\"%s\">sip:666@%H</identity>"
			   "</remote><local><identity>sip:%H@%H</identity>"
			   "</local></dialog>\r\n"
			   "</dialog-info>\r\n",
			   ns, version, xml_esc, dn->dn, xml_esc, host,
			   version, display, xml_esc, host,
			   xml_esc, dn->dn, xml_esc, host);
}


static int print_huge(struct mbuf *mb, const char *host,
		      const struct pbx_dn *dn, uint32_t version)
{
	uint32_t n = 0;
	int err;

	err = mbuf_printf(mb, "%s<dialog-info xmlns=\"%s\" version=\"%u\" "
			  "state=\"full\" entity=\"sip:%H@%H\">\r\n",
			  xml_decl, ns_dialog, version,
			  xml_esc, dn->dn, xml_esc, host);

	while (!err && mb->end < HUGE_SIZE - 512) {
		err = mbuf_printf(mb, "<dialog id=\"huge-%u\" "
				  "direction=\"recipient\"><state>confirmed"
				  "</state><remote><identity "
				  "display=\"Huge %u\">sip:%u@%H</identity>"
				  "</remote></dialog>\r\n",
				  n, n, 100000 + n, xml_esc, host);
		++n;
	}

	err |= mbuf_printf(mb, "</dialog-info>\r\n");

	/* pad with XML whitespace to exactly 2 MiB */
	while (!err && mb->end < HUGE_SIZE)
		err = mbuf_write_u8(mb, ' ');

	return err;
}


/**
 * Print a broken NOTIFY body
 *
 * Kinds: badxml, xxe, bomb, huge, wrongtype, wrongns.
 *
 * @param mb      Buffer to print into
 * @param ctypep  Returns the Content-Type to send (a new string)
 * @param kind    Kind of garbage
 * @param host    Host part of the URIs
 * @param dn      DN the document claims to describe
 * @param version dialog-info version to claim
 *
 * @return 0 if success, ENOENT for an unknown kind, otherwise errorcode
 */
int body_garbage(struct mbuf *mb, char **ctypep, const char *kind,
		 const char *host, const struct pbx_dn *dn,
		 uint32_t version)
{
	const char *ctype = "application/dialog-info+xml";
	int err;

	if (!mb || !ctypep || !kind || !host || !dn)
		return EINVAL;

	if (!str_casecmp(kind, "badxml")) {
		err = mbuf_printf(mb, "%s<dialog-info xmlns=\"%s\" "
				  "version=\"%u\" state=\"full\" "
				  "entity=\"sip:%H@%H\">\r\n"
				  "<dialog id=\"broken\" "
				  "direction=\"recipient\">"
				  "<state>confirmed</stat>\r\n"
				  "<remote><<>\r\n",
				  xml_decl, ns_dialog, version,
				  xml_esc, dn->dn, xml_esc, host);
	}
	else if (!str_casecmp(kind, "xxe")) {
		err  = mbuf_printf(mb, "%s<!DOCTYPE dialog-info [\r\n"
				   "<!ENTITY xxe SYSTEM "
				   "\"file:///etc/passwd\">\r\n"
				   "]>\r\n", xml_decl);
		err |= print_bad_dialog(mb, host, dn, ns_dialog, version,
					"&xxe;");
	}
	else if (!str_casecmp(kind, "bomb")) {
		static const char lol[] = "lol";
		int i;

		err  = mbuf_printf(mb, "%s<!DOCTYPE dialog-info [\r\n"
				   "<!ENTITY lol0 \"%s\">\r\n", xml_decl, lol);
		for (i = 1; i <= 9; i++) {
			int j;

			err |= mbuf_printf(mb, "<!ENTITY lol%d \"", i);
			for (j = 0; j < 10; j++)
				err |= mbuf_printf(mb, "&lol%d;", i - 1);
			err |= mbuf_printf(mb, "\">\r\n");
		}
		err |= mbuf_printf(mb, "]>\r\n");
		err |= print_bad_dialog(mb, host, dn, ns_dialog, version,
					"&lol9;");
	}
	else if (!str_casecmp(kind, "huge")) {
		err = print_huge(mb, host, dn, version);
	}
	else if (!str_casecmp(kind, "wrongtype")) {
		ctype = "text/plain";
		err = body_dialog(mb, host, dn, version, NULL);
	}
	else if (!str_casecmp(kind, "wrongns")) {
		err  = mbuf_printf(mb, "%s", xml_decl);
		err |= print_bad_dialog(mb, host, dn,
					"urn:example:not-dialog-info",
					version, "Wrong Namespace");
	}
	else {
		return ENOENT;
	}

	if (err)
		return err;

	return str_dup(ctypep, ctype);
}


/**
 * Content-Type of the single-document formats
 *
 * @param fmt Body format
 *
 * @return Content-Type value (RLMI: the root part's type)
 */
const char *body_ctype(enum pbx_fmt fmt)
{
	switch (fmt) {

	case PBX_FMT_RLMI: return "application/rlmi+xml";
	case PBX_FMT_PIDF: return "application/pidf+xml";
	default:           return "application/dialog-info+xml";
	}
}
