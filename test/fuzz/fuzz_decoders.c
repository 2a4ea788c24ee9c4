/**
 * @file fuzz_decoders.c  libFuzzer target: upstream bodies
 *
 * Input: one selector byte, then the body.  The selector picks the
 * Content-Type: RFC 4235 dialog-info, an RFC 4662 multipart/related
 * list (boundary "b1", as the fixtures), PIDF, the vendor XML type
 * configured by fuzz_init(), or (selector 4) a Content-Type header
 * value supplied by the input itself, up to the first LF, for the
 * multipart parameter parsing.  Every body that decodes is applied to
 * a fresh store twice (fuzz_store_check).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "fuzz.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *ctypes[] = {
	"application/dialog-info+xml",
	"multipart/related;type=\"application/rlmi+xml\";"
	"start=\"<rlmi@pbx>\";boundary=\"b1\"",
	"application/pidf+xml",
	"application/x-3cx-dn+xml;charset=UTF-8",
	NULL,                     /* from the input */
};

enum { NCTYPES = sizeof(ctypes) / sizeof(ctypes[0]) };


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	fuzz_init();

	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dn_update *upd = NULL;
	struct msg_ctype ct;
	const char *sel;
	char *hdr = NULL;
	struct pl pl;
	int err;

	if (size < 1)
		return 0;

	sel = ctypes[data[0] % NCTYPES];
	++data;
	--size;

	if (sel) {
		pl_set_str(&pl, sel);
	}
	else {
		const uint8_t *lf = memchr(data, '\n', size);
		size_t n = lf ? (size_t)(lf - data) : size;

		/* a header value never holds a NUL: the SIP parser stops */
		hdr = fuzz_str(data, n);
		pl_set_str(&pl, hdr);
		data += lf ? n + 1 : n;
		size -= lf ? n + 1 : n;
	}

	if (msg_ctype_decode(&ct, &pl))
		goto out;

	if (dn_update_alloc(&upd))
		goto out;

	err = decoder_decode(upd, &ct, data, size);
	if (!err)
		(void)fuzz_store_check(upd);

 out:
	mem_deref(upd);
	mem_deref(hdr);

	return 0;
}
