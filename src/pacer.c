/**
 * @file pacer.c  Coalescing and pacing of NOTIFYs
 *
 * Two limits, so that no phone drowns:
 *
 *  - per subscription, at most one NOTIFY per min_interval; changes in
 *    between are coalesced, and the NOTIFY that goes out renders the
 *    state at that moment (latest wins, never a stale one);
 *  - per phone address (IP, any port), at most phone_rate NOTIFYs per
 *    second with a burst of phone_rate, by the generic cell rate
 *    algorithm (virtual scheduling); some phones drop NOTIFYs past
 *    about 10 per second.
 *
 * A burst after a reload or a restart is spread out by the same rules.
 *
 * A phone address is one entry of the daemon's phone table
 * (pacer_phones), whichever tenants it subscribes to: its NOTIFY budget
 * and its count of subscriptions (subscribe_max_per_source) are the
 * same for all of them.  Each tenant's pacer applies its own
 * notify_phone_rate to that shared budget (with one rate for every
 * tenant, the default, the phone gets that rate in all).
 *
 * Config keys: notify_min_interval, notify_phone_rate.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "pacer.h"


/* one table holds every tenant's phone addresses: at 50,000, ~12 per
   bucket (64 KiB) */
enum { PHONE_HASH_SIZE = 4096 };

/** The phone addresses of every tenant */
struct pacer_phones {
	struct hash *h;             /**< struct pacer_phone by IP address */
};

struct pacer {
	struct pacer_phones *phones; /**< Shared, referenced              */
	uint64_t interval_ms;       /**< Per subscription                 */
	uint64_t emission_us;       /**< 1/phone_rate, microseconds       */
	uint64_t tolerance_us;      /**< Burst: phone_rate NOTIFYs        */
};

/** One phone address and when it may next get a NOTIFY */
struct pacer_phone {
	struct le he;
	struct sa addr;
	uint64_t tat_us;            /**< Theoretical arrival time         */
};



static void phones_destructor(void *arg)
{
	struct pacer_phones *ph = arg;

	/* empty by now: each slot holds its pacer, each pacer us */
	mem_deref(ph->h);
}


static void pacer_destructor(void *arg)
{
	struct pacer *p = arg;

	mem_deref(p->phones);
}


static void phone_destructor(void *arg)
{
	struct pacer_phone *ph = arg;

	hash_unlink(&ph->he);
}


static void slot_destructor(void *arg)
{
	pacer_slot_close(arg);
}


/**
 * Allocate a phone table, to be shared by pacers (one per tenant)
 *
 * @param pp Where to store the table
 *
 * @return 0 if success, otherwise errorcode
 */
int pacer_phones_alloc(struct pacer_phones **pp)
{
	struct pacer_phones *ph;
	int err;

	if (!pp)
		return EINVAL;

	ph = mem_zalloc(sizeof(*ph), phones_destructor);
	if (!ph)
		return ENOMEM;

	err = hash_alloc(&ph->h, PHONE_HASH_SIZE);
	if (err)
		mem_deref(ph);
	else
		*pp = ph;

	return err;
}


/**
 * Allocate a pacer
 *
 * @param pp              Where to store the pacer
 * @param phones          The phone table it shares (referenced), NULL
 *                        for one of its own
 * @param min_interval_ms Shortest time between two NOTIFYs of one
 *                        subscription (0 = no limit)
 * @param phone_rate      NOTIFYs per second per phone address (> 0)
 *
 * @return 0 if success, otherwise errorcode
 */
int pacer_alloc(struct pacer **pp, struct pacer_phones *phones,
		uint32_t min_interval_ms, uint32_t phone_rate)
{
	struct pacer *p;
	int err = 0;

	if (!pp || !phone_rate)
		return EINVAL;

	p = mem_zalloc(sizeof(*p), pacer_destructor);
	if (!p)
		return ENOMEM;

	if (phones)
		p->phones = mem_ref(phones);
	else
		err = pacer_phones_alloc(&p->phones);
	if (err) {
		mem_deref(p);
		return err;
	}

	p->interval_ms = min_interval_ms;
	p->emission_us = 1000000 / phone_rate;
	p->tolerance_us = p->emission_us * (phone_rate - 1);
	*pp = p;

	return 0;
}


static bool phone_cmp(struct le *le, void *arg)
{
	const struct pacer_phone *ph = le->data;

	return sa_cmp(&ph->addr, arg, SA_ADDR);
}


static int phone_get(struct pacer_phone **php, struct pacer *p,
		     const struct sa *peer)
{
	uint32_t key = sa_hash(peer, SA_ADDR);
	struct pacer_phone *ph;

	ph = list_ledata(hash_lookup(p->phones->h, key, phone_cmp,
				     (void *)peer));
	if (ph) {
		*php = mem_ref(ph);
		return 0;
	}

	ph = mem_zalloc(sizeof(*ph), phone_destructor);
	if (!ph)
		return ENOMEM;

	ph->addr = *peer;
	/* the hash holds no reference: the last slot unlinks it */
	hash_append(p->phones->h, key, &ph->he, ph);
	*php = ph;

	return 0;
}


