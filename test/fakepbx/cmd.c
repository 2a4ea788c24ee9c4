/**
 * @file cmd.c  Fake PBX -- commands (shared by the control socket and
 *              scripts)
 *
 * Every command produces exactly one reply line, "ok[ ...]" or
 * "error <why>", and changes nothing when it fails.
 *
 * Copyright (C) 2024 parkblf authors
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "fakepbx.h"


enum {
	RAW_MAX = 16 * 1024 * 1024,
};


static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static void trim(struct pl *pl)
{
	while (pl->l && is_space(pl->p[0]))
		pl_advance(pl, 1);

	while (pl->l && is_space(pl->p[pl->l - 1]))
		--pl->l;
}


/* next whitespace-separated token of *rest; false if none */
static bool next_tok(struct pl *rest, struct pl *tok)
{
	trim(rest);

	if (!rest->l)
		return false;

	tok->p = rest->p;
	tok->l = 0;

	while (tok->l < rest->l && !is_space(rest->p[tok->l]))
		++tok->l;

	pl_advance(rest, tok->l);

	return true;
}


static bool pl_num(const struct pl *pl, uint32_t *v)
{
	size_t i;

	if (!pl->l || pl->l > 9)
		return false;

	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return false;
	}

	*v = pl_u32(pl);

	return true;
}


static bool pl_token(const struct pl *pl)
{
	size_t i;

	for (i = 0; i < pl->l; i++) {
		char c = pl->p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}

	return pl->l > 0;
}


static int on_off(const struct pl *pl, bool *val)
{
	if (!pl_strcasecmp(pl, "on"))
		*val = true;
	else if (!pl_strcasecmp(pl, "off"))
		*val = false;
	else
		return EINVAL;

	return 0;
}


static int read_file(struct mbuf **mbp, const char *path)
{
	struct mbuf *mb;
	uint8_t buf[4096];
	FILE *f;
	size_t n;
	int err = 0;

	f = fopen(path, "rb");
	if (!f)
		return errno ? errno : ENOENT;

	mb = mbuf_alloc(sizeof(buf));
	if (!mb) {
		err = ENOMEM;
		goto out;
	}

	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (mb->end + n > RAW_MAX) {
			err = EFBIG;
			goto out;
		}

		err = mbuf_write_mem(mb, buf, n);
		if (err)
			goto out;
	}

	if (ferror(f))
		err = EIO;

 out:
	(void)fclose(f);

	if (err)
		mem_deref(mb);
	else
		*mbp = mb;

	return err;
}


static int cmd_raw(struct pbx *pbx, struct mbuf *reply, struct pl *args)
{
	struct pl ctype, path;
	char *sctype = NULL, *spath = NULL;
	struct mbuf *body = NULL;
	int err;

	if (!next_tok(args, &ctype) || !next_tok(args, &path) || args->l)
		return mbuf_printf(reply, "error usage: raw CONTENT-TYPE "
				   "PATH\n");

	err  = pl_strdup(&sctype, &ctype);
	err |= pl_strdup(&spath, &path);
	if (err)
		goto out;

	err = read_file(&body, spath);
	if (err) {
		err = mbuf_printf(reply, "error cannot read %s: %m\n",
				  spath, err);
		goto out;
	}

	err = subs_raw(pbx, sctype, body);
	if (err)
		err = mbuf_printf(reply, "error %m\n", err);
	else
		err = mbuf_printf(reply, "ok\n");

 out:
	mem_deref(body);
	mem_deref(sctype);
	mem_deref(spath);

	return err;
}


/* "ok DN=CALLID,CALLID;DN=CALLID" or just "ok" */
static int cmd_state(const struct pbx *pbx, struct mbuf *reply)
{
	char *st = NULL;
	int err;

	err = re_sdprintf(&st, "%H", dnstore_print, pbx);
	if (err)
		return mbuf_printf(reply, "error %m\n", err);

	err = mbuf_printf(reply, "ok%s%s\n", str_isset(st) ? " " : "",
			  st ? st : "");
	mem_deref(st);

	return err;
}


static int exec(struct pbx *pbx, struct mbuf *reply, const struct pl *cmd,
		struct pl *args)
{
	struct pl a1 = PL_INIT, a2 = PL_INIT, a3 = PL_INIT;
	uint32_t n;
	bool b;
	int err;

