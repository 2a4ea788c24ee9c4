/**
 * @file blflist.c  BLF lists (RFC 4662): every orbit in one subscription
 *
 * A phone that supports resource lists subscribes once to the list name
 * (config key blf_list) with Supported: eventlist and gets
 * multipart/related NOTIFYs: an RLMI document listing the orbits, and
 * one dialog-info document per orbit, made by the same encoder as for
 * single keys.  The first NOTIFY is full state; later ones carry only
 * the orbits that changed, coalesced and paced like any NOTIFY.
 *
 * libre's notifier sends and retransmits these NOTIFYs beyond any
 * budget, so over UDP a list subscription's Contact must be its source
 * address (no amplification towards a third party: SECURITY.md).
 *
 * A phone behind NAT (natkeep_detect, as for single keys) has its
 * Contact pointed at its source address and port (and transport)
 * before libre's notifier reads it (contactfix.c): in the first
 * SUBSCRIBE and in every refresh, since libre takes the dialog's target
 * from each.  Its NOTIFYs then go where its requests come from (on TCP
 * and TLS: libre finds the phone's connection by that address), and a
 * refresh from another address moves them there.  Its address gets
 * natkeep's keepalives; silent for the grace period, the list ends.
 * While its TCP/TLS connection is gone, NOTIFYs wait for its refresh on
 * a new one (libre would dial a connection the NAT does not let in).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "notifier.h"
#include "pacer.h"
#include "blflist.h"
#include "metrics.h"
#include "tcpswitch.h"
#include "contactfix.h"
#include "natkeep.h"
#include "proxytrust.h"


enum {
	TCP_ABOVE    = 1300,   /**< RFC 3261 18.1.1: larger goes by TCP  */
	UDP_MAX      = 65000,  /**< What one UDP datagram can carry      */
	HDR_ROOM     = 700,    /**< A NOTIFY's headers, at most          */
	PROBE_MS     = 2000,   /**< How long a TCP connection may take   */
	TOO_BIG_WAIT = 3600,   /**< Retry-After of a list too big        */
};


static const char boundary[] = "parkblf-rlmi-7d2f9c";
static const char ctype[] =
	"multipart/related;type=\"application/rlmi+xml\";"
	"start=\"<rlmi@parkblf>\";boundary=\"parkblf-rlmi-7d2f9c\"";

/** One orbit as one list subscription has seen it */
struct resource {
	struct le le;
	char *name;
	uint32_t version;        /**< Next dialog-info version          */
	bool dirty;              /**< Changed since the last NOTIFY     */
};

/** One list subscription */
struct listwatcher {
	struct le le;            /**< In blflist.watchers               */
	struct blflist *bl;
	struct sipnot *not;
	struct pacer_slot *pace;
	char *entity;            /**< The list URI subscribed to        */
	char *callid;            /**< Its dialog's, to know its SUBSCRIBEs */
	char *host;              /**< host[:port] for resource URIs     */
	struct sa peer;
	struct list resources;   /**< struct resource, map order        */
	uint32_t version;        /**< Next RLMI version                 */
	bool full;               /**< Next NOTIFY must be full state    */
	struct tcpswitch *ts;    /**< Trying the phone over TCP          */
	struct sip *sip;         /**< While trying: to answer then       */
	struct sipevent_sock *sock;
	const struct config *cfg;
	size_t size;             /**< Bytes of the first, full NOTIFY    */
	struct natuse *nat;      /**< Behind NAT: where it is            */
	struct sip_dialog *dlg;  /**< Behind NAT: libre's, to match      */
	struct contactfix *fix;  /**< Behind NAT: the refresh rewritten  */
	struct sa laddr;         /**< Behind NAT: our address it spoke to */
	struct ptmr tmr_back;     /**< Behind NAT: back on a connection   */
	struct sippin *pin; /**< UDP: NOTIFYs from the phone's socket */
	enum sip_transp tp;
};

struct blflist {
	struct list watchers;
	struct list pending;     /**< Being tried over TCP, unanswered  */
	struct notifier *nt;
	const struct encoder *enc;
};


static void resource_destructor(void *arg)
{
	struct resource *r = arg;

	list_unlink(&r->le);
	mem_deref(r->name);
}


