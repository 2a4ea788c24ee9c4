/**
 * @file registrar.c  Answers REGISTER, so a phone account whose server
 *                    is parkblf shows as registered
 *
 * parkblf never calls phones, so it keeps no bindings: it grants the
 * registration (Expires between MIN_EXPIRES and MAX_EXPIRES) and echoes
 * the contacts, which is all a phone needs to enable its BLF keys on
 * that account.  Who may register is decided before (subscribe_allow).
 * Answers are stateless (a retransmitted REGISTER gets the same one
 * again), so that a flood of REGISTERs keeps nothing.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "registrar.h"


enum {
	MIN_EXPIRES = 60,
	MAX_EXPIRES = 3600,
	DFL_EXPIRES = 3600,
};


/* Requested expiry of one contact: its expires param, else Expires */
static uint32_t contact_expires(const struct sip_addr *addr,
				const struct sip_msg *msg)
{
	struct pl v;

	if (!msg_param_decode(&addr->params, "expires", &v))
		return pl_u32(&v);
	if (pl_isset(&msg->expires))
		return pl_u32(&msg->expires);

	return DFL_EXPIRES;
}


static uint32_t grant(uint32_t req)
{
	return req > MAX_EXPIRES ? MAX_EXPIRES : req;
}


/**
 * Answer a REGISTER
 *
 * @param sip SIP stack
 * @param msg REGISTER request
 */
void registrar_reply(struct sip *sip, const struct sip_msg *msg)
{
	struct mbuf *mb = mbuf_alloc(256);
	uint32_t max_granted = 0;
	struct le *le;
	int err = 0;

	if (!mb)
		goto error;

	for (le = list_head(&msg->hdrl); le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		struct sip_addr addr;
		uint32_t req;

		if (hdr->id != SIP_HDR_CONTACT)
			continue;

		/* "Contact: *" with Expires: 0 removes all: nothing to do */
		if (!pl_strcmp(&hdr->val, "*"))
			continue;

		if (sip_addr_decode(&addr, &hdr->val)) {
			(void)sip_reply(sip, msg, 400, "Bad Contact");
			goto out;
		}

		req = contact_expires(&addr, msg);
		if (req > 0 && req < MIN_EXPIRES) {
			(void)sip_replyf(sip, msg, 423, "Interval Too Brief",
					 "Min-Expires: %u\r\n"
					 "Content-Length: 0\r\n\r\n",
					 MIN_EXPIRES);
			goto out;
		}
		if (req == 0)
			continue;

		if (grant(req) > max_granted)
			max_granted = grant(req);
		err = mbuf_printf(mb, "Contact: <%r>;expires=%u\r\n",
				  &addr.auri, grant(req));
	}
	if (err)
		goto error;

	log_debug("registrar: %r from %J registered for %u s",
		  &msg->to.auri, &msg->src, max_granted);

	(void)sip_replyf(sip, msg, 200, "OK",
			 "%b"
			 "Expires: %u\r\n"
			 "Content-Length: 0\r\n\r\n",
			 mb->buf, mb->end, max_granted);
	goto out;

 error:
	(void)sip_reply(sip, msg, 500, "Server Internal Error");
 out:
	mem_deref(mb);
}
