/**
 * @file orbitrule.c  Orbit map rules: ranges, and orbits the PBX makes
 *
 * A range line is a family of orbit lines:
 *   park-{1..20} *{00..19} retrieve=*1{00..19} label="Orbit {1..20}"
 * Its orbits are made when the map loads (a range gives at most
 * ORBITTMPL_MAX_RANGE orbits, a map ORBITMAP_MAX_ORBITS), so a lookup
 * by name or DN stays one hash lookup.  A line of its own wins over a
 * range that gives the same name; two ranges that give one name are an
 * error.
 *
 * A discover line makes an orbit of a DN when the PBX first reports it,
 * or when a phone first subscribes to the name it would give:
 *   discover SP{x} park-sp{x} label="Shared {x}" max=50
 * The first discover line whose pattern matches wins; a DN some line
 * or range maps is never discovered; a name the map already has is
 * not taken.  Each rule makes at most max= orbits (default
 * DISCOVER_MAX), logged once when reached.  Discovered orbits live as
 * long as the map; a reload keeps those its new rules still make.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "orbitmap.h"
#include "orbittmpl.h"
#include "metrics.h"


enum { DISCOVER_MAX = 100 };

/** What brings a DN to a discover line */
enum why {
	WHY_PBX,       /**< The PBX reported it                         */
	WHY_PHONE,     /**< A phone subscribed to the name it would get */
	WHY_RELOAD,    /**< The map before a reload had it              */
};


static void disc_destructor(void *arg)
{
	struct orbitdisc *d = arg;

	list_unlink(&d->le);
	mem_deref(d->pattern);
	mem_deref(d->tmpl);
}


static bool name_tmpl_char(char c)
{
	return orbitmap_name_char(c) || c == '{' || c == '}';
}


static bool dn_tmpl_char(char c)
{
	return orbitmap_dial_char(c) || c == '{' || c == '}';
}


/* One word of a range line: its range, which must give n values */
static int range_word(struct orbitmap_parser *ps, struct orbitrange *r,
		      const char *what, const struct pl *tok, bool label,
		      uint32_t n, unsigned lineno)
{
	const char *why = NULL;
	uint32_t c;

	if (orbittmpl_range(r, tok, label, &why)) {
		config_error(ps->errmb, ps->file, lineno, "%s '%r' %s",
			     what, tok, why);
		return EINVAL;
	}

	c = orbittmpl_range_count(r);
	if (n && r->len && c != n) {
		config_error(ps->errmb, ps->file, lineno,
			     "%s '%r' gives %u values, the name %u (the "
			     "ranges of a line must be equally long)",
			     what, tok, c, n);
		return EINVAL;
	}

	return 0;
}


/* The i-th value of an option of a range line (NULL stays NULL) */
static int range_value(char **strp, const char *tmpl,
		       const struct orbitrange *r, uint32_t i)
{
	struct pl pl;

	if (!tmpl)
		return 0;

	pl_set_str(&pl, tmpl);

	return orbittmpl_range_print(strp, &pl, r, i);
}


/* The i-th orbit of a range line; *op NULL when a line has its name */
static int range_orbit(struct orbitmap_parser *ps, struct orbit **op,
		       const struct orbit *t, const struct orbitrange *rv,
		       uint32_t i, unsigned lineno)
{
	const struct orbit *dup;
	struct orbit *o;
	int err;

	*op = NULL;
	err = orbitmap_orbit_alloc(&o, lineno);
	if (err)
		return err;

	o->origin = ORBIT_RANGE;
	o->privacy = t->privacy;
	o->alert_after = t->alert_after;
	err  = range_value(&o->name, t->name, &rv[0], i);
	err |= range_value(&o->dn, t->dn, &rv[1], i);
	err |= range_value(&o->retrieve, t->retrieve, &rv[2], i);
	err |= range_value(&o->park, t->park, &rv[3], i);
	err |= range_value(&o->label, t->label, &rv[4], i);
	err |= orbitmap_orbit_finish(o);
	if (err)
		goto out;

	dup = orbitmap_find_str(ps->map, o->name);
	if (dup && dup->origin == ORBIT_LINE)
		goto out;                  /* the line wins */

	if (dup) {
		config_error(ps->errmb, ps->file, lineno,
			     "orbit '%s' of this range is also one of the "
			     "range on line %u (ranges may not overlap; a "
			     "line of its own may override one orbit)",
			     o->name, dup->line);
		err = EINVAL;
		goto out;
	}

	if (ps->count >= ORBITMAP_MAX_ORBITS) {
		config_error(ps->errmb, ps->file, lineno,
			     "too many orbits (at most %u)",
			     ORBITMAP_MAX_ORBITS);
		err = E2BIG;
		goto out;
	}

	*op = o;
	o = NULL;

 out:
	mem_deref(o);
	return err;
}


