/**
 * @file store.c  Parked calls per DN, as the PBX last reported them
 *
 * Only DNs that the orbit map watches are kept.  Each report is applied
 * once; when the list of calls of a DN really changes (a call came or
 * went, or its caller changed) the change handler runs once for that DN.
 *
 * A DN reported unknown (a resource list ended its subscription to it)
 * shows neither calls nor idle until a report brings its state back:
 * store_known() says so, store_calls() and store_occupied() show
 * nothing.  Its last calls are kept, so that a call still parked when
 * the state comes back keeps the time it was parked.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <time.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum { HASH_SIZE = 256 };

/** What the store knows of one DN */
struct dnstate {
	struct le he;
	char *dn;
	struct list calls;     /**< struct parked_call, oldest first      */
	bool occupied;         /**< Busy without call details             */
	bool unknown;          /**< State unknown: calls hidden           */
	bool has_version;
	uint32_t version;      /**< Last document version applied         */
	uint64_t gen;          /**< Update generation that last saw it    */
	uint64_t session;      /**< Upstream session that last saw it     */
};

struct store {
	struct hash *dns;      /**< struct dnstate by DN                  */
	uint64_t gen;
	uint64_t session;      /**< Current upstream session              */
	store_change_h *changeh;
	void *arg;
	store_end_h *endh;     /**< Calls that left, or NULL              */
	void *end_arg;
};


static void call_destructor(void *arg)
{
	struct parked_call *pc = arg;

	list_unlink(&pc->le);
	mem_deref(pc->id);
	mem_deref(pc->number);
	mem_deref(pc->name);
}


static void dnstate_destructor(void *arg)
{
	struct dnstate *ds = arg;

	hash_unlink(&ds->he);
	list_flush(&ds->calls);
	mem_deref(ds->dn);
}


static void store_destructor(void *arg)
{
	struct store *store = arg;

	hash_flush(store->dns);
	mem_deref(store->dns);
}


/**
 * Allocate an empty store
 *
 * @param storep  Where to store the store
 * @param changeh Called once per DN whose calls changed
 * @param arg     Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int store_alloc(struct store **storep, store_change_h *changeh, void *arg)
{
	struct store *store;
	int err;

	if (!storep)
		return EINVAL;

	store = mem_zalloc(sizeof(*store), store_destructor);
	if (!store)
		return ENOMEM;

	err = hash_alloc(&store->dns, HASH_SIZE);
	if (err)
		goto out;

	store->changeh = changeh;
	store->arg = arg;

 out:
	if (err)
		mem_deref(store);
	else
		*storep = store;

	return err;
}


static bool dn_cmp(struct le *le, void *arg)
{
	const struct dnstate *ds = le->data;

	return 0 == strcmp(ds->dn, arg);
}


static struct dnstate *dnstate_find(const struct store *store,
				    const char *dn)
{
	return list_ledata(hash_lookup(store->dns, hash_joaat_str(dn),
				       dn_cmp, (void *)dn));
}


static int dnstate_get(struct dnstate **dsp, struct store *store,
		       const char *dn)
{
	struct dnstate *ds = dnstate_find(store, dn);
	int err;

	if (ds) {
		*dsp = ds;
		return 0;
	}

	ds = mem_zalloc(sizeof(*ds), dnstate_destructor);
	if (!ds)
		return ENOMEM;

	err = str_dup(&ds->dn, dn);
	if (err) {
		mem_deref(ds);
		return err;
	}

	hash_append(store->dns, hash_joaat_str(dn), &ds->he, ds);
	*dsp = ds;

	return 0;
}


static struct parked_call *call_find(const struct list *calls,
				     const char *id)
{
	struct le *le;

	for (le = list_head(calls); le; le = le->next) {
		struct parked_call *pc = le->data;

		if (!strcmp(pc->id, id))
			return pc;
	}

	return NULL;
}


/* Keep the list ordered by parked_at; equal times keep arrival order */
static void call_insert(struct list *calls, struct parked_call *pc)
{
	struct le *le = list_tail(calls);

	while (le && ((struct parked_call *)le->data)->parked_at >
	       pc->parked_at)
		le = le->prev;

	if (le)
		list_insert_after(calls, le, &pc->le, pc);
	else
		list_prepend(calls, &pc->le, pc);
}


static int dup_or_null(char **dst, const char *src)
{
	return src ? str_dup(dst, src) : 0;
}


static int call_add(struct list *calls, const char *id, const char *number,
		    const char *name, uint64_t parked_at)
{
	struct parked_call *pc;
	int err;

	pc = mem_zalloc(sizeof(*pc), call_destructor);
	if (!pc)
		return ENOMEM;

	pc->parked_at = parked_at;
	err  = str_dup(&pc->id, id);
	err |= dup_or_null(&pc->number, number);
	err |= dup_or_null(&pc->name, name);
	if (err) {
		mem_deref(pc);
		return err;
	}

	call_insert(calls, pc);

	return 0;
}


