/**
 * @file provision.c  BLF key configuration for phones, per vendor
 *
 * `parkblf provision VENDOR -f FILE [-a ADDRESS[:PORT]] [-k FIRST]`
 * loads the configuration and the orbit map as the daemon does, and
 * prints one BLF key per orbit, in map order, in the vendor's own
 * provisioning syntax, to paste into the phone's configuration file.
 * Every key subscribes to NAME@ADDRESS:PORT, parkblf's SIP address as
 * phones reach it (default: the first sip_listen address).
 *
 * With `--tenant NAME` (-T NAME) the keys are those of tenants_dir's
 * NAME.conf: its orbit map, and an address that chooses that tenant:
 * its tenant_listen if it has one, else its domain (the first of
 * tenant_domain, else its upstream_uri's host) with the port of the
 * first sip_listen; that name must lead phones to parkblf (DNS, or an
 * outbound proxy such as Kamailio in front).  -a still wins.
 *
 * The parameter names were taken from the templates of wazo-provd-plugins
 * (the provisioning plug-ins of the Wazo PBX, github.com/wazo-platform/
 * wazo-provd-plugins, master of 2026-04-13), which are used in
 * production on those phones; the Snom syntax also from snom's service
 * wiki.  The vendor guides named below are where to look them up; they
 * were not all re-read line by line:
 *
 * - Yealink: "Yealink IP Phones Auto Provisioning Guide" (firmware
 *   V72..V86, `.cfg` format, `#!version:1.0.0.1` header); linekey.N.*,
 *   type 16 = BLF; wazo plugins/wazo_yealink/common/common.py.
 * - Poly (Polycom) UC Software 4.x-6.x: attendant.reg and
 *   attendant.resourceList.N.address/label/type in a polycomConfig XML
 *   file (UC Software Administrator's Guide, busy lamp field); wazo
 *   plugins/wazo_polycom/common/common.py.  Poly has no per-key
 *   pickup code (call.directedCallPickupString is global).
 * - Snom D3xx/D7xx firmware 8.7 and 10.x: the snom service wiki pages
 *   "<functionKeys> tag" and "Function Key Types":
 *   <fkey idx="N" context="active" label="..." perm="">blf URI</fkey>,
 *   idx counted from 0; wazo plugins/wazo_snom/common/common.py.
 * - Grandstream GXP21xx / GXP17xx / GRP26xx: XML provisioning, config
 *   version 2 (named items pks.mpk.N.keyMode/account/description/
 *   value) as in wazo plugins/wazo_grandstream/common/templates/
 *   base_v2.tpl.  The older P-value form (P323..P329 = modes of MPK
 *   1..7, P301/P302/P303 = account/name/value of MPK 1, +3 per key)
 *   stops at 7 keys, so it is not used.
 * - Cisco IP Phone 6800/7800/8800 with Multiplatform firmware (MPP
 *   11.x/12.x, the SPA flat-profile XML format): Extension_N_,
 *   Short_Name_N_ and Extended_Function_N_ = "fnc=blf+sd+cp;sub=...;
 *   ext=...;nme=..." (Cisco IP Phone MPP Administration Guide, line
 *   key extended functions); wazo plugins/wazo_cisco_spa/common/
 *   common.py.  $PROXY is the phone's macro for line 1's proxy.
 * - Fanvil X-series (X3..X7, firmware 2.x, VOIP_CONFIG_FILE version
 *   2.0002 XML): SIP_Line_List_Entry and Function_Key_Entry with Type
 *   1 and Value NUMBER@LINE/ba[PICKUP]; wazo plugins/wazo_fanvil/
 *   common/templates/base.tpl and common.py.  The BLF value names a
 *   number on a SIP line, not a host, so the keys use a second SIP
 *   line (SIP2) whose server is parkblf.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <getopt.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "orbitmap.h"
#include "phonevendor.h"
#include "provision.h"


typedef int (vendor_print_h)(struct re_printf *pf,
			     const struct provision *prov);

struct vendor {
	const char *desc;
	unsigned first_key;   /**< Key 1 is the phone's own line on most */
	unsigned last_key;    /**< Of the family's biggest model          */
	unsigned module_keys; /**< Keys of one expansion module, 0: none  */
	vendor_print_h *printh;
};

enum {
	MODULES_MAX = 3,   /**< Yealink: EXP modules one phone takes    */
	EXP_KEYS    = 60,  /**< Yealink EXP50: 20 keys on 3 pages       */
};