/**
 * Parse a range line: NAME and DN with a {FIRST..LAST} each, options
 * with one or none
 *
 * @param ps     Parser
 * @param line   The line
 * @param lineno Its number
 *
 * @return 0 if success, otherwise errorcode (reported)
 */
int orbitrule_range_line(struct orbitmap_parser *ps, const struct pl *line,
			 unsigned lineno)
{
	struct orbitrange rv[5];   /* name, dn, retrieve, park, label */
	struct pl rest = *line, name, dn, pl;
	struct orbit *t = NULL;
	bool unterminated;
	uint32_t n, i;
	int err;

	(void)orbitmap_next_token(&name, &rest, &unterminated);
	if (!orbitmap_valid_token(&name, name_tmpl_char)) {
		config_error(ps->errmb, ps->file, lineno,
			     "'%r' is not an orbit name (letters, digits, "
			     "- _ . ~ and one {FIRST..LAST}; at most %u)",
			     &name, ORBITMAP_MAX_TOKEN);
		return EINVAL;
	}

	err = range_word(ps, &rv[0], "name", &name, false, 0, lineno);
	if (err)
		return err;
	n = orbittmpl_range_count(&rv[0]);

	if (!orbitmap_next_token(&dn, &rest, &unterminated) ||
	    !orbitmap_valid_token(&dn, dn_tmpl_char)) {
		config_error(ps->errmb, ps->file, lineno,
			     "range '%r' needs a DN with a range after it "
			     "(e.g. park-{1..20} *{00..19})", &name);
		return EINVAL;
	}

	err = range_word(ps, &rv[1], "DN", &dn, false, n, lineno);
	if (err)
		return err;
	if (!rv[1].len) {
		config_error(ps->errmb, ps->file, lineno,
			     "DN '%r' has no range: every orbit of '%r' "
			     "would watch the same DN", &dn, &name);
		return EINVAL;
	}

	err = orbitmap_orbit_alloc(&t, lineno);
	if (err)
		return err;

	err  = pl_strdup(&t->name, &name);
	err |= pl_strdup(&t->dn, &dn);
	if (err)
		goto out;

	ps->templ = true;
	err = orbitmap_options(ps, t, &rest, lineno);
	ps->templ = false;
	if (err)
		goto out;

	pl_set_str(&pl, t->retrieve ? t->retrieve : "");
	err = range_word(ps, &rv[2], "retrieve", &pl, false, n, lineno);
	pl_set_str(&pl, t->park ? t->park : "");
	err = err ? err : range_word(ps, &rv[3], "park", &pl, false, n,
				     lineno);
	pl_set_str(&pl, t->label ? t->label : "");
	err = err ? err : range_word(ps, &rv[4], "label", &pl, true, n,
				     lineno);
	if (err)
		goto out;

	for (i = 0; i < n && !err; i++) {
		struct orbit *o;

		err = range_orbit(ps, &o, t, rv, i, lineno);
		if (o) {
			orbitmap_insert(ps->map, o);
			++ps->count;
		}
	}

 out:
	mem_deref(t);
	return err;
}


/* max=N of a discover line */
static int disc_max(struct orbitmap_parser *ps, struct orbitdisc *d,
		    const struct pl *val, unsigned lineno)
{
	size_t i;

	for (i = 0; i < val->l; i++) {
		if (val->p[i] < '0' || val->p[i] > '9')
			break;
	}

	if (!val->l || i < val->l || val->l > 5 || !pl_u32(val) ||
	    pl_u32(val) > ORBITMAP_MAX_ORBITS) {
		config_error(ps->errmb, ps->file, lineno,
			     "max: '%r' is not a number of orbits from 1 "
			     "to %u", val, ORBITMAP_MAX_ORBITS);
		return EINVAL;
	}

	d->max = pl_u32(val);

	return 0;
}


/* Options of a discover line: those of any line, and max= */
static int disc_options(struct orbitmap_parser *ps, struct orbitdisc *d,
			struct pl *rest, unsigned lineno)
{
	bool unterminated = false;
	struct pl tok;
	int err = 0;

