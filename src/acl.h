/**
 * @file acl.h  Which source addresses may use parkblf
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_ACL_H
#define PARKBLF_ACL_H

struct acl;

int  acl_alloc(struct acl **aclp, const struct pl *spec, struct pl *bad);
bool acl_allows(const struct acl *acl, const struct sa *addr);

#endif