static const char *orbit_label(const struct orbit *o)
{
	return o->label ? o->label : o->name;
}


/* The address as phones use it: [v6]:port or host:port */
static int addr_print(struct re_printf *pf, const struct provision *prov)
{
	if (strchr(prov->host, ':'))
		return re_hprintf(pf, "[%s]:%u", prov->host, prov->port);

	return re_hprintf(pf, "%s:%u", prov->host, prov->port);
}


static int addr_print_h(struct re_printf *pf, void *arg)
{
	return addr_print(pf, arg);
}


/* Text inside <!-- -->: "--" is not allowed there */
static int xml_comment_print(struct re_printf *pf, const char *str)
{
	char prev = 0;
	int err = 0;

	for (; str && *str && !err; str++) {
		if (*str == '-' && prev == '-')
			err = re_hprintf(pf, " ");
		err |= re_hprintf(pf, "%c", *str);
		prev = *str;
	}

	if (prev == '-')
		err |= re_hprintf(pf, " ");

	return err;
}


/* The comment header every output starts with (after a prolog line) */
static int header_print(struct re_printf *pf, const struct provision *prov,
			const char *open, const char *cont, const char *close,
			const char *what, const char *assumes)
{
	const char *lines[3];
	struct le *le;
	size_t i;
	int err;

	lines[0] = what;
	lines[1] = assumes;
	lines[2] = "Generated by `parkblf provision`; regenerate it when "
		"the orbit map changes.";

	err = re_hprintf(pf, "%s parkblf: BLF keys for %u park orbits of ",
			 open, orbitmap_count(prov->map));
	err |= re_hprintf(pf, "%H", xml_comment_print, prov->map->file);
	err |= re_hprintf(pf, "\n%s (config ", cont);
	err |= re_hprintf(pf, "%H", xml_comment_print, prov->source);
	err |= re_hprintf(pf, "), parkblf at %H.\n", addr_print_h, prov);

	for (i = 0; i < ARRAY_SIZE(lines); i++)
		err |= re_hprintf(pf, "%s %H\n", cont, xml_comment_print,
				  lines[i]);

	/* the orbits a discover line makes are not known in advance */
	for (le = list_head(&prov->map->rules); le; le = le->next) {
		const struct orbitdisc *d = le->data;

		err |= re_hprintf(pf, "%s No keys for discover %H -> %H "
				  "(line %u): those orbits exist once the "
				  "PBX reports a DN.\n", cont,
				  xml_comment_print, d->pattern,
				  xml_comment_print, d->tmpl->name,
				  d->tmpl->line);
	}

	if (close)
		err |= re_hprintf(pf, "%s\n", close);

	return err;
}


/*
 * Yealink: key = value lines; a value runs to the end of the line and
 * has no escapes (labels cannot hold line breaks: the map refuses
 * control characters).
 */
static int yealink_print(struct re_printf *pf, const struct provision *prov)
{
	unsigned k = prov->first;
	struct le *le;
	int err;

	err = re_hprintf(pf, "#!version:1.0.0.1\n");
	err |= header_print(pf, prov, "##", "##", NULL,
			    "Yealink T4x/T5x: add to the common or "
			    "MAC.cfg file (linekey.N.type 16 = BLF).",
			    "Assumes account 1 is the PBX account; each key "
			    "subscribes to parkblf directly, a press dials "
			    "it and parkblf redirects to the retrieve "
			    "code; pickup_value is dialled for a flashing "
			    "key.");

	for (le = prov->map->orbits.head; le && !err; le = le->next, ++k) {
		const struct orbit *o = le->data;
		const unsigned x = k - prov->last - 1;   /* on modules */
		char key[32];

		if (k <= prov->last)
			(void)re_snprintf(key, sizeof(key), "linekey.%u", k);
		else if (x < prov->modules * EXP_KEYS)
			(void)re_snprintf(key, sizeof(key),
					  "expansion_module.%u.key.%u",
					  x / EXP_KEYS + 1, x % EXP_KEYS + 1);
		else
			break;

		err = re_hprintf(pf, "\n%s.type = 16\n"
				 "%s.line = 1\n"
				 "%s.value = %s@%H\n"
				 "%s.label = %s\n",
				 key, key, key, o->name, addr_print_h, prov,
				 key, orbit_label(o));
		if (o->retrieve)
			err |= re_hprintf(pf, "%s.pickup_value = %s\n", key,
					  o->retrieve);
	}

	return err;
}