	while (!err && orbitmap_next_token(&tok, rest, &unterminated)) {
		struct pl one = tok;

		if (!unterminated && tok.l > 4 && !memcmp(tok.p, "max=", 4)) {
			one.p += 4;
			one.l -= 4;
			err = disc_max(ps, d, &one, lineno);
		}
		else
			err = orbitmap_options(ps, d->tmpl, &one, lineno);
	}

	return err;
}


static int disc_check(struct orbitmap_parser *ps, const char *what,
		      const char *tmpl, bool label, bool name,
		      unsigned lineno)
{
	const char *why = NULL;

	if (!tmpl || !orbittmpl_check(tmpl, label, !name, name, &why))
		return 0;

	config_error(ps->errmb, ps->file, lineno, "%s '%s' %s", what, tmpl,
		     why);

	return EINVAL;
}


/**
 * Parse a discover line: discover PATTERN NAME [options] [max=N]
 *
 * @param ps     Parser
 * @param line   The line
 * @param lineno Its number
 *
 * @return 0 if success, otherwise errorcode (reported)
 */
int orbitrule_discover_line(struct orbitmap_parser *ps,
			    const struct pl *line, unsigned lineno)
{
	struct pl rest = *line, word, pat, name;
	struct orbitdisc *d;
	const char *why = NULL;
	bool unterminated;
	int err;

	(void)orbitmap_next_token(&word, &rest, &unterminated);
	if (!orbitmap_next_token(&pat, &rest, &unterminated) ||
	    !orbitmap_next_token(&name, &rest, &unterminated)) {
		config_error(ps->errmb, ps->file, lineno,
			     "discover needs a DN pattern and a name "
			     "(discover PATTERN NAME [options] [max=N], "
			     "e.g. discover SP{x} park-sp{x})");
		return EINVAL;
	}

	if (orbittmpl_pattern_check(&pat, &why)) {
		config_error(ps->errmb, ps->file, lineno, "pattern '%r' %s",
			     &pat, why);
		return EINVAL;
	}

	if (!orbitmap_valid_token(&name, name_tmpl_char)) {
		config_error(ps->errmb, ps->file, lineno,
			     "'%r' is not an orbit name template (letters, "
			     "digits, - _ . ~ and {x}; at most %u)", &name,
			     ORBITMAP_MAX_TOKEN);
		return EINVAL;
	}

	d = mem_zalloc(sizeof(*d), disc_destructor);
	if (!d)
		return ENOMEM;

	d->max = DISCOVER_MAX;
	err  = pl_strdup(&d->pattern, &pat);
	err |= orbitmap_orbit_alloc(&d->tmpl, lineno);
	if (err)
		goto out;

	d->tmpl->origin = ORBIT_DISCOVERED;
	err = pl_strdup(&d->tmpl->name, &name);
	if (err)
		goto out;

	ps->templ = true;
	err = disc_options(ps, d, &rest, lineno);
	ps->templ = false;
	if (err)
		goto out;

	err  = disc_check(ps, "name", d->tmpl->name, false, true, lineno);
	err |= disc_check(ps, "retrieve", d->tmpl->retrieve, false, false,
			  lineno);
	err |= disc_check(ps, "park", d->tmpl->park, false, false, lineno);
	err |= disc_check(ps, "label", d->tmpl->label, true, false, lineno);
	if (err) {
		err = EINVAL;
		goto out;
	}

	list_append(&ps->map->rules, &d->le, d);

 out:
	if (err)
		mem_deref(d);

	return err;
}


/* The orbit a rule gives a DN, not in the map; EINVAL for a name that
   is no orbit name (too long) */
static int disc_build(struct orbit **op, const struct orbitdisc *d,
		      const char *dn, const struct pl *x)
{
	const struct orbit *t = d->tmpl;
	struct orbit *o = NULL;
	struct pl name;
	int err;

	err = orbitmap_orbit_alloc(&o, t->line);
	if (err)
		return err;

	o->origin = ORBIT_DISCOVERED;
	o->privacy = t->privacy;
	o->alert_after = t->alert_after;
	err = orbittmpl_subst(&o->name, t->name, false, x, dn);
	err |= str_dup(&o->dn, dn);
	if (!err && t->retrieve)
		err = orbittmpl_subst(&o->retrieve, t->retrieve, false, x,
				      dn);
	if (!err && t->park)
		err = orbittmpl_subst(&o->park, t->park, false, x, dn);
	if (!err && t->label)
		err = orbittmpl_subst(&o->label, t->label, true, x, dn);
	err |= orbitmap_orbit_finish(o);
	if (err)
		goto out;

	pl_set_str(&name, o->name);
	if (!orbitmap_valid_token(&name, orbitmap_name_char)) {
		log_debug("orbitmap: DN %s: name %s too long", dn, o->name);
		err = EINVAL;
	}

 out:
	if (err)
		mem_deref(o);
	else
		*op = o;

	return err;
}


