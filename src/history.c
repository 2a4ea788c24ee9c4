/**
 * @file history.c  What happened today: calls that left their orbit
 *
 * The last history_max calls that left an orbit (retrieved, or the
 * caller hung up: a PBX's dialog report does not say which), newest
 * first, for /status?history=N and the board; and a histogram of the
 * time each call waited, for /metrics.  Kept in memory, and with
 * state_db in its table too (histdb.c), read back at start-up; the
 * histogram is a counter since start-up, as Prometheus expects.
 *
 * Config key: history_max.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "httpd.h"
#include "history.h"


/** Upper bounds of the wait histogram, seconds (then +Inf) */
static const uint32_t buckets[] = {10, 30, 60, 120, 300, 600, 1800};

enum { NBUCKETS = sizeof(buckets) / sizeof(buckets[0]) };

struct entry {
	char *orbit;
	char *number;
	char *name;
	uint64_t parked_at;     /**< ms since the epoch                  */
	uint64_t ended_at;
};

struct history {
	struct entry *ring;     /**< max entries, next is the oldest     */
	uint32_t max;
	uint32_t next;
	uint32_t count;         /**< Entries in the ring                 */
	uint64_t hist[NBUCKETS + 1];  /**< Calls per bucket (not cumulative) */
	uint64_t total;
	uint64_t sum_ms;
};


static void entry_clear(struct entry *e)
{
	e->orbit = mem_deref(e->orbit);
	e->number = mem_deref(e->number);
	e->name = mem_deref(e->name);
}


static void destructor(void *arg)
{
	struct history *h = arg;
	uint32_t i;

	for (i = 0; i < h->max; i++)
		entry_clear(&h->ring[i]);
	mem_deref(h->ring);
}


/**
 * Allocate the history
 *
 * @param hp  Where to store it
 * @param max Most calls kept (0: none, only the histogram)
 *
 * @return 0 if success, otherwise errorcode
 */
int history_alloc(struct history **hp, uint32_t max)
{
	struct history *h;

	if (!hp)
		return EINVAL;

	h = mem_zalloc(sizeof(*h), destructor);
	if (!h)
		return ENOMEM;

	if (max) {
		h->ring = mem_zalloc(max * sizeof(*h->ring), NULL);
		if (!h->ring) {
			mem_deref(h);
			return ENOMEM;
		}
	}

	h->max = max;
	*hp = h;

	return 0;
}


static int dup_or_null(char **dst, const char *src)
{
	return src ? str_dup(dst, src) : 0;
}


/* Keep a call in the ring, the oldest one out */
static void put(struct history *h, const char *orbit,
		const struct parked_call *pc, uint64_t ended_at)
{
	struct entry *e;
	int err;

	if (!h->max)
		return;

	e = &h->ring[h->next];
	entry_clear(e);
	err  = str_dup(&e->orbit, orbit);
	err |= dup_or_null(&e->number, pc->number);
	err |= dup_or_null(&e->name, pc->name);
	if (err) {
		entry_clear(e);
		return;
	}
	e->parked_at = pc->parked_at;
	e->ended_at = ended_at;

	h->next = (h->next + 1) % h->max;
	if (h->count < h->max)
		++h->count;
}


/**
 * Record a call that left its orbit
 *
 * @param h        History
 * @param orbit    Orbit name
 * @param pc       The call
 * @param ended_at When it left, ms since the epoch
 */
void history_add(struct history *h, const char *orbit,
		 const struct parked_call *pc, uint64_t ended_at)
{
	uint64_t waited;
	size_t i;

	if (!h || !orbit || !pc)
		return;

	waited = ended_at > pc->parked_at ? ended_at - pc->parked_at : 0;
	for (i = 0; i < NBUCKETS && waited > buckets[i] * 1000ULL; i++)
		;
	++h->hist[i];
	++h->total;
	h->sum_ms += waited;

	put(h, orbit, pc, ended_at);
}


/**
 * Put back a call of an earlier run (state_db): listed, not counted
 * again in the histogram (a counter since start-up)
 *
 * @param h        History
 * @param orbit    Orbit name
 * @param pc       The call
 * @param ended_at When it left, ms since the epoch
 */
void history_restore(struct history *h, const char *orbit,
		     const struct parked_call *pc, uint64_t ended_at)
{
	if (h && orbit && pc)
		put(h, orbit, pc, ended_at);
}


/**
 * Print the newest n calls as a JSON array
 *
 * @param mb Buffer to append to
 * @param h  History
 * @param n  Most calls to print
 *
 * @return 0 if success, otherwise errorcode
 */
int history_json(struct mbuf *mb, const struct history *h, uint32_t n)
{
	char t1[32], t2[32];
	uint32_t i;
	int err;

	if (!mb || !h)
		return EINVAL;

	if (n > h->count)
		n = h->count;

	err = mbuf_write_u8(mb, '[');
	for (i = 0; i < n && !err; i++) {
		const struct entry *e =
			&h->ring[(h->next + h->max - 1 - i) % h->max];

		err = mbuf_printf(mb, "%s{\"orbit\":%H,\"number\":%H,"
				  "\"name\":%H,\"parked_at\":\"%s\","
				  "\"ended_at\":\"%s\",\"waited_s\":%llu}",
				  i ? "," : "", httpd_json_print, e->orbit,
				  httpd_json_print, e->number,
				  httpd_json_print, e->name,
				  httpd_iso_time(t1, sizeof(t1), e->parked_at),
				  httpd_iso_time(t2, sizeof(t2), e->ended_at),
				  (unsigned long long)(e->ended_at >
						       e->parked_at ?
						       (e->ended_at -
							e->parked_at) / 1000 :
						       0));
	}

	return err | mbuf_write_u8(mb, ']');
}


/**
 * Print the wait histogram (Prometheus text format)
 *
 * @param mb Buffer to append to
 * @param h  History
 *
 * @return 0 if success, otherwise errorcode
 */
int history_metrics(struct mbuf *mb, const struct history *h)
{
	uint64_t cum = 0;
	size_t i;
	int err;

	if (!mb || !h)
		return EINVAL;

	err = mbuf_printf(mb, "# HELP parkblf_park_wait_seconds How long "
			  "calls waited in an orbit before they left it "
			  "(retrieved or hung up).\n"
			  "# TYPE parkblf_park_wait_seconds histogram\n");
	for (i = 0; i < NBUCKETS && !err; i++) {
		cum += h->hist[i];
		err = mbuf_printf(mb, "parkblf_park_wait_seconds_bucket"
				  "{le=\"%u\"} %llu\n", buckets[i],
				  (unsigned long long)cum);
	}

	err |= mbuf_printf(mb, "parkblf_park_wait_seconds_bucket"
			   "{le=\"+Inf\"} %llu\n"
			   "parkblf_park_wait_seconds_sum %llu.%03llu\n"
			   "parkblf_park_wait_seconds_count %llu\n",
			   (unsigned long long)h->total,
			   (unsigned long long)(h->sum_ms / 1000),
			   (unsigned long long)(h->sum_ms % 1000),
			   (unsigned long long)h->total);

	return err;
}
