/**
 * @file fuzz_config.c  libFuzzer target: config and orbit map text
 *
 * Every input is parsed as a main config (config_parse), as a tenant
 * file on top of the fuzz config (config_parse_tenant: tenants_dir's
 * NAME.conf) and as an orbit map (orbitmap_parse, ranges and discover
 * rules included), with the problems collected in an mbuf.
 * A config that parses is made current and the vendorxml decoder is
 * re-initialised from it and run on a small body, so that the
 * vendor_xml_* values (Content-Type, namespaces, XPath) are exercised;
 * an orbit map that parses is looked up by every name and DN.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "fuzz.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct mod_export DECL_EXPORTS(vendorxml_decoder);

static const char vendor_body[] =
	"<dnstate xmlns='urn:x-3cx:dnstate'><dn type='park' number='*00'>"
	"<call id='a1' state='parked'><caller number='101' name='A'/>"
	"</call></dn></dnstate>";


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	fuzz_init();

	return 0;
}


static void vendor_check(const struct config *cfg)
{
	const struct mod_export *me = &DECL_EXPORTS(vendorxml_decoder);
	const char *ctype = cfg->vendor_xml_ctype;
	struct dn_update *upd = NULL;
	struct msg_ctype ct;
	struct pl pl;

	config_set_current(cfg);
	(void)me->close();
	if (me->init() || !ctype)
		goto out;

	pl_set_str(&pl, ctype);
	if (msg_ctype_decode(&ct, &pl) || dn_update_alloc(&upd))
		goto out;

	(void)decoder_decode(upd, &ct, (const uint8_t *)vendor_body,
			     strlen(vendor_body));

 out:
	mem_deref(upd);

	/* back to the config of fuzz_init() */
	config_set_current(fuzz_cfg);
	(void)me->close();
	if (me->init())
		abort();
}


static void map_check(const struct orbitmap *map)
{
	struct le *le;
	uint32_t n = 0;

	for (le = list_head(&map->orbits); le; le = le->next) {
		const struct orbit *o = le->data;
		struct pl name;

		pl_set_str(&name, o->name);
		if (orbitmap_find(map, &name) == NULL ||
		    !orbitmap_has_dn(map, o->dn))
			abort();
		++n;
	}

	if (n != orbitmap_count(map))
		abort();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct orbitmap *map = NULL;
	struct config *cfg = NULL, *tcfg;
	struct mbuf *errmb = mbuf_alloc(256);

	if (!errmb)
		abort();

	if (!config_parse(&cfg, "/etc/parkblf/parkblf.conf", data, size,
			  errmb))
		vendor_check(cfg);

	errmb->pos = 0;
	errmb->end = 0;
	tcfg = NULL;
	if (!config_parse_tenant(&tcfg, fuzz_cfg,
				 "/etc/parkblf/tenants.d/a.conf", data, size,
				 errmb) && !tcfg->tenant)
		abort();
	mem_deref(tcfg);

	errmb->pos = 0;
	errmb->end = 0;
	if (!orbitmap_parse(&map, "/etc/parkblf/orbits.conf", data, size,
			    errmb))
		map_check(map);

	mem_deref(map);
	mem_deref(cfg);
	mem_deref(errmb);

	return 0;
}