static uint64_t parked_since(const struct dn_call *dc, uint64_t now_ms)
{
	uint64_t d = (uint64_t)dc->duration * 1000;

	if (!dc->has_duration || d > now_ms)
		return now_ms;

	return now_ms - d;
}


static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;

	return 0 == strcmp(a, b);
}


static bool calls_equal(const struct list *a, const struct list *b)
{
	struct le *la = list_head(a), *lb = list_head(b);

	for (; la && lb; la = la->next, lb = lb->next) {
		const struct parked_call *pa = la->data, *pb = lb->data;

		if (!str_eq(pa->id, pb->id) ||
		    !str_eq(pa->number, pb->number) ||
		    !str_eq(pa->name, pb->name))
			return false;
	}

	return la == NULL && lb == NULL;
}


/* Build the DN's new call list from a report */
static int build_calls(struct list *calls, const struct dnstate *ds,
		       const struct dn_report *rep, uint64_t now_ms)
{
	struct le *le;
	int err = 0;

	/* partial state starts from what we have */
	if (rep->partial) {
		for (le = list_head(&ds->calls); le && !err; le = le->next) {
			const struct parked_call *pc = le->data;

			err = call_add(calls, pc->id, pc->number, pc->name,
				       pc->parked_at);
		}
	}

	for (le = list_head(&rep->calls); le && !err; le = le->next) {
		const struct dn_call *dc = le->data;
		struct parked_call *pc = call_find(calls, dc->id);
		const struct parked_call *old;
		uint64_t at;

		if (dc->terminated) {
			mem_deref(pc);
			continue;
		}

		if (pc) {
			if (!rep->partial)
				continue;  /* a duplicate id: first wins */
			at = pc->parked_at;
			mem_deref(pc);
		}
		else {
			old = call_find(&ds->calls, dc->id);
			at = old ? old->parked_at : parked_since(dc, now_ms);
		}

		err = call_add(calls, dc->id, dc->number, dc->name, at);
	}

	return err;
}


/* Report the calls of ds that calls (NULL: none) no longer has */
static void report_ended(const struct store *store,
			 const struct dnstate *ds, const struct list *calls,
			 uint64_t now_ms)
{
	struct le *le;

	if (!store->endh)
		return;

	for (le = list_head(&ds->calls); le; le = le->next) {
		const struct parked_call *pc = le->data;

		if (!calls || !call_find(calls, pc->id))
			store->endh(ds->dn, pc, now_ms, store->end_arg);
	}
}


static int apply_report(struct store *store, const struct dn_report *rep,
			uint64_t now_ms)
{
	struct list calls = LIST_INIT;
	struct dnstate *ds;
	bool changed, occupied;
	struct le *le;
	int err;

	err = dnstate_get(&ds, store, rep->dn);
	if (err)
		return err;

	ds->gen = store->gen;
	ds->session = store->session;

	/* listed, its state not known yet: not idle, so nothing changes */
	if (rep->pending) {
		log_debug("store: %s: state pending, kept", rep->dn);
		return 0;
	}

	/* not known any more: versions start over with the next report */
	if (rep->unknown) {
		ds->has_version = false;
		if (ds->unknown)
			return 0;
		log_info("store: %s: the PBX ended its subscription to it: "
			 "state unknown", rep->dn);
		ds->unknown = true;
		if (store->changeh)
			store->changeh(ds->dn, store->arg);
		return 0;
	}

	if (rep->has_version && ds->has_version &&
	    rep->version <= ds->version) {
		log_debug("store: %s: stale version %u (have %u), ignored",
			  rep->dn, rep->version, ds->version);
		return 0;
	}
	if (rep->has_version) {
		if (rep->partial && ds->has_version &&
		    rep->version != ds->version + 1) {
			log_warn("store: %s: partial version %u after %u: "
				 "some changes were missed", rep->dn,
				 rep->version, ds->version);
		}
		ds->has_version = true;
		ds->version = rep->version;
	}

	err = build_calls(&calls, ds, rep, now_ms);
	if (err) {
		list_flush(&calls);
		return err;
	}

	occupied = rep->partial ? ds->occupied : rep->occupied;
	changed = !calls_equal(&calls, &ds->calls) ||
		occupied != ds->occupied || ds->unknown;
	if (ds->unknown)
		log_info("store: %s: state known again", rep->dn);
	ds->unknown = false;

	report_ended(store, ds, &calls, now_ms);
	list_flush(&ds->calls);
	ds->calls = calls;
	ds->occupied = occupied;
	/* the list head moved: the elements still point at the old one */
	for (le = list_head(&ds->calls); le; le = le->next)
		le->list = &ds->calls;

	if (changed && store->changeh)
		store->changeh(ds->dn, store->arg);

	return 0;
}