static void watcher_destructor(void *arg)
{
	struct listwatcher *lw = arg;

	list_unlink(&lw->le);
	ptmr_cancel(&lw->tmr_back);
	lw->ts = mem_deref(lw->ts);
	lw->pace = mem_deref(lw->pace);
	lw->not = mem_deref(lw->not);
	/* after the final NOTIFY, and while libre may resend it */
	sippin_linger(lw->pin);
	lw->fix = mem_deref(lw->fix);
	lw->nat = mem_deref(lw->nat);
	lw->dlg = mem_deref(lw->dlg);
	list_flush(&lw->resources);
	mem_deref(lw->entity);
	mem_deref(lw->callid);
	mem_deref(lw->host);
}


static void blflist_destructor(void *arg)
{
	struct blflist *bl = arg;

	list_flush(&bl->pending);
	blflist_close_all(bl, SIPEVENT_DEACTIVATED, 0);
}


/**
 * Allocate the list subscriptions of a notifier
 *
 * @param blp Where to store them
 * @param nt  Notifier (must outlive them)
 *
 * @return 0 if success, otherwise errorcode
 */
int blflist_alloc(struct blflist **blp, struct notifier *nt)
{
	static const struct pl dialog = PL("dialog");
	struct blflist *bl;

	if (!blp || !nt)
		return EINVAL;

	bl = mem_zalloc(sizeof(*bl), blflist_destructor);
	if (!bl)
		return ENOMEM;

	bl->nt = nt;
	bl->enc = encoder_find(&dialog);
	*blp = bl;

	return 0;
}


static struct resource *resource_find(const struct listwatcher *lw,
				      const char *name)
{
	struct le *le;

	for (le = list_head(&lw->resources); le; le = le->next) {
		struct resource *r = le->data;

		if (!strcmp(r->name, name))
			return r;
	}

	return NULL;
}


/* Resources follow the map: new orbits are added, gone ones dropped */
static int resources_sync(struct listwatcher *lw,
			  const struct orbitmap *map)
{
	struct le *le;
	int err = 0;

	for (le = list_head(&lw->resources); le; ) {
		struct resource *r = le->data;
		struct pl name;

		le = le->next;
		pl_set_str(&name, r->name);
		if (!orbitmap_find(map, &name)) {
			mem_deref(r);
			lw->full = true;
		}
	}

	for (le = list_head(&map->orbits); le && !err; le = le->next) {
		const struct orbit *o = le->data;
		struct resource *r;

		if (resource_find(lw, o->name))
			continue;

		r = mem_zalloc(sizeof(*r), resource_destructor);
		if (!r)
			return ENOMEM;
		err = str_dup(&r->name, o->name);
		if (err) {
			mem_deref(r);
			break;
		}
		list_append(&lw->resources, &r->le, r);
		lw->full = true;
	}

	return err;
}


static int part_print(struct mbuf *mb, struct listwatcher *lw,
		      struct resource *r, const struct orbit *orbit)
{
	char *uri = NULL;
	int err;

	err = re_sdprintf(&uri, "sip:%s@%s", r->name, lw->host);
	if (err)
		return err;

	err  = mbuf_printf(mb, "--%s\r\n"
			   "Content-Transfer-Encoding: binary\r\n"
			   "Content-ID: <%s.%u@parkblf>\r\n"
			   "Content-Type: application/dialog-info+xml;"
			   "charset=\"UTF-8\"\r\n\r\n",
			   boundary, r->name, r->version);
	err |= notifier_encode_orbit(mb, lw->bl->nt, orbit, lw->bl->enc, uri,
				     r->version);
	err |= mbuf_printf(mb, "\r\n");
	++r->version;

	mem_deref(uri);

	return err;
}


