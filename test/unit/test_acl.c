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


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_networks),
	cmocka_unit_test(test_bad_entries),
};

const struct unit_group unit_acl = UNIT_GROUP(acl, tests);
