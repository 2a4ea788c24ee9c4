/**
 * @file orbitmap.c  The orbit map: which name watches which PBX orbit
 *
 * One orbit per line:
 *   NAME DN [retrieve=DIAL] [park=DIAL] [label="TEXT"] [privacy=yes|no]
 *        [alert_after=SECONDS]
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "orbitmap.h"


enum {
	MAX_TOKEN  = ORBITMAP_MAX_TOKEN,
	MAX_LABEL  = 128,
	MAX_ORBITS = ORBITMAP_MAX_ORBITS,
	MAX_ALERT_AFTER = 86400,  /**< As park_alert_after's bound       */
	HASH_SIZE  = 256,         /**< Buckets of a small map          */
	HASH_MAX   = 16384,       /**< Buckets of the biggest          */
};



static void orbit_destructor(void *arg)
{
	struct orbit *o = arg;

	list_unlink(&o->le);
	hash_unlink(&o->he_name);
	hash_unlink(&o->he_dn);
	mem_deref(o->name);
	mem_deref(o->dn);
	mem_deref(o->retrieve);
	mem_deref(o->park);
	mem_deref(o->label);
}


static void map_destructor(void *arg)
{
	struct orbitmap *map = arg;

	list_flush(&map->orbits);
	list_flush(&map->rules);
	mem_deref(map->by_name);
	mem_deref(map->by_dn);
	mem_deref(map->file);
}


/**
 * Tell whether a character may be part of an orbit name
 *
 * @param c Character
 *
 * @return true if it may
 */
bool orbitmap_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		c == '~';
}


/**
 * Tell whether a character may be part of a DN or dial string
 *
 * @param c Character
 *
 * @return true if it may
 */
bool orbitmap_dial_char(char c)
{
	return orbitmap_name_char(c) || c == '*' || c == '#' || c == '+';
}


/* Dial strings of a rule's options are templates: { } allowed */
static bool templ_char(char c)
{
	return orbitmap_dial_char(c) || c == '{' || c == '}';
}


/**
 * Check a token's length and characters
 *
 * @param pl  Token
 * @param okh Which characters are allowed
 *
 * @return true if valid
 */
bool orbitmap_valid_token(const struct pl *pl, bool (*okh)(char c))
{
	size_t i;

	if (!pl->l || pl->l > MAX_TOKEN)
		return false;

	for (i = 0; i < pl->l; i++) {
		if (!okh(pl->p[i]))
			return false;
	}

	return true;
}


/**
 * Take the next blank-separated token of a line; a double-quoted part
 * may hold blanks, a word starting with # ends the line
 *
 * @param tok          The token
 * @param line         The rest of the line, advanced past it
 * @param unterminated Set if its quote is not closed
 *
 * @return true if there is one
 */
bool orbitmap_next_token(struct pl *tok, struct pl *line,
			 bool *unterminated)
{
	bool quoted = false;
	size_t n = 0;

	while (line->l && (line->p[0] == ' ' || line->p[0] == '\t'))
		pl_advance(line, 1);

	/* a word that starts with # starts a comment */
	if (!line->l || line->p[0] == '#')
		return false;

	while (n < line->l) {
		char c = line->p[n];

		if (quoted && c == '\\' && n + 1 < line->l)
			++n;
		else if (c == '"')
			quoted = !quoted;
		else if (!quoted && (c == ' ' || c == '\t'))
			break;
		++n;
	}

	*unterminated = quoted;
	tok->p = line->p;
	tok->l = n;
	pl_advance(line, n);

	return true;
}


static bool utf8_valid(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s);

	while (n) {
		size_t l = utf8_char_len(p, n);

		if (!l)
			return false;
		p += l;
		n -= l;
	}

	return true;
}


/* label="TEXT" or label=TEXT; \" and \\ escape inside quotes */
static int label_decode(char **labelp, const struct pl *val)
{
	struct mbuf *mb;
	size_t i;
	int err = 0;

	if (!val->l || val->p[0] != '"')
		return pl_strdup(labelp, val);

	if (val->l < 2 || val->p[val->l - 1] != '"')
		return EBADMSG;

	mb = mbuf_alloc(val->l);
	if (!mb)
		return ENOMEM;

	for (i = 1; i + 1 < val->l && !err; i++) {
		char c = val->p[i];

		if (c == '\\')
			c = val->p[++i];
		else if (c == '"') {
			err = EBADMSG;
			break;
		}
		if ((unsigned char)c < 0x20)
			err = EBADMSG;
		else
			err = mbuf_write_u8(mb, (uint8_t)c);
	}

	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, labelp, mb->end);
	}

	mem_deref(mb);
	return err;
}


