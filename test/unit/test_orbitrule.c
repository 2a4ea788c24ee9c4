/**
 * @file test_orbitrule.c  Orbit map rules: ranges, discovery, templates
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "orbittmpl.h"
#include "unit.h"


static int parse(struct orbitmap **mapp, const char *text,
		 struct mbuf *err)
{
	return orbitmap_parse(mapp, "orbits.conf", (const uint8_t *)text,
			      strlen(text), err);
}


static const struct orbit *find(const struct orbitmap *map,
				const char *name)
{
	struct pl pl;

	pl_set_str(&pl, name);

	return orbitmap_find(map, &pl);
}


/* The messages of a map that must not load, as one string */
static void errors(char *e, size_t sz, const char *text)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);

	assert_int_not_equal(0, parse(&map, text, err));
	assert_null(map);
	memset(e, 0, sz);
	memcpy(e, err->buf, err->end < sz - 1 ? err->end : sz - 1);
	mem_deref(err);
}


static void test_range(void **state)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);
	const struct orbit *o;
	static const char text[] =
		"# 3CX's ten orbits, and ten more\n"
		"park-{1..20} *{00..19} retrieve=#{100..119} "
		"label=\"Orbit {0..19} {VIP}\" alert_after=60\n"
		"lobby-{08..10} 7{1..3} privacy=yes\n";
	(void)state;

	assert_int_equal(0, parse(&map, text, err));
	assert_int_equal(0, err->end);
	assert_int_equal(23, orbitmap_count(map));

	o = find(map, "park-1");
	assert_non_null(o);
	assert_string_equal("*00", o->dn);
	assert_string_equal("#100", o->retrieve);
	assert_string_equal("*00", o->park);
	assert_string_equal("Orbit 0 {VIP}", o->label);
	assert_int_equal(60, o->alert_after);
	assert_int_equal(-1, o->privacy);
	assert_int_equal(2, o->line);
	assert_int_equal(ORBIT_RANGE, o->origin);

	o = find(map, "park-20");
	assert_string_equal("*19", o->dn);
	assert_string_equal("#119", o->retrieve);
	assert_string_equal("Orbit 19 {VIP}", o->label);
	assert_null(find(map, "park-21"));
	assert_null(find(map, "park-0"));

	/* {08..10}: two digits; {1..3}: none */
	o = find(map, "lobby-08");
	assert_non_null(o);
	assert_string_equal("71", o->dn);
	assert_string_equal("71", o->retrieve);
	assert_null(o->label);
	assert_int_equal(1, o->privacy);
	assert_string_equal("73", find(map, "lobby-10")->dn);
	assert_null(find(map, "lobby-8"));

	/* the hot paths see them as lines */
	assert_true(orbitmap_has_dn(map, "*07"));
	assert_false(orbitmap_has_dn(map, "*20"));

	/* the orbit list keeps file order */
	o = list_ledata(list_head(&map->orbits));
	assert_string_equal("park-1", o->name);
	o = list_ledata(list_tail(&map->orbits));
	assert_string_equal("lobby-10", o->name);

	mem_deref(map);
	mem_deref(err);
}


/* A line of its own wins over a range, before or after it */
static void test_line_wins(void **state)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);
	const struct orbit *o;
	static const char text[] =
		"park-2 *99 label=Before\n"
		"park-{1..5} *{00..04}\n"
		"park-4 *98 label=After\n";
	(void)state;

	assert_int_equal(0, parse(&map, text, err));
	assert_int_equal(0, err->end);
	assert_int_equal(5, orbitmap_count(map));

	o = find(map, "park-2");
	assert_string_equal("*99", o->dn);
	assert_int_equal(ORBIT_LINE, o->origin);
	o = find(map, "park-4");
	assert_string_equal("*98", o->dn);
	assert_int_equal(3, o->line);
	assert_string_equal("*02", find(map, "park-3")->dn);

	/* the range's DNs of the overridden names are not watched */
	assert_false(orbitmap_has_dn(map, "*01"));
	assert_false(orbitmap_has_dn(map, "*03"));
	assert_true(orbitmap_has_dn(map, "*04"));

	mem_deref(map);
	mem_deref(err);
}


