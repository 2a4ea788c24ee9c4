/**
 * @file parksxml.c  GET /parks.xml: the orbits as a phone XML-browser page
 *
 * `?vendor=` takes the names `parkblf provision` takes (phonevendor.c).
 * One entry per orbit: a title (label, else name) and a status (the
 * oldest caller, the one the retrieve code takes, with how long it has
 * waited, or "free").  Selecting the entry dials the retrieve code.
 *
 * Menus are paged: phone XML browsers cap them (Yealink's TextMenu at
 * 30 items, Cisco's CiscoIPPhoneMenu at 100), so a map of more than
 * PARKSXML_MENU_MAX orbits is shown PARKSXML_PAGE_SIZE at a time, with
 * "Previous page" / "Next page" entries that load `&page=N` (1-based;
 * a page past the end shows the last one).  Their URLs are absolute,
 * built from the request's Host header (or the address the request
 * came in on), as the phones' browsers need.  The phone book formats
 * (Grandstream, Fanvil) have no entry that loads a page: a phone
 * downloads the whole book, so they come in one document.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "tenant.h"
#include "phonevendor.h"
#include "parksxml.h"


enum {
	HOST_MAX       = 256,
	CISCO_NAME_MAX = 64,   /**< Characters of a Cisco MenuItem Name */
};

/** Where a navigation entry leads */
struct pageref {
	const char *base;        /**< host[:port] the phone asked          */
	const char *tenant;      /**< /t/NAME of a tenants_dir tenant, or "" */
	const char *vendor;
	unsigned page;           /**< 1-based                              */
};

typedef int (item_h)(struct mbuf *mb, const struct orbit *orbit,
		     const char *title, const char *status);
typedef int (link_h)(struct mbuf *mb, const struct pageref *pr,
		     const char *text);

/** One phone vendor's XML-browser format */
struct format {
	const char *ctype;
	const char *head;        /**< Up to the title text               */
	const char *head2;       /**< From the title text to the items   */
	const char *tail;
	item_h *itemh;
	link_h *linkh;           /**< NULL: not paged (a phone book)      */
};


/* A dial string inside a URL: percent-encoded (e.g. '#' as %23) */
static int url_dial_print(struct re_printf *pf, const char *str)
{
	const char *p;
	int err = 0;

	for (p = str; p && *p && !err; p++) {
		const char c = *p;

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || strchr("*+-._~", c))
			err = re_hprintf(pf, "%c", c);
		else
			err = re_hprintf(pf, "%%%02X", (uint8_t)c);
	}

	return err;
}


/* The URL of another page, XML-escaped (the '&' between parameters) */
static int pageref_print(struct re_printf *pf, const struct pageref *pr)
{
	return re_hprintf(pf, "http://%s%s/parks.xml?vendor=%s&amp;page=%u",
			  pr->base, pr->tenant, pr->vendor, pr->page);
}


/*
 * Yealink XML Browser Developer's Guide, TextMenu object:
 * YealinkIPPhoneTextMenu > Title, MenuItem > Prompt, URI, Dial.  <Dial>
 * is what the phone dials on off-hook or the Dial soft key; <URI> is
 * run on Select: the Dial: internal URI, or the URL of another page.
 */
static int yealink_item(struct mbuf *mb, const struct orbit *orbit,
			const char *title, const char *status)
{
	return mbuf_printf(mb, " <MenuItem>\n"
			   "  <Prompt>%H: %H</Prompt>\n"
			   "  <URI>Dial:%H</URI>\n"
			   "  <Dial>%H</Dial>\n"
			   " </MenuItem>\n",
			   xml_escape_print, title, xml_escape_print, status,
			   xml_escape_print, orbit->retrieve,
			   xml_escape_print, orbit->retrieve);
}


static int yealink_link(struct mbuf *mb, const struct pageref *pr,
			const char *text)
{
	return mbuf_printf(mb, " <MenuItem>\n"
			   "  <Prompt>%s</Prompt>\n"
			   "  <URI>%H</URI>\n"
			   " </MenuItem>\n", text, pageref_print, pr);
}


/*
 * Cisco Unified IP Phone Services Application Development Notes:
 * CiscoIPPhoneMenu > Title, Prompt, MenuItem > Name (at most 64
 * characters), URL (at most 100 items); the URL is the
 * Dial:{dialSequence} telephony URI (digits, *, #) or the URL of
 * another page.
 */
