/**
 * @file reach.c  Addresses that have shown parkblf they are reachable
 *
 * An address (its IP) is verified once it answered a NOTIFY of
 * parkblf: the answer echoes the NOTIFY's branch, which only a party
 * that received the NOTIFY can know.  Until then, what parkblf may
 * send there is limited (subdlg.c: 3 times the bytes of the requests
 * that named the address, RFC 9000 8.1's rule).  The set is bounded:
 * past REACH_MAX addresses the one that answered least recently is
 * forgotten (it has to answer again; a phone whose Contact is its
 * source address never needs to).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "reach.h"


enum { REACH_HASH_SIZE = 4096 };

struct reach {
	struct hash *addrs;   /**< struct raddr by IP                     */
	struct list lru;      /**< Least recently answered first          */
	uint32_t n;           /**< Addresses in the set                   */
};

struct raddr {
	struct le he;
	struct le le;
	struct sa addr;
};


static void destructor(void *arg)
{
	struct reach *r = arg;

	list_flush(&r->lru);
	mem_deref(r->addrs);
}


static void raddr_destructor(void *arg)
{
	struct raddr *ra = arg;

	hash_unlink(&ra->he);
	list_unlink(&ra->le);
}


/**
 * Allocate an empty set of verified addresses
 *
 * @param rp Where to store it
 *
 * @return 0 if success, otherwise errorcode
 */
int reach_alloc(struct reach **rp)
{
	struct reach *r;
	int err;

	if (!rp)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;

	err = hash_alloc(&r->addrs, REACH_HASH_SIZE);
	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}


static bool addr_cmp(struct le *le, void *arg)
{
	const struct raddr *ra = le->data;

	return sa_cmp(&ra->addr, arg, SA_ADDR);
}


static struct raddr *lookup(const struct reach *r, const struct sa *addr)
{
	return list_ledata(hash_lookup(r->addrs, sa_hash(addr, SA_ADDR),
				       addr_cmp, (void *)addr));
}


/**
 * Whether an address has answered parkblf
 *
 * @param r    Verified addresses
 * @param addr Address (its IP counts)
 *
 * @return true if it is verified
 */
bool reach_known(const struct reach *r, const struct sa *addr)
{
	return r && addr && lookup(r, addr) != NULL;
}


/** @return How many addresses are verified */
uint32_t reach_count(const struct reach *r)
{
	return r ? r->n : 0;
}


/**
 * Record that an address answered parkblf
 *
 * @param r    Verified addresses
 * @param addr Address (its IP counts)
 */
void reach_add(struct reach *r, const struct sa *addr)
{
	struct raddr *ra;

	if (!r || !addr || !sa_isset(addr, SA_ADDR))
		return;

	ra = lookup(r, addr);
	if (ra) {
		list_unlink(&ra->le);
		list_append(&r->lru, &ra->le, ra);
		return;
	}

	if (r->n >= REACH_MAX) {
		mem_deref(list_ledata(list_head(&r->lru)));
		--r->n;
	}

	ra = mem_zalloc(sizeof(*ra), raddr_destructor);
	if (!ra)
		return;

	ra->addr = *addr;
	hash_append(r->addrs, sa_hash(addr, SA_ADDR), &ra->he, ra);
	list_append(&r->lru, &ra->le, ra);
	++r->n;
}