static void test_range_errors(void **state)
{
	char e[4096];
	static const char text[] =
		"park-{1-5} *{00..04}\n"                  /* 1 */
		"park-{20..1} *{19..00}\n"                /* 2 */
		"park-{1..1001} *{0..1000}\n"             /* 3 */
		"park-{1..20} *{00..18}\n"                /* 4 */
		"park-{1..3}\n"                           /* 5 */
		"park-{1..3} *00\n"                       /* 6 */
		"park-{1..3}-{1..3} *{1..3}\n"            /* 7 */
		"a-{1..3} 7{1..3} retrieve=*{1..4}\n"     /* 8 */
		"b-{1..3} 8{1..3} label=\"L{1..2}\"\n"    /* 9 */
		"c-{1..3} 9{1..3} park=*{x}\n"            /* 10 */
		"d-{1..3} 6{1..3}\n"                      /* 11 ok */
		"d-{3..4} 5{1..2}\n"                      /* 12 */
		"e-{1..1234567} 4{1..2}\n"                /* 13 */
		"f-{1..2} 3{1..2} colour=red\n";          /* 14 */
	(void)state;

	errors(e, sizeof(e), text);

	assert_non_null(strstr(e, "orbits.conf:1: name 'park-{1-5}' is not "
			       "a range: write {FIRST..LAST}"));
	assert_non_null(strstr(e, "orbits.conf:2: name 'park-{20..1}' is a "
			       "reversed range"));
	assert_non_null(strstr(e, "orbits.conf:3: name 'park-{1..1001}' is "
			       "too large a range (at most 1000"));
	assert_non_null(strstr(e, "orbits.conf:4: DN '*{00..18}' gives 19 "
			       "values, the name 20"));
	assert_non_null(strstr(e, "orbits.conf:5: range 'park-{1..3}' needs "
			       "a DN with a range"));
	assert_non_null(strstr(e, "orbits.conf:6: DN '*00' has no range"));
	assert_non_null(strstr(e, "orbits.conf:7: name 'park-{1..3}-{1..3}' "
			       "holds more than one range"));
	assert_non_null(strstr(e, "orbits.conf:8: retrieve '*{1..4}' gives "
			       "4 values, the name 3"));
	assert_non_null(strstr(e, "orbits.conf:9: label 'L{1..2}' gives 2 "
			       "values, the name 3"));
	assert_non_null(strstr(e, "orbits.conf:10: park '*{x}' is not a "
			       "range"));
	assert_null(strstr(e, "orbits.conf:11:"));
	assert_non_null(strstr(e, "orbits.conf:12: orbit 'd-3' of this "
			       "range is also one of the range on line 11"));
	assert_non_null(strstr(e, "orbits.conf:13: name 'e-{1..1234567}' is "
			       "not a range"));
	assert_non_null(strstr(e, "orbits.conf:14: unknown option "
			       "'colour'"));
}


/* Ranges are bounded one by one and together */
static void test_range_cap(void **state)
{
	struct mbuf *mb = mbuf_alloc(1024);
	char e[512];
	int i;
	(void)state;

	for (i = 0; i < 11; i++)
		assert_int_equal(0, mbuf_printf(mb, "r%d-{1..1000} "
						"%d{000..999}\n", i, i + 10));
	assert_int_equal(0, mbuf_write_u8(mb, 0));

	errors(e, sizeof(e), (char *)mb->buf);
	assert_non_null(strstr(e, "orbits.conf:11: too many orbits (at most "
			       "10000)"));
	mem_deref(mb);
}


/* The biggest map: every orbit found by name and by DN (the hashes
   grow with the map), and so is one discovered later */
static void test_big_map(void **state)
{
	struct mbuf *mb = mbuf_alloc(1024);
	struct orbitmap *map = NULL;
	char name[32], dn[32];
	const struct orbit *o;
	unsigned i;
	(void)state;

	for (i = 0; i < 9; i++)
		assert_int_equal(0, mbuf_printf(mb, "r%u-{0..999} "
						"%u{000..999}\n", i, i + 10));
	assert_int_equal(0, mbuf_printf(mb, "r9-{0..979} 19{000..979}\n"
					"discover 7{x} d-{x} max=20\n"));
	assert_int_equal(0, orbitmap_parse(&map, "orbits.conf", mb->buf,
					   mb->end, NULL));
	assert_int_equal(9980, orbitmap_count(map));

	for (i = 0; i < 9980; i++) {
		(void)re_snprintf(name, sizeof(name), "r%u-%u", i / 1000,
				  i % 1000);
		(void)re_snprintf(dn, sizeof(dn), "%u%03u", i / 1000 + 10,
				  i % 1000);
		o = find(map, name);
		assert_non_null(o);
		assert_string_equal(dn, o->dn);
		assert_true(orbitmap_has_dn(map, dn));
	}

	for (i = 0; i < 20; i++) {
		(void)re_snprintf(dn, sizeof(dn), "7%u", i);
		assert_non_null(orbitmap_discover(map, dn));
	}
	assert_null(orbitmap_discover(map, "720"));   /* max=20 and 10000 */
	assert_int_equal(10000, orbitmap_count(map));
	assert_string_equal("719", find(map, "d-19")->dn);
	assert_true(orbitmap_has_dn(map, "70"));

	mem_deref(map);
	mem_deref(mb);
}


