/**
 * @file redirect.c  One key parks and retrieves
 *
 * A key press on a park-N key sends an INVITE to park-N: it is answered
 * 302 to the orbit's retrieve code at the PBX.  What phones dial on a
 * press depends on the firmware and the lamp (README, "What a key press
 * sends"): the key's value (park-1), a pickup code before it
 * (*97park-1, **park-1), the retrieve code itself (*10, the dialog's
 * target) or the park code (*00): each is redirected to what it means
 * (orbitmap_find_dialled).  A name a discover line gives, which is no
 * orbit yet (no phone watches it, the PBX has not named its DN), is
 * pressed as that orbit would be, and is not made: only a SUBSCRIBE or
 * the PBX's report makes it.  When the INVITE comes
 * from a blind transfer to the key (it carries Referred-By), it is sent
 * to the orbit's park code instead: the key parks while dark and
 * retrieves while lit.
 *
 * The answer is stateless, as a redirect server's may be: a lost 302
 * is answered again to the retransmitted INVITE, and a flood of
 * INVITEs keeps no transactions (a stateful 3xx was retransmitted for
 * 32 s to whoever did not ACK it).
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
	const struct orbit *orbit;
	struct orbit *unmade = NULL;
	const struct sip_hdr *rb;
	static struct log_limit ll;
	const char *dial;
	bool park;

	orbit = orbitmap_find_dialled(map, &msg->uri.user, &park);
	if (!orbit)
		orbit = unmade = orbitmap_dialled_preview(map,
							  &msg->uri.user);

	if (!orbit) {
		(void)sip_reply(sip, msg, 404, "Not Found");
		return;
	}

	rb = sip_msg_xhdr(msg, "Referred-By");
	if (!rb)
		rb = sip_msg_xhdr(msg, "b");   /* compact form */
	park = park || rb;
	dial = park ? orbit->park : orbit->retrieve;

	log_limited(&ll, LOG_LEVEL_INFO, "redirect: %r (%s%s) from %J: %s "
		    "-> sip:%s@%s", &msg->uri.user, orbit->name,
		    unmade ? ", no orbit yet" : "", &msg->src,
		    rb ? "transfer, park" : park ? "park" : "retrieve", dial,
		    domain);

	(void)sip_replyf(sip, msg, 302, "Moved Temporarily",
			 "Contact: <sip:%s@%s>\r\n"
			 "Content-Length: 0\r\n\r\n", dial, domain);
	mem_deref(unmade);
}