static bool name_cmp(struct le *le, void *arg)
{
	const struct orbit *o = le->data;

	return 0 == pl_strcmp(arg, o->name);
}


static bool dn_cmp(struct le *le, void *arg)
{
	const struct orbit *o = le->data;

	return 0 == strcmp(arg, o->dn);
}


/* The 3CX convention: park with *0N, retrieve with *1N */
static int default_retrieve(char **retrievep, const char *dn)
{
	if (dn[0] == '*' && dn[1] == '0' && dn[2] != '\0')
		return re_sdprintf(retrievep, "*1%s", dn + 2);

	return str_dup(retrievep, dn);
}


/* alert_after=SECONDS: this orbit's park_alert_after (0: never) */
static int set_alert_after(struct orbitmap_parser *ps, struct orbit *o,
			   const struct pl *val, unsigned lineno)
{
	size_t i;

	if (o->alert_after >= 0) {
		config_error(ps->errmb, ps->file, lineno,
			     "alert_after= given twice");
		return EINVAL;
	}

	for (i = 0; i < val->l; i++) {
		if (val->p[i] < '0' || val->p[i] > '9')
			break;
	}

	if (!val->l || i < val->l || val->l > 5 ||
	    pl_u32(val) > MAX_ALERT_AFTER) {
		config_error(ps->errmb, ps->file, lineno,
			     "alert_after: '%r' is not a number of seconds "
			     "from 0 to %u", val, MAX_ALERT_AFTER);
		return EINVAL;
	}

	o->alert_after = (int32_t)pl_u32(val);

	return 0;
}


static int set_option(struct orbitmap_parser *ps, struct orbit *o,
		      const struct pl *tok, unsigned lineno)
{
	struct pl key, val;
	char **fieldp;
	const char *sep = pl_strchr(tok, '=');

	if (!sep) {
		config_error(ps->errmb, ps->file, lineno,
			     "unexpected '%r' (options are retrieve=, park=, "
			     "label=, privacy= and alert_after=)", tok);
		return EINVAL;
	}

	key.p = tok->p;
	key.l = sep - tok->p;
	val.p = sep + 1;
	val.l = tok->l - key.l - 1;

	if (!pl_strcmp(&key, "privacy")) {
		if (o->privacy >= 0) {
			config_error(ps->errmb, ps->file, lineno,
				     "privacy= given twice");
			return EINVAL;
		}
		if (!pl_strcmp(&val, "yes"))
			o->privacy = 1;
		else if (!pl_strcmp(&val, "no"))
			o->privacy = 0;
		else {
			config_error(ps->errmb, ps->file, lineno,
				     "privacy: '%r' is not yes or no", &val);
			return EINVAL;
		}
		return 0;
	}

	if (!pl_strcmp(&key, "alert_after"))
		return set_alert_after(ps, o, &val, lineno);

	if (!pl_strcmp(&key, "retrieve"))
		fieldp = &o->retrieve;
	else if (!pl_strcmp(&key, "park"))
		fieldp = &o->park;
	else if (!pl_strcmp(&key, "label"))
		fieldp = &o->label;
	else {
		config_error(ps->errmb, ps->file, lineno,
			     "unknown option '%r' (options are retrieve=, "
			     "park=, label=, privacy= and alert_after=)",
			     &key);
		return EINVAL;
	}

	if (*fieldp) {
		config_error(ps->errmb, ps->file, lineno,
			     "%r= given twice", &key);
		return EINVAL;
	}

	if (fieldp == &o->label) {
		int err = label_decode(fieldp, &val);

		if (!err && !utf8_valid(*fieldp)) {
			config_error(ps->errmb, ps->file, lineno,
				     "label: not UTF-8 (Latin-1?): save the "
				     "map as UTF-8, or phones show U+FFFD");
			return EINVAL;
		}
		if (err == EBADMSG || (!err && strlen(*fieldp) > MAX_LABEL)) {
			config_error(ps->errmb, ps->file, lineno,
				     "label: bad text %r (a quoted string "
				     "of at most %u characters, \\\" for a "
				     "quote)", &val, MAX_LABEL);
			return EINVAL;
		}
		return err;
	}

	if (!orbitmap_valid_token(&val, ps->templ ? templ_char :
				  orbitmap_dial_char)) {
		config_error(ps->errmb, ps->file, lineno,
			     "%r: '%r' is not a dial string (digits, "
			     "letters, * # + - _ . ~; at most %u)",
			     &key, &val, MAX_TOKEN);
		return EINVAL;
	}

	return pl_strdup(fieldp, &val);
}


