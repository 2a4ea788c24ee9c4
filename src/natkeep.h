/**
 * @file natkeep.h  Phones behind NAT: where they are, and keepalives
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_NATKEEP_H
#define PARKBLF_NATKEEP_H

/** Branch prefix of parkblf's own UDP requests; then 'n' (NOTIFY) or
    'k' (keepalive) and three 8-digit hex fields: id, sequence, nonce */
#define NATKEEP_BRANCH_PREFIX "z9hG4bKpb"

struct natkeep;
struct natuse;

/**
 * A phone stopped answering keepalives: one of its subscriptions ends
 *
 * @param user What natb_attach was given
 * @param arg  Handler argument
 */
typedef void (natkeep_lost_h)(void *user, void *arg);

int  natkeep_alloc(struct natkeep **nkp, struct sip *sip,
		   natkeep_lost_h *losth, void *arg);
void natkeep_set(struct natkeep *nk, enum nat_mode mode,
		 uint32_t interval_s, uint32_t grace_s);
bool natkeep_detect(const struct natkeep *nk, const struct sip_msg *msg,
		    const struct uri *contact);
int  natkeep_bind(struct natuse **up, struct natkeep *nk,
		  enum sip_transp tp, const struct sa *src,
		  const struct sa *laddr, const struct sip_msg *msg,
		  const char *target, void *user);
void natkeep_answered(struct natkeep *nk, uint32_t id, uint32_t seq,
		      uint32_t nonce);
uint32_t natkeep_count(const struct natkeep *nk);
void natuse_heard(struct natuse *u);
bool natuse_reachable(const struct natuse *u);
void natuse_set_lost(struct natuse *u, natkeep_lost_h *losth, void *arg);

#endif
