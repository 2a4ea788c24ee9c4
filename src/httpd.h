/**
 * @file httpd.h  HTTP endpoint: /status, /metrics, /parks.xml, /board
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_HTTPD_H
#define PARKBLF_HTTPD_H

struct httpd;
struct app;
struct sa;

int httpd_alloc(struct httpd **hp, const struct sa *laddr,
		const struct app *app);
void httpd_orbit_changed(struct httpd *hd, const char *name);
void httpd_map_changed(struct httpd *hd);
struct mbuf;
struct orbit;
int httpd_orbit_json(struct mbuf *mb, const struct app *app,
		     const struct orbit *orbit, uint64_t now);

#endif
