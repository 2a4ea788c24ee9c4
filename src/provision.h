/**
 * @file provision.h  BLF key configuration for phones, per vendor
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_PROVISION_H
#define PARKBLF_PROVISION_H

struct re_printf;
struct orbitmap;

enum { PROVISION_HOST_MAX = 256 };

/** What to print the key configuration for */
struct provision {
	const struct orbitmap *map;   /**< Orbits, one key each, in order */
	const char *source;           /**< Config file, named in headers  */
	const char *vendor;           /**< Vendor name, see -h            */
	char host[PROVISION_HOST_MAX];/**< Where phones reach parkblf     */
	uint16_t port;
	unsigned first_key;           /**< 0: the vendor's default        */
};

bool provision_vendor_known(const char *vendor);
int  provision_addr_decode(struct provision *prov, const char *arg,
			   uint16_t dport);
int  provision_print(struct re_printf *pf, const struct provision *prov);
int  provision_main(int argc, char *argv[]);

#endif