static void test_templates(void **state)
{
	struct orbitrange r;
	const char *why = NULL;
	char *s = NULL;
	struct pl x, tok;
	(void)state;

	pl_set_str(&tok, "*{0..19}#");
	assert_int_equal(0, orbittmpl_range(&r, &tok, false, &why));
	assert_int_equal(20, orbittmpl_range_count(&r));
	assert_int_equal(0, orbittmpl_range_print(&s, &tok, &r, 19));
	assert_string_equal("*19#", s);
	s = mem_deref(s);
	assert_int_equal(ERANGE, orbittmpl_range_print(&s, &tok, &r, 20));

	pl_set_str(&tok, "{000001..2}");
	assert_int_equal(0, orbittmpl_range(&r, &tok, false, &why));
	assert_int_equal(0, orbittmpl_range_print(&s, &tok, &r, 1));
	assert_string_equal("000002", s);
	s = mem_deref(s);

	pl_set_str(&tok, "{5..5}");
	assert_int_equal(0, orbittmpl_range(&r, &tok, false, &why));
	assert_int_equal(1, orbittmpl_range_count(&r));

	pl_set_str(&tok, "a}b");
	assert_int_equal(EINVAL, orbittmpl_range(&r, &tok, false, &why));
	assert_int_equal(0, orbittmpl_range(&r, &tok, true, &why));
	assert_int_equal(0, r.len);

	/* patterns: one {x}, digits only */
	assert_true(orbittmpl_pattern_match("SP{x}", "SP12", &x));
	assert_int_equal(0, pl_strcmp(&x, "12"));
	assert_true(orbittmpl_pattern_match("*0{x}#", "*07#", &x));
	assert_int_equal(0, pl_strcmp(&x, "7"));
	assert_false(orbittmpl_pattern_match("SP{x}", "SP", &x));
	assert_false(orbittmpl_pattern_match("SP{x}", "SP1a", &x));
	assert_false(orbittmpl_pattern_match("SP{x}", "sp1", &x));
	assert_false(orbittmpl_pattern_match("*0{x}#", "*07", &x));
	assert_false(orbittmpl_pattern_match("{x}", "1234567890123456789012"
					     "3456789012345678901234567890"
					     "123456789012345", &x));

	pl_set_str(&tok, "SP{x}{x}");
	assert_int_equal(EINVAL, orbittmpl_pattern_check(&tok, &why));
	pl_set_str(&tok, "SP");
	assert_int_equal(EINVAL, orbittmpl_pattern_check(&tok, &why));
	pl_set_str(&tok, "S<P{x}");
	assert_int_equal(EINVAL, orbittmpl_pattern_check(&tok, &why));
	pl_set_str(&tok, "{x}");
	assert_int_equal(0, orbittmpl_pattern_check(&tok, &why));

	pl_set_str(&x, "7");
	assert_int_equal(0, orbittmpl_subst(&s, "{x} of {dn} {y}", true, &x,
					    "*07"));
	assert_string_equal("7 of *07 {y}", s);
	s = mem_deref(s);
	assert_int_equal(0, orbittmpl_check("p-{x}", false, false, true,
					    &why));
	assert_int_equal(EINVAL, orbittmpl_check("p-{dn}", false, false,
						 false, &why));
	assert_int_equal(EINVAL, orbittmpl_check("p", false, false, true,
						 &why));
	assert_int_equal(EINVAL, orbittmpl_check("p{y}", false, true, false,
						 &why));
	assert_int_equal(0, orbittmpl_check("p{y}", true, true, false, &why));
}


