/**
 * @file httpd.h  HTTP endpoint: /status, /metrics, /parks.xml
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

#endif