/**
 * Allocate an orbit with nothing set
 *
 * @param op     Where to store it
 * @param lineno Line of the map it comes from
 *
 * @return 0 if success, otherwise errorcode
 */
int orbitmap_orbit_alloc(struct orbit **op, unsigned lineno)
{
	struct orbit *o;

	if (!op)
		return EINVAL;

	o = mem_zalloc(sizeof(*o), orbit_destructor);
	if (!o)
		return ENOMEM;

	o->line = lineno;
	o->privacy = -1;
	o->alert_after = -1;
	*op = o;

	return 0;
}


/**
 * Parse the options of a line (retrieve=, park=, label= ...)
 *
 * @param ps     Parser
 * @param o      Orbit (or a rule's template) they set
 * @param rest   The line after its leading words
 * @param lineno Line number
 *
 * @return 0 if success, otherwise errorcode (reported)
 */
int orbitmap_options(struct orbitmap_parser *ps, struct orbit *o,
		     struct pl *rest, unsigned lineno)
{
	bool unterminated = false;
	struct pl tok;
	int err = 0;

	while (!err && orbitmap_next_token(&tok, rest, &unterminated)) {
		if (unterminated) {
			config_error(ps->errmb, ps->file, lineno,
				     "unterminated quote in '%r'", &tok);
			return EINVAL;
		}
		err = set_option(ps, o, &tok, lineno);
	}

	return err;
}


/**
 * Give an orbit its default retrieve and park codes
 *
 * @param o Orbit with its DN set
 *
 * @return 0 if success, otherwise errorcode
 */
int orbitmap_orbit_finish(struct orbit *o)
{
	int err = 0;

	if (!o || !o->dn)
		return EINVAL;

	if (!o->retrieve)
		err = default_retrieve(&o->retrieve, o->dn);
	if (!err && !o->park)
		err = str_dup(&o->park, o->dn);

	return err;
}


/**
 * Add an orbit to a map (its name must be free)
 *
 * @param map Orbit map
 * @param o   Orbit, which the map then owns
 */
void orbitmap_insert(struct orbitmap *map, struct orbit *o)
{
	if (!map || !o)
		return;

	list_append(&map->orbits, &o->le, o);
	hash_append(map->by_name, hash_joaat_str(o->name), &o->he_name, o);
	hash_append(map->by_dn, hash_joaat_str(o->dn), &o->he_dn, o);
}


static int parse_line(struct orbitmap_parser *ps, const struct pl *line,
		      unsigned lineno)
{
	struct pl rest = *line, name, dn;
	struct orbit *o = NULL, *dup;
	bool unterminated = false;
	int err = 0;

	(void)orbitmap_next_token(&name, &rest, &unterminated);
	if (!pl_strcmp(&name, "discover"))
		return orbitrule_discover_line(ps, line, lineno);
	if (pl_strchr(&name, '{'))
		return orbitrule_range_line(ps, line, lineno);

	if (!orbitmap_valid_token(&name, orbitmap_name_char)) {
		config_error(ps->errmb, ps->file, lineno,
			     "'%r' is not an orbit name (letters, digits, "
			     "- _ . ~; at most %u)", &name, MAX_TOKEN);
		return EINVAL;
	}

	dup = list_ledata(hash_lookup(ps->map->by_name,
				      hash_joaat_pl(&name), name_cmp,
				      &name));
	if (dup && dup->origin == ORBIT_LINE) {
		config_error(ps->errmb, ps->file, lineno,
			     "orbit '%r' is already defined on line %u",
			     &name, dup->line);
		return EINVAL;
	}

	if (!orbitmap_next_token(&dn, &rest, &unterminated)) {
		config_error(ps->errmb, ps->file, lineno,
			     "orbit '%r' has no DN (NAME DN [retrieve=DIAL]"
			     " [park=DIAL] [label=\"TEXT\"])", &name);
		return EINVAL;
	}
	if (!orbitmap_valid_token(&dn, orbitmap_dial_char)) {
		config_error(ps->errmb, ps->file, lineno,
			     "'%r' is not a DN (digits, letters, * # + - _ "
			     ". ~; at most %u)", &dn, MAX_TOKEN);
		return EINVAL;
	}

	if (ps->count >= MAX_ORBITS && !dup) {
		config_error(ps->errmb, ps->file, lineno,
			     "too many orbits (at most %u)", MAX_ORBITS);
		return E2BIG;
	}

	err = orbitmap_orbit_alloc(&o, lineno);
	if (err)
		return err;

	err  = pl_strdup(&o->name, &name);
	err |= pl_strdup(&o->dn, &dn);
	if (err)
		goto out;

	err = orbitmap_options(ps, o, &rest, lineno);
	if (err)
		goto out;

	err = orbitmap_orbit_finish(o);
	if (err)
		goto out;

	/* an explicit line wins over the range that gave the name */
	if (dup) {
		mem_deref(dup);
		--ps->count;
	}

	orbitmap_insert(ps->map, o);
	++ps->count;

 out:
	if (err)
		mem_deref(o);

	return err;
}


