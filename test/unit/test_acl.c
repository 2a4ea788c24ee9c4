/**
 * @file test_acl.c  subscribe_allow networks
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "acl.h"
#include "proxytrust.h"
#include "unit.h"


static bool allows(const struct acl *acl, const char *addr)
{
	struct sa sa;

	assert_int_equal(0, sa_set_str(&sa, addr, 5060));

	return acl_allows(acl, &sa);
}


static void test_networks(void **state)
{
	struct acl *acl = NULL;
	struct pl spec = PL("127.0.0.0/8,10.1.0.0/16,192.0.2.7,"
			    "fd00::/8,2001:db8::1/128,172.16.0.0/12");
	(void)state;

	assert_int_equal(0, acl_alloc(&acl, &spec, NULL));

	assert_true(allows(acl, "127.0.0.1"));
	assert_true(allows(acl, "127.255.255.254"));
	assert_true(allows(acl, "10.1.200.3"));
	assert_false(allows(acl, "10.2.0.1"));
	assert_true(allows(acl, "192.0.2.7"));
	assert_false(allows(acl, "192.0.2.8"));
	assert_true(allows(acl, "172.31.255.1"));
	assert_false(allows(acl, "172.32.0.1"));
	assert_true(allows(acl, "fd12:3456::1"));
	assert_false(allows(acl, "fe80::1"));
	assert_true(allows(acl, "2001:db8::1"));
	assert_false(allows(acl, "2001:db8::2"));
	/* an IPv4 phone seen on an IPv6 socket */
	assert_true(allows(acl, "::ffff:10.1.0.9"));
	assert_false(allows(acl, "::ffff:8.8.8.8"));

	mem_deref(acl);
}


static void test_bad_entries(void **state)
{
	static const char *bad[] = {
		"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0/8", "host",
		"10.0.0.0/8,,", "10.0.0.0/x", "",
	};
	struct acl *acl = NULL;
	struct pl spec, where;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pl_set_str(&spec, bad[i]);
		if (!spec.l)
			continue;
		assert_int_equal(EINVAL, acl_alloc(&acl, &spec, &where));
		assert_null(acl);
	}

	pl_set_str(&spec, "10.0.0.0/8,nonsense,::1");
	assert_int_equal(EINVAL, acl_alloc(&acl, &spec, &where));
	assert_int_equal(0, pl_strcmp(&where, "nonsense"));
}


/* The phone behind a proxy: a SUBSCRIBE with these Vias from src */
static bool phone_of(const struct acl *trusted, const char *src,
		     const char *vias, struct sa *phone)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(512);
	bool found;

	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"SUBSCRIBE sip:park-1@192.0.2.1 SIP/2.0\r\n"
		"%s"
		"From: <sip:201@192.0.2.1>;tag=a\r\n"
		"To: <sip:park-1@192.0.2.1>\r\n"
		"Call-ID: c1\r\n"
		"CSeq: 1 SUBSCRIBE\r\n"
		"Event: dialog\r\n"
		"Content-Length: 0\r\n\r\n", vias));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);
	assert_int_equal(0, sa_set_str(&msg->src, src, 5060));

	sa_init(phone, AF_UNSPEC);
	found = proxytrust_via(phone, msg, trusted);
	mem_deref(msg);

	return found;
}


static void assert_phone(const struct sa *phone, const char *addr,
			 uint16_t port)
{
	struct sa want;

	assert_int_equal(0, sa_set_str(&want, addr, port));
	assert_true(sa_cmp(phone, &want, SA_ALL));
}


static void test_proxy_via(void **state)
{
	struct acl *acl = NULL;
	struct pl spec = PL("192.0.2.10,198.51.100.0/24");
	struct sa phone;
	(void)state;

	assert_int_equal(0, acl_alloc(&acl, &spec, NULL));

	/* the Via below the proxy's */
	assert_true(phone_of(acl, "192.0.2.10",
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\r\n"
		"Via: SIP/2.0/UDP 10.1.2.3:5062;branch=z9hG4bKa1\r\n",
		&phone));
	assert_phone(&phone, "10.1.2.3", 5062);

	/* in one header; received and rport (behind NAT) */
	assert_true(phone_of(acl, "192.0.2.10",
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1, "
		"SIP/2.0/UDP 10.1.2.3;rport=40000;received=203.0.113.5;"
		"branch=z9hG4bKa1\r\n", &phone));
	assert_phone(&phone, "203.0.113.5", 40000);

	/* a chain of trusted proxies; the first Via not theirs */
	assert_true(phone_of(acl, "192.0.2.10",
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\r\n"
		"Via: SIP/2.0/TCP 198.51.100.7;branch=z9hG4bKp2\r\n"
		"Via: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKa1\r\n"
		"Via: SIP/2.0/UDP 10.8.8.8;branch=z9hG4bKa0\r\n", &phone));
	assert_phone(&phone, "10.9.9.9", 5060);

	/* all trusted: the bottom one, the originator */
	assert_true(phone_of(acl, "192.0.2.10",
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\r\n"
		"Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKp2\r\n",
		&phone));
	assert_phone(&phone, "198.51.100.7", 5070);

	/* only the proxy's Via, a host name, a bad received: not found
	   (the caller takes the source) */
	assert_false(phone_of(acl, "192.0.2.10",
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\r\n",
		&phone));
	assert_false(phone_of(acl, "192.0.2.10",
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\r\n"
		"Via: SIP/2.0/UDP phone.example.com;branch=z9hG4bKa1\r\n",
		&phone));
	assert_false(phone_of(acl, "192.0.2.10",
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\r\n"
		"Via: SIP/2.0/UDP 10.1.2.3;received=nonsense;"
		"branch=z9hG4bKa1\r\n", &phone));
	assert_false(sa_isset(&phone, SA_ADDR));

	/* not from a trusted proxy: its Vias are not believed */
	assert_false(phone_of(acl, "192.0.2.11",
		"Via: SIP/2.0/UDP 192.0.2.11;branch=z9hG4bKp1\r\n"
		"Via: SIP/2.0/UDP 10.1.2.3;branch=z9hG4bKa1\r\n", &phone));
	assert_false(phone_of(NULL, "192.0.2.10",
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\r\n"
		"Via: SIP/2.0/UDP 10.1.2.3;branch=z9hG4bKa1\r\n", &phone));

	mem_deref(acl);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_networks),
	cmocka_unit_test(test_bad_entries),
	cmocka_unit_test(test_proxy_via),
};

const struct unit_group unit_acl = UNIT_GROUP(acl, tests);
