/**
 * @file reach.h  Addresses that have shown parkblf they are reachable
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_REACH_H
#define PARKBLF_REACH_H

struct reach;
struct sa;

enum { REACH_MAX = 16384 };   /**< Addresses kept, at most         */

int  reach_alloc(struct reach **rp);
bool reach_known(const struct reach *r, const struct sa *addr);
void reach_add(struct reach *r, const struct sa *addr);
uint32_t reach_count(const struct reach *r);

#endif