static void line_handler(const struct pl *line, unsigned lineno, void *arg)
{
	struct orbitmap_parser *ps = arg;

	if (parse_line(ps, line, lineno))
		++ps->errors;
}


/* Buckets for about one orbit each (lines, ranges and what the discover
   lines may make), so that a lookup by name or DN stays a compare or
   two however big the map */
static int map_rehash(struct orbitmap *map, uint32_t expect)
{
	struct hash *by_name = NULL, *by_dn = NULL;
	uint32_t size = HASH_SIZE;
	struct le *le;
	int err;

	while (size < expect && size < HASH_MAX)
		size <<= 1;

	if (size == HASH_SIZE)
		return 0;

	err  = hash_alloc(&by_name, size);
	err |= hash_alloc(&by_dn, size);
	if (err)
		goto out;

	for (le = list_head(&map->orbits); le; le = le->next) {
		struct orbit *o = le->data;

		hash_unlink(&o->he_name);
		hash_unlink(&o->he_dn);
		hash_append(by_name, hash_joaat_str(o->name), &o->he_name,
			    o);
		hash_append(by_dn, hash_joaat_str(o->dn), &o->he_dn, o);
	}

	mem_deref(map->by_name);
	mem_deref(map->by_dn);
	map->by_name = by_name;
	map->by_dn = by_dn;
	by_name = by_dn = NULL;

 out:
	mem_deref(by_name);
	mem_deref(by_dn);

	return err;
}


/* How many orbits a parsed map may come to hold */
static uint32_t map_expect(const struct orbitmap *map, uint32_t count)
{
	struct le *le;

	for (le = list_head(&map->rules); le; le = le->next) {
		const struct orbitdisc *d = le->data;

		count += d->max;
		if (count >= MAX_ORBITS)
			return MAX_ORBITS;
	}

	return count;
}


/**
 * Parse an orbit map from memory
 *
 * @param mapp  Where to store the map
 * @param file  File name for messages
 * @param buf   Text
 * @param len   Length of text
 * @param errmb Collects FILE:LINE messages, NULL prints to stderr
 *
 * @return 0 if success, otherwise errorcode (EINVAL on bad content)
 */
int orbitmap_parse(struct orbitmap **mapp, const char *file,
		   const uint8_t *buf, size_t len, struct mbuf *errmb)
{
	struct orbitmap_parser ps;
	struct orbitmap *map;
	int err;

	if (!mapp || !file || (!buf && len))
		return EINVAL;

	map = mem_zalloc(sizeof(*map), map_destructor);
	if (!map)
		return ENOMEM;

	err  = str_dup(&map->file, file);
	err |= hash_alloc(&map->by_name, HASH_SIZE);
	err |= hash_alloc(&map->by_dn, HASH_SIZE);
	if (err)
		goto out;

	memset(&ps, 0, sizeof(ps));
	ps.map = map;
	ps.file = file;
	ps.errmb = errmb;

	ps.lines = file_lines(buf, len, line_handler, &ps);

	if (!ps.errors && !ps.count && list_isempty(&map->rules)) {
		config_error(errmb, file, ps.lines ? ps.lines : 1,
			     "no orbits defined (one per line: NAME DN "
			     "[retrieve=DIAL] [park=DIAL] [label=\"TEXT\"])");
		++ps.errors;
	}

	if (ps.errors)
		err = EINVAL;
	else {
		orbitrule_warn(&ps);
		err = map_rehash(map, map_expect(map, ps.count));
	}

 out:
	if (err)
		mem_deref(map);
	else
		*mapp = map;

	return err;
}


/**
 * Read and parse an orbit map file
 *
 * @param mapp  Where to store the map
 * @param file  Path of the file
 * @param errmb Collects FILE:LINE messages, NULL prints to stderr
 *
 * @return 0 if success, otherwise errorcode
 */
int orbitmap_load(struct orbitmap **mapp, const char *file,
		  struct mbuf *errmb)
{
	struct mbuf *mb;
	int err;

	err = file_read(&mb, file, 4 * 1024 * 1024);
	if (err) {
		config_error(errmb, file, 0, "cannot read orbit map: %m",
			     err);
		return err;
	}

	err = orbitmap_parse(mapp, file, mb->buf, mb->end, errmb);
	mem_deref(mb);

