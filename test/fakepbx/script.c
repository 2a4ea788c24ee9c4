/**
 * @file script.c  Fake PBX -- command scripts (-s)
 *
 * One command per line, as on the control socket; blank lines and lines
 * starting with '#' are skipped.  Two extra commands: "sleep MS" pauses,
 * "loop" starts again from the top.  Command errors are logged and the
 * script goes on.  The script starts on the first main loop iteration.
 *
 * Copyright (C) 2024 parkblf authors
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "fakepbx.h"


enum {
	SCRIPT_MAX = 1024 * 1024,
};

/** A running script */
struct script {
	struct pbx *pbx;
	struct tmr tmr;
	struct mbuf *text;   /**< Whole script                      */
	size_t pos;          /**< Offset of the next line in text   */
	uint64_t lines;      /**< Lines run since the last sleep    */
};


static void destructor(void *arg)
{
	struct script *s = arg;

	tmr_cancel(&s->tmr);
	mem_deref(s->text);
}


static bool next_line(struct script *s, struct pl *line)
{
	const char *p, *nl;

	if (s->pos >= s->text->end)
		return false;

	p  = (const char *)s->text->buf + s->pos;
	nl = memchr(p, '\n', s->text->end - s->pos);

	line->p = p;
	line->l = nl ? (size_t)(nl - p) : s->text->end - s->pos;
	s->pos += line->l + (nl ? 1 : 0);

	while (line->l && (line->p[0] == ' ' || line->p[0] == '\t'))
		pl_advance(line, 1);

	while (line->l && (line->p[line->l - 1] == '\r' ||
			   line->p[line->l - 1] == ' ' ||
			   line->p[line->l - 1] == '\t'))
		--line->l;

	return true;
}


/* "sleep MS" -> true and the number in *ms */
static bool sleep_ms(const struct pl *line, struct pl *ms)
{
	struct pl rest = *line;
	size_t i;

	if (rest.l < 7 || memcmp(rest.p, "sleep", 5) ||
	    (rest.p[5] != ' ' && rest.p[5] != '\t'))
		return false;

	pl_advance(&rest, 5);
	while (rest.l && (rest.p[0] == ' ' || rest.p[0] == '\t'))
		pl_advance(&rest, 1);

	if (!rest.l || rest.l > 9)
		return false;

	for (i = 0; i < rest.l; i++) {
		if (rest.p[i] < '0' || rest.p[i] > '9')
			return false;
	}

	*ms = rest;

	return true;
}


static void step(void *arg)
{
	struct script *s = arg;
	struct pl line, ms;

	while (!s->pbx->closing && next_line(s, &line)) {
		struct mbuf *reply;
		int err;

		if (!line.l || line.p[0] == '#')
			continue;

		if (sleep_ms(&line, &ms)) {
			uint32_t delay = pl_u32(&ms);

			fakepbx_log("script: sleep %u", delay);
			s->lines = 0;
			tmr_start(&s->tmr, delay, step, s);
			return;
		}

		if (!pl_strcmp(&line, "loop")) {
			fakepbx_log("script: loop");
			s->pos = 0;
			/* let the main loop breathe between rounds */
			tmr_start(&s->tmr, s->lines ? 0 : 1, step, s);
			s->lines = 0;
			return;
		}

		++s->lines;

		reply = mbuf_alloc(128);
		if (!reply) {
			fakepbx_log("script: out of memory");
			return;
		}

		err = cmd_exec(s->pbx, reply, &line);
		if (err)
			fakepbx_log("script: %m", err);

		mem_deref(reply);
	}

	fakepbx_log("script: done");
}


/**
 * Load a script and start it on the next main loop iteration
 *
 * @param scriptp Where to store the script
 * @param pbx     Fake PBX
 * @param path    Script file
 *
 * @return 0 if success, otherwise errorcode
 */
int script_alloc(struct script **scriptp, struct pbx *pbx,
		 const char *path)
{
	struct script *s;
	uint8_t buf[4096];
	size_t n;
	FILE *f;
	int err = 0;

	if (!scriptp || !pbx || !path)
		return EINVAL;

	f = fopen(path, "r");
	if (!f)
		return errno ? errno : ENOENT;

	s = mem_zalloc(sizeof(*s), destructor);
	if (!s) {
		err = ENOMEM;
		goto out;
	}

	s->pbx = pbx;
	tmr_init(&s->tmr);

	s->text = mbuf_alloc(sizeof(buf));
	if (!s->text) {
		err = ENOMEM;
		goto out;
	}

	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (s->text->end + n > SCRIPT_MAX) {
			err = EFBIG;
			goto out;
		}

		err = mbuf_write_mem(s->text, buf, n);
		if (err)
			goto out;
	}

	if (ferror(f)) {
		err = EIO;
		goto out;
	}

	tmr_start(&s->tmr, 0, step, s);

 out:
	(void)fclose(f);

	if (err)
		mem_deref(s);
	else
		*scriptp = s;

	return err;
}