static int polycom_print(struct re_printf *pf, const struct provision *prov)
{
	unsigned k = prov->first;
	struct le *le;
	int err;

	err = re_hprintf(pf, "<?xml version=\"1.0\" encoding=\"UTF-8\" "
			 "standalone=\"yes\"?>\n");
	err |= header_print(pf, prov, "<!--", "    ", "-->",
			    "Poly (Polycom) VVX / UC Software: a "
			    "polycomConfig file to add to CONFIG_FILES.",
			    "Assumes line 1 is the PBX account; each "
			    "resource subscribes to parkblf directly, a "
			    "press calls it and parkblf redirects to the "
			    "retrieve code.");
	err |= re_hprintf(pf, "<polycomConfig>\n  <attendant\n"
			  "    attendant.reg=\"1\"\n");

	for (le = prov->map->orbits.head; le && !err && k <= prov->last;
	     le = le->next, ++k) {
		const struct orbit *o = le->data;

		err = re_hprintf(pf, "    attendant.resourceList.%u.address="
				 "\"sip:%H@%H\"\n", k, xml_escape_print,
				 o->name, addr_print_h, prov);
		err |= re_hprintf(pf, "    attendant.resourceList.%u.label="
				  "\"%H\"\n", k, xml_escape_print,
				  orbit_label(o));
		err |= re_hprintf(pf, "    attendant.resourceList.%u.type="
				  "\"normal\"\n", k);
	}

	err |= re_hprintf(pf, "  />\n</polycomConfig>\n");

	return err;
}


/*
 * Snom: the text after "|" in a blf key is a pickup *prefix* the phone
 * puts before the monitored number, which cannot express a retrieve
 * code such as *10: a press dials the key's URI instead, and parkblf
 * redirects it to the retrieve code.
 */
