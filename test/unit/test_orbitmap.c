/**
 * @file test_orbitmap.c  Orbit map parser and lookups
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static int parse(struct orbitmap **mapp, const char *text,
		 struct mbuf *err)
{
	return orbitmap_parse(mapp, "orbits.conf", (const uint8_t *)text,
			      strlen(text), err);
}


static struct orbit *find(const struct orbitmap *map, const char *name)
{
	struct pl pl;

	pl_set_str(&pl, name);

	return orbitmap_find(map, &pl);
}


static void test_valid_map(void **state)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);
	const struct orbit *o;
	static const char text[] =
		"# receptionist orbits\n"
		"park-1 *00 retrieve=*10 label=\"Orbit 0\"\n"
		"park-2\t*01   # default retrieve and park\n"
		"park-3 *02 park=*02 retrieve=*12 label=\"Say \\\"hi\\\"\"\n"
		"lobby 701 label=Lobby privacy=yes alert_after=90\r\n";
	(void)state;

	assert_int_equal(0, parse(&map, text, err));
	assert_int_equal(0, err->end);
	assert_int_equal(4, orbitmap_count(map));

	o = find(map, "park-1");
	assert_non_null(o);
	assert_string_equal("*00", o->dn);
	assert_string_equal("*10", o->retrieve);
	assert_string_equal("*00", o->park);
	assert_string_equal("Orbit 0", o->label);
	assert_int_equal(2, o->line);

	o = find(map, "park-2");
	assert_string_equal("*11", o->retrieve);   /* 3CX: *0N -> *1N */
	assert_null(o->label);

	o = find(map, "park-3");
	assert_string_equal("Say \"hi\"", o->label);

	o = find(map, "lobby");
	assert_string_equal("701", o->retrieve);   /* no 3CX pattern */
	assert_string_equal("Lobby", o->label);
	assert_int_equal(1, o->privacy);
	assert_int_equal(-1, find(map, "park-1")->privacy);
	assert_int_equal(90, o->alert_after);
	assert_int_equal(-1, find(map, "park-1")->alert_after);

	assert_null(find(map, "park-9"));
	assert_true(orbitmap_has_dn(map, "*01"));
	assert_false(orbitmap_has_dn(map, "*05"));

	mem_deref(map);
	mem_deref(err);
}


static void count_h(struct orbit *orbit, void *arg)
{
	unsigned *n = arg;
	(void)orbit;

	++*n;
}


static void test_two_names_one_dn(void **state)
{
	struct orbitmap *map = NULL;
	unsigned n = 0;
	(void)state;

	assert_int_equal(0, parse(&map, "a *00\nb *00\nc *01\n", NULL));
	orbitmap_apply_dn(map, "*00", count_h, &n);
	assert_int_equal(2, n);
	mem_deref(map);
}


static void test_errors(void **state)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);
	char e[2048];
	static const char text[] =
		"park-1 *00\n"                       /* 1 ok */
		"park-1 *01\n"                       /* 2 */
		"park-2\n"                           /* 3 */
		"park/3 *03\n"                       /* 4 */
		"park-4 *0 4\n"                      /* 5 */
		"park-5 *05 colour=red\n"            /* 6 */
		"park-6 *06 label=\"open\n"          /* 7 */
		"park-7 *07 retrieve=*17 retrieve=*1\n"  /* 8 */
		"park-8 *08 retrieve=<sip:x>\n"     /* 9 */
		"park-9 *09 privacy=maybe\n"       /* 10 */
		"park-10 *10 alert_after=2m\n"     /* 11 */
		"park-11 *11 alert_after=1 alert_after=2\n"  /* 12 */
		"park-12 *12 alert_after=86401\n"; /* 13 */
	(void)state;

	assert_int_equal(EINVAL, parse(&map, text, err));
	assert_null(map);

	memset(e, 0, sizeof(e));
	memcpy(e, err->buf, err->end < sizeof(e) - 1 ? err->end
	       : sizeof(e) - 1);

	assert_non_null(strstr(e, "orbits.conf:2: orbit 'park-1' is "
			       "already defined on line 1"));
	assert_non_null(strstr(e, "orbits.conf:3: orbit 'park-2' has no "
			       "DN"));
	assert_non_null(strstr(e, "orbits.conf:4: 'park/3' is not an "
			       "orbit name"));
	assert_non_null(strstr(e, "orbits.conf:5: unexpected '4'"));
	assert_non_null(strstr(e, "orbits.conf:6: unknown option "
			       "'colour'"));
	assert_non_null(strstr(e, "orbits.conf:7: unterminated quote"));
	assert_non_null(strstr(e, "orbits.conf:8: retrieve= given twice"));
	assert_non_null(strstr(e, "orbits.conf:9: retrieve: '<sip:x>' is "
			       "not a dial string"));
	assert_non_null(strstr(e, "orbits.conf:10: privacy: 'maybe' is "
			       "not yes or no"));
	assert_non_null(strstr(e, "orbits.conf:11: alert_after: '2m' is "
			       "not a number of seconds from 0 to 86400"));
	assert_non_null(strstr(e, "orbits.conf:12: alert_after= given "
			       "twice"));
	assert_non_null(strstr(e, "orbits.conf:13: alert_after: '86401'"));

	mem_deref(err);
}