/* The next document: full, or the orbits changed since the last one */
static int render(struct mbuf **mbp, struct listwatcher *lw)
{
	const struct orbitmap *map = notifier_map(lw->bl->nt);
	struct mbuf *mb, *parts;
	bool full;
	struct le *le;
	int err;

	err = resources_sync(lw, map);
	if (err)
		return err;

	full = lw->full;
	mb = mbuf_alloc(2048);
	parts = mbuf_alloc(2048);
	if (!mb || !parts) {
		err = ENOMEM;
		goto out;
	}

	err = mbuf_printf(mb, "--%s\r\n"
			  "Content-Transfer-Encoding: binary\r\n"
			  "Content-ID: <rlmi@parkblf>\r\n"
			  "Content-Type: application/rlmi+xml;"
			  "charset=\"UTF-8\"\r\n\r\n"
			  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			  "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" "
			  "uri=\"%H\" version=\"%u\" fullState=\"%s\">\r\n",
			  boundary, xml_escape_print, lw->entity,
			  lw->version, full ? "true" : "false");

	for (le = list_head(&lw->resources); le && !err; le = le->next) {
		struct resource *r = le->data;
		const struct orbit *orbit;
		struct pl name;

		if (!full && !r->dirty)
			continue;

		pl_set_str(&name, r->name);
		orbit = orbitmap_find(map, &name);

		err  = mbuf_printf(mb, " <resource uri=\"sip:%H@%H\">\r\n",
				   xml_escape_print, r->name,
				   xml_escape_print, lw->host);
		if (orbit->label)
			err |= mbuf_printf(mb, "  <name>%H</name>\r\n",
					   xml_escape_print, orbit->label);
		r->dirty = false;

		/* its state unknown: neither idle nor lit (RFC 4662
		   5.2: pending, no part) */
		if (!notifier_orbit_known(lw->bl->nt, orbit)) {
			err |= mbuf_printf(mb, "  <instance id=\"%H\" "
					   "state=\"pending\"/>\r\n"
					   " </resource>\r\n",
					   xml_escape_print, r->name);
			continue;
		}

		err |= mbuf_printf(mb, "  <instance id=\"%H\" state=\"active\""
				   " cid=\"%H.%u@parkblf\"/>\r\n"
				   " </resource>\r\n",
				   xml_escape_print, r->name,
				   xml_escape_print, r->name, r->version);
		err |= part_print(parts, lw, r, orbit);
	}

	err |= mbuf_printf(mb, "</list>\r\n\r\n");
	err |= mbuf_write_mem(mb, parts->buf, parts->end);
	err |= mbuf_printf(mb, "--%s--\r\n", boundary);
	if (err)
		goto out;

	mb->pos = 0;
	++lw->version;
	lw->full = false;

 out:
	mem_deref(parts);
	if (err)
		mem_deref(mb);
	else
		*mbp = mb;

	return err;
}


static void send_handler(void *arg)
{
	struct listwatcher *lw = arg;
	struct mbuf *mb;
	int err;

	/* behind NAT without its connection: the state waits for it */
	if (lw->nat && !natuse_reachable(lw->nat)) {
		lw->full = true;
		log_debug("blflist: list from %J: no connection, the NOTIFY "
			  "waits for the phone", &lw->peer);
		return;
	}

	err = render(&mb, lw);
	if (!err) {
		err = sipevent_notify(lw->not, mb, SIPEVENT_ACTIVE, 0, 0);
		mem_deref(mb);
	}

	if (err)
		log_warn("blflist: NOTIFY to %J: %m", &lw->peer, err);
	else
		++metrics.notifies_sent;
}


static void close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct listwatcher *lw = arg;

	if (err != ETIMEDOUT || msg)
		++metrics.notifies_failed;

	if (msg && msg->scode)
		log_info("blflist: list from %J ended: NOTIFY got %u %r",
			 &lw->peer, msg->scode, &msg->reason);
	else
		log_debug("blflist: list from %J ended: %m", &lw->peer, err);

	mem_deref(lw);
}


/* Over UDP, the first hop of the NOTIFYs (the first Record-Route,
   else the Contact) must be the source's IP; TCP and TLS prove their
   peer by the handshake */
static bool contact_is_source(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE);
	struct sip_addr addr;
	struct pl maddr;
	struct sa a;

	if (msg->tp != SIP_TRANSP_UDP)
		return true;

	if (!hdr)
		hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (!hdr || sip_addr_decode(&addr, &hdr->val) ||
	    !msg_param_exists(&addr.uri.params, "maddr", &maddr))
		return false;

	return !sa_set(&a, &addr.uri.host, 0) &&
		sa_cmp(&a, &msg->src, SA_ADDR);
}


