/**
 * @file contactfix.c  A SUBSCRIBE's Contact, pointed where the phone is
 *
 * A SUBSCRIBE whose phone is to get its NOTIFYs elsewhere than its
 * Contact says (tcpswitch.c: over TCP) is handed on as a copy whose
 * Contact says so, as Kamailio's fix_nated_contact does: to another
 * address and port, or transport.  URI and header parameters are kept
 * but transport= (and, moved, maddr=), and the transport is named.
 * The copy is answerable as the original (same source, socket,
 * transport).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "contactfix.h"


struct prm {
	struct mbuf *mb;
	bool moved;
};


/* URI parameters but transport= (and maddr= if moved) */
static int param_print(const struct pl *name, const struct pl *val,
		       void *arg)
{
	struct prm *p = arg;

	if (!pl_strcasecmp(name, "transport") ||
	    (p->moved && !pl_strcasecmp(name, "maddr")))
		return 0;

	if (pl_isset(val))
		return mbuf_printf(p->mb, ";%r=%r", name, val);

	return mbuf_printf(p->mb, ";%r", name);
}


/* The Contact value with host:port at (NULL: kept), transport tp */
static int value_print(struct mbuf *mb, const struct sip_msg *msg,
		       const struct sa *at, enum sip_transp tp)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct prm p = {NULL, at != NULL};
	struct sip_addr addr;
	char host[64];
	struct uri uri;
	int err;

	if (!hdr || sip_addr_decode(&addr, &hdr->val))
		return EBADMSG;

	p.mb = mbuf_alloc(64);
	if (!p.mb)
		return ENOMEM;

	err  = uri_params_apply(&addr.uri.params, param_print, &p);
	err |= mbuf_printf(p.mb, "%s", sip_transp_param(tp));
	if (err)
		goto out;

	uri = addr.uri;
	uri.params.p = (const char *)p.mb->buf;
	uri.params.l = p.mb->end;
	if (at) {
		if (re_snprintf(host, sizeof(host), "%j", at) < 0) {
			err = EINVAL;
			goto out;
		}
		pl_set_str(&uri.host, host);
		uri.port = sa_port(at);
		uri.af = sa_af(at);
	}

	err = mbuf_printf(mb, "<%H>%r", uri_encode, &uri, &addr.params);

 out:
	mem_deref(p.mb);

	return err;
}


/**
 * The SUBSCRIBE again with its Contact pointed elsewhere, answerable
 * as the original: same source, socket, transport
 *
 * @param msgp Where to store the new message
 * @param msg  The SUBSCRIBE
 * @param at   The Contact's new address and port, NULL to keep them
 * @param tp   The transport the Contact names
 *
 * @return 0 if success, EBADMSG without a usable Contact, otherwise
 *         errorcode
 */
int contactfix_copy(struct sip_msg **msgp, const struct sip_msg *msg,
		    const struct sa *at, enum sip_transp tp)
{
	const struct sip_hdr *hdr;
	const uint8_t *start, *end, *cend;
	struct mbuf *mb;
	struct sip_msg *m;
	int err;

	if (!msgp || !msg)
		return EINVAL;

	hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (!hdr)
		return EBADMSG;

	mb = mbuf_alloc(mbuf_get_left(msg->mb) + 64);
	if (!mb)
		return ENOMEM;

	/* the message from its request line to the end of the body */
	start = (const uint8_t *)msg->met.p;
	end = msg->mb->buf + msg->mb->end;
	cend = (const uint8_t *)hdr->val.p + hdr->val.l;

	err  = mbuf_write_mem(mb, start,
			      (size_t)((const uint8_t *)hdr->name.p - start));
	err |= mbuf_printf(mb, "Contact: ");
	if (!err)
		err = value_print(mb, msg, at, tp);
	err |= mbuf_write_mem(mb, cend, (size_t)(end - cend));
	if (err)
		goto out;

	mb->pos = 0;
	err = sip_msg_decode(&m, mb);
	if (err)
		goto out;

	/* where it came from and how, for the answer */
	m->src = msg->src;
	m->dst = msg->dst;
	m->sock = mem_ref(msg->sock);   /* the message holds one */
	m->tp = msg->tp;
	m->tag = msg->tag;
	*msgp = m;

 out:
	mem_deref(mb);

	return err;
}