static bool disc_full(const struct orbitmap *map, const struct orbitdisc *d)
{
	return d->count >= d->max ||
		orbitmap_count(map) >= ORBITMAP_MAX_ORBITS;
}


/* The orbit a rule makes of a DN, or NULL with the reason logged */
static struct orbit *disc_orbit(struct orbitmap *map, struct orbitdisc *d,
				const char *dn, const struct pl *x,
				enum why why)
{
	const struct orbit *t = d->tmpl;
	struct orbit *o = NULL;
	struct pl name;
	int err;

	if (disc_full(map, d)) {
		if (!d->capped)
			log_warn("orbitmap: %s:%u: discover %s reached its "
				 "%u orbits: DN %s and later ones stay "
				 "unmapped (raise max= and reload)",
				 map->file, t->line, d->pattern,
				 d->count, dn);
		d->capped = true;
		if (why != WHY_RELOAD)
			++metrics.discover_refused;
		return NULL;
	}

	err = disc_build(&o, d, dn, x);
	if (err)
		return NULL;

	pl_set_str(&name, o->name);
	if (orbitmap_find(map, &name)) {
		if (!d->clashed && why != WHY_RELOAD)
			log_warn("orbitmap: %s:%u: DN %s would be orbit %s, "
				 "a name the map already has: not discovered",
				 map->file, t->line, dn, o->name);
		d->clashed = true;
		return mem_deref(o);
	}

	orbitmap_insert(map, o);
	++d->count;
	if (why != WHY_RELOAD)
		++metrics.orbits_discovered;
	if (why == WHY_PBX)
		log_info("orbitmap: %s:%u: the PBX reported DN %s: orbit %s",
			 map->file, t->line, dn, o->name);
	else if (why == WHY_PHONE)
		log_info("orbitmap: %s:%u: a phone asked for %s: orbit of DN "
			 "%s", map->file, t->line, o->name, dn);

	return o;
}


/* The discover line that decides for a DN: the first that matches */
static struct orbitdisc *disc_first(const struct orbitmap *map,
				    const char *dn, struct pl *x)
{
	struct le *le;

	for (le = list_head(&map->rules); le; le = le->next) {
		struct orbitdisc *d = le->data;

		if (orbittmpl_pattern_match(d->pattern, dn, x))
			return d;
	}

	return NULL;
}


static struct orbit *discover(struct orbitmap *map, const char *dn,
			      enum why why)
{
	struct orbitdisc *d;
	struct pl x;

	if (!map || !dn || orbitmap_has_dn(map, dn))
		return NULL;

	d = disc_first(map, dn, &x);

	return d ? disc_orbit(map, d, dn, &x, why) : NULL;
}


/* Names a discover line would give that lines or ranges have: the DNs
   they stand for will not be discovered (one warning a line) */
static void warn_clash(struct orbitmap_parser *ps, struct orbitdisc *d)
{
	const struct orbit *first = NULL;
	char *first_dn = NULL;
	uint32_t n = 0;
	struct le *le;

	for (le = list_head(&ps->map->orbits); le; le = le->next) {
		const struct orbit *o = le->data;
		char *dn = NULL;
		struct pl name, x;

		pl_set_str(&name, o->name);
		if (!orbittmpl_reverse(d->tmpl->name, &name, &x) ||
		    orbittmpl_subst(&dn, d->pattern, false, &x, ""))
			continue;

		if (!orbitmap_has_dn(ps->map, dn) &&
		    disc_first(ps->map, dn, &x) == d && !n++) {
			first = o;
			first_dn = mem_ref(dn);
		}
		mem_deref(dn);
	}

	if (n == 1)
		config_error(ps->errmb, ps->file, d->tmpl->line,
			     "warning: discover would name DN %s '%s', "
			     "which line %u has: %s will not be discovered",
			     first_dn, first->name, first->line, first_dn);
	else if (n)
		config_error(ps->errmb, ps->file, d->tmpl->line,
			     "warning: discover would name DN %s '%s', "
			     "which line %u has, and %u more such DNs: "
			     "they will not be discovered", first_dn,
			     first->name, first->line, n - 1);
	mem_deref(first_dn);
}


