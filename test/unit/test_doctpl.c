/**
 * @file test_doctpl.c  One rendering of an orbit change, spliced per
 *                      watcher: byte for byte what the encoder gives
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "doctpl.h"
#include "unit.h"


#define N_OF(a) (sizeof(a) / sizeof((a)[0]))


/* What a renderer renders from */
struct src {
	const struct encoder *enc;
	struct orbit_view view;
	unsigned calls;            /**< Times the renderer ran          */
};


static int view_render(struct mbuf *mb, const char *entity, uint32_t version,
		       void *arg)
{
	struct src *s = arg;
	struct orbit_view v = s->view;

	++s->calls;
	v.entity = entity;
	v.version = version;

	return s->enc->encodeh(mb, &v);
}


static void src_init(struct src *s, const char *event)
{
	struct pl ev;

	memset(s, 0, sizeof(*s));
	pl_set_str(&ev, event);
	s->enc = encoder_find(&ev);
	assert_non_null(s->enc);
	assert_true(s->enc->splice);
	unit_view_init(&s->view);
}


/* The encoder's own document for an entity and version */
static struct mbuf *direct(struct src *s, const char *entity,
			   uint32_t version)
{
	struct mbuf *mb = mbuf_alloc(1024);

	assert_non_null(mb);
	assert_int_equal(0, view_render(mb, entity, version, s));

	return mb;
}


static void expect_same(struct src *s, const struct doctpl *t,
			const char *entity, uint32_t version)
{
	struct mbuf *want = direct(s, entity, version);
	struct mbuf *got = mbuf_alloc(16);

	assert_non_null(got);
	assert_int_equal(0, doctpl_print(got, t, entity, version));
	assert_int_equal(want->end, got->end);
	assert_memory_equal(want->buf, got->buf, want->end);
	mem_deref(want);
	mem_deref(got);
}


/* Both encoders, idle and with calls: every entity and version gives
   what the encoder gives, escaping included */
static void test_splice_encoders(void **state)
{
	static const char *events[] = {"dialog", "presence"};
	static const char *entities[] = {
		"sip:park-1@parkblf.example.com;user=phone",
		"sip:park-1@192.0.2.1:5060",
		"sip:a&b<c>\"'@x",          /* escaped where it appears */
		"sip:caf\xc3\xa9@x",        /* UTF-8 */
		"sip:bad\xff@x",            /* invalid UTF-8: U+FFFD */
		"",
	};
	static const uint32_t versions[] = {0, 1, 9, 10, 99999, 4294967295u};
	size_t e, i, j, k;
	(void)state;

	for (e = 0; e < N_OF(events); e++) {
		for (k = 0; k < 3; k++) {
			struct doctpl *t = NULL;
			struct src s;

			src_init(&s, events[e]);
			if (k >= 1) {
				s.view.callv = unit_two_calls;
				s.view.callc = 2;
			}
			s.view.all_calls = k == 2;
			assert_int_equal(0, doctpl_build(&t, view_render, &s));
			assert_true(doctpl_spliced(t));
			assert_int_equal(2, s.calls);

			for (i = 0; i < N_OF(entities); i++)
				for (j = 0; j < N_OF(versions); j++)
					expect_same(&s, t, entities[i],
						    versions[j]);
			mem_deref(t);
		}
	}
}


/* A caller's number equal to the marker version: the template would
   splice it too, so it is refused (render per watcher) */
static void test_marker_in_content(void **state)
{
	static const struct orbit_call call[] = {
		{"c-1", "3735928559", "Marker", 5},
	};
	struct doctpl *t = NULL;
	struct src s;
	(void)state;

	src_init(&s, "dialog");
	s.view.callv = call;
	s.view.callc = 1;
	assert_int_equal(ENOTSUP, doctpl_build(&t, view_render, &s));
	assert_null(t);
}


/* A renderer that derives something from the entity cannot be spliced */
static int derived_render(struct mbuf *mb, const char *entity,
			  uint32_t version, void *arg)
{
	(void)arg;

	return mbuf_printf(mb, "<d e=\"%s\" n=\"%zu\" v=\"%u\"/>", entity,
			   strlen(entity), version);
}


static void test_derived_refused(void **state)
{
	struct doctpl *t = NULL;
	(void)state;

	assert_int_equal(ENOTSUP, doctpl_build(&t, derived_render, NULL));
	assert_null(t);
}


/* One watcher's document: the same bytes whatever is asked of it */
static void test_literal(void **state)
{
	struct doctpl *t = NULL;
	struct mbuf *want, *got;
	struct src s;
	(void)state;

	src_init(&s, "dialog");
	assert_int_equal(0, doctpl_literal(&t, view_render, &s, "sip:w@x",
					   42));
	assert_false(doctpl_spliced(t));
	want = direct(&s, "sip:w@x", 42);
	got = mbuf_alloc(16);
	assert_non_null(got);
	assert_int_equal(0, doctpl_print(got, t, "sip:other@y", 7));
	assert_int_equal(want->end, got->end);
	assert_memory_equal(want->buf, got->buf, want->end);
	assert_int_equal(want->end, doctpl_len(t, 99, 123456));
	mem_deref(want);
	mem_deref(got);
	mem_deref(t);
}


/* An entity too long to splice is refused, not cut */
static void test_entity_too_long(void **state)
{
	char ent[DOCTPL_ENTITY_MAX * 2], buf[DOCTPL_ENTITY_MAX];
	size_t len = 0;
	(void)state;

	memset(ent, '&', sizeof(ent) - 1);
	ent[sizeof(ent) - 1] = '\0';
	assert_null(doctpl_entity(buf, sizeof(buf), ent, &len));
	assert_string_equal("sip:p@h",
			    doctpl_entity(buf, sizeof(buf), "sip:p@h", &len));
	assert_int_equal(7, len);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_splice_encoders),
	cmocka_unit_test(test_marker_in_content),
	cmocka_unit_test(test_derived_refused),
	cmocka_unit_test(test_literal),
	cmocka_unit_test(test_entity_too_long),
};

const struct unit_group unit_doctpl = UNIT_GROUP(doctpl, tests);