static int cisco_item(struct mbuf *mb, const struct orbit *orbit,
		      const char *title, const char *status)
{
	char *name = NULL;
	const uint8_t *p;
	size_t left, chars = 0;
	int err;

	err = re_sdprintf(&name, "%s: %s", title, status);
	if (err)
		return err;

	/* cut after CISCO_NAME_MAX characters (UTF-8) */
	p = (const uint8_t *)name;
	left = strlen(name);
	while (left && chars < CISCO_NAME_MAX) {
		size_t n = utf8_char_len(p, left);

		n = n ? n : 1;
		p += n;
		left -= n;
		++chars;
	}
	*(char *)p = '\0';

	err = mbuf_printf(mb, " <MenuItem>\n"
			  "  <Name>%H</Name>\n"
			  "  <URL>Dial:%H</URL>\n"
			  " </MenuItem>\n",
			  xml_escape_print, name,
			  xml_escape_print, orbit->retrieve);
	mem_deref(name);

	return err;
}


/* Cisco and Snom: MenuItem > Name, URL */
static int name_url_link(struct mbuf *mb, const struct pageref *pr,
			 const char *text)
{
	return mbuf_printf(mb, " <MenuItem>\n"
			   "  <Name>%s</Name>\n"
			   "  <URL>%H</URL>\n"
			   " </MenuItem>\n", text, pageref_print, pr);
}


/*
 * Snom XML Minibrowser: SnomIPPhoneMenu > Title, MenuItem > Name, URL;
 * the URL is the snom://mb_nop scheme with the numberdial fragment
 * ("Fragments" page of the Snom wiki), which dials without loading a
 * page, or the URL of another page.
 */
static int snom_item(struct mbuf *mb, const struct orbit *orbit,
		     const char *title, const char *status)
{
	return mbuf_printf(mb, " <MenuItem>\n"
			   "  <Name>%H: %H</Name>\n"
			   "  <URL>snom://mb_nop#numberdial=%H</URL>\n"
			   " </MenuItem>\n",
			   xml_escape_print, title, xml_escape_print, status,
			   url_dial_print, orbit->retrieve);
}


/*
 * Polycom Web Application Developer's Guide: the microbrowser shows
 * XHTML (well-formed, lowercase tags); a tel:// link places a call.
 */
static int polycom_item(struct mbuf *mb, const struct orbit *orbit,
			const char *title, const char *status)
{
	return mbuf_printf(mb, "<p><a href=\"tel://%H\">%H: %H</a></p>\n",
			   url_dial_print, orbit->retrieve,
			   xml_escape_print, title, xml_escape_print, status);
}


static int polycom_link(struct mbuf *mb, const struct pageref *pr,
			const char *text)
{
	return mbuf_printf(mb, "<p><a href=\"%H\">%s</a></p>\n",
			   pageref_print, pr, text);
}


/*
 * Grandstream XML phonebook guide (GXP16xx/17xx/21xx): AddressBook >
 * Contact > FirstName, LastName, Phone > phonenumber, accountindex.
 * Calling a contact dials its phonenumber; the phone shows the state as
 * of its last phonebook download.
 */
static int grandstream_item(struct mbuf *mb, const struct orbit *orbit,
			    const char *title, const char *status)
{
	return mbuf_printf(mb, " <Contact>\n"
			   "  <FirstName>%H</FirstName>\n"
			   "  <LastName>%H</LastName>\n"
			   "  <Phone>\n"
			   "   <phonenumber>%H</phonenumber>\n"
			   "   <accountindex>0</accountindex>\n"
			   "  </Phone>\n"
			   " </Contact>\n",
			   xml_escape_print, title, xml_escape_print, status,
			   xml_escape_print, orbit->retrieve);
}


/*
 * Fanvil remote phone book (Fanvil XML phonebook format, as the Wazo
 * and 3CX phone book exporters write it): FanvilIPPhoneDirectory >
 * Title, DirectoryEntry > Name, Telephone.  Calling an entry dials its
 * Telephone; the state is that of the last download.
 */
static int fanvil_item(struct mbuf *mb, const struct orbit *orbit,
		       const char *title, const char *status)
{
	return mbuf_printf(mb, " <DirectoryEntry>\n"
			   "  <Name>%H: %H</Name>\n"
			   "  <Telephone>%H</Telephone>\n"
			   " </DirectoryEntry>\n",
			   xml_escape_print, title, xml_escape_print, status,
			   xml_escape_print, orbit->retrieve);
}


#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define CTYPE_XML "text/xml; charset=utf-8"

