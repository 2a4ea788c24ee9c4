/**
 * @file pacer.h  Coalescing and pacing of NOTIFYs
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_PACER_H
#define PARKBLF_PACER_H

struct pacer;
struct pacer_phones;
struct pacer_phone;

/** Send now; the slot's owner renders the latest state */
typedef void (pacer_send_h)(void *arg);

/** The pacing state of one subscription: inside its owner
    (pacer_slot_init, pacer_slot_close) or alone (pacer_slot_alloc).
    Its members are the pacer's; needs core.h's struct ptmr. */
struct pacer_slot {
	struct pacer *p;            /**< Referenced                       */
	struct pacer_phone *phone;  /**< Referenced                       */
	struct ptmr tmr;
	uint64_t last_ms;           /**< Last send, 0 = never             */
	pacer_send_h *sendh;
	void *arg;
};

int  pacer_phones_alloc(struct pacer_phones **pp);
int  pacer_alloc(struct pacer **pp, struct pacer_phones *phones,
		 uint32_t min_interval_ms, uint32_t phone_rate);
int  pacer_slot_init(struct pacer_slot *s, struct pacer *p,
		     const struct sa *peer, pacer_send_h *sendh, void *arg);
void pacer_slot_close(struct pacer_slot *s);
int  pacer_slot_alloc(struct pacer_slot **sp, struct pacer *p,
		      const struct sa *peer, pacer_send_h *sendh,
		      void *arg);
void pacer_sent(struct pacer_slot *s);
void pacer_request(struct pacer_slot *s);
void pacer_prefetch(const struct pacer_slot *s);
bool pacer_pending(const struct pacer_slot *s);
const struct sa *pacer_slot_addr(const struct pacer_slot *s);
uint32_t pacer_count(const struct pacer *p, const struct sa *peer);

#endif
