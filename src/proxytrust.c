/**
 * @file proxytrust.c  A phone's address behind a trusted proxy
 *
 * Behind a proxy (Kamailio's dispatcher, conf/kamailio/) every request
 * comes from the proxy's address.  For a request whose source is in
 * trusted_proxies, the phone's address is taken from the Vias instead:
 * below the proxy's own (the top one), the first Via not sent by a
 * trusted proxy (all of them are: the bottom one, the request's
 * originator), its received parameter if it has one (else its sent-by
 * host), its rport value if it has one (else its sent-by port).  That
 * address is the one subscribe_allow, the per-source limit
 * (subscribe_max_per_source) and the per-phone NOTIFY pacing
 * (notify_phone_rate) count.  A missing or unusable Via gives the
 * proxy's address (never no limit); a request from anyone else is
 * taken by its source address, whatever its Vias say.  Where NOTIFYs
 * go does not change (route set, Contact).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "parkblf.h"
#include "acl.h"
#include "proxytrust.h"


/* trusted_proxies in force (NULL: none, the default) */
static struct acl *trusted;


/**
 * Set the proxies whose Vias are believed (config key trusted_proxies)
 *
 * @param spec Networks as subscribe_allow, NULL or empty for none
 *
 * @return 0 if success, otherwise errorcode
 */
int proxytrust_set(const char *spec)
{
	struct acl *acl = NULL;
	struct pl pl;
	int err;

	if (!str_isset(spec)) {
		trusted = mem_deref(trusted);
		return 0;
	}

	pl_set_str(&pl, spec);
	err = acl_alloc(&acl, &pl, NULL);
	if (err)
		return err;

	mem_deref(trusted);
	trusted = acl;

	return 0;
}


/* A Via's address: received=, else its sent-by host; rport=N, else its
   sent-by port */
static bool via_addr(struct sa *sa, const struct sip_via *via)
{
	struct pl rcvd, rport;

	if (!msg_param_decode(&via->params, "received", &rcvd)) {
		if (sa_set(sa, &rcvd, sa_port(&via->addr)))
			return false;
	}
	else if (sa_isset(&via->addr, SA_ADDR)) {
		*sa = via->addr;
	}
	else
		return false;

	if (!msg_param_decode(&via->params, "rport", &rport) && rport.l)
		sa_set_port(sa, pl_u32(&rport));
	if (!sa_port(sa))
		sa_set_port(sa, SIP_PORT);

	return true;
}


struct walk {
	const struct acl *trusted;
	unsigned n;
	struct sa phone;
	bool found;
	bool bad;
};


static bool via_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
			void *arg)
{
	struct walk *wk = arg;
	struct sip_via via;
	struct sa sa;
	(void)msg;

	/* the top Via: the proxy's own */
	if (wk->n++ == 0)
		return false;

	if (sip_via_decode(&via, &hdr->val) || !via_addr(&sa, &via)) {
		wk->bad = true;
		return true;
	}

	wk->phone = sa;
	wk->found = true;

	/* a chain of trusted proxies: on to the next one */
	return !acl_allows(wk->trusted, &sa);
}


/**
 * The phone's address by a request's Vias, if its source is trusted
 *
 * @param phone   Where to store the phone's address
 * @param msg     Request
 * @param trusted Proxies whose Vias are believed (NULL: none)
 *
 * @return true if the Vias gave it, false if *phone is left alone
 */
bool proxytrust_via(struct sa *phone, const struct sip_msg *msg,
		    const struct acl *trusted_acl)
{
	struct walk wk = {.trusted = trusted_acl};

	if (!phone || !msg || !trusted_acl ||
	    !acl_allows(trusted_acl, &msg->src))
		return false;

	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_VIA, via_handler, &wk);
	if (wk.bad || !wk.found)
		return false;

	*phone = wk.phone;

	return true;
}


/**
 * The address a request's phone is counted by: subscribe_allow,
 * subscribe_max_per_source, notify_phone_rate.  Its source address,
 * or behind a trusted proxy the address its Vias give.
 *
 * @param phone Where to store it
 * @param msg   Request
 */
void proxytrust_phone(struct sa *phone, const struct sip_msg *msg)
{
	if (!phone || !msg)
		return;

	if (!proxytrust_via(phone, msg, trusted)) {
		*phone = msg->src;
		return;
	}

	log_debug("proxytrust: %r from %J (trusted proxy) for %J",
		  &msg->met, &msg->src, phone);
}
