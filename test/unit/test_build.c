/**
 * @file test_build.c  How the tests (and so parkblf) were compiled
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


/* An optimised build has glibc's checked calls and warn_unused_result
   marks (_FORTIFY_SOURCE=2, the Makefile's FORTIFY): without them a
   (void)write() slipped through -Werror and only the Debian build,
   with dpkg-buildflags' hardening, refused it */
static void test_fortified(void **state)
{
	(void)state;

#if defined(__OPTIMIZE__) && !(__USE_FORTIFY_LEVEL >= 2)
	fail_msg("optimised (-O1 or more) without _FORTIFY_SOURCE=2");
#endif
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_fortified),
};

const struct unit_group unit_build = UNIT_GROUP(build, tests);
