/**
 * @file alert.c  Calls waiting too long: one timer per orbit
 *
 * An orbit whose oldest call has waited its alert time (park_alert_after,
 * or the orbit's alert_after=) is overdue: its keys ask for attention.
 * Each occupied orbit with an alert time has one entry here, its timer
 * armed for the oldest call's deadline; when a call comes or goes the
 * orbit's entry is set again.  Nothing ever walks all orbits: an orbit
 * costs something only while a call waits in it.
 *
 * Config key: park_alert_after (the orbit map's alert_after= per orbit).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "alert.h"
#include "metrics.h"


enum { HASH_SIZE = 256 };

/** One occupied orbit with an alert time */
struct alert_orbit {
	struct le he;
	struct ptmr tmr;          /**< Fires at the oldest call's deadline */
	struct alert *al;
	char *name;              /**< Orbit name                          */
	uint64_t oldest_at;      /**< When the oldest call was parked, ms */
	uint32_t after_s;        /**< Alert time                          */
	bool overdue;
};

struct alert {
	struct hash *orbits;     /**< struct alert_orbit by name          */
	alert_h *h;
	void *arg;
};


static void orbit_destructor(void *arg)
{
	struct alert_orbit *ao = arg;

	ptmr_cancel(&ao->tmr);
	hash_unlink(&ao->he);
	mem_deref(ao->name);
}


static void destructor(void *arg)
{
	struct alert *al = arg;

	hash_flush(al->orbits);
	mem_deref(al->orbits);
}


/**
 * Allocate the alert timers
 *
 * @param alp Where to store them
 * @param h   Called when an orbit becomes overdue by its timer
 * @param arg Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int alert_alloc(struct alert **alp, alert_h *h, void *arg)
{
	struct alert *al;
	int err;

	if (!alp)
		return EINVAL;

	al = mem_zalloc(sizeof(*al), destructor);
	if (!al)
		return ENOMEM;

	err = hash_alloc(&al->orbits, HASH_SIZE);
	if (err)
		goto out;

	al->h = h;
	al->arg = arg;

 out:
	if (err)
		mem_deref(al);
	else
		*alp = al;

	return err;
}


static bool name_cmp(struct le *le, void *arg)
{
	const struct alert_orbit *ao = le->data;

	return 0 == strcmp(ao->name, arg);
}


static struct alert_orbit *find(const struct alert *al, const char *name)
{
	return list_ledata(hash_lookup(al->orbits, hash_joaat_str(name),
				       name_cmp, (void *)name));
}


static void timeout(void *arg)
{
	struct alert_orbit *ao = arg;
	struct alert *al = ao->al;

	ao->overdue = true;
	++metrics.alerts;
	log_info("alert: %s: a call has waited %u s", ao->name,
		 ao->after_s);

	if (al->h)
		al->h(ao->name, al->arg);
}


/**
 * Set an orbit's alert from its oldest call
 *
 * @param al        Alert timers
 * @param name      Orbit name
 * @param after_s   Its alert time in seconds, 0 for none
 * @param oldest_at When its oldest call was parked (ms since the epoch),
 *                  0 if no call waits
 * @param now_ms    Current time, ms since the epoch
 *
 * @return true if the orbit's overdue state changed
 */
bool alert_update(struct alert *al, const char *name, uint32_t after_s,
		  uint64_t oldest_at, uint64_t now_ms)
{
	struct alert_orbit *ao;
	uint64_t deadline;
	bool was;

	if (!al || !name)
		return false;

	ao = find(al, name);
	was = ao && ao->overdue;

	if (!after_s || !oldest_at) {
		mem_deref(ao);
		return was;
	}

	if (!ao) {
		ao = mem_zalloc(sizeof(*ao), orbit_destructor);
		if (!ao || str_dup(&ao->name, name)) {
			mem_deref(ao);
			log_warn("alert: %s: out of memory, no alert", name);
			return was;
		}
		ao->al = al;
		hash_append(al->orbits, hash_joaat_str(name), &ao->he, ao);
	}

	ao->oldest_at = oldest_at;
	ao->after_s = after_s;
	deadline = oldest_at + (uint64_t)after_s * 1000;

	if (now_ms >= deadline) {
		ptmr_cancel(&ao->tmr);
		if (!ao->overdue) {
			++metrics.alerts;
			log_info("alert: %s: a call has waited over %u s",
				 ao->name, after_s);
		}
		ao->overdue = true;
	}
	else {
		ao->overdue = false;
		ptmr_start(&ao->tmr, deadline - now_ms, timeout, ao);
	}

	return was != ao->overdue;
}


/**
 * Tell whether an orbit's oldest call has waited too long
 *
 * @param al   Alert timers
 * @param name Orbit name
 *
 * @return The alert time it passed, in seconds; 0 if not overdue
 */
uint32_t alert_overdue(const struct alert *al, const char *name)
{
	const struct alert_orbit *ao;

	if (!al || !name)
		return 0;

	ao = find(al, name);

	return ao && ao->overdue ? ao->after_s : 0;
}


/**
 * Get an orbit's alert time: its alert_after=, or park_alert_after
 *
 * @param cfg   Configuration
 * @param orbit Orbit
 *
 * @return Seconds, 0 for no alert
 */
uint32_t alert_after(const struct config *cfg, const struct orbit *orbit)
{
	if (orbit && orbit->alert_after >= 0)
		return (uint32_t)orbit->alert_after;

	return cfg ? cfg->park_alert_after : 0;
}


static bool count_overdue(struct le *le, void *arg)
{
	const struct alert_orbit *ao = le->data;
	uint32_t *n = arg;

	if (ao->overdue)
		++*n;

	return false;
}


/**
 * Count the overdue orbits
 *
 * @param al Alert timers
 *
 * @return Orbits whose oldest call waits past its alert time
 */
uint32_t alert_count(const struct alert *al)
{
	uint32_t n = 0;

	if (al)
		(void)hash_apply(al->orbits, count_overdue, &n);

	return n;
}
