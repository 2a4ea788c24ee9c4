/**
 * @file orbittmpl.c  Ranges, patterns and templates of orbit map rules
 *
 * A range line gives a family of orbits: each of its words may hold one
 * {FIRST..LAST} (as in the shell's brace expansion: {00..19} pads to two
 * digits), and the i-th orbit takes the i-th number of every range.
 *
 * A discovery rule matches the DNs the PBX reports against a pattern
 * with one {x} (one or more digits); its templates make the orbit's
 * name and codes from {x} (the digits) and {dn} (the whole DN).
 *
 * Pure functions: no state, no logging.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "orbitmap.h"
#include "orbittmpl.h"


static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}


/* Digits from p (at most ORBITTMPL_MAX_DIGITS); 0 if none */
static size_t digits(const char *p, size_t n, uint32_t *val)
{
	size_t i = 0;

	*val = 0;
	while (i < n && is_digit(p[i]) && i <= ORBITTMPL_MAX_DIGITS) {
		*val = *val * 10 + (uint32_t)(p[i] - '0');
		++i;
	}

	return i > ORBITTMPL_MAX_DIGITS ? 0 : i;
}


/* "{FIRST..LAST}" at p: its length, or 0 if it is not one */
static size_t range_at(struct orbitrange *r, const char *p, size_t n)
{
	size_t a, b;

	if (n < 6 || p[0] != '{')
		return 0;

	a = digits(p + 1, n - 1, &r->first);
	if (!a || a + 3 > n - 1 || p[1 + a] != '.' || p[2 + a] != '.')
		return 0;

	b = digits(p + 3 + a, n - 3 - a, &r->last);
	if (!b || 3 + a + b >= n || p[3 + a + b] != '}')
		return 0;

	r->width = 0;
	if ((a > 1 && p[1] == '0') || (b > 1 && p[3 + a] == '0'))
		r->width = (unsigned)(a > b ? a : b);

	return 4 + a + b;
}


/**
 * Find the range of a token
 *
 * @param r              Its range (len 0 when it has none)
 * @param tok            Token
 * @param literal_braces Braces that are not a range are text (labels)
 * @param why            Set to the reason on EINVAL
 *
 * @return 0 if success (with or without a range), EINVAL if bad
 */
int orbittmpl_range(struct orbitrange *r, const struct pl *tok,
		    bool literal_braces, const char **why)
{
	size_t i;

	if (!r || !tok || !why)
		return EINVAL;

	memset(r, 0, sizeof(*r));

	for (i = 0; i < tok->l; i++) {
		struct orbitrange c;
		size_t n;
		char ch = tok->p[i];

		if (ch != '{' && ch != '}')
			continue;

		n = ch == '{' ? range_at(&c, tok->p + i, tok->l - i) : 0;
		if (!n) {
			if (literal_braces)
				continue;
			*why = "is not a range: write {FIRST..LAST}, "
				"e.g. {1..20}, or {00..19} for two digits";
			return EINVAL;
		}

		if (r->len) {
			*why = "holds more than one range";
			return EINVAL;
		}

		c.pos = i;
		c.len = n;
		*r = c;
		i += n - 1;
	}

	if (r->len && r->first > r->last) {
		*why = "is a reversed range (FIRST must not exceed LAST)";
		return EINVAL;
	}

	if (r->len && r->last - r->first >= ORBITTMPL_MAX_RANGE) {
		*why = "is too large a range (at most 1000 orbits a range)";
		return EINVAL;
	}

	return 0;
}


/**
 * How many values a range gives
 *
 * @param r Range
 *
 * @return Count, 1 for a token without a range
 */
uint32_t orbittmpl_range_count(const struct orbitrange *r)
{
	if (!r || !r->len)
		return 1;

	return r->last - r->first + 1;
}


/**
 * The i-th value of a token with a range (the token if it has none)
 *
 * @param strp Where to store the string
 * @param tok  Token
 * @param r    Its range
 * @param i    Index from 0
 *
 * @return 0 if success, otherwise errorcode
 */
int orbittmpl_range_print(char **strp, const struct pl *tok,
			  const struct orbitrange *r, uint32_t i)
{
	char num[16];
	size_t pad;

	if (!strp || !tok || !r)
		return EINVAL;

	if (!r->len)
		return pl_strdup(strp, tok);

	if (i >= orbittmpl_range_count(r))
		return ERANGE;

	/* libre's printf has no '*' width: pad by hand */
	(void)re_snprintf(num, sizeof(num), "%u", r->first + i);
	pad = r->width > strlen(num) ? r->width - strlen(num) : 0;

	return re_sdprintf(strp, "%b%b%s%b", tok->p, r->pos,
			   "000000", pad, num, tok->p + r->pos + r->len,
			   tok->l - r->pos - r->len);
}


/**
 * Check a discovery pattern: DN characters and exactly one {x}
 *
 * @param pat Pattern
 * @param why Set to the reason on EINVAL
 *
 * @return 0 if valid, otherwise EINVAL
 */
int orbittmpl_pattern_check(const struct pl *pat, const char **why)
{
	size_t i, xs = 0;

	if (!pat || !why)
		return EINVAL;

	for (i = 0; i < pat->l; i++) {
		if (pat->l - i >= 3 && !memcmp(pat->p + i, "{x}", 3)) {
			++xs;
			i += 2;
		}
		else if (!orbitmap_dial_char(pat->p[i])) {
			*why = "has a character a DN cannot hold (a pattern "
				"is DN characters and one {x})";
			return EINVAL;
		}
	}

	if (xs != 1) {
		*why = "needs exactly one {x} (the digits that tell the "
			"orbits apart), e.g. SP{x} or *0{x}";
		return EINVAL;
	}

	if (pat->l - 3 >= ORBITMAP_MAX_TOKEN) {
		*why = "is too long";
		return EINVAL;
	}

	return 0;
}


