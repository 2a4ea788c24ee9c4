/**
 * @file notifier.h  Phones' subscriptions to orbits
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_NOTIFIER_H
#define PARKBLF_NOTIFIER_H

struct notifier;

int  notifier_alloc(struct notifier **ntp, struct sip *sip,
		    struct sipevent_sock *sock, const struct config *cfg,
		    const struct store *store, const char *domain);
struct subdlgs;
struct pacer_phones;
int  notifier_alloc_shared(struct notifier **ntp, struct sip *sip,
			   struct sipevent_sock *sock,
			   const struct config *cfg,
			   const struct store *store, const char *domain,
			   struct subdlgs *dlgs, struct pacer_phones *phones);
bool notifier_subscribe_handler(const struct sip_msg *msg, void *arg);
void notifier_set_map(struct notifier *nt, const struct orbitmap *map);
typedef const struct orbit *(notifier_unknown_h)(const struct pl *name,
						  void *arg);
void notifier_set_unknownh(struct notifier *nt, notifier_unknown_h *h,
			   void *arg);
void notifier_orbit_changed(struct notifier *nt, const char *name);
void notifier_orbit_removed(struct notifier *nt, const char *name);
void notifier_close_all(struct notifier *nt, enum sipevent_reason reason,
			uint32_t retry_after);
bool notifier_ending(const struct notifier *nt);
uint32_t notifier_count(const struct notifier *nt);
struct persist;
void notifier_set_persist(struct notifier *nt, struct persist *db,
			  const char *tenant);
struct alert;
void notifier_set_alert(struct notifier *nt, const struct alert *al);
bool notifier_indialog(struct notifier *nt, const struct sip_msg *msg);
uint32_t notifier_granted(const struct config *cfg,
			  const struct sip_msg *msg);
void notifier_flush(struct notifier *nt);
struct persist_sub;
int  notifier_resume(struct notifier *nt, const struct persist_sub *s);
void notifier_resume_start(struct notifier *nt);
struct subdlgs *notifier_dlgs(const struct notifier *nt);
void notifier_reply_bad_event(const struct notifier *nt,
			      const struct sip_msg *msg);
bool notifier_too_brief(const struct notifier *nt, const struct sip_msg *msg);
bool notifier_full(const struct notifier *nt);
bool notifier_over_limit(const struct notifier *nt, const struct sa *peer);
const struct orbitmap *notifier_map(const struct notifier *nt);
struct pacer_slot;
typedef void (pacer_send_h)(void *arg);
int  notifier_pacer_slot(struct pacer_slot **sp, struct notifier *nt,
			 const struct sa *peer, pacer_send_h *sendh,
			 void *arg);
int  notifier_encode_orbit(struct mbuf *mb, const struct notifier *nt,
			   const struct orbit *orbit,
			   const struct encoder *enc, const char *entity,
			   uint32_t version);
bool notifier_fanning(void);
bool notifier_picture(const struct notifier *nt);
bool notifier_orbit_known(const struct notifier *nt,
			  const struct orbit *orbit);
uint32_t notifier_count_orbit(const struct notifier *nt, const char *name);
uint32_t notifier_nat_count(const struct notifier *nt);
struct natkeep;
struct natkeep *notifier_natkeep(const struct notifier *nt);

#endif