static int snom_print(struct re_printf *pf, const struct provision *prov)
{
	unsigned k = prov->first;
	struct le *le;
	int err;

	err = re_hprintf(pf, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
	err |= header_print(pf, prov, "<!--", "    ", "-->",
			    "Snom D3xx/D7xx: XML settings (fkey idx counts "
			    "from 0).",
			    "Assumes identity 1 is the PBX account; each key "
			    "subscribes to parkblf directly, a press dials "
			    "it and parkblf redirects to the retrieve code.");
	err |= re_hprintf(pf, "<settings>\n  <functionKeys>\n");

	for (le = prov->map->orbits.head; le && !err && k <= prov->last;
	     le = le->next, ++k) {
		const struct orbit *o = le->data;

		err = re_hprintf(pf, "    <fkey idx=\"%u\" context=\"active\" "
				 "label=\"%H\" perm=\"\">", k - 1,
				 xml_escape_print, orbit_label(o));
		err |= re_hprintf(pf, "blf sip:%H@%H</fkey>\n",
				  xml_escape_print, o->name, addr_print_h,
				  prov);
	}

	err |= re_hprintf(pf, "  </functionKeys>\n</settings>\n");

	return err;
}


static int grandstream_print(struct re_printf *pf,
			     const struct provision *prov)
{
	unsigned k = prov->first;
	struct le *le;
	int err;

	err = re_hprintf(pf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	err |= header_print(pf, prov, "<!--", "    ", "-->",
			    "Grandstream GXP21xx/GXP17xx/GRP26xx: XML "
			    "provisioning, config version 2, multi-purpose "
			    "keys (pks.mpk.N).",
			    "Assumes Account1 is the PBX account; each key "
			    "subscribes to parkblf directly, a press dials "
			    "it and parkblf redirects to the retrieve "
			    "code (Grandstream has no per-key pickup code).");
	err |= re_hprintf(pf, "<gs_provision version=\"1\">\n"
			  "  <config version=\"2\">\n");

	for (le = prov->map->orbits.head; le && !err && k <= prov->last;
	     le = le->next, ++k) {
		const struct orbit *o = le->data;

		err = re_hprintf(pf, "    <item name=\"pks.mpk.%u.keyMode\">"
				 "BLF</item>\n"
				 "    <item name=\"pks.mpk.%u.account\">"
				 "Account1</item>\n", k, k);
		err |= re_hprintf(pf, "    <item name=\"pks.mpk.%u."
				  "description\">%H</item>\n", k,
				  xml_escape_print, orbit_label(o));
		err |= re_hprintf(pf, "    <item name=\"pks.mpk.%u.value\">"
				  "%H@%H</item>\n", k, xml_escape_print,
				  o->name, addr_print_h, prov);
	}

	err |= re_hprintf(pf, "  </config>\n</gs_provision>\n");

	return err;
}


/* A value inside Extended_Function: ';' separates its fields */
static int fnc_value_print(struct re_printf *pf, const char *str)
{
	char *dup;
	char *p;
	int err;

	err = str_dup(&dup, str);
	if (err)
		return err;

	for (p = dup; *p; p++) {
		if (*p == ';')
			*p = ',';
	}

	err = xml_escape_print(pf, dup);
	mem_deref(dup);

	return err;
}


static int cisco_print(struct re_printf *pf, const struct provision *prov)
{
	unsigned k = prov->first;
	struct le *le;
	int err;

	err = re_hprintf(pf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	err |= header_print(pf, prov, "<!--", "    ", "-->",
			    "Cisco IP Phone 6800/7800/8800 Multiplatform "
			    "(MPP): flat-profile XML, line keys N.",
			    "Assumes line 1 is the PBX account ($PROXY); "
			    "each key subscribes to parkblf directly, a "
			    "press dials the retrieve code at the PBX.");
	err |= re_hprintf(pf, "<flat-profile>\n");

	for (le = prov->map->orbits.head; le && !err && k <= prov->last;
	     le = le->next, ++k) {
		const struct orbit *o = le->data;

		err = re_hprintf(pf, "  <Extension_%u_>Disabled"
				 "</Extension_%u_>\n", k, k);
		err |= re_hprintf(pf, "  <Short_Name_%u_>%H</Short_Name_%u_>"
				  "\n", k, xml_escape_print, orbit_label(o),
				  k);
		err |= re_hprintf(pf, "  <Extended_Function_%u_>"
				  "fnc=blf+sd+cp;sub=%H@%H", k,
				  fnc_value_print, o->name, addr_print_h,
				  prov);
		if (o->retrieve)
			err |= re_hprintf(pf, ";ext=%H@$PROXY",
					  fnc_value_print, o->retrieve);
		err |= re_hprintf(pf, ";nme=%H</Extended_Function_%u_>\n",
				  fnc_value_print, orbit_label(o), k);
	}

	err |= re_hprintf(pf, "</flat-profile>\n");

	return err;
}


static int fanvil_print(struct re_printf *pf, const struct provision *prov)
{
	unsigned k = prov->first;
	struct le *le;
	int err;

	err = re_hprintf(pf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	err |= header_print(pf, prov, "<!--", "    ", "-->",
			    "Fanvil X-series: VOIP_CONFIG_FILE 2.0002 XML, "
			    "DSS keys FkeyN (Type 1, Value NAME@LINE/ba"
			    "RETRIEVE).",
			    "Assumes SIP line 2 is free: it becomes the "
			    "account the keys subscribe through, registered "
			    "at parkblf; a press calls parkblf on it, which "
			    "redirects the call (302) to the retrieve code "
			    "at the PBX.");
	err |= re_hprintf(pf, "<VOIP_CONFIG_FILE>\n<version>2.0002</version>\n"
			  "<SIP_CONFIG_MODULE>\n<SIP_Line_List>\n"
			  "<!-- The phone places the redirected call to the "
			  "PBX on line 2:\n"
			  "     give it the phone's own extension and "
			  "password (as on line 1),\n"
			  "     or the PBX refuses that call. No outbound "
			  "proxy: REGISTER and\n"
			  "     SUBSCRIBE must reach parkblf. -->\n"
			  "<SIP_Line_List_Entry>\n<ID>SIP2</ID>\n"
			  "<Phone_Number>%H</Phone_Number>\n"
			  "<Display_Name>parkblf</Display_Name>\n"
			  "<Register_User>%H</Register_User>\n"
			  "<Register_Pswd></Register_Pswd>\n",
			  xml_escape_print, prov->user ? prov->user : "",
			  xml_escape_print, prov->user ? prov->user : "");
	err |= re_hprintf(pf, "<Register_Addr>%H</Register_Addr>\n"
			  "<Register_Port>%u</Register_Port>\n"
			  "<Proxy_Addr></Proxy_Addr>\n"
			  "<Enable_Reg>1</Enable_Reg>\n"
			  "</SIP_Line_List_Entry>\n</SIP_Line_List>\n"
			  "</SIP_CONFIG_MODULE>\n"
			  "<PHONE_CONFIG_MODULE>\n<Function_Key>\n",
			  xml_escape_print, prov->host, prov->port);

	for (le = prov->map->orbits.head; le && !err && k <= prov->last;
	     le = le->next, ++k) {
		const struct orbit *o = le->data;

		err = re_hprintf(pf, "<!-- %H: sip:%H@%H -->\n",
				 xml_comment_print, orbit_label(o),
				 xml_comment_print, o->name, addr_print_h,
				 prov);
		err |= re_hprintf(pf, "<Function_Key_Entry>\n<ID>Fkey%u</ID>\n"
				  "<Type>1</Type>\n<Value>%H@2/ba%H</Value>\n",
				  k, xml_escape_print, o->name,
				  xml_escape_print, o->retrieve);
		err |= re_hprintf(pf, "<Title>%H</Title>\n"
				  "</Function_Key_Entry>\n",
				  xml_escape_print, orbit_label(o));
	}

	err |= re_hprintf(pf, "</Function_Key>\n</PHONE_CONFIG_MODULE>\n"
			  "</VOIP_CONFIG_FILE>\n");

	return err;
}


/*
 * The last key of each family's biggest model (-n for a smaller one):
 * Yealink T48/T57W 29 line keys (+ EXP50 modules, -x); Poly VVX 50
 * attendant resources; Snom D385 48 function keys (12 on 4 pages);
 * Grandstream GXP2170 48 multi-purpose keys; Cisco 7861 16 line keys;
 * Fanvil X7 60 DSS keys.  Orbits beyond them are left out, with a
 * warning.
 */
static const struct vendor vendors[PHONEVENDOR_N] = {
	[PHONEVENDOR_YEALINK]     = {"Yealink T4x/T5x (.cfg)", 2, 29,
				     EXP_KEYS, yealink_print},
	[PHONEVENDOR_POLYCOM]     = {"Poly/Polycom VVX (XML)", 1, 50, 0,
				     polycom_print},
	[PHONEVENDOR_SNOM]        = {"Snom D3xx/D7xx (XML)", 2, 48, 0,
				     snom_print},
	[PHONEVENDOR_GRANDSTREAM] = {"Grandstream GXP/GRP (XML)", 1, 48, 0,
				     grandstream_print},
	[PHONEVENDOR_CISCO]       = {"Cisco 6800/7800/8800 MPP (XML)", 2, 16,
				     0, cisco_print},
	[PHONEVENDOR_FANVIL]      = {"Fanvil X-series (XML)", 2, 60, 0,
				     fanvil_print},
};


static const struct vendor *vendor_find(const char *name)
{
	enum phonevendor v;
	struct pl pl;

	if (!name)
		return NULL;

	pl_set_str(&pl, name);
	if (phonevendor_find(&v, &pl))
		return NULL;

	return &vendors[v];
}


/**
 * Tell whether a vendor name (or alias) is known
 *
 * @param vendor Vendor name, case-insensitive
 *
 * @return true if provision_print can print for it
 */
bool provision_vendor_known(const char *vendor)
{
	return vendor_find(vendor) != NULL;
}


static bool host_valid(const char *host, size_t len)
{
	size_t i;

	if (!len)
		return false;

	for (i = 0; i < len; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == ':'))
			return false;
	}

	return true;
}


/**
 * Decode ADDRESS[:PORT] (IPv6 as [ADDRESS]:PORT, or bare without port)
 * into prov->host and prov->port
 *
 * @param prov  Provisioning request to fill in
 * @param arg   Address as given, a host name or an IP address
 * @param dport Port when arg has none
 *
 * @return 0 if success, EINVAL if malformed
 */
int provision_addr_decode(struct provision *prov, const char *arg,
			  uint16_t dport)
{
	const char *host = arg, *port = NULL, *p;
	size_t hlen;
	uint32_t u = dport;

	if (!prov || !arg)
		return EINVAL;

	if (arg[0] == '[') {
		p = strchr(arg, ']');
		if (!p)
			return EINVAL;
		host = arg + 1;
		hlen = (size_t)(p - host);
		if (p[1] == ':')
			port = p + 2;
		else if (p[1] != '\0')
			return EINVAL;
	}
	else {
		p = strchr(arg, ':');
		if (p && !strchr(p + 1, ':')) {
			hlen = (size_t)(p - arg);
			port = p + 1;
		}
		else {
			hlen = strlen(arg);
		}
	}

	if (!host_valid(host, hlen) || hlen >= sizeof(prov->host))
		return EINVAL;

	if (port) {
		struct pl pl;

		pl_set_str(&pl, port);
		if (!pl.l || pl.l > 5 || strspn(port, "0123456789") != pl.l)
			return EINVAL;
		u = pl_u32(&pl);
	}

	if (u == 0 || u > 65535)
		return EINVAL;

	memcpy(prov->host, host, hlen);
	prov->host[hlen] = '\0';
	prov->port = (uint16_t)u;

	return 0;
}


/**
 * Print the BLF key configuration of the orbit map for one vendor
 *
 * @param pf   Print function
 * @param prov What to print (vendor, map, address)
 *
 * @return 0 if success, ENOENT for an unknown vendor, otherwise
 *         errorcode
 */
int provision_print(struct re_printf *pf, const struct provision *prov)
{
	const struct vendor *v;
	struct provision_fit fit;
	struct provision p;
	int err;

	if (!pf || !prov || !prov->map || !prov->source)
		return EINVAL;

	v = vendor_find(prov->vendor);
	if (!v)
		return ENOENT;

	err = provision_fit(prov, &fit);
	if (err)
		return err;

	p = *prov;
	p.first = fit.first;
	p.last = fit.last;
	p.modules = v->module_keys ? prov->modules : 0;

	return v->printh(pf, &p);
}


/**
 * Count the orbits that get a key
 *
 * @param prov What to print (vendor, map, keys)
 * @param fit  Where to store the keys in force and what fits on them
 *
 * @return 0 if success, ENOENT for an unknown vendor
 */
int provision_fit(const struct provision *prov, struct provision_fit *fit)
{
	const struct vendor *v;
	unsigned n, room;

	if (!prov || !fit)
		return EINVAL;

	v = vendor_find(prov->vendor);
	if (!v)
		return ENOENT;

	n = orbitmap_count(prov->map);
	fit->first = prov->first_key ? prov->first_key : v->first_key;
	fit->last = prov->last_key ? prov->last_key : v->last_key;
	room = fit->last >= fit->first ? fit->last - fit->first + 1 : 0;

	fit->keys = MIN(n, room);
	fit->mods = v->module_keys ?
		MIN(n - fit->keys, prov->modules * v->module_keys) : 0;

	return 0;
}


static int provision_print_h(struct re_printf *pf, void *arg)
{
	return provision_print(pf, arg);
}


static void usage(void)
{
	(void)re_fprintf(stderr,
			 "usage: parkblf provision VENDOR -f FILE "
			 "[-a ADDRESS[:PORT]] [-k FIRST] [-n LAST] "
			 "[-x MODS] [-u EXT] [--tenant NAME]\n"
			 "  VENDOR   %H\n"
			 "  -f FILE  configuration file (its orbit map is "
			 "used)\n"
			 "  -a ADDR  address phones reach parkblf at "
			 "(default: the first sip_listen)\n"
			 "  -k FIRST number of the first key (default: 2 "
			 "where key 1 is the phone's line, else 1)\n"
			 "  -n LAST  number of the phone's last key "
			 "(default: the family's biggest model)\n"
			 "  -x MODS  Yealink expansion modules (0..%u, %u "
			 "keys each) for orbits beyond LAST\n"
			 "  -u EXT   Fanvil: the phone's extension, for the "
			 "line the keys use\n"
			 "  -T NAME, --tenant NAME  the keys of tenant NAME "
			 "(tenants_dir/NAME.conf)\n",
			 phonevendors_print, NULL, MODULES_MAX, EXP_KEYS);
}


/* Where phones reach parkblf, from -a or the first sip_listen */
static int provision_addr(struct provision *prov, const struct config *cfg,
			  const char *arg)
{
	const struct sa *sa = cfg->listenc ? &cfg->listenv[0] : NULL;
	uint16_t dport = sa && sa_port(sa) ? sa_port(sa) : 5060;

	if (arg) {
		if (provision_addr_decode(prov, arg, dport)) {
			(void)re_fprintf(stderr, "parkblf: -a '%s' is not "
					 "ADDRESS[:PORT]\n", arg);
			return EINVAL;
		}
		return 0;
	}

	if (!sa || sa_is_any(sa) || !sa_port(sa)) {
		(void)re_fprintf(stderr, "parkblf: %s: sip_listen %J is not "
				 "an address phones can use; give it with "
				 "-a ADDRESS[:PORT]\n", cfg->file, sa);
		return EINVAL;
	}

	prov->port = sa_port(sa);

	return sa_ntop(sa, prov->host, sizeof(prov->host));
}


/* A tenant's address when -a gives none: its tenant_listen, else its
   domain with the port of the first sip_listen */
static int tenant_addr(struct provision *prov, const struct config *base,
		       const struct config *tcfg, const char *name)
{
	const struct sa *sa = base->listenc ? &base->listenv[0] : NULL;
	struct pl dom;
	struct uri uri;
	const char *comma;

	if (sa_isset(&tcfg->tenant_listen, SA_ALL)) {
		prov->port = sa_port(&tcfg->tenant_listen);
		return sa_ntop(&tcfg->tenant_listen, prov->host,
			       sizeof(prov->host));
	}

	if (tcfg->tenant_domain) {
		pl_set_str(&dom, tcfg->tenant_domain);
		comma = pl_strchr(&dom, ',');
		if (comma)
			dom.l = (size_t)(comma - dom.p);
	}
	else {
		pl_set_str(&dom, tcfg->upstream_uri);
		if (uri_decode(&uri, &dom))
			return EINVAL;
		dom = uri.host;
	}

	if (!sa || !sa_port(sa) || !dom.l || dom.l >= sizeof(prov->host)) {
		(void)re_fprintf(stderr, "parkblf: tenant '%s': no port to "
				 "reach its domain %r at (sip_listen %J); "
				 "give it with -a ADDRESS[:PORT]\n", name,
				 &dom, sa);
		return EINVAL;
	}

	(void)pl_strcpy(&dom, prov->host, sizeof(prov->host));
	prov->port = sa_port(sa);
	(void)re_fprintf(stderr, "parkblf: note: tenant '%s' is chosen by "
			 "its domain: the keys name %s, which must lead "
			 "phones to parkblf (DNS, or an outbound proxy); -a "
			 "gives another address\n", name, prov->host);

	return 0;
}


/* tenants_dir/NAME.conf, checked as the daemon checks it */
static int tenant_load(struct config **tcfgp, const struct config *base,
		       const char *name)
{
	struct mbuf *mb = NULL;
	char *path = NULL;
	size_t i;
	int err;

	if (!base->tenants_dir) {
		(void)re_fprintf(stderr, "parkblf: %s has no tenants_dir: no "
				 "tenant '%s'\n", base->file, name);
		return ENOENT;
	}

	for (i = 0; name[i]; i++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
			    "WXYZ0123456789._-", name[i]))
			break;
	}
	if (!i || name[i] || name[0] == '.' || name[0] == '-') {
		(void)re_fprintf(stderr, "parkblf: '%s' is not a tenant's "
				 "name (letters, digits, '.', '_', '-')\n",
				 name);
		return EINVAL;
	}

	err = re_sdprintf(&path, "%s/%s.conf", base->tenants_dir, name);
	if (err)
		return err;

	if (access(path, F_OK)) {
		(void)re_fprintf(stderr, "parkblf: no tenant '%s': %s does "
				 "not exist\n", name, path);
		err = ENOENT;
		goto out;
	}

	err = file_read(&mb, path, 1024 * 1024);
	if (err) {
		(void)re_fprintf(stderr, "parkblf: %s: cannot read: %m\n",
				 path, err);
		goto out;
	}

	err = config_parse_tenant(tcfgp, base, path, mb->buf, mb->end, NULL);

 out:
	mem_deref(mb);
	mem_deref(path);

	return err;
}