static bool accepts_multipart(const struct sip_msg *msg)
{
	struct le *le;
	bool any = false;

	for (le = list_head(&msg->hdrl); le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (hdr->id != SIP_HDR_ACCEPT)
			continue;
		any = true;
		if (!re_regex(hdr->val.p, hdr->val.l, "multipart/related") ||
		    !re_regex(hdr->val.p, hdr->val.l, "multipart/\\*") ||
		    !re_regex(hdr->val.p, hdr->val.l, "\\*/\\*"))
			return true;
	}

	return !any;
}


/* Over UDP, libre's notifier sends from the socket the phone spoke to
   (libre's own choice: the first of the family) */
static int pin_socket(struct listwatcher *lw, const struct sip_msg *msg)
{
	struct sippin *pin = NULL;
	int err;

	if (msg->tp != SIP_TRANSP_UDP)
		return 0;

	err = sippin_alloc(&pin, &msg->callid, &msg->dst);
	if (err)
		return err;

	sippin_linger(lw->pin);
	lw->pin = pin;

	return 0;
}


/* Accept the SUBSCRIBE (msg, whose Contact says where NOTIFYs go) and
   send the full state; lw is consumed */
static int list_accept(struct listwatcher *lw, struct sip *sip,
		       struct sipevent_sock *sock, const struct sip_msg *msg,
		       const struct config *cfg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct sipevent_event se;
	int err;

	if (!hdr || sipevent_event_decode(&se, &hdr->val)) {
		err = EBADMSG;
		goto out;
	}

	err = pin_socket(lw, msg);
	if (err)
		goto out;

	/* libre's notifier answers it statefully; refusals before this
	   are stateless, and a stranger's need no record (strec.c) */
	strec_add(msg);
	err = sipevent_accept(&lw->not, sock, msg, lw->dlg, &se, 200, "OK",
			      cfg->subscribe_min_expires,
			      cfg->subscribe_default_expires,
			      cfg->subscribe_max_expires, cfg->blf_list,
			      ctype, NULL, NULL, false, close_handler, lw,
			      "Require: eventlist\r\n");
	if (err)
		goto out;

	list_append(&lw->bl->watchers, &lw->le, lw);
	++metrics.subscribes_accepted;
	log_debug("blflist: list subscribed from %J", &msg->src);

	pacer_sent(lw->pace);
	send_handler(lw);

 out:
	if (err) {
		if (!lw->not)
			(void)sip_reply(sip, msg, 500,
					"Server Internal Error");
		mem_deref(lw);
	}

	return err;
}


/* The size of the first NOTIFY's body; nothing counts as sent */
static int full_size(struct listwatcher *lw, size_t *sizep)
{
	struct mbuf *mb = NULL;
	struct le *le;
	int err;

	err = render(&mb, lw);
	if (err)
		return err;

	*sizep = mb->end;
	mem_deref(mb);

	lw->version = 0;
	lw->full = true;
	for (le = list_head(&lw->resources); le; le = le->next) {
		struct resource *r = le->data;

		r->version = 0;
	}

	return 0;
}


/* The Contact names a transport other than UDP */
static bool contact_reliable(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr addr;
	struct pl tp;

	return hdr && !sip_addr_decode(&addr, &hdr->val) &&
		!msg_param_decode(&addr.uri.params, "transport", &tp) &&
		pl_strcasecmp(&tp, "udp");
}


/* A UDP phone's list too big for one UDP datagram, that takes no TCP:
   it would get 200 and never a state, so it is refused */
static void refuse_too_big(struct listwatcher *lw, const struct sip_msg *msg,
			   int err)
{
	const uint32_t n = list_count(&lw->resources);
	static struct log_limit ll;

	log_limited(&ll, LOG_LEVEL_WARN, "blflist: list from %J refused "
		    "(503): its NOTIFY of %u orbits is %zu bytes, too big for "
		    "UDP (%u), and its Contact takes no TCP (%m); subscribe "
		    "over TCP, or use fewer orbits", &msg->src, n,
		    lw->size + HDR_ROOM, UDP_MAX, err);

	/* statelessly, as every refusal: anyone may ask */
	(void)sip_replyf(lw->sip, msg, 503, "Service Unavailable",
			 "Retry-After: %u\r\n"
			 "Warning: 399 parkblf \"a NOTIFY of %u orbits is "
			 "too big for UDP; subscribe over TCP\"\r\n"
			 "Content-Length: 0\r\n\r\n", TOO_BIG_WAIT, n);
	++metrics.subscribes_refused;
}