/* What a key press may dial, and which orbit and code it means */
static void test_find_dialled(void **state)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);
	static const char text[] =
		"park-1 *00 retrieve=*10\n"
		"park-2 *01\n"
		"10 710 retrieve=*30 park=*20\n";
	static const struct {
		const char *user;
		const char *orbit;   /* NULL: none */
		bool park;
	} cases[] = {
		{"park-1",      "park-1", false},  /* the key's value      */
		{"*10",         "park-1", false},  /* its retrieve code    */
		{"*11",         "park-2", false},  /* a default one        */
		{"*00",         "park-1", true},   /* its park code        */
		{"*97park-1",   "park-1", false},  /* Yealink/Snom pickup  */
		{"**park-2",    "park-2", false},  /* Grandstream's prefix */
		{"*8#park-1",   "park-1", false},
		{"10",          "10",     false},  /* a name of digits     */
		{"*30",         "10",     false},
		{"*20",         "10",     true},
		{"*9710",       "10",     false},  /* prefix + name "10"   */
		{"xpark-1",     NULL,     false},  /* not a feature code   */
		{"park-1x",     NULL,     false},
		{"*97",         NULL,     false},
		{"park-9",      NULL,     false},
	};
	size_t i;
	(void)state;

	assert_int_equal(0, parse(&map, text, err));

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct orbit *o;
		bool park = true;
		struct pl user;

		pl_set_str(&user, cases[i].user);
		o = orbitmap_find_dialled(map, &user, &park);
		if (!cases[i].orbit) {
			assert_null(o);
			continue;
		}
		assert_non_null(o);
		assert_string_equal(cases[i].orbit, o->name);
		assert_int_equal(cases[i].park, park);
	}

	mem_deref(map);
	mem_deref(err);
}


static void test_empty_map(void **state)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);
	(void)state;

	assert_int_equal(EINVAL, parse(&map, "# nothing\n\n", err));
	assert_true(err->end > 0);
	assert_int_equal(0, memcmp(err->buf, "orbits.conf:2: no orbits",
				   24));
	mem_deref(err);
}


static void test_label_utf8(void **state)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);
	static const char text[] =
		"park-1 *00 label=\"Caf\xc3\xa9\"\n"      /* UTF-8   */
		"park-2 *01 label=\"Caf\xe9\"\n";          /* Latin-1 */
	(void)state;

	assert_int_equal(EINVAL, parse(&map, text, err));
	assert_null(map);
	assert_int_equal(0, mbuf_write_u8(err, 0));
	assert_string_equal("orbits.conf:2: label: not UTF-8 (Latin-1?): "
			    "save the map as UTF-8, or phones show U+FFFD\n",
			    (char *)err->buf);

	assert_int_equal(0, parse(&map, "park-1 *00 label=\"Caf\xc3\xa9\"\n",
				  NULL));
	assert_string_equal("Caf\xc3\xa9", find(map, "park-1")->label);
	mem_deref(map);
	mem_deref(err);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_valid_map),
	cmocka_unit_test(test_two_names_one_dn),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_empty_map),
	cmocka_unit_test(test_find_dialled),
	cmocka_unit_test(test_label_utf8),
};

const struct unit_group unit_orbitmap = UNIT_GROUP(orbitmap, tests);
