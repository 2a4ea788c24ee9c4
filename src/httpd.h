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
void httpd_orbit_changed(struct httpd *hd, const char *tenant,
			 const char *name);
void httpd_map_changed(struct httpd *hd, const char *tenant);
struct mbuf;
struct orbit;
struct re_printf;
int httpd_json_print(struct re_printf *pf, const char *str);
const char *httpd_iso_time(char *buf, size_t sz, uint64_t ms);
struct tenant;
int httpd_orbit_json(struct mbuf *mb, const struct tenant *t,
		     const struct orbit *orbit, uint64_t now);
int httpd_orbits_json(struct mbuf *mb, const struct tenant *t,
		      uint64_t now);

#endif
