/**
 * @file fuzz.h  Shared set-up of the libFuzzer targets
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_FUZZ_H
#define PARKBLF_FUZZ_H

/** The DNs the fuzzers' orbit map watches (the fixtures' DNs) */
#define FUZZ_ORBITS \
	"park-1\t*00\tretrieve=*10\tlabel=\"Orbit 0\"\n" \
	"park-2\t*01\tretrieve=*11\n" \
	"park-3\t*02\tretrieve=*12\tprivacy=yes\n" \
	"ext-100\t100\n" \
	"id-7001\t7001\n"

/** Config lines that make the vendorxml decoder claim the 3CX-like
    fixture's type */
#define FUZZ_VENDOR_CONF \
	"vendor_xml_ctype\tapplication/x-3cx-dn+xml\n" \
	"vendor_xml_ns\tx=urn:x-3cx:dnstate\n" \
	"vendor_xml_dn\t//x:dn[@type='park']/@number\n" \
	"vendor_xml_call\tx:call[@state='parked']\n" \
	"vendor_xml_call_id\t@id\n" \
	"vendor_xml_number\tx:caller/@number\n" \
	"vendor_xml_name\tx:caller/@name\n"

extern struct config *fuzz_cfg;
extern struct orbitmap *fuzz_map;

void fuzz_init(void);
struct mbuf *fuzz_mbuf(const uint8_t *data, size_t size);
char *fuzz_str(const uint8_t *data, size_t size);
int  fuzz_store_check(const struct dn_update *upd);

#endif
