/**
 * @file maplookup.c  How long a lookup in a big orbit map takes
 *
 * The hot paths look an orbit up by name (each SUBSCRIBE) and by DN
 * (each upstream report).  This builds the biggest map (10 ranges of
 * 1000 orbits) and times ROUNDS passes of lookups of every orbit, by
 * name and by DN, against a pass that only prints the names (the
 * baseline to subtract).  make bench-maplookup runs it pinned to one
 * CPU.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <time.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum { RANGES = 10, PER_RANGE = 1000, ROUNDS = 100 };

enum what { BASELINE, BY_NAME, BY_DN };


static double now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* ns per lookup over ROUNDS passes of every orbit */
static double run(const struct orbitmap *map, enum what what,
		  unsigned *hits)
{
	const unsigned n = RANGES * PER_RANGE;
	char name[32], dn[32];
	double t0 = now_s();
	unsigned k, i;

	for (k = 0; k < ROUNDS; k++) {
		for (i = 0; i < n; i++) {
			struct pl pl;

			(void)re_snprintf(name, sizeof(name), "r%u-%u",
					  i % RANGES, i / RANGES);
			(void)re_snprintf(dn, sizeof(dn), "%u%03u",
					  i % RANGES + 10, i / RANGES);
			pl_set_str(&pl, name);
			if (what == BY_NAME)
				*hits += orbitmap_find(map, &pl) != NULL;
			else if (what == BY_DN)
				*hits += orbitmap_has_dn(map, dn);
		}
	}

	return (now_s() - t0) * 1e9 / ((double)ROUNDS * n);
}


int main(void)
{
	struct orbitmap *map = NULL;
	struct mbuf *mb;
	unsigned i, hits = 0;
	double base, by_name, by_dn;
	int err;

	err = libre_init();
	if (err)
		return 1;

	mb = mbuf_alloc(1024);
	for (i = 0; mb && i < RANGES; i++)
		err |= mbuf_printf(mb, "r%u-{0..%u} %u{000..%u}\n", i,
				   PER_RANGE - 1, i + 10, PER_RANGE - 1);

	if (!mb || err || orbitmap_parse(&map, "maplookup", mb->buf,
					 mb->end, NULL)) {
		(void)re_fprintf(stderr, "maplookup: no map\n");
		return 1;
	}

	base = run(map, BASELINE, &hits);
	by_name = run(map, BY_NAME, &hits);
	by_dn = run(map, BY_DN, &hits);

	(void)re_printf("%u orbits: by name %u ns, by DN %u ns a lookup "
			"(less %u ns of printing; %u found)\n",
			orbitmap_count(map), (unsigned)(by_name - base),
			(unsigned)(by_dn - base), (unsigned)base, hits);

	mem_deref(map);
	mem_deref(mb);
	libre_close();

	return hits == 2u * ROUNDS * RANGES * PER_RANGE ? 0 : 1;
}