/* The phone was tried over TCP: its NOTIFYs go there, else over UDP if
   they fit a datagram, else it is refused */
static void tcp_tried(int err, const struct sip_msg *msg, void *arg)
{
	struct listwatcher *lw = arg;
	struct tcpswitch *ts = lw->ts;
	const size_t bytes = lw->size + HDR_ROOM;

	lw->ts = NULL;
	list_unlink(&lw->le);

	if (!err) {
		log_info("blflist: list from %J: NOTIFYs of %zu bytes go over "
			 "TCP (RFC 3261 18.1.1)", &msg->src, bytes);
		(void)list_accept(lw, lw->sip, lw->sock, msg, lw->cfg);
	}
	else if (bytes <= UDP_MAX) {
		log_info("blflist: list from %J: no TCP at its Contact (%m): "
			 "NOTIFYs of %zu bytes go over UDP, in IP fragments",
			 &msg->src, err, bytes);
		(void)list_accept(lw, lw->sip, lw->sock, msg, lw->cfg);
	}
	else {
		refuse_too_big(lw, msg, err);
		mem_deref(lw);
	}

	mem_deref(ts);
}


/* Behind NAT, by natkeep.c's rules (as for single keys) */
static bool behind_nat(const struct natkeep *nk, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr addr;

	return hdr && !sip_addr_decode(&addr, &hdr->val) &&
		natkeep_detect(nk, msg, &addr.uri);
}


/* The phone behind NAT stopped answering keepalives: the list ends */
static void nat_lost(void *user, void *arg)
{
	struct listwatcher *lw = user;
	(void)arg;

	log_info("blflist: list from %J ended: the phone stopped answering "
		 "keepalives", &lw->peer);
	mem_deref(lw);
}


/* Behind NAT: NOTIFYs and keepalives go to msg's source (for UDP from
   the socket of its destination) */
static int nat_bind(struct listwatcher *lw, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct natuse *u = NULL;
	struct sip_addr addr;
	char *target = NULL;
	int err;

	if (!hdr || sip_addr_decode(&addr, &hdr->val))
		return EBADMSG;

	err = pl_strdup(&target, &addr.auri);
	if (!err)
		err = natkeep_bind(&u, notifier_natkeep(lw->bl->nt), msg->tp,
				   &msg->src, &msg->dst, msg, target, lw);
	mem_deref(target);
	if (err)
		return err;

	natuse_set_lost(u, nat_lost, NULL);
	mem_deref(lw->nat);
	lw->nat = u;
	lw->peer = msg->src;
	lw->laddr = msg->dst;
	lw->tp = msg->tp;

	return 0;
}


static int list_subscribe(struct blflist *bl, struct sip *sip,
			  struct sipevent_sock *sock,
			  const struct sip_msg *msg,
			  const struct sip_msg *orig,
			  const struct config *cfg);


/**
 * Take a SUBSCRIBE to the list name (the event package is checked)
 *
 * A list whose first NOTIFY is larger than 1300 bytes, asked for over
 * UDP, is answered only once the phone's Contact was tried over TCP
 * (RFC 3261 18.1.1): the NOTIFYs then go over TCP; if it takes no TCP,
 * over UDP if they fit one datagram, otherwise the SUBSCRIBE is refused
 * with 503 (Retry-After, Warning) and a log line.  A phone behind NAT
 * is not tried (no connection gets in) and is reached at its source.
 *
 * @param bl      List subscriptions
 * @param sip     SIP stack
 * @param sock    SIP event socket
 * @param msg     The SUBSCRIBE
 * @param se      Its decoded Event header
 * @param cfg     Configuration
 *
 * @return 0 if a subscription was made or is being tried, otherwise
 *         errorcode (answered)
 */