/* Orbits that got no key, or keys on modules: said on stderr */
static void fit_warn(const struct provision *prov)
{
	const unsigned n = orbitmap_count(prov->map);
	struct provision_fit fit;

	if (provision_fit(prov, &fit))
		return;

	if (fit.mods)
		(void)re_fprintf(stderr, "parkblf: warning: %u of %u "
				 "orbits are on expansion modules (after key "
				 "%u)\n", fit.mods, n, fit.last);

	if (fit.keys + fit.mods < n)
		(void)re_fprintf(stderr, "parkblf: warning: %u of %u orbits "
				 "got no key: %s keys %u..%u%s are full (-n "
				 "sets the model's last key%s); a BLF list "
				 "(blf_list) or /parks.xml shows every "
				 "orbit\n",
				 n - fit.keys - fit.mods, n, prov->vendor,
				 fit.first, fit.last,
				 fit.mods ? " and the modules" : "",
				 strcasecmp(prov->vendor, "yealink") ? "" :
				 ", -x adds expansion modules");
}


/**
 * The `parkblf provision` subcommand
 *
 * @param argc Argument count, argv[0] is "provision"
 * @param argv Arguments
 *
 * @return Exit status: 0 if printed, 1 if the configuration or the
 *         orbit map is bad, 2 on a usage error
 */
