/**
 * @file orbitmap.h  What the orbit map's parser shares with its rules
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_ORBITMAP_H
#define PARKBLF_ORBITMAP_H

enum {
	ORBITMAP_MAX_TOKEN  = 64,     /**< Name, DN and dial strings    */
	ORBITMAP_MAX_ORBITS = 10000,  /**< Lines, ranges and discovered */
};

/** The parser's state over one file */
struct orbitmap_parser {
	struct orbitmap *map;
	const char *file;
	struct mbuf *errmb;
	unsigned lines;
	unsigned errors;
	uint32_t count;      /**< Orbits so far                           */
	bool templ;          /**< Options are templates: { } allowed      */
};

/** A discovery rule: a DN pattern with one {x}, and templates */
struct orbitdisc {
	struct le le;        /**< In orbitmap.rules, file order           */
	char *pattern;       /**< "SP{x}"                                 */
	struct orbit *tmpl;  /**< name, retrieve, park, label templates   */
	uint32_t max;        /**< At most this many orbits (max=)         */
	uint32_t count;      /**< Orbits it made                          */
	bool capped;         /**< Cap reached and logged                  */
	bool clashed;        /**< A name clash logged                     */
};

bool orbitmap_name_char(char c);
bool orbitmap_dial_char(char c);
bool orbitmap_valid_token(const struct pl *pl, bool (*okh)(char c));
bool orbitmap_next_token(struct pl *tok, struct pl *line,
			 bool *unterminated);
int  orbitmap_options(struct orbitmap_parser *ps, struct orbit *o,
		      struct pl *rest, unsigned lineno);
int  orbitmap_orbit_alloc(struct orbit **op, unsigned lineno);
int  orbitmap_orbit_finish(struct orbit *o);
void orbitmap_insert(struct orbitmap *map, struct orbit *o);
struct orbit *orbitmap_find_str(const struct orbitmap *map,
				const char *name);

int  orbitrule_range_line(struct orbitmap_parser *ps, const struct pl *line,
			  unsigned lineno);
int  orbitrule_discover_line(struct orbitmap_parser *ps,
			     const struct pl *line, unsigned lineno);
void orbitrule_warn(struct orbitmap_parser *ps);

#endif