int blflist_subscribe(struct blflist *bl, struct sip *sip,
		      struct sipevent_sock *sock, const struct sip_msg *msg,
		      const struct sipevent_event *se,
		      const struct config *cfg)
{
	struct sip_msg *fixed = NULL;
	int err;

	(void)se;

	/* behind NAT: libre's notifier reads a Contact at the source */
	if (behind_nat(notifier_natkeep(bl->nt), msg)) {
		err = contactfix_copy(&fixed, msg, &msg->src, msg->tp);
		if (err) {
			(void)sip_reply(sip, msg, 400, "Bad Contact Header");
			return err;
		}
		if (msg->tp == SIP_TRANSP_UDP)
			sa_set_port(&fixed->via.addr, sa_port(&msg->src));
	}

	err = list_subscribe(bl, sip, sock, fixed ? fixed : msg,
			     fixed ? msg : NULL, cfg);
	mem_deref(fixed);

	return err;
}


/* msg: the SUBSCRIBE as libre's notifier reads it; orig: as it came
   from a phone behind NAT, NULL for another */
static int list_subscribe(struct blflist *bl, struct sip *sip,
			  struct sipevent_sock *sock,
			  const struct sip_msg *msg,
			  const struct sip_msg *orig,
			  const struct config *cfg)
{
	static struct log_limit ll;
	struct listwatcher *lw = NULL;
	struct sa phone;
	struct le *le;
	int err;

	if (!bl->enc || !sip_msg_hdr_has_value(msg, SIP_HDR_SUPPORTED,
					       "eventlist")) {
		(void)sip_replyf(sip, msg, 421, "Extension Required",
				 "Require: eventlist\r\n"
				 "Content-Length: 0\r\n\r\n");
		return EPROTO;
	}

	if (!accepts_multipart(msg)) {
		(void)sip_replyf(sip, msg, 406, "Not Acceptable",
				 "Accept: multipart/related, "
				 "application/rlmi+xml, "
				 "application/dialog-info+xml\r\n"
				 "Content-Length: 0\r\n\r\n");
		return EPROTO;
	}

	/* a retransmission while its phone is tried over TCP */
	for (le = list_head(&bl->pending); le; le = le->next) {
		const struct listwatcher *p = le->data;

		if (tcpswitch_same(p->ts, msg))
			return 0;
	}

	if (!contact_is_source(msg)) {
		log_limited(&ll, LOG_LEVEL_INFO, "blflist: list SUBSCRIBE "
			    "from %J refused: its Contact is not its source "
			    "address", &msg->src);
		(void)sip_reply(sip, msg, 403, "Contact Not Source Address");
		return EPERM;
	}

	lw = mem_zalloc(sizeof(*lw), watcher_destructor);
	if (!lw)
		return ENOMEM;

	lw->bl = bl;
	lw->peer = msg->src;
	lw->full = true;
	lw->sip = sip;
	lw->sock = sock;
	lw->cfg = cfg;

	err  = pl_strdup(&lw->entity, &msg->ruri);
	err |= pl_strdup(&lw->callid, &msg->callid);
	err |= re_sdprintf(&lw->host, msg->uri.port ? "%r:%u" : "%r",
			   &msg->uri.host, msg->uri.port);
	proxytrust_phone(&phone, msg);
	err |= notifier_pacer_slot(&lw->pace, bl->nt, &phone,
				   send_handler, lw);
	ptmr_init(&lw->tmr_back);
	if (!err && orig) {
		err = nat_bind(lw, orig);
		if (!err)
			err = sip_dialog_accept(&lw->dlg, msg);
	}
	if (!err)
		err = full_size(lw, &lw->size);
	if (err) {
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		mem_deref(lw);
		return err;
	}

	if (msg->tp != SIP_TRANSP_UDP || lw->size + HDR_ROOM <= TCP_ABOVE ||
	    contact_reliable(msg))
		return list_accept(lw, sip, sock, msg, cfg);

	/* behind NAT no TCP connection gets in: not tried */
	err = lw->nat ? EHOSTUNREACH :
		tcpswitch_start(&lw->ts, msg, PROBE_MS, tcp_tried, lw);
	if (err) {
		if (lw->size + HDR_ROOM <= UDP_MAX)
			return list_accept(lw, sip, sock, msg, cfg);
		refuse_too_big(lw, msg, err);
		mem_deref(lw);
		return 0;   /* counted */
	}

	list_append(&bl->pending, &lw->le, lw);
	log_debug("blflist: list from %J: %zu bytes, trying its Contact "
		  "over TCP", &msg->src, lw->size + HDR_ROOM);

	return 0;
}


