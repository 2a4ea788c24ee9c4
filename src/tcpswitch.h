/**
 * @file tcpswitch.h  A phone's NOTIFYs over TCP (RFC 3261 18.1.1)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_TCPSWITCH_H
#define PARKBLF_TCPSWITCH_H

struct tcpswitch;
struct sip_msg;

/**
 * The phone's Contact was tried over TCP
 *
 * @param err 0 if it takes TCP (msg then asks for NOTIFYs over TCP),
 *            otherwise why not (msg is the SUBSCRIBE as it came)
 * @param msg The SUBSCRIBE to accept
 * @param arg Handler argument
 */
typedef void (tcpswitch_h)(int err, const struct sip_msg *msg, void *arg);

int  tcpswitch_start(struct tcpswitch **tsp, const struct sip_msg *msg,
		     uint32_t timeout_ms, tcpswitch_h *h, void *arg);
bool tcpswitch_same(const struct tcpswitch *ts, const struct sip_msg *msg);
int  tcpswitch_rewrite(struct sip_msg **msgp, const struct sip_msg *msg);

#endif