	return err;
}


/**
 * Find an orbit by the name phones subscribe to
 *
 * @param map  Orbit map
 * @param name Orbit name
 *
 * @return The orbit, or NULL
 */
struct orbit *orbitmap_find(const struct orbitmap *map,
			    const struct pl *name)
{
	if (!map || !name)
		return NULL;

	return list_ledata(hash_lookup(map->by_name, hash_joaat_pl(name),
				       name_cmp, (void *)name));
}


/**
 * Find an orbit by name, given as a string
 *
 * @param map  Orbit map
 * @param name Orbit name
 *
 * @return The orbit, or NULL
 */
struct orbit *orbitmap_find_str(const struct orbitmap *map,
				const char *name)
{
	struct pl pl;

	if (!name)
		return NULL;

	pl_set_str(&pl, name);

	return orbitmap_find(map, &pl);
}


/* A feature code's characters: what phones put before a number */
static bool dial_prefix(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strchr("*#0123456789", p[i]))
			return false;
	}

	return n > 0;
}


/**
 * Find the orbit a dialled user part means, as a key press sends it:
 * the orbit's name (the key's value), its retrieve code (a pickup code
 * or the dialog's target dialled at parkblf), its park code, or its
 * name after a feature code (a directed pickup: "*97park-1",
 * "**park-1"), in that order
 *
 * @param map  Orbit map
 * @param user User part of the Request-URI
 * @param park Set to true if it is the orbit's park code
 *
 * @return The orbit, NULL if none
 */
struct orbit *orbitmap_find_dialled(const struct orbitmap *map,
				    const struct pl *user, bool *park)
{
	struct orbit *o;
	struct le *le;
	size_t i;

	if (!map || !pl_isset(user) || !park)
		return NULL;

	*park = false;
	o = orbitmap_find(map, user);
	if (o)
		return o;

	for (le = list_head(&map->orbits); le; le = le->next) {
		o = le->data;
		if (!pl_strcmp(user, o->retrieve))
			return o;
	}

	for (le = list_head(&map->orbits); le; le = le->next) {
		o = le->data;
		if (!pl_strcmp(user, o->park)) {
			*park = true;
			return o;
		}
	}

	for (i = 1; i < user->l && dial_prefix(user->p, i); i++) {
		struct pl rest;

		rest.p = user->p + i;
		rest.l = user->l - i;
		o = orbitmap_find(map, &rest);
		if (o)
			return o;
	}

	return NULL;
}


/**
 * The orbit a discover line would make of what a phone dialled on a key
 * press (a name, or a pickup prefix and a name), where no orbit has that
 * name yet: orbitmap_discover_preview, not made
 *
 * @param map  Orbit map
 * @param user User part of the Request-URI
 *
 * @return A new orbit object, not in the map, or NULL
 */
struct orbit *orbitmap_dialled_preview(const struct orbitmap *map,
				       const struct pl *user)
{
	struct orbit *o;
	size_t i;

	if (!map || !pl_isset(user))
		return NULL;

	o = orbitmap_discover_preview(map, user);
	for (i = 1; !o && i < user->l && dial_prefix(user->p, i); i++) {
		struct pl rest;

		rest.p = user->p + i;
		rest.l = user->l - i;
		o = orbitmap_discover_preview(map, &rest);
	}

	return o;
}


/**
 * Tell whether any orbit watches a DN
 *
 * @param map Orbit map
 * @param dn  DN as the PBX names it
 *
 * @return true if mapped
 */
bool orbitmap_has_dn(const struct orbitmap *map, const char *dn)
{
	if (!map || !dn)
		return false;

	return NULL != hash_lookup(map->by_dn, hash_joaat_str(dn), dn_cmp,
				   (void *)dn);
}


/**
 * Call a handler for every orbit that watches a DN
 *
 * @param map Orbit map
 * @param dn  DN as the PBX names it
 * @param h   Handler
 * @param arg Handler argument
 */
void orbitmap_apply_dn(const struct orbitmap *map, const char *dn,
		       orbit_apply_h *h, void *arg)
{
	struct le *le;

	if (!map || !dn || !h)
		return;

	le = list_head(hash_list(map->by_dn, hash_joaat_str(dn)));
	while (le) {
		struct orbit *o = le->data;

		le = le->next;
		if (!strcmp(o->dn, dn))
			h(o, arg);
	}
}


/**
 * Count the orbits of a map
 *
 * @param map Orbit map
 *
 * @return Number of orbits
 */
uint32_t orbitmap_count(const struct orbitmap *map)
{
	return map ? list_count(&map->orbits) : 0;
}