int provision_main(int argc, char *argv[])
{
	struct provision prov;
	static const struct option longopts[] = {
		{"tenant", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0}
	};
	struct config *cfg = NULL, *tcfg = NULL;
	const struct config *pbx;
	struct orbitmap *map = NULL;
	struct mbuf *mb = NULL;
	const char *file = NULL, *addr = NULL, *tenant = NULL;
	int c, err, ret = 1;

	memset(&prov, 0, sizeof(prov));

	/* VENDOR first, as documented; the rest may come in any order */
	if (argc > 1 && argv[1][0] != '-') {
		prov.vendor = argv[1];
		--argc;
		++argv;
	}

	while ((c = getopt_long(argc, argv, "f:a:k:n:x:u:T:h", longopts,
				NULL)) != -1) {
		switch (c) {

		case 'T':
			tenant = optarg;
			break;

		case 'f':
			file = optarg;
			break;

		case 'a':
			addr = optarg;
			break;

		case 'k':
			prov.first_key = (unsigned)atoi(optarg);
			if (prov.first_key < 1 || prov.first_key > 999) {
				usage();
				return 2;
			}
			break;

		case 'u':
			prov.user = optarg;
			break;

		case 'n':
			prov.last_key = (unsigned)atoi(optarg);
			if (prov.last_key < 1 || prov.last_key > 999) {
				usage();
				return 2;
			}
			break;

		case 'x':
			prov.modules = (unsigned)atoi(optarg);
			if (prov.modules > MODULES_MAX ||
			    strspn(optarg, "0123456789") != strlen(optarg)) {
				usage();
				return 2;
			}
			break;

		case 'h':
			usage();
			return 0;

		default:
			usage();
			return 2;
		}
	}

	if (!prov.vendor && optind < argc)
		prov.vendor = argv[optind++];

	if (!prov.vendor || !file || optind != argc) {
		usage();
		return 2;
	}

	if (!provision_vendor_known(prov.vendor)) {
		(void)re_fprintf(stderr, "parkblf: unknown vendor '%s'; "
				 "vendors: %H\n", prov.vendor,
				 phonevendors_print, NULL);
		return 2;
	}

	err = libre_init();
	if (err) {
		(void)re_fprintf(stderr, "parkblf: libre_init: %m\n", err);
		return 1;
	}

	/* the loaders print each problem as FILE:LINE: message */
	err = config_load(&cfg, file, NULL);
	if (err)
		goto out;

	/* "default" is parkblf.conf's own PBX, as on the HTTP pages */
	if (tenant && strcmp(tenant, "default")) {
		err = tenant_load(&tcfg, cfg, tenant);
		if (err)
			goto out;
	}
	pbx = tcfg ? tcfg : cfg;

	if (!pbx->orbit_map) {
		(void)re_fprintf(stderr, "parkblf: %s names no orbit_map of "
				 "its own (tenants_dir only): give the "
				 "tenant with --tenant NAME\n", cfg->file);
		err = EINVAL;
		goto out;
	}

	err = orbitmap_load(&map, pbx->orbit_map, NULL);
	if (err)
		goto out;

	if (tcfg && !addr)
		err = tenant_addr(&prov, cfg, tcfg, tenant);
	else
		err = provision_addr(&prov, cfg, addr);
	if (err) {
		ret = 2;
		goto out;
	}

	prov.map = map;
	prov.source = pbx->file;

	/* into memory first: stdout's print handler fails on 0 bytes */
	mb = mbuf_alloc(8192);
	if (!mb) {
		err = ENOMEM;
		goto out;
	}

	err = mbuf_printf(mb, "%H", provision_print_h, &prov);
	if (err)
		goto out;

	if (fwrite(mb->buf, 1, mb->end, stdout) != mb->end ||
	    fflush(stdout)) {
		(void)re_fprintf(stderr, "parkblf: cannot write: %m\n", EIO);
		goto out;
	}

	fit_warn(&prov);
	if (!strcasecmp(prov.vendor, "fanvil"))
		(void)re_fprintf(stderr, "parkblf: note: fill in line 2's "
				 "%spassword: the extension's, as on line "
				 "1\n", prov.user ? "" : "user (-u) and ");

	ret = 0;

 out:
	if (err && ret == 1 && mb)
		(void)re_fprintf(stderr, "parkblf: provision: %m\n", err);
	mem_deref(mb);
	mem_deref(map);
	mem_deref(tcfg);
	mem_deref(cfg);
	libre_close();

	return ret;
}
