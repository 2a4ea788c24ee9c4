/**
 * @file acl.c  Which source addresses may use parkblf
 *
 * A comma-separated list of networks, ADDRESS/PREFIX (IPv4 or IPv6) or
 * a bare address.  Config key: subscribe_allow (default: loopback and
 * the private ranges).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <netinet/in.h>
#include <re.h>
#include "acl.h"


enum { MAX_NETS = 64 };

struct net {
	struct sa addr;
	unsigned prefix;
};

struct acl {
	struct net netv[MAX_NETS];
	size_t netc;
};


static int net_decode(struct net *net, const struct pl *pl)
{
	struct pl addr = *pl, len = PL_INIT;
	const char *slash = pl_strchr(pl, '/');
	unsigned max;
	size_t i;

	if (slash) {
		addr.l = slash - pl->p;
		len.p = slash + 1;
		len.l = pl->l - addr.l - 1;
	}

	if (sa_set(&net->addr, &addr, 0))
		return EINVAL;

	max = sa_af(&net->addr) == AF_INET ? 32 : 128;
	if (!slash) {
		net->prefix = max;
		return 0;
	}

	if (!len.l || len.l > 3)
		return EINVAL;
	for (i = 0; i < len.l; i++) {
		if (len.p[i] < '0' || len.p[i] > '9')
			return EINVAL;
	}

	net->prefix = pl_u32(&len);

	return net->prefix <= max ? 0 : EINVAL;
}


static bool net_contains(const struct net *net, const struct sa *sa)
{
	const uint8_t *a, *b;
	unsigned bits = net->prefix, i;
	struct sa v4;

	/* an IPv4 peer may arrive as ::ffff:a.b.c.d */
	if (sa_af(sa) == AF_INET6 && sa_af(&net->addr) == AF_INET &&
	    IN6_IS_ADDR_V4MAPPED(&sa->u.in6.sin6_addr)) {
		sa_set_in(&v4, ntohl(*(const uint32_t *)(const void *)
				     &sa->u.in6.sin6_addr.s6_addr[12]), 0);
		sa = &v4;
	}

	if (sa_af(sa) != sa_af(&net->addr))
		return false;

	if (sa_af(sa) == AF_INET) {
		a = (const uint8_t *)&sa->u.in.sin_addr;
		b = (const uint8_t *)&net->addr.u.in.sin_addr;
	}
	else {
		a = sa->u.in6.sin6_addr.s6_addr;
		b = net->addr.u.in6.sin6_addr.s6_addr;
	}

	for (i = 0; bits >= 8; i++, bits -= 8) {
		if (a[i] != b[i])
			return false;
	}

	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((a[i] & mask) != (b[i] & mask))
			return false;
	}

	return true;
}


/**
 * Parse a list of networks
 *
 * @param aclp Where to store the list
 * @param spec "NET[,NET...]" with NET = ADDRESS[/PREFIX]
 * @param bad  On EINVAL, set to the entry that is wrong (may be NULL)
 *
 * @return 0 if success, otherwise errorcode
 */
int acl_alloc(struct acl **aclp, const struct pl *spec, struct pl *bad)
{
	struct pl rest, item;
	struct acl *acl;
	int err = 0;

	if (!aclp || !spec)
		return EINVAL;

	acl = mem_zalloc(sizeof(*acl), NULL);
	if (!acl)
		return ENOMEM;

	rest = *spec;
	while (rest.l && !err) {
		const char *comma = pl_strchr(&rest, ',');

		item.p = rest.p;
		item.l = comma ? (size_t)(comma - rest.p) : rest.l;
		pl_advance(&rest, item.l + (comma ? 1 : 0));

		if (acl->netc >= MAX_NETS ||
		    net_decode(&acl->netv[acl->netc], &item)) {
			if (bad)
				*bad = item;
			err = EINVAL;
			break;
		}
		++acl->netc;
	}

	if (err)
		mem_deref(acl);
	else
		*aclp = acl;

	return err;
}


/**
 * Tell whether an address is in the list
 *
 * @param acl  List of networks
 * @param addr Source address
 *
 * @return true if allowed
 */
bool acl_allows(const struct acl *acl, const struct sa *addr)
{
	size_t i;

	if (!acl || !addr)
		return false;

	for (i = 0; i < acl->netc; i++) {
		if (net_contains(&acl->netv[i], addr))
			return true;
	}

	return false;
}