	if (!pl_strcasecmp(cmd, "park")) {
		if (!next_tok(args, &a1) || !next_tok(args, &a2) ||
		    !next_tok(args, &a3))
			return mbuf_printf(reply, "error usage: park DN "
					   "CALLID NUMBER [NAME...]\n");
		trim(args);

		err = dnstore_park(pbx, &a1, &a2, &a3, args);
		if (err == EALREADY)
			return mbuf_printf(reply, "error call %r already "
					   "parked on %r\n", &a2, &a1);
		if (err)
			return mbuf_printf(reply, "error %m\n", err);
	}
	else if (!pl_strcasecmp(cmd, "retrieve")) {
		if (!next_tok(args, &a1))
			return mbuf_printf(reply, "error usage: retrieve DN "
					   "[CALLID]\n");
		(void)next_tok(args, &a2);
		if (args->l)
			return mbuf_printf(reply, "error too many "
					   "arguments\n");

		err = dnstore_retrieve(pbx, &a1, &a2);
		if (err == ENOENT)
			return mbuf_printf(reply, "error no such call on "
					   "%r\n", &a1);
		if (err)
			return mbuf_printf(reply, "error %m\n", err);
	}
	else if (!pl_strcasecmp(cmd, "clear")) {
		if (args->l)
			return mbuf_printf(reply, "error usage: clear\n");

		dnstore_clear(pbx);
	}
	else if (!pl_strcasecmp(cmd, "format")) {
		enum pbx_fmt fmt;

		if (!next_tok(args, &a1) || args->l ||
		    fakepbx_fmt_decode(&fmt, &a1))
			return mbuf_printf(reply, "error usage: format "
					   "dialog|rlmi|pidf\n");
		pbx->fmt = fmt;
	}
	else if (!pl_strcasecmp(cmd, "partial")) {
		if (!next_tok(args, &a1) || args->l || on_off(&a1, &b))
			return mbuf_printf(reply, "error usage: partial "
					   "on|off\n");
		pbx->partial = b;
	}
	else if (!pl_strcasecmp(cmd, "refuse")) {
		uint32_t ra = 0;

		if (!next_tok(args, &a1) || !pl_num(&a1, &n) ||
		    n < 300 || n > 699 ||
		    (next_tok(args, &a2) && !pl_num(&a2, &ra)) || args->l)
			return mbuf_printf(reply, "error usage: refuse "
					   "CODE(300-699) [RETRY_AFTER]\n");
		pbx->refuse    = (uint16_t)n;
		pbx->refuse_ra = ra;
	}
	else if (!pl_strcasecmp(cmd, "accept")) {
		if (args->l)
			return mbuf_printf(reply, "error usage: accept\n");
		pbx->refuse    = 0;
		pbx->refuse_ra = 0;
	}
	else if (!pl_strcasecmp(cmd, "terminate")) {
		uint32_t ra = 0;
		char *reason = NULL;

		if (!next_tok(args, &a1) || !pl_token(&a1) ||
		    (next_tok(args, &a2) && !pl_num(&a2, &ra)) || args->l)
			return mbuf_printf(reply, "error usage: terminate "
					   "REASON [RETRY_AFTER]\n");

		err = pl_strdup(&reason, &a1);
		if (err)
			return mbuf_printf(reply, "error %m\n", err);

		subs_terminate(pbx, reason, ra);
		mem_deref(reason);
	}
	else if (!pl_strcasecmp(cmd, "silent")) {
		if (!next_tok(args, &a1) || args->l || on_off(&a1, &b))
			return mbuf_printf(reply, "error usage: silent "
					   "on|off\n");
		pbx->silent = b;
		if (!b)
			subs_kick(pbx);
	}
	else if (!pl_strcasecmp(cmd, "unsubscribe-notify")) {
		if (!next_tok(args, &a1) || args->l || on_off(&a1, &b))
			return mbuf_printf(reply, "error usage: "
					   "unsubscribe-notify on|off\n");
		pbx->unsub_quiet = !b;
	}
	else if (!pl_strcasecmp(cmd, "forget")) {
		if (args->l)
			return mbuf_printf(reply, "error usage: forget\n");
		subs_forget(pbx);
	}
	else if (!pl_strcasecmp(cmd, "garbage")) {
		char *kind = NULL;

		if (!next_tok(args, &a1) || !pl_token(&a1))
			return mbuf_printf(reply, "error usage: garbage "
					   "badxml|xxe|bomb|huge|wrongtype|"
					   "wrongns [DN]\n");
		(void)next_tok(args, &a2);
		if (args->l)
			return mbuf_printf(reply, "error too many "
					   "arguments\n");

		err = pl_strdup(&kind, &a1);
		if (!err)
			err = subs_garbage(pbx, kind, &a2);
		mem_deref(kind);

		if (err == ENOENT)
			return mbuf_printf(reply, "error unknown kind or "
					   "DN\n");
		if (err)
			return mbuf_printf(reply, "error %m\n", err);
	}
	else if (!pl_strcasecmp(cmd, "raw")) {
		return cmd_raw(pbx, reply, args);
	}
	else if (!pl_strcasecmp(cmd, "state")) {
		if (args->l)
			return mbuf_printf(reply, "error usage: state\n");

		return cmd_state(pbx, reply);
	}
	else if (!pl_strcasecmp(cmd, "subs")) {
		if (args->l)
			return mbuf_printf(reply, "error usage: subs\n");

		return mbuf_printf(reply, "ok %u\n", subs_count(pbx));
	}
	else if (!pl_strcasecmp(cmd, "notifies")) {
		if (args->l)
			return mbuf_printf(reply, "error usage: notifies\n");

		return mbuf_printf(reply, "ok %llu\n",
				   (unsigned long long)pbx->notifies);
	}
	else if (!pl_strcasecmp(cmd, "quit")) {
		if (args->l)
			return mbuf_printf(reply, "error usage: quit\n");

		fakepbx_quit(pbx);
	}
	else {
		return mbuf_printf(reply, "error unknown command %r\n", cmd);
	}

	return mbuf_printf(reply, "ok\n");
}


/**
 * Execute one command line and print its reply line
 *
 * @param pbx   Fake PBX
 * @param reply Buffer for the reply line (ends with LF)
 * @param line  Command line (without line end)
 *
 * @return 0 if success (also when the reply is an error), otherwise
 *         errorcode
 */
int cmd_exec(struct pbx *pbx, struct mbuf *reply, const struct pl *line)
{
	struct pl rest = *line, cmd;
	size_t start;
	int err;

	if (!pbx || !reply || !line)
		return EINVAL;

	start = reply->end;
	reply->pos = start;

	if (!next_tok(&rest, &cmd))
		err = mbuf_printf(reply, "error empty command\n");
	else
		err = exec(pbx, reply, &cmd, &rest);

	if (!err) {
		struct pl rpl;

		rpl.p = (const char *)reply->buf + start;
		rpl.l = reply->end - start - 1;

		fakepbx_log("command: %r -> %r", line, &rpl);
	}

	return err;
}