static const struct format formats[PHONEVENDOR_N] = {
	[PHONEVENDOR_YEALINK] = {
		CTYPE_XML,
		XML_DECL "<YealinkIPPhoneTextMenu style=\"none\">\n"
		" <Title>", "</Title>\n",
		"</YealinkIPPhoneTextMenu>\n", yealink_item, yealink_link},
	[PHONEVENDOR_CISCO] = {
		CTYPE_XML,
		XML_DECL "<CiscoIPPhoneMenu>\n <Title>",
		"</Title>\n <Prompt>Select to retrieve</Prompt>\n",
		"</CiscoIPPhoneMenu>\n", cisco_item, name_url_link},
	[PHONEVENDOR_SNOM] = {
		CTYPE_XML,
		XML_DECL "<SnomIPPhoneMenu>\n <Title>", "</Title>\n",
		"</SnomIPPhoneMenu>\n", snom_item, name_url_link},
	[PHONEVENDOR_POLYCOM] = {
		"text/html; charset=utf-8",
		XML_DECL "<html xmlns=\"http://www.w3.org/1999/xhtml\">\n"
		"<head><title>", "</title></head>\n<body>\n",
		"</body>\n</html>\n", polycom_item, polycom_link},
	[PHONEVENDOR_GRANDSTREAM] = {
		CTYPE_XML,
		XML_DECL "<AddressBook>\n<!-- ", " -->\n",
		"</AddressBook>\n", grandstream_item, NULL},
	[PHONEVENDOR_FANVIL] = {
		CTYPE_XML,
		XML_DECL "<FanvilIPPhoneDirectory>\n <Title>", "</Title>\n",
		"</FanvilIPPhoneDirectory>\n", fanvil_item, NULL},
};


/* The value of parameter name in a query string ("?a=b&c=d") */
static bool query_get(const struct pl *prm, const char *name,
		      struct pl *val)
{
	const size_t nlen = strlen(name);
	struct pl rest = *prm;

	if (rest.l && rest.p[0] == '?') {
		++rest.p;
		--rest.l;
	}

	while (rest.l) {
		const char *amp = pl_strchr(&rest, '&');
		const size_t len = amp ? (size_t)(amp - rest.p) : rest.l;

		if (len > nlen && rest.p[nlen] == '=' &&
		    !memcmp(rest.p, name, nlen)) {
			val->p = rest.p + nlen + 1;
			val->l = len - nlen - 1;
			return true;
		}

		if (!amp)
			break;

		rest.l -= len + 1;
		rest.p = amp + 1;
	}

	return false;
}


static uint64_t elapsed_ms(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}


/* Whether a caller may be shown for this orbit (the privacy switch) */
static bool orbit_shows_caller(const struct orbit *orbit,
			       const struct config *cfg)
{
	if (orbit->privacy >= 0)
		return orbit->privacy == 0;

	return !(cfg && cfg->privacy);
}


/* What an entry says after its title: the oldest caller, or "free" */
static int entry_status(char **statusp, const struct tenant *t,
			const struct orbit *orbit, uint64_t now)
{
	const struct store *store = tenant_store(t);
	const struct config *cfg = tenant_config(t);
	const struct list *calls = store_calls(store, orbit->dn);
	const struct le *le = calls ? list_head(calls) : NULL;
	const struct parked_call *pc;
	uint32_t mins, more;

	if (!store_known(store, orbit->dn))
		return re_sdprintf(statusp, "unknown");

	if (!store_occupied(store, orbit->dn))
		return re_sdprintf(statusp, "free");

	if (!le || !orbit_shows_caller(orbit, cfg))
		return re_sdprintf(statusp, "occupied");

	pc = le->data;
	mins = (uint32_t)(elapsed_ms(now, pc->parked_at) / 60000);
	more = list_count(calls) - 1;

	if (more)
		return re_sdprintf(statusp, "%s%s%s (%u min) +%u more",
				   pc->number ? pc->number : "unknown",
				   pc->name ? " " : "",
				   pc->name ? pc->name : "", mins, more);

	return re_sdprintf(statusp, "%s%s%s (%u min)",
			   pc->number ? pc->number : "unknown",
			   pc->name ? " " : "",
			   pc->name ? pc->name : "", mins);
}


/* host[:port] as the phone reached us: its Host header if plausible,
   else the address the connection came in on */