static void test_discover(void **state)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);
	const struct orbit *o;
	static const char text[] =
		"park-1 *00\n"
		"discover SP{x} park-sp{x} label=\"Shared {x} ({dn})\" "
		"retrieve=*4{x} max=3 privacy=yes\n"
		"discover SP1{x} never-{x}\n"        /* SP{x} comes first */
		"discover *0{x} park-{x}\n";
	(void)state;

	assert_int_equal(0, parse(&map, text, err));
	assert_int_equal(1, orbitmap_count(map));
	assert_int_equal(0, mbuf_write_u8(err, 0));
	assert_string_equal("orbits.conf:4: warning: discover would name DN "
			    "*01 'park-1', which line 1 has: *01 will not be "
			    "discovered\n", (char *)err->buf);

	/* nothing until the PBX names a DN */
	assert_null(find(map, "park-sp3"));
	o = orbitmap_discover(map, "SP3");
	assert_non_null(o);
	assert_ptr_equal(o, find(map, "park-sp3"));
	assert_string_equal("SP3", o->dn);
	assert_string_equal("*43", o->retrieve);
	assert_string_equal("SP3", o->park);
	assert_string_equal("Shared 3 (SP3)", o->label);
	assert_int_equal(1, o->privacy);
	assert_int_equal(ORBIT_DISCOVERED, o->origin);
	assert_int_equal(2, o->line);
	assert_true(orbitmap_has_dn(map, "SP3"));
	assert_int_equal(2, orbitmap_count(map));

	/* once only; a mapped DN or one no rule covers makes none */
	assert_null(orbitmap_discover(map, "SP3"));
	assert_null(orbitmap_discover(map, "*00"));
	assert_null(orbitmap_discover(map, "101"));
	assert_null(orbitmap_discover(map, "SPx"));

	/* the first rule that matches decides */
	o = orbitmap_discover(map, "SP12");
	assert_string_equal("park-sp12", o->name);
	assert_null(find(map, "never-2"));

	/* a name the map has is not taken: *01 would be park-1 */
	assert_null(orbitmap_discover(map, "*01"));
	assert_string_equal("*00", find(map, "park-1")->dn);
	assert_false(orbitmap_has_dn(map, "*01"));
	assert_non_null(orbitmap_discover(map, "*02"));
	assert_string_equal("*12", find(map, "park-2")->retrieve);

	/* max=3: a PBX that names ever more DNs grows nothing more */
	assert_non_null(orbitmap_discover(map, "SP4"));
	assert_null(orbitmap_discover(map, "SP5"));
	assert_null(orbitmap_discover(map, "SP6"));
	assert_null(find(map, "park-sp5"));
	assert_int_equal(5, orbitmap_count(map));

	mem_deref(map);
	mem_deref(err);
}


static struct orbit *by_name(struct orbitmap *map, const char *name)
{
	struct pl pl;

	pl_set_str(&pl, name);

	return orbitmap_discover_name(map, &pl);
}


/* A phone asks for a name a discover line would give */
static void test_discover_name(void **state)
{
	struct orbitmap *map = NULL;
	const struct orbit *o;
	struct pl x, pl;
	static const char text[] =
		"park-1 *00\n"
		"discover SP{x} shared-{x} label=\"S{x}\" max=2\n"
		"discover SP1{x} never-{x}\n"
		"discover *0{x} park-{x}\n"
		"discover 9{x} a{x}-b{x}\n";
	(void)state;

	pl_set_str(&pl, "shared-12");
	assert_true(orbittmpl_reverse("shared-{x}", &pl, &x));
	assert_int_equal(0, pl_strcmp(&x, "12"));
	pl_set_str(&pl, "shared-1x");
	assert_false(orbittmpl_reverse("shared-{x}", &pl, &x));
	pl_set_str(&pl, "shared-");
	assert_false(orbittmpl_reverse("shared-{x}", &pl, &x));
	pl_set_str(&pl, "a1-b1");
	assert_false(orbittmpl_reverse("a{x}-b{x}", &pl, &x));

	assert_int_equal(0, parse(&map, text, NULL));

	o = by_name(map, "shared-7");
	assert_non_null(o);
	assert_ptr_equal(o, find(map, "shared-7"));
	assert_string_equal("SP7", o->dn);
	assert_string_equal("S7", o->label);
	assert_int_equal(ORBIT_DISCOVERED, o->origin);
	assert_true(orbitmap_has_dn(map, "SP7"));

	/* the PBX reporting it later makes nothing more */
	assert_null(orbitmap_discover(map, "SP7"));

	assert_null(by_name(map, "shared-x"));
	assert_null(by_name(map, "nope-1"));
	assert_null(by_name(map, "a1-b1"));      /* two {x}: not made */
	assert_null(by_name(map, "never-5"));    /* SP15: SP{x} decides */
	assert_null(find(map, "shared-15"));
	assert_string_equal("*02", by_name(map, "park-2")->dn);

	/* max=2 counts these too */
	assert_non_null(by_name(map, "shared-8"));
	assert_null(by_name(map, "shared-9"));
	assert_null(orbitmap_discover(map, "SP9"));
	assert_int_equal(4, orbitmap_count(map));

	mem_deref(map);
}