static void back_handler(void *arg)
{
	struct listwatcher *lw = arg;

	pacer_request(lw->pace);
}


/**
 * A SUBSCRIBE in a list subscription's dialog, before libre's notifier
 * takes it: a phone behind NAT is heard from, followed if it comes from
 * another address (or a new connection), and its Contact read at its
 * source again (libre would send this refresh's NOTIFY, and the next,
 * to the Contact)
 *
 * @param bl  List subscriptions
 * @param msg A SUBSCRIBE with a To tag
 *
 * @return true if it has the Call-ID of a list subscription (libre's
 *         notifier has its dialog)
 */
bool blflist_indialog(struct blflist *bl, const struct sip_msg *msg)
{
	struct le *le;

	if (!bl || !msg)
		return false;

	for (le = list_head(&bl->watchers); le; le = le->next) {
		struct listwatcher *lw = le->data;
		const struct sa was = lw->peer;
		bool moved, back;

		if (pl_strcmp(&msg->callid, lw->callid))
			continue;
		if (!lw->nat || !sip_dialog_cmp(lw->dlg, msg) ||
		    msg->tp != lw->tp)
			return true;

		moved = !sa_cmp(&lw->peer, &msg->src, SA_ALL) ||
			!sa_cmp(&lw->laddr, &msg->dst, SA_ALL);
		back = !natuse_reachable(lw->nat);
		if (!moved && !back)
			natuse_heard(lw->nat);
		else if (nat_bind(lw, msg))
			return true;

		if (moved) {
			log_info("blflist: list from %J: the phone moved to "
				 "%J", &was, &msg->src);
			if (pin_socket(lw, msg))
				log_warn("blflist: list from %J: its NOTIFYs "
					 "may leave from another address",
					 &msg->src);
		}

		lw->fix = mem_deref(lw->fix);
		if (contactfix_apply(&lw->fix, msg, &msg->src, msg->tp))
			log_warn("blflist: list from %J: its Contact is not "
				 "rewritten", &msg->src);

		/* what waited: once libre has the phone's new address */
		if (back) {
			lw->full = true;
			ptmr_start(&lw->tmr_back, 0, back_handler, lw);
		}
		return true;
	}

	return false;
}


/**
 * Mark an orbit changed for every list subscription
 *
 * @param bl   List subscriptions
 * @param name Orbit name
 */
void blflist_orbit_changed(struct blflist *bl, const char *name)
{
	struct le *le;

	if (!bl || !name)
		return;

	for (le = list_head(&bl->watchers); le; le = le->next) {
		struct listwatcher *lw = le->data;
		struct resource *r = resource_find(lw, name);

		if (r)
			r->dirty = true;
		else
			lw->full = true;   /* a new orbit: send everything */
		pacer_request(lw->pace);
	}
}


/**
 * End every list subscription with a final NOTIFY
 *
 * @param bl          List subscriptions
 * @param reason      Subscription-State reason
 * @param retry_after Retry-after seconds, 0 for none
 */
void blflist_close_all(struct blflist *bl, enum sipevent_reason reason,
		       uint32_t retry_after)
{
	if (!bl)
		return;

	while (!list_isempty(&bl->watchers)) {
		struct listwatcher *lw = list_head(&bl->watchers)->data;

		(void)sipevent_notify(lw->not, NULL, SIPEVENT_TERMINATED,
				      reason, retry_after);
		mem_deref(lw);
	}
}


/**
 * Count the list subscriptions
 *
 * @param bl List subscriptions
 *
 * @return Number of list subscriptions
 */
uint32_t blflist_count(const struct blflist *bl)
{
	return bl ? list_count(&bl->watchers) : 0;
}