/**
 * Set up the pacing state of one subscription inside its owner (a
 * watcher: one allocation less per subscription); pacer_slot_close
 * undoes it
 *
 * @param s     Slot (its memory zeroed or closed)
 * @param p     Pacer
 * @param peer  The phone's address (its IP is what is paced)
 * @param sendh Called when a NOTIFY may go out
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int pacer_slot_init(struct pacer_slot *s, struct pacer *p,
		    const struct sa *peer, pacer_send_h *sendh, void *arg)
{
	int err;

	if (!s || !p || !peer || !sendh)
		return EINVAL;

	memset(s, 0, sizeof(*s));
	ptmr_init(&s->tmr);
	err = phone_get(&s->phone, p, peer);
	if (err)
		return err;

	s->p = mem_ref(p);
	s->sendh = sendh;
	s->arg = arg;

	return 0;
}


/**
 * End the pacing state of one subscription (its timer, its references)
 *
 * @param s Slot, set up or zeroed
 */
void pacer_slot_close(struct pacer_slot *s)
{
	if (!s)
		return;

	ptmr_cancel(&s->tmr);
	s->phone = mem_deref(s->phone);
	s->p = mem_deref(s->p);
}


/**
 * Allocate the pacing state of one subscription
 *
 * @param sp    Where to store the slot
 * @param p     Pacer
 * @param peer  The phone's address (its IP is what is paced)
 * @param sendh Called when a NOTIFY may go out
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int pacer_slot_alloc(struct pacer_slot **sp, struct pacer *p,
		     const struct sa *peer, pacer_send_h *sendh, void *arg)
{
	struct pacer_slot *s;
	int err;

	if (!sp)
		return EINVAL;

	s = mem_zalloc(sizeof(*s), slot_destructor);
	if (!s)
		return ENOMEM;

	err = pacer_slot_init(s, p, peer, sendh, arg);
	if (err)
		mem_deref(s);
	else
		*sp = s;

	return err;
}


/* ms until both limits allow a send; 0 = now */
static uint64_t wait_ms(const struct pacer_slot *s, uint64_t now_ms)
{
	const struct pacer *p = s->p;
	uint64_t now_us = now_ms * 1000, wait = 0, earliest;

	if (s->last_ms && now_ms < s->last_ms + p->interval_ms)
		wait = s->last_ms + p->interval_ms - now_ms;

	earliest = s->phone->tat_us > p->tolerance_us ?
		s->phone->tat_us - p->tolerance_us : 0;
	if (earliest > now_us) {
		uint64_t w = (earliest - now_us + 999) / 1000;

		if (w > wait)
			wait = w;
	}

	return wait;
}


/**
 * Record a NOTIFY that went out without asking (the first one of a
 * subscription must not wait)
 *
 * @param s Slot
 */
void pacer_sent(struct pacer_slot *s)
{
	uint64_t now_ms = tmr_jiffies();
	uint64_t now_us = now_ms * 1000;
	struct pacer_phone *ph;

	if (!s)
		return;

	ph = s->phone;
	s->last_ms = now_ms;
	ph->tat_us = (ph->tat_us > now_us ? ph->tat_us : now_us) +
		s->p->emission_us;
}


static void timeout_handler(void *arg)
{
	pacer_request(arg);
}


/**
 * Ask to send the latest state: now if both limits allow, otherwise
 * once they do (several requests meanwhile make one NOTIFY)
 *
 * @param s Slot
 */
void pacer_request(struct pacer_slot *s)
{
	uint64_t w;

	if (!s)
		return;

	w = wait_ms(s, tmr_jiffies());
	if (w) {
		/* restarting would only delay: the timer already runs */
		if (!ptmr_isrunning(&s->tmr))
			ptmr_start(&s->tmr, w, timeout_handler, s);
		return;
	}

	ptmr_cancel(&s->tmr);
	pacer_sent(s);
	s->sendh(s->arg);
}


/**
 * Ask the CPU for what pacer_request reads besides the slot (its
 * phone's entry, an allocation of its own), a few watchers ahead
 *
 * @param s Slot
 */
void pacer_prefetch(const struct pacer_slot *s)
{
	if (s && s->phone)
		__builtin_prefetch(&s->phone->tat_us, 1);
}


/**
 * Count the subscriptions from one phone address, of every pacer that
 * shares the phone table
 *
 * @param p    Pacer
 * @param peer Address (the IP counts)
 *
 * @return Number of subscriptions paced for that address
 */
uint32_t pacer_count(const struct pacer *p, const struct sa *peer)
{
	const struct pacer_phone *ph;

	if (!p || !peer)
		return 0;

	ph = list_ledata(hash_lookup(p->phones->h, sa_hash(peer, SA_ADDR),
				     phone_cmp, (void *)peer));

	/* every slot of that address holds one reference */
	return ph ? mem_nrefs(ph) : 0;
}


/**
 * The address a slot is paced and counted by (its IP counts)
 *
 * @param s Slot
 *
 * @return The address (of the slot's first subscription from that IP)
 */
const struct sa *pacer_slot_addr(const struct pacer_slot *s)
{
	static const struct sa none;

	return s ? &s->phone->addr : &none;
}


/**
 * Tell whether a NOTIFY is waiting for its turn
 *
 * @param s Slot
 *
 * @return true if one is scheduled
 */
bool pacer_pending(const struct pacer_slot *s)
{
	return s && ptmr_isrunning(&s->tmr);
}
