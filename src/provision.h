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
	const char *user;             /**< Fanvil: extension of line 2    */
	char host[PROVISION_HOST_MAX];/**< Where phones reach parkblf     */
	uint16_t port;
	unsigned first_key;           /**< 0: the vendor's default        */
	unsigned last_key;            /**< 0: the vendor's default        */
	unsigned modules;             /**< Expansion modules (Yealink)    */
	unsigned first, last;         /**< In force, set by provision_print */
};

/** The keys in force, and the orbits that fit on them */
struct provision_fit {
	unsigned first, last;         /**< Keys of the phone itself       */
	unsigned keys;                /**< Orbits on them                 */
	unsigned mods;                /**< Orbits on expansion modules    */
};

bool provision_vendor_known(const char *vendor);
int  provision_addr_decode(struct provision *prov, const char *arg,
			   uint16_t dport);
int  provision_print(struct re_printf *pf, const struct provision *prov);
int  provision_fit(const struct provision *prov, struct provision_fit *fit);
int  provision_main(int argc, char *argv[]);

#endif