/* What a discover line would make of a name, without making it */
static void test_discover_preview(void **state)
{
	struct orbitmap *map = NULL;
	struct orbit *o;
	struct pl pl;
	static const char text[] =
		"park-1 *00\n"
		"discover SP{x} shared-{x} retrieve=*5{x} park=*6{x} max=1\n";
	(void)state;

	assert_int_equal(0, parse(&map, text, NULL));

	pl_set_str(&pl, "shared-3");
	o = orbitmap_discover_preview(map, &pl);
	assert_non_null(o);
	assert_string_equal("shared-3", o->name);
	assert_string_equal("SP3", o->dn);
	assert_string_equal("*53", o->retrieve);
	assert_string_equal("*63", o->park);
	mem_deref(o);
	assert_null(find(map, "shared-3"));     /* not made, not counted */
	assert_int_equal(1, orbitmap_count(map));

	/* a key press dials it with a pickup prefix */
	pl_set_str(&pl, "**shared-3");
	o = orbitmap_dialled_preview(map, &pl);
	assert_non_null(o);
	assert_string_equal("shared-3", o->name);
	mem_deref(o);

	pl_set_str(&pl, "park-1");              /* an orbit already */
	assert_null(orbitmap_discover_preview(map, &pl));
	pl_set_str(&pl, "shared-x");
	assert_null(orbitmap_discover_preview(map, &pl));

	/* past max=: none */
	assert_non_null(by_name(map, "shared-4"));
	pl_set_str(&pl, "shared-3");
	assert_null(orbitmap_discover_preview(map, &pl));
	assert_null(orbitmap_dialled_preview(map, &pl));

	mem_deref(map);
}


/* The default cap, when a rule matches every DN */
static void test_discover_cap(void **state)
{
	struct orbitmap *map = NULL;
	char dn[16];
	unsigned i, made = 0;
	(void)state;

	assert_int_equal(0, parse(&map, "discover {x} dn-{x}\n", NULL));
	assert_int_equal(0, orbitmap_count(map));

	for (i = 0; i < 1000; i++) {
		(void)re_snprintf(dn, sizeof(dn), "%u", 1000 + i);
		if (orbitmap_discover(map, dn))
			++made;
	}

	assert_int_equal(100, made);
	assert_int_equal(100, orbitmap_count(map));
	mem_deref(map);
}


static void test_discover_errors(void **state)
{
	char e[4096];
	static const char text[] =
		"discover\n"                                  /* 1 */
		"discover SP{x}\n"                            /* 2 */
		"discover SP park-{x}\n"                      /* 3 */
		"discover SP{x}{x} park-{x}\n"                /* 4 */
		"discover S/P{x} park-{x}\n"                  /* 5 */
		"discover SP{x} park\n"                       /* 6 */
		"discover SP{x} park-{dn}\n"                  /* 7 */
		"discover SP{x} park-{x} retrieve=*{y}\n"     /* 8 */
		"discover SP{x} park-{x} max=0\n"             /* 9 */
		"discover SP{x} park-{x} max=10001\n"         /* 10 */
		"discover SP{x} park-{x} wibble=1\n"          /* 11 */
		"discover SP{x} p/{x}\n";                     /* 12 */
	(void)state;

	errors(e, sizeof(e), text);

	assert_non_null(strstr(e, "orbits.conf:1: discover needs a DN "
			       "pattern and a name"));
	assert_non_null(strstr(e, "orbits.conf:2: discover needs"));
	assert_non_null(strstr(e, "orbits.conf:3: pattern 'SP' needs "
			       "exactly one {x}"));
	assert_non_null(strstr(e, "orbits.conf:4: pattern 'SP{x}{x}' needs "
			       "exactly one {x}"));
	assert_non_null(strstr(e, "orbits.conf:5: pattern 'S/P{x}' has a "
			       "character a DN cannot hold"));
	assert_non_null(strstr(e, "orbits.conf:6: name 'park' needs {x}"));
	assert_non_null(strstr(e, "orbits.conf:7: name 'park-{dn}' cannot "
			       "hold {dn}"));
	assert_non_null(strstr(e, "orbits.conf:8: retrieve '*{y}' has a "
			       "brace that is not {x} or {dn}"));
	assert_non_null(strstr(e, "orbits.conf:9: max: '0' is not a number "
			       "of orbits from 1 to 10000"));
	assert_non_null(strstr(e, "orbits.conf:10: max: '10001'"));
	assert_non_null(strstr(e, "orbits.conf:11: unknown option "
			       "'wibble'"));
	assert_non_null(strstr(e, "orbits.conf:12: 'p/{x}' is not an orbit "
			       "name template"));
}


