/**
 * @file fuzz_sip.c  libFuzzer target: what phones (and the PBX) send
 *
 * Input: one selector byte (taken modulo 4), then the data.
 *   0     acl_alloc() on the data as a subscribe_allow value, then
 *         acl_allows() on a few addresses
 *   1     uri_user_dup() on the data as a URI
 *   2, 3  the data as one SIP message (libre's sip_msg_decode).  A
 *         request that decodes goes through the checks parkblf applies
 *         before anything is sent: Event header, encoder_find(),
 *         orbitmap_find() on the request URI's user, each Accept entry;
 *         then, as app.c dispatches it, to the notifier's SUBSCRIBE
 *         handler (orbits and the BLF list "all-parks"), the registrar
 *         (REGISTER) or the redirect (INVITE).  A NOTIFY's body is
 *         decoded by its Content-Type as the upstream does, and applied
 *         to a store (fuzz_store_check).
 *
 * The SIP stack has no transport, so every reply fails to send (libre
 * answers EPROTONOSUPPORT) and nothing outlives an input; this is
 * checked after each one.  Not covered: libre's transaction layer and
 * transports, sipevent's dialog matching for in-dialog requests, the
 * app's subscribe_allow and state checks around the handlers (acl is
 * fuzzed directly), the upstream's subscription state machine.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "acl.h"
#include "notifier.h"
#include "registrar.h"
#include "fuzz.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char domain[] = "pbx.example.com";
static struct sip *sip;
static struct sipevent_sock *sock;
static struct store *store;
static struct notifier *nt;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	fuzz_init();

	/* no transport: replies are built, then fail to send */
	if (sip_alloc(&sip, NULL, 32, 32, 32, "parkblf fuzz", NULL, NULL) ||
	    sipevent_listen(&sock, sip, 32, 32, NULL, NULL) ||
	    store_alloc(&store, NULL, NULL) ||
	    notifier_alloc(&nt, sip, sock, fuzz_cfg, store, domain))
		abort();
	notifier_set_map(nt, fuzz_map);

	return 0;
}


static void acl_check(const uint8_t *data, size_t size)
{
	static const char *addrs[] = {
		"127.0.0.1", "10.1.2.3", "192.0.2.1", "::1", "fe80::1",
		"2001:db8::1", "::ffff:192.168.1.1",
	};
	struct acl *acl = NULL;
	struct pl spec, bad;
	size_t i;

	spec.p = (const char *)data;
	spec.l = size;
	if (acl_alloc(&acl, &spec, &bad))
		return;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct sa sa;

		if (!sa_set_str(&sa, addrs[i], 5060))
			(void)acl_allows(acl, &sa);
	}

	mem_deref(acl);
}


static void uri_check(const uint8_t *data, size_t size)
{
	char *uri = fuzz_str(data, size);
	char *user = NULL;

	if (!uri_user_dup(&user, uri) && (!user || !user[0]))
		abort();

	mem_deref(user);
	mem_deref(uri);
}


/* Each Accept entry as accept_ok() in notifier.c reads it */
static void accept_check(const struct sip_msg *msg)
{
	struct le *le;

	for (le = list_head(&msg->hdrl); le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		struct pl v, rest;

		if (hdr->id != SIP_HDR_ACCEPT)
			continue;

		rest = hdr->val;
		while (!re_regex(rest.p, rest.l, "[^,]+", &v)) {
			struct msg_ctype ct;
			char buf[128];

			if (!msg_ctype_decode(&ct, &v))
				(void)re_snprintf(buf, sizeof(buf), "%r/%r",
						  &ct.type, &ct.subtype);
			rest.l -= v.p + v.l - rest.p;
			rest.p = v.p + v.l;
			if (rest.l) {
				++rest.p;
				--rest.l;
			}
		}
	}
}


static void notify_body(const struct sip_msg *msg)
{
	struct dn_update *upd = NULL;
	size_t len = mbuf_get_left(msg->mb);

	if (!len || dn_update_alloc(&upd))
		return;

	if (!decoder_decode(upd, &msg->ctyp, mbuf_buf(msg->mb), len))
		(void)fuzz_store_check(upd);

	mem_deref(upd);
}


static void sip_check(const uint8_t *data, size_t size)
{
	struct mbuf *mb = fuzz_mbuf(data, size);
	struct sip_msg *msg = NULL;
	const struct sip_hdr *hdr;
	struct sipevent_event se;

	if (sip_msg_decode(&msg, mb) || !msg->req)
		goto out;

	/* as the transport sets them for a received message */
	(void)sa_set_str(&msg->src, "192.0.2.20", 5060);
	(void)sa_set_str(&msg->dst, "192.0.2.10", 5060);

	hdr = sip_msg_hdr(msg, SIP_HDR_EVENT);
	if (hdr && !sipevent_event_decode(&se, &hdr->val))
		(void)encoder_find(&se.event);
	(void)orbitmap_find(fuzz_map, &msg->uri.user);
	accept_check(msg);

	if (!pl_strcmp(&msg->met, "SUBSCRIBE") && !pl_isset(&msg->to.tag))
		(void)notifier_subscribe_handler(msg, nt);
	else if (!pl_strcmp(&msg->met, "REGISTER"))
		registrar_reply(sip, msg);
	else if (!pl_strcmp(&msg->met, "INVITE") && !pl_isset(&msg->to.tag))
		redirect_reply(sip, msg, fuzz_map, domain);
	else if (!pl_strcmp(&msg->met, "NOTIFY"))
		notify_body(msg);

	/* no reply could be sent: no watcher may have been kept */
	if (notifier_count(nt))
		abort();

 out:
	mem_deref(msg);
	mem_deref(mb);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;

	switch (data[0] % 4) {

	case 0:
		acl_check(data + 1, size - 1);
		break;

	case 1:
		uri_check(data + 1, size - 1);
		break;

	default:
		sip_check(data + 1, size - 1);
		break;
	}

	return 0;
}
