/**
 * @file main.c  Unit test runner: every group, then a total line
 *
 * Usage: unittest [GROUP]   (run from the source tree root)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <string.h>
#include <re.h>
#include <libxml/parser.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static const struct unit_group *groups[] = {
	&unit_build,
	&unit_ptmr,
	&unit_tfifo,
	&unit_sipsock,
	&unit_strec,
	&unit_upreplay,
	&unit_pacer,
	&unit_subdlg,
	&unit_reach,
	&unit_doctpl,
	&unit_txq,
	&unit_config,
	&unit_capture,
	&unit_tcpswitch,
	&unit_acceptlist,
	&unit_acl,
	&unit_persist,
	&unit_orbitmap,
	&unit_orbitrule,
	&unit_store,
	&unit_alert,
	&unit_history,
	&unit_dialog_decoder,
	&unit_rlmi_decoder,
	&unit_dialog_encoder,
	&unit_presence_encoder,
	&unit_pidf_decoder,
	&unit_vendorxml_decoder,
};


/**
 * Read a file from test/fixtures
 *
 * @param name File name
 *
 * @return Buffer (pos 0), fails the test if missing
 */
struct mbuf *unit_fixture(const char *name)
{
	struct mbuf *mb = NULL;
	char path[256];

	(void)re_snprintf(path, sizeof(path), "test/fixtures/%s", name);
	assert_int_equal(0, file_read(&mb, path, 4 * 1024 * 1024));

	return mb;
}


/**
 * Decode a body as the upstream would
 *
 * @param ctype Content-Type header value
 * @param mb    Body
 * @param errp  Where to store the decoder's result
 *
 * @return The update (also on error, possibly partial)
 */
struct dn_update *unit_decode(const char *ctype, const struct mbuf *mb,
			      int *errp)
{
	struct dn_update *upd = NULL;
	struct msg_ctype ct;
	struct pl pl;

	pl_set_str(&pl, ctype);
	assert_int_equal(0, msg_ctype_decode(&ct, &pl));
	assert_int_equal(0, dn_update_alloc(&upd));
	*errp = decoder_decode(upd, &ct, mb->buf, mb->end);

	return upd;
}


int main(int argc, char *argv[])
{
	size_t i, total = 0;
	int failed = 0;

	(void)libre_init();
	xmlInitParser();
	log_set_level(LOG_LEVEL_ERROR);

	for (i = 0; mod_table[i]; i++) {
		struct mod *m;

		if (mod_add(&m, mod_table[i]))
			return 1;
	}

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		const struct unit_group *g = groups[i];

		if (argc > 1 && strcmp(argv[1], g->name))
			continue;

		failed += _cmocka_run_group_tests(g->name, g->tests, g->count,
						  NULL, NULL);
		total += g->count;
	}

	mod_close();
	xmlCleanupParser();
	libre_close();

	/* cmocka prints through stdio: keep the total line last */
	printf("%zu passed, %d failed\n", total - failed, failed);

	return failed ? 1 : 0;
}
