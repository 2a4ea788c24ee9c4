/**
 * @file subdlg.h  The SIP dialog of one phone subscription
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_SUBDLG_H
#define PARKBLF_SUBDLG_H

struct subdlgs;
struct subdlg;
struct doctpl;

/**
 * A NOTIFY got its final answer, or none
 *
 * @param err    0, or ETIMEDOUT (no answer) or another errorcode
 * @param scode  Status code of the answer (0 without one)
 * @param reason Reason phrase of the answer (NULL without one)
 * @param arg    Handler argument
 */
typedef void (subdlg_resp_h)(int err, uint16_t scode, const struct pl *reason,
			     void *arg);

int  subdlgs_alloc(struct subdlgs **ctxp, struct sip *sip);
int  subdlg_accept(struct subdlg **sdp, struct subdlgs *ctx,
		   const struct sip_msg *msg, const struct pl *event,
		   const char *cuser, uint32_t expires,
		   subdlg_resp_h *resph, void *arg);
struct persist_sub;
int  subdlg_restore(struct subdlg **sdp, struct subdlgs *ctx,
		    const struct persist_sub *s, uint32_t cseq,
		    subdlg_resp_h *resph, void *arg);
bool subdlg_match(const struct subdlg *sd, const struct sip_msg *msg);
int  subdlg_reply(struct subdlg *sd, const struct sip_msg *msg,
		  uint32_t expires);
int  subdlg_notify(struct subdlg *sd, uint32_t expires, const char *ctype,
		   struct doctpl *doc, uint32_t version);
int  subdlg_terminate(struct subdlg *sd, enum sipevent_reason reason,
		      uint32_t retry_after, const char *ctype,
		      struct doctpl *doc, uint32_t version);
bool subdlg_retransmission(const struct subdlg *sd,
			   const struct sip_msg *msg);
bool subdlg_busy(const struct subdlg *sd);
void subdlg_prefetch(const struct subdlg *sd);
void subdlg_prefetch_strs(const struct subdlg *sd);
bool subdlg_fast(const struct subdlg *sd);
bool subdlg_verified(const struct subdlg *sd);
uint32_t subdlg_cseq(const struct subdlg *sd);
void subdlg_describe(const struct subdlg *sd, struct persist_sub *s,
		     char *ltag, size_t sz);
const char *subdlg_callid(const struct subdlg *sd);
const char *subdlg_rtag(const struct subdlg *sd);
const char *subdlg_ltag(const struct subdlg *sd, char *buf, size_t sz);
const char *subdlg_ruri(const struct subdlg *sd);
const struct sa *subdlg_peer(const struct subdlg *sd);
bool subdlg_ruri_plain(const struct subdlg *sd);
void subdlg_set_eventlist(struct subdlg *sd);
uint32_t subdlgs_inflight(const struct subdlgs *ctx);
void subdlgs_set_t1(struct subdlgs *ctx, uint32_t ms);
bool subdlg_follow(struct subdlg *sd, const struct sip_msg *msg);
bool subdlg_reachable(const struct subdlg *sd);
void subdlgs_set_nat(struct subdlgs *ctx, enum nat_mode mode,
		     uint32_t interval_s, uint32_t grace_s);
uint32_t subdlgs_nat_count(const struct subdlgs *ctx);
struct natkeep;
struct natkeep *subdlgs_natkeep(const struct subdlgs *ctx);

#endif