/**
 * Match a DN against a discovery pattern
 *
 * @param pat Pattern, as checked by orbittmpl_pattern_check()
 * @param dn  DN the PBX reported
 * @param x   Set to the digits {x} matched
 *
 * @return true if it matches
 */
bool orbittmpl_pattern_match(const char *pat, const char *dn, struct pl *x)
{
	const char *brace;
	size_t pre, post, n, i;

	if (!pat || !dn || !x)
		return false;

	brace = strstr(pat, "{x}");
	if (!brace)
		return false;

	pre = brace - pat;
	post = strlen(brace + 3);
	n = strlen(dn);

	if (n <= pre + post || n > ORBITMAP_MAX_TOKEN ||
	    strncmp(dn, pat, pre) || strcmp(dn + n - post, brace + 3))
		return false;

	for (i = pre; i < n - post; i++) {
		if (!is_digit(dn[i]))
			return false;
	}

	x->p = dn + pre;
	x->l = n - pre - post;

	return true;
}


/**
 * Match a string against a template with exactly one {x} and no other
 * placeholder: what {x} was when the template gave it
 *
 * @param tmpl Template (a discover line's name)
 * @param str  String (a name a phone asked for)
 * @param x    Set to the digits {x} stands for
 *
 * @return true if the template gives it
 */
bool orbittmpl_reverse(const char *tmpl, const struct pl *str,
		       struct pl *x)
{
	const char *brace;
	size_t pre, post, i;

	if (!tmpl || !str || !x)
		return false;

	brace = strstr(tmpl, "{x}");
	if (!brace || strstr(brace + 3, "{x}") || strchr(tmpl, '{') < brace)
		return false;

	pre = brace - tmpl;
	post = strlen(brace + 3);
	if (strchr(brace + 3, '{') || str->l <= pre + post ||
	    memcmp(str->p, tmpl, pre) ||
	    memcmp(str->p + str->l - post, brace + 3, post))
		return false;

	for (i = pre; i < str->l - post; i++) {
		if (!is_digit(str->p[i]))
			return false;
	}

	x->p = str->p + pre;
	x->l = str->l - pre - post;

	return true;
}


/* Placeholder at p: 1 {x}, 2 {dn}, 0 none; *lenp its length */
static int placeholder(const char *p, size_t *lenp)
{
	if (!strncmp(p, "{x}", 3)) {
		*lenp = 3;
		return 1;
	}
	if (!strncmp(p, "{dn}", 4)) {
		*lenp = 4;
		return 2;
	}

	return 0;
}


/**
 * Check a discovery template
 *
 * @param tmpl           Template
 * @param literal_braces Braces that are not a placeholder are text
 * @param dn_ok          {dn} is allowed (not in names: * # + are not
 *                       name characters)
 * @param need_x         {x} must be there (names: else all orbits of
 *                       the rule would have one name)
 * @param why            Set to the reason on EINVAL
 *
 * @return 0 if valid, otherwise EINVAL
 */
int orbittmpl_check(const char *tmpl, bool literal_braces, bool dn_ok,
		    bool need_x, const char **why)
{
	bool has_x = false;
	const char *p;

	if (!tmpl || !why)
		return EINVAL;

	for (p = tmpl; *p; p++) {
		size_t len;
		int ph;

		if (*p != '{' && *p != '}')
			continue;

		ph = *p == '{' ? placeholder(p, &len) : 0;
		if (ph == 2 && !dn_ok) {
			*why = "cannot hold {dn} (a DN may hold * # +, a "
				"name not): use {x}";
			return EINVAL;
		}
		if (!ph && !literal_braces) {
			*why = "has a brace that is not {x} or {dn}";
			return EINVAL;
		}
		if (ph) {
			has_x |= ph == 1;
			p += len - 1;
		}
	}

	if (need_x && !has_x) {
		*why = "needs {x}, or every orbit of the rule would have "
			"the same name";
		return EINVAL;
	}

	return 0;
}


/**
 * Fill a discovery template in
 *
 * @param strp           Where to store the string
 * @param tmpl           Template, as checked by orbittmpl_check()
 * @param literal_braces Braces that are not a placeholder are text
 * @param x              The digits {x} matched
 * @param dn             The DN
 *
 * @return 0 if success, otherwise errorcode
 */
int orbittmpl_subst(char **strp, const char *tmpl, bool literal_braces,
		    const struct pl *x, const char *dn)
{
	struct mbuf *mb;
	const char *p;
	int err = 0;

	if (!strp || !tmpl || !x || !dn)
		return EINVAL;

	mb = mbuf_alloc(64);
	if (!mb)
		return ENOMEM;

	for (p = tmpl; *p && !err; p++) {
		size_t len = 0;
		int ph = *p == '{' ? placeholder(p, &len) : 0;

		if (ph == 1)
			err = mbuf_write_pl(mb, x);
		else if (ph == 2)
			err = mbuf_write_str(mb, dn);
		else if (*p == '{' || *p == '}')
			err = literal_braces ? mbuf_write_u8(mb, (uint8_t)*p)
				: EINVAL;
		else
			err = mbuf_write_u8(mb, (uint8_t)*p);

		if (len)
			p += len - 1;
	}

	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, strp, mb->end);
	}

	mem_deref(mb);
	return err;
}
