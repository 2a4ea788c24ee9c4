/**
 * @file orbittmpl.h  Ranges, patterns and templates of orbit map rules
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_ORBITTMPL_H
#define PARKBLF_ORBITTMPL_H

enum {
	ORBITTMPL_MAX_RANGE = 1000,   /**< Orbits one range may give    */
	ORBITTMPL_MAX_DIGITS = 6,     /**< Digits of a range's bounds   */
};

/** The one {FIRST..LAST} of a token */
struct orbitrange {
	size_t pos;        /**< Offset of the '{' in the token            */
	size_t len;        /**< Length of "{FIRST..LAST}", 0: no range    */
	uint32_t first;
	uint32_t last;
	unsigned width;    /**< Zero-padded to this many digits, or 0     */
};

int  orbittmpl_range(struct orbitrange *r, const struct pl *tok,
		     bool literal_braces, const char **why);
uint32_t orbittmpl_range_count(const struct orbitrange *r);
int  orbittmpl_range_print(char **strp, const struct pl *tok,
			   const struct orbitrange *r, uint32_t i);
int  orbittmpl_pattern_check(const struct pl *pat, const char **why);
bool orbittmpl_pattern_match(const char *pat, const char *dn,
			     struct pl *x);
int  orbittmpl_check(const char *tmpl, bool literal_braces, bool dn_ok,
		     bool need_x, const char **why);
bool orbittmpl_reverse(const char *tmpl, const struct pl *str,
		       struct pl *x);
int  orbittmpl_subst(char **strp, const char *tmpl, bool literal_braces,
		     const struct pl *x, const char *dn);

#endif