/**
 * Warn about discover lines that cannot do all they say: one with the
 * pattern of an earlier one (it never applies), names that lines or
 * ranges have
 *
 * @param ps Parser, after the last line
 */
void orbitrule_warn(struct orbitmap_parser *ps)
{
	struct le *le, *e;

	if (!ps || list_isempty(&ps->map->rules))
		return;

	for (le = list_head(&ps->map->rules); le; le = le->next) {
		const struct orbitdisc *d = le->data;

		for (e = list_head(&ps->map->rules); e != le; e = e->next) {
			const struct orbitdisc *first = e->data;

			if (strcmp(first->pattern, d->pattern))
				continue;
			config_error(ps->errmb, ps->file, d->tmpl->line,
				     "warning: discover %s never applies: "
				     "line %u has the same pattern and comes "
				     "first", d->pattern, first->tmpl->line);
			break;
		}
	}

	for (le = list_head(&ps->map->rules); le; le = le->next)
		warn_clash(ps, le->data);
}


/**
 * Make an orbit of a DN the PBX reported, if a discover line covers it
 * and no orbit watches it yet
 *
 * @param map Orbit map
 * @param dn  DN as the PBX names it
 *
 * @return The new orbit, or NULL if none was made
 */
struct orbit *orbitmap_discover(struct orbitmap *map, const char *dn)
{
	return discover(map, dn, WHY_PBX);
}


/* The discover line that gives a name, and the DN of that name */
static struct orbitdisc *name_rule(const struct orbitmap *map,
				   const struct pl *name, char **dnp,
				   struct pl *x)
{
	struct le *le;

	for (le = list_head(&map->rules); le; le = le->next) {
		struct orbitdisc *d = le->data;
		char *dn = NULL;

		if (!orbittmpl_reverse(d->tmpl->name, name, x) ||
		    orbittmpl_subst(&dn, d->pattern, false, x, ""))
			continue;

		/* only if this line is the one that decides for the DN */
		if (disc_first(map, dn, x) == d) {
			*dnp = dn;
			return d;
		}

		mem_deref(dn);
	}

	return NULL;
}


/**
 * Make the orbit a phone asked for by name, if a discover line gives
 * that name (its name template has one {x}): the DN is the pattern
 * with the name's digits, which the PBX may not have reported yet (the
 * orbit is idle until it does).  It counts towards the line's max=.
 *
 * @param map  Orbit map
 * @param name Name a phone subscribed to
 *
 * @return The new orbit, or NULL if none was made
 */
struct orbit *orbitmap_discover_name(struct orbitmap *map,
				     const struct pl *name)
{
	struct orbitdisc *d;
	struct orbit *o = NULL;
	char *dn = NULL;
	struct pl x;

	if (!map || !name)
		return NULL;

	d = name_rule(map, name, &dn, &x);
	if (d && !orbitmap_has_dn(map, dn))
		o = disc_orbit(map, d, dn, &x, WHY_PHONE);
	mem_deref(dn);

	return o;
}


/**
 * The orbit a discover line would make of a name, not made: what is
 * checked before a SUBSCRIBE to it is accepted (its DN's state), and
 * what a key press on it means (its retrieve and park codes).  None
 * past the line's max= (nothing logged or counted), nor for a name the
 * map has, nor for a DN an orbit watches.
 *
 * @param map  Orbit map
 * @param name Name a phone asked for
 *
 * @return A new orbit object, not in the map, or NULL
 */
struct orbit *orbitmap_discover_preview(const struct orbitmap *map,
					const struct pl *name)
{
	struct orbitdisc *d;
	struct orbit *o = NULL;
	char *dn = NULL;
	struct pl x;

	if (!map || !name || orbitmap_find(map, name))
		return NULL;

	d = name_rule(map, name, &dn, &x);
	if (d && !orbitmap_has_dn(map, dn) && !disc_full(map, d))
		(void)disc_build(&o, d, dn, &x);
	mem_deref(dn);

	return o;
}


/**
 * Carry the orbits discovered under an old map over to a new one:
 * those that the new map's own rules make again (a DN that a line or
 * range now maps, or that no discover line covers, is dropped)
 *
 * @param map New orbit map
 * @param old Old orbit map
 */
void orbitmap_inherit(struct orbitmap *map, const struct orbitmap *old)
{
	struct le *le;

	if (!map || !old)
		return;

	for (le = list_head(&old->orbits); le; le = le->next) {
		const struct orbit *o = le->data;

		if (o->origin == ORBIT_DISCOVERED)
			(void)discover(map, o->dn, WHY_RELOAD);
	}
}
