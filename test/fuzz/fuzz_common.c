/**
 * @file fuzz_common.c  Shared set-up of the libFuzzer targets
 *
 * fuzz_init() does what main() does before the loop: libre, libxml2, a
 * config in force (with the vendor XML keys of the 3CX-like fixture, so
 * that the vendorxml decoder claims its type), every module of the
 * static table and an orbit map.  Logging stays on at debug level so
 * that log formatting sees the hostile input too; `make fuzz` runs the
 * targets with -close_fd_mask=2 to keep it off the terminal.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include <libxml/parser.h>
#include "parkblf.h"
#include "core.h"
#include "fuzz.h"


struct config *fuzz_cfg;
struct orbitmap *fuzz_map;

static const char config_text[] =
	"sip_listen\t127.0.0.1:5070\n"
	"upstream_uri\tsip:any-dn@192.0.2.1\n"
	"orbit_map\torbits.conf\n"
	"blf_list\tall-parks\n"
	FUZZ_VENDOR_CONF;

static const char orbits_text[] = FUZZ_ORBITS;


/**
 * One-time set-up, from LLVMFuzzerInitialize; aborts on failure
 */
void fuzz_init(void)
{
	size_t i;

	if (libre_init())
		abort();
	xmlInitParser();
	log_set_level(LOG_LEVEL_DEBUG);

	if (config_parse(&fuzz_cfg, "/etc/parkblf/parkblf.conf",
			 (const uint8_t *)config_text, strlen(config_text),
			 NULL))
		abort();
	config_set_current(fuzz_cfg);

	/* modules read their config keys at init */
	for (i = 0; mod_table[i]; i++) {
		struct mod *m;

		if (mod_add(&m, mod_table[i]))
			abort();
	}

	if (orbitmap_parse(&fuzz_map, "/etc/parkblf/orbits.conf",
			   (const uint8_t *)orbits_text, strlen(orbits_text),
			   NULL))
		abort();
}


/**
 * Copy fuzzer data into a buffer (pos 0)
 *
 * @param data Data
 * @param size Size of data
 *
 * @return Buffer, aborts if out of memory
 */
struct mbuf *fuzz_mbuf(const uint8_t *data, size_t size)
{
	struct mbuf *mb = mbuf_alloc(size ? size : 1);

	if (!mb || mbuf_write_mem(mb, data, size))
		abort();
	mb->pos = 0;

	return mb;
}


/**
 * Copy fuzzer data into a NUL-terminated mem string
 *
 * @param data Data
 * @param size Size of data
 *
 * @return String (stops at an embedded NUL), aborts if out of memory
 */
char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = mem_alloc(size + 1, NULL);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	return s;
}


/* Every DN the store knows, with its calls, as one comparable string */
struct snap {
	struct mbuf *mb;
	unsigned changes;
};


static void change_handler(const char *dn, void *arg)
{
	struct snap *sn = arg;
	(void)dn;

	++sn->changes;
}


static int snapshot(char **textp, const struct store *store,
		    const struct dn_update *upd)
{
	struct mbuf *mb = mbuf_alloc(256);
	struct le *le, *lc;
	int err = 0;

	if (!mb)
		return ENOMEM;

	for (le = list_head(&upd->reports); le && !err; le = le->next) {
		const struct dn_report *rep = le->data;
		const struct list *calls = store_calls(store, rep->dn);

		err = mbuf_printf(mb, "%s occupied=%d:", rep->dn,
				  store_occupied(store, rep->dn));
		for (lc = list_head(calls); lc && !err; lc = lc->next) {
			const struct parked_call *pc = lc->data;

			err = mbuf_printf(mb, " [%s|%s|%s|%llu]", pc->id,
					  pc->number ? pc->number : "-",
					  pc->name ? pc->name : "-",
					  (unsigned long long)pc->parked_at);
		}
		err |= mbuf_write_u8(mb, '\n');
	}

	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, textp, mb->end);
	}
	mem_deref(mb);

	return err;
}


/* Whether an update reports some DN more than once */
static bool dn_repeats(const struct dn_update *upd)
{
	struct le *a, *b;

	for (a = list_head(&upd->reports); a; a = a->next) {
		const struct dn_report *ra = a->data;

		for (b = a->next; b; b = b->next) {
			const struct dn_report *rb = b->data;

			if (!strcmp(ra->dn, rb->dn))
				return true;
		}
	}

	return false;
}


/**
 * Apply a decoded update to a fresh store twice: neither apply may
 * crash, and when each DN is reported once the second must change
 * nothing (same calls and lamps, no change reported)
 *
 * @param upd Decoded update
 *
 * @return 0 if success, otherwise errorcode (aborts on a violation)
 */
int fuzz_store_check(const struct dn_update *upd)
{
	const uint64_t now = 1700000000000ULL;
	struct store *store = NULL;
	char *first = NULL, *second = NULL;
	struct snap sn = {NULL, 0};
	int err;

	err = store_alloc(&store, change_handler, &sn);
	if (err)
		return err;

	err = store_apply(store, fuzz_map, upd, now);
	if (err)
		goto out;
	err = snapshot(&first, store, upd);
	if (err)
		goto out;

	sn.changes = 0;
	err = store_apply(store, fuzz_map, upd, now);
	if (err)
		goto out;
	err = snapshot(&second, store, upd);
	if (err)
		goto out;

	/* a DN reported twice (e.g. an RLMI list naming a resource twice,
	   with and without a version) makes the reports of one update
	   disagree: the second apply may then legitimately differ */
	if (dn_repeats(upd))
		goto out;

	if (strcmp(first, second)) {
		(void)re_fprintf(stderr, "store: second apply changed the "
				 "state:\n%s--- became ---\n%s", first,
				 second);
		abort();
	}
	if (sn.changes) {
		(void)re_fprintf(stderr, "store: second apply reported %u "
				 "change(s)\n", sn.changes);
		abort();
	}

 out:
	mem_deref(second);
	mem_deref(first);
	mem_deref(store);

	return err;
}
