/**
 * @file upstream.h  The one subscription to the PBX's aggregate resource
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_UPSTREAM_H
#define PARKBLF_UPSTREAM_H

struct upstream;
struct upreplay;
struct upreplay_dlg;

/** A decoded NOTIFY body */
typedef void (upstream_update_h)(const struct dn_update *upd, void *arg);
/** A new subscription (dialog) starts: versions start over */
typedef void (upstream_session_h)(void *arg);
/** The link went up (NOTIFYs arrive) or down */
typedef void (upstream_link_h)(bool up, void *arg);

int  upstream_alloc(struct upstream **upp, struct sip *sip,
		    struct sipevent_sock *sock, struct upreplay *replay,
		    const struct config *cfg,
		    upstream_update_h *updh, upstream_session_h *sessh,
		    upstream_link_h *linkh, void *arg);
int  upstream_start(struct upstream *up);
bool upstream_is_up(const struct upstream *up);
void upstream_resync(struct upstream *up);
const char *upstream_state(const struct upstream *up, uint64_t *since);
int  upstream_domain(char **domainp, const char *uri);

/* upreplay.c: the PBX's NOTIFYs answered without server transactions */
int  upreplay_alloc(struct upreplay **rp);
int  upreplay_reply(struct upreplay_dlg **dp, struct upreplay *r,
		    struct sip *sip, const struct sip_msg *msg,
		    uint16_t scode, const char *reason, const char *accept);
bool upreplay_request(struct upreplay *r, struct sip *sip,
		      const struct sip_msg *msg);
void upreplay_set_now(uint64_t now);

#endif