/* What a discover line cannot do is said, and the map still loads */
static void test_discover_warnings(void **state)
{
	struct orbitmap *map = NULL;
	struct mbuf *err = mbuf_alloc(64);
	char e[2048];
	static const char text[] =
		"park-{1..10} *{00..09}\n"              /* 1 */
		"discover SP{x} shared-{x}\n"          /* 2 */
		"discover *1{x} park-{x}\n"            /* 3 */
		"discover SP{x} other-{x}\n"           /* 4 */
		"discover *0{x} park-{x}\n"            /* 5 */
		"shared-4 999\n";                      /* 6 */
	(void)state;

	assert_int_equal(0, parse(&map, text, err));
	memset(e, 0, sizeof(e));
	memcpy(e, err->buf, err->end < sizeof(e) - 1 ? err->end
	       : sizeof(e) - 1);

	assert_non_null(strstr(e, "orbits.conf:4: warning: discover SP{x} "
			       "never applies: line 2 has the same pattern"));
	assert_non_null(strstr(e, "orbits.conf:2: warning: discover would "
			       "name DN SP4 'shared-4', which line 6 has: "
			       "SP4 will not be discovered\n"));
	assert_non_null(strstr(e, "orbits.conf:3: warning: discover would "
			       "name DN *11 'park-1', which line 1 has, and 9 "
			       "more such DNs"));
	/* *01..*09 are mapped: only park-10 (*010) is in the way */
	assert_non_null(strstr(e, "orbits.conf:5: warning: discover would "
			       "name DN *010 'park-10', which line 1 has: "
			       "*010 will not be discovered\n"));

	/* the warning says true: *11 is not discovered, *20 is */
	assert_null(orbitmap_discover(map, "*11"));
	assert_non_null(orbitmap_discover(map, "*111"));
	assert_string_equal("park-11", find(map, "park-11")->name);

	mem_deref(map);
	mem_deref(err);
}


/* A reload keeps the orbits its rules make again, and only those */
static void test_inherit(void **state)
{
	struct orbitmap *old = NULL, *map = NULL;
	const struct orbit *o;
	(void)state;

	assert_int_equal(0, parse(&old, "discover SP{x} park-sp{x}\n"
				  "discover 8{x} ext-{x}\n", NULL));
	assert_non_null(orbitmap_discover(old, "SP1"));
	assert_non_null(orbitmap_discover(old, "SP2"));
	assert_non_null(orbitmap_discover(old, "81"));

	/* new template; SP2 now has a line; 8{x} gone */
	assert_int_equal(0, parse(&map, "vip SP2\n"
				  "discover SP{x} shared-{x} max=5\n",
				  NULL));
	orbitmap_inherit(map, old);

	assert_int_equal(2, orbitmap_count(map));
	o = find(map, "shared-1");
	assert_non_null(o);
	assert_int_equal(ORBIT_DISCOVERED, o->origin);
	assert_null(find(map, "park-sp1"));
	assert_int_equal(ORBIT_LINE, find(map, "vip")->origin);
	assert_null(find(map, "shared-2"));
	assert_false(orbitmap_has_dn(map, "81"));

	mem_deref(map);
	mem_deref(old);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_range),
	cmocka_unit_test(test_line_wins),
	cmocka_unit_test(test_range_errors),
	cmocka_unit_test(test_range_cap),
	cmocka_unit_test(test_big_map),
	cmocka_unit_test(test_templates),
	cmocka_unit_test(test_discover),
	cmocka_unit_test(test_discover_name),
	cmocka_unit_test(test_discover_preview),
	cmocka_unit_test(test_discover_cap),
	cmocka_unit_test(test_discover_errors),
	cmocka_unit_test(test_discover_warnings),
	cmocka_unit_test(test_inherit),
};

const struct unit_group unit_orbitrule = UNIT_GROUP(orbitrule, tests);
