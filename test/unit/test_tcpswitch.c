/**
 * @file test_tcpswitch.c  A SUBSCRIBE's Contact rewritten for TCP, and
 *                          to the source of a phone behind NAT
 *                          (contactfix.c)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "tcpswitch.h"
#include "contactfix.h"
#include "unit.h"


static struct sip_msg *subscribe(const char *contact)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(512);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"SUBSCRIBE sip:parks@192.0.2.1:5060 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKa1\r\n"
		"From: <sip:201@192.0.2.1>;tag=f1\r\n"
		"To: <sip:parks@192.0.2.1>\r\n"
		"Call-ID: c1@192.0.2.7\r\n"
		"CSeq: 7 SUBSCRIBE\r\n"
		"%s"
		"Event: dialog\r\n"
		"Supported: eventlist\r\n"
		"Content-Length: 4\r\n"
		"\r\n"
		"body", contact));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	sa_set_str(&msg->src, "192.0.2.7", 5062);
	msg->tp = SIP_TRANSP_UDP;
	mem_deref(mb);

	return msg;
}


/* The Contact of the rewritten message, and the rest unchanged */
static void expect_contact(const char *contact, const char *want)
{
	struct sip_msg *msg = subscribe(contact);
	struct sip_msg *tcp = NULL;
	const struct sip_hdr *hdr;
	char *val = NULL;

	assert_int_equal(0, tcpswitch_rewrite(&tcp, msg));
	hdr = sip_msg_hdr(tcp, SIP_HDR_CONTACT);
	assert_non_null(hdr);
	assert_int_equal(0, pl_strdup(&val, &hdr->val));
	assert_string_equal(want, val);

	/* everything else as it came, and where it came from */
	assert_int_equal(0, pl_strcmp(&tcp->callid, "c1@192.0.2.7"));
	assert_int_equal(7, tcp->cseq.num);
	assert_int_equal(0, pl_strcmp(&tcp->from.tag, "f1"));
	assert_int_equal(0, pl_strcmp(&tcp->via.branch, "z9hG4bKa1"));
	assert_non_null(sip_msg_hdr(tcp, SIP_HDR_EVENT));
	assert_true(sip_msg_hdr_has_value(tcp, SIP_HDR_SUPPORTED,
					  "eventlist"));
	assert_int_equal(4, mbuf_get_left(tcp->mb));
	assert_true(sa_cmp(&msg->src, &tcp->src, SA_ALL));
	assert_int_equal(SIP_TRANSP_UDP, tcp->tp);

	mem_deref(val);
	mem_deref(tcp);
	mem_deref(msg);
}


static void test_rewrite(void **state)
{
	(void)state;

	expect_contact("Contact: <sip:201@192.0.2.7:5062>\r\n",
		       "<sip:201@192.0.2.7:5062;transport=tcp>");
	/* a transport=udp goes, other parameters stay (Snom's line=) */
	expect_contact("Contact: <sip:201@192.0.2.7:5062;transport=UDP;"
		       "line=abc>;expires=600\r\n",
		       "<sip:201@192.0.2.7:5062;line=abc;transport=tcp>"
		       ";expires=600");
	/* no angle brackets, no port */
	expect_contact("Contact: sip:201@192.0.2.7\r\n",
		       "<sip:201@192.0.2.7;transport=tcp>");
	expect_contact("m: <sip:201@[2001:db8::7]:5062>\r\n",
		       "<sip:201@[2001:db8::7]:5062;transport=tcp>");
}


static void test_no_contact(void **state)
{
	struct sip_msg *msg = subscribe("");
	struct sip_msg *tcp = NULL;
	(void)state;

	assert_int_equal(EBADMSG, tcpswitch_rewrite(&tcp, msg));
	assert_null(tcp);
	mem_deref(msg);
}


static char *contact_of(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	char *val = NULL;

	assert_non_null(hdr);
	assert_int_equal(0, pl_strdup(&val, &hdr->val));

	return val;
}


/* Behind NAT: the Contact names the source, maddr and transport go */
static void test_nat_copy(void **state)
{
	struct sip_msg *msg = subscribe("Contact: <sip:201@10.1.1.7:5060;"
					"maddr=10.1.1.7;line=x>;"
					"expires=60\r\n");
	struct sip_msg *fixed = NULL;
	char *val;
	(void)state;

	assert_int_equal(0, contactfix_copy(&fixed, msg, &msg->src,
					    SIP_TRANSP_UDP));
	val = contact_of(fixed);
	assert_string_equal("<sip:201@192.0.2.7:5062;line=x>;expires=60",
			    val);
	assert_true(sa_cmp(&msg->src, &fixed->src, SA_ALL));
	mem_deref(val);
	fixed = mem_deref(fixed);

	assert_int_equal(0, contactfix_copy(&fixed, msg, &msg->src,
					    SIP_TRANSP_TLS));
	val = contact_of(fixed);
	assert_string_equal("<sip:201@192.0.2.7:5062;line=x;transport=tls>"
			    ";expires=60", val);
	mem_deref(val);
	mem_deref(fixed);
	mem_deref(msg);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rewrite),
	cmocka_unit_test(test_no_contact),
	cmocka_unit_test(test_nat_copy),
};

const struct unit_group unit_tcpswitch = UNIT_GROUP(tcpswitch, tests);
