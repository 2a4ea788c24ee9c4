/**
 * @file unit.h  Shared helpers of the unit tests (cmocka)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_UNIT_H
#define PARKBLF_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/** A group of tests: run it and return the number of failures */
struct unit_group {
	const char *name;
	const struct CMUnitTest *tests;
	size_t count;
};

#define UNIT_GROUP(name, tests) \
	{#name, tests, sizeof(tests) / sizeof((tests)[0])}

extern const struct unit_group unit_acl, unit_persist, unit_ptmr, unit_tfifo,
	unit_sipsock, unit_strec, unit_upreplay, unit_pacer, unit_subdlg;
extern const struct unit_group unit_build, unit_capture;
extern const struct unit_group unit_tcpswitch, unit_acceptlist;
extern const struct unit_group unit_reach, unit_doctpl,
	unit_txq;
extern const struct unit_group unit_alert, unit_history;
extern const struct unit_group unit_config, unit_orbitmap, unit_orbitrule,
	unit_store,
	unit_dialog_decoder, unit_rlmi_decoder, unit_dialog_encoder,
	unit_presence_encoder, unit_pidf_decoder, unit_vendorxml_decoder;

struct mbuf *unit_fixture(const char *name);

/** An encoder's document, parsed back */
struct unit_doc {
	struct _xmlDoc *doc;
	struct _xmlXPathContext *ctx;
	char text[8192];      /**< The document as encoded            */
};

struct orbit_view;
struct unit_doc *unit_encode(const char *event, const char *ctype,
			     const struct orbit_view *view,
			     const char * const *nsv);
void unit_doc_free(struct unit_doc *d);
void unit_expect(struct unit_doc *d, const char *xpath, const char *value);
extern const struct orbit_call unit_two_calls[2];
void unit_view_init(struct orbit_view *v);
struct dn_update *unit_decode(const char *ctype, const struct mbuf *mb,
			      int *errp);

#endif