static bool clear_unseen(struct le *le, void *arg)
{
	struct dnstate *ds = le->data;
	struct store *store = arg;
	bool changed;

	if (ds->gen == store->gen)
		return false;

	changed = !list_isempty(&ds->calls) || ds->occupied || ds->unknown;
	report_ended(store, ds, NULL, store_now_ms());
	list_flush(&ds->calls);
	ds->occupied = false;
	ds->unknown = false;

	if (changed && store->changeh)
		store->changeh(ds->dn, store->arg);

	return false;
}


/**
 * Apply what one upstream body reported
 *
 * @param store  Store
 * @param map    Orbit map: DNs it does not watch are skipped
 * @param upd    Decoded update
 * @param now_ms Current time, ms since the epoch
 *
 * @return 0 if success, otherwise errorcode
 */
int store_apply(struct store *store, const struct orbitmap *map,
		const struct dn_update *upd, uint64_t now_ms)
{
	struct le *le;
	int err = 0;

	if (!store || !upd)
		return EINVAL;

	++store->gen;

	for (le = list_head(&upd->reports); le; le = le->next) {
		const struct dn_report *rep = le->data;

		if (!orbitmap_has_dn(map, rep->dn))
			continue;

		err = apply_report(store, rep, now_ms);
		if (err)
			break;
	}

	if (!err && upd->fullstate)
		(void)hash_apply(store->dns, clear_unseen, store);

	return err;
}


/**
 * Get the parked calls of a DN, oldest first
 *
 * @param store Store
 * @param dn    DN
 *
 * @return List of struct parked_call, or NULL if none is known
 */
const struct list *store_calls(const struct store *store, const char *dn)
{
	const struct dnstate *ds;

	if (!store || !dn)
		return NULL;

	ds = dnstate_find(store, dn);

	return ds && !ds->unknown ? &ds->calls : NULL;
}


/**
 * Tell whether a DN is busy (calls parked, or busy without details)
 *
 * @param store Store
 * @param dn    DN
 *
 * @return true if occupied
 */
bool store_occupied(const struct store *store, const char *dn)
{
	const struct dnstate *ds;

	if (!store || !dn)
		return false;

	ds = dnstate_find(store, dn);

	return ds && !ds->unknown &&
		(ds->occupied || !list_isempty(&ds->calls));
}


/**
 * Tell whether a DN's state is known (not ended upstream)
 *
 * @param store Store
 * @param dn    DN
 *
 * @return false if no lamp may show it, true otherwise
 */
bool store_known(const struct store *store, const char *dn)
{
	const struct dnstate *ds;

	if (!store || !dn)
		return true;

	ds = dnstate_find(store, dn);

	return !ds || !ds->unknown;
}


/**
 * Be told of every call that leaves a DN
 *
 * @param store Store
 * @param endh  Handler, NULL for none
 * @param arg   Handler argument
 */
void store_set_endh(struct store *store, store_end_h *endh, void *arg)
{
	if (!store)
		return;

	store->endh = endh;
	store->end_arg = arg;
}


static bool reset_version(struct le *le, void *arg)
{
	struct dnstate *ds = le->data;
	(void)arg;

	ds->has_version = false;

	return false;
}


/**
 * Start a new upstream session: document versions start over
 *
 * @param store Store
 */
void store_new_session(struct store *store)
{
	if (!store)
		return;

	++store->session;
	(void)hash_apply(store->dns, reset_version, NULL);
}


static bool clear_unreported(struct le *le, void *arg)
{
	struct dnstate *ds = le->data;
	struct store *store = arg;

	/* clear_unseen compares generations: make this one unseen */
	if (ds->session != store->session)
		ds->gen = store->gen - 1;
	else
		ds->gen = store->gen;

	return clear_unseen(le, store);
}


/**
 * End the initial report of an upstream session: DNs it did not
 * mention are idle (a PBX may report only busy DNs, or every DN; both
 * then leave the true picture)
 *
 * @param store Store
 */
void store_session_sweep(struct store *store)
{
	if (!store)
		return;

	++store->gen;
	(void)hash_apply(store->dns, clear_unreported, store);
}


static bool drop_unmapped(struct le *le, void *arg)
{
	struct dnstate *ds = le->data;

	if (!orbitmap_has_dn(arg, ds->dn))
		mem_deref(ds);

	return false;
}


/**
 * Forget DNs that a (new) orbit map no longer watches
 *
 * @param store Store
 * @param map   Orbit map
 */
void store_clear_unmapped(struct store *store, const struct orbitmap *map)
{
	if (!store)
		return;

	(void)hash_apply(store->dns, drop_unmapped, (void *)map);
}


/**
 * Get the wall-clock time
 *
 * @return ms since the epoch
 */
uint64_t store_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
