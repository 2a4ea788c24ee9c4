/**
 * @file parksxml.h  GET /parks.xml: the orbits as a phone XML-browser page
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_PARKSXML_H
#define PARKBLF_PARKSXML_H

struct mbuf;
struct tenant;
struct sa;
struct http_msg;

enum {
	PARKSXML_MENU_MAX  = 30,  /**< Entries a menu page holds at most */
	PARKSXML_PAGE_SIZE = 28,  /**< Orbits a page of several holds    */
};

int parksxml_render(struct mbuf *mb, const char **ctypep,
		    const struct tenant *t, const struct sa *local,
		    const struct http_msg *msg);

bool parksxml_query_get(const struct pl *prm, const char *name,
			struct pl *val);

#endif
