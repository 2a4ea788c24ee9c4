/**
 * @file redirect.c  One key parks and retrieves
 *
 * A key press on a park-N key sends an INVITE to park-N: it is answered
 * 302 to the orbit's retrieve code at the PBX.  When the INVITE comes
 * from a blind transfer to the key (it carries Referred-By), it is sent
 * to the orbit's park code instead: the key parks while dark and
 * retrieves while lit.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "registrar.h"


/**
 * Answer an INVITE to an orbit
 *
 * @param sip    SIP stack
 * @param msg    INVITE request
 * @param map    Orbit map in force
 * @param domain PBX host[:port]
 */
void redirect_reply(struct sip *sip, const struct sip_msg *msg,
		    const struct orbitmap *map, const char *domain)
{
	const struct orbit *orbit = orbitmap_find(map, &msg->uri.user);
	const struct sip_hdr *rb;
	const char *dial;

	if (!orbit) {
		(void)sip_treply(NULL, sip, msg, 404, "Not Found");
		return;
	}

	rb = sip_msg_xhdr(msg, "Referred-By");
	if (!rb)
		rb = sip_msg_xhdr(msg, "b");   /* compact form */
	dial = rb ? orbit->park : orbit->retrieve;

	log_info("redirect: %s from %J: %s -> sip:%s@%s", orbit->name,
		 &msg->src, rb ? "transfer, park" : "retrieve", dial, domain);

	(void)sip_treplyf(NULL, NULL, sip, msg, false, 302,
			  "Moved Temporarily",
			  "Contact: <sip:%s@%s>\r\n"
			  "Content-Length: 0\r\n\r\n", dial, domain);
}