static void base_get(char *buf, size_t sz, const struct sa *local,
		     const struct http_msg *msg)
{
	const struct http_hdr *hdr = http_msg_hdr(msg, HTTP_HDR_HOST);

	if (hdr && hdr->val.l && hdr->val.l < sz &&
	    strspn(hdr->val.p, "abcdefghijklmnopqrstuvwxyz"
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") >=
	    hdr->val.l) {
		(void)pl_strcpy(&hdr->val, buf, sz);
		return;
	}

	if (!sa_isset(local, SA_ADDR) ||
	    re_snprintf(buf, sz, "%J", local) < 0)
		str_ncpy(buf, "localhost", sz);
}


/* ?page=N: 1-based, digits only; absent is 1 */
/**
 * Get a parameter of a query string
 *
 * @param prm  Query string ("?a=b&c=d", the ? optional)
 * @param name Parameter name
 * @param val  Where to store its value (not decoded)
 *
 * @return true if the parameter is there
 */
bool parksxml_query_get(const struct pl *prm, const char *name,
			struct pl *val)
{
	return prm && name && val && query_get(prm, name, val);
}


static int page_get(unsigned *pagep, const struct pl *prm)
{
	struct pl val;

	*pagep = 1;
	if (!query_get(prm, "page", &val))
		return 0;

	if (!val.l || val.l > 6 || strspn(val.p, "0123456789") < val.l ||
	    !pl_u32(&val))
		return EINVAL;

	*pagep = pl_u32(&val);

	return 0;
}


/**
 * Render GET /parks.xml?vendor=VENDOR[&page=N] (and /t/NAME/parks.xml)
 *
 * @param mb     Where to write the page
 * @param ctypep Where to store its Content-Type
 * @param t      The tenant whose orbits it shows (NULL: none, no orbits)
 * @param local  The address the request came in on
 * @param msg    The request
 *
 * @return 0 if success, ENOENT for an unknown vendor, EINVAL for a bad
 *         page number, otherwise errorcode
 */
int parksxml_render(struct mbuf *mb, const char **ctypep,
		    const struct tenant *t, const struct sa *local,
		    const struct http_msg *msg)
{
	const struct orbitmap *map = tenant_map(t);
	const struct config *cfg = tenant_config(t);
	char tpath[HOST_MAX];
	const uint64_t now = store_now_ms();
	enum phonevendor v = PHONEVENDOR_YEALINK;
	const struct format *fmt;
	char base[HOST_MAX];
	struct pageref pr;
	unsigned n, per, pages, page, i;
	struct pl val;
	struct le *le;
	int err;

	if (!mb || !ctypep || !local || !msg)
		return EINVAL;

	if (query_get(&msg->prm, "vendor", &val) && val.l &&
	    phonevendor_find(&v, &val))
		return ENOENT;

	err = page_get(&page, &msg->prm);
	if (err)
		return err;

	fmt = &formats[v];
	n = map ? list_count(&map->orbits) : 0;
	per = (!fmt->linkh || n <= PARKSXML_MENU_MAX) ? (n ? n : 1) :
		PARKSXML_PAGE_SIZE;
	pages = n ? (n + per - 1) / per : 1;
	if (page > pages)
		page = pages;

	base_get(base, sizeof(base), local, msg);
	pr.base = base;
	pr.vendor = phonevendor_name(v);
	pr.tenant = "";
	if (cfg && cfg->tenant &&
	    re_snprintf(tpath, sizeof(tpath), "/t/%s", tenant_name(t)) > 0)
		pr.tenant = tpath;

	err = mbuf_write_str(mb, fmt->head);
	err |= mbuf_printf(mb, "Parked calls");
	if (pages > 1)
		err |= mbuf_printf(mb, " (%u/%u)", page, pages);
	err |= mbuf_write_str(mb, fmt->head2);

	if (page > 1 && !err) {
		pr.page = page - 1;
		err = fmt->linkh(mb, &pr, "&lt;&lt; Previous page");
	}

	le = map ? list_head(&map->orbits) : NULL;
	for (i = 0; le && i < (page - 1) * per; i++)
		le = le->next;

	for (i = 0; le && i < per && !err; le = le->next, ++i) {
		const struct orbit *orbit = le->data;
		char *status = NULL;

		err = entry_status(&status, t, orbit, now);
		if (!err)
			err = fmt->itemh(mb, orbit, orbit->label ?
					 orbit->label : orbit->name, status);

		mem_deref(status);
	}

	if (page < pages && !err) {
		pr.page = page + 1;
		err = fmt->linkh(mb, &pr, "Next page &gt;&gt;");
	}

	if (!err)
		err = mbuf_write_str(mb, fmt->tail);

	if (!err)
		*ctypep = fmt->ctype;

	return err;
}
