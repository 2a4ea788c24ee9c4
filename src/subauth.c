/**
 * @file subauth.c  Digest authentication of phones (optional)
 *
 * With subscribe_users FILE, every SUBSCRIBE, REGISTER and INVITE must
 * carry digest credentials (MD5, qop=auth) of a user in FILE, one
 * "USER PASSWORD" per line; others get 401 with a challenge for
 * subscribe_realm.  The nonce is stateless (libre's HTTP digest code,
 * valid 300 s); the digest uri must be the Request-URI.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <sys/stat.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "subauth.h"


enum { USER_HASH_SIZE = 64, MAX_USERS = 100000 };

struct user {
	struct le he;
	char *name;
	uint8_t ha1[16];    /**< MD5(user:realm:password), no password kept */
	unsigned line;
};

struct subauth {
	struct hash *users;
	char *realm;
};

struct parse_state {
	struct subauth *sa;
	const char *file;
	struct mbuf *errmb;
	unsigned count;
	unsigned errors;
};


static void user_destructor(void *arg)
{
	struct user *u = arg;

	hash_unlink(&u->he);
	mem_deref(u->name);
}


static void destructor(void *arg)
{
	struct subauth *sa = arg;

	hash_flush(sa->users);
	mem_deref(sa->users);
	mem_deref(sa->realm);
}


static bool user_cmp(struct le *le, void *arg)
{
	const struct user *u = le->data;

	return 0 == pl_strcmp(arg, u->name);
}


static struct user *user_find(const struct subauth *sa,
			      const struct pl *name)
{
	return list_ledata(hash_lookup(sa->users, hash_joaat_pl(name),
				       user_cmp, (void *)name));
}


static void line_handler(const struct pl *line, unsigned lineno, void *arg)
{
	struct parse_state *ps = arg;
	struct pl name = *line, pass;
	const struct user *dup;
	struct user *u;
	size_t n = 0;

	while (n < line->l && line->p[n] != ' ' && line->p[n] != '\t')
		++n;
	name.l = n;
	pass.p = line->p + n;
	pass.l = line->l - n;
	while (pass.l && (pass.p[0] == ' ' || pass.p[0] == '\t'))
		pl_advance(&pass, 1);

	if (!pass.l || pl_strchr(&pass, ' ') || pl_strchr(&pass, '\t')) {
		config_error(ps->errmb, ps->file, lineno,
			     "want USER PASSWORD (one word each)");
		++ps->errors;
		return;
	}

	dup = user_find(ps->sa, &name);
	if (dup) {
		config_error(ps->errmb, ps->file, lineno,
			     "user '%r' already defined on line %u", &name,
			     dup->line);
		++ps->errors;
		return;
	}

	if (++ps->count > MAX_USERS) {
		config_error(ps->errmb, ps->file, lineno,
			     "too many users (at most %u)", MAX_USERS);
		++ps->errors;
		return;
	}

	u = mem_zalloc(sizeof(*u), user_destructor);
	if (!u || pl_strdup(&u->name, &name) ||
	    md5_printf(u->ha1, "%r:%s:%r", &name, ps->sa->realm, &pass)) {
		mem_deref(u);
		++ps->errors;
		return;
	}

	u->line = lineno;
	hash_append(ps->sa->users, hash_joaat_pl(&name), &u->he, u);
}


/**
 * Load the users file
 *
 * @param sap   Where to store the users
 * @param file  Users file: "USER PASSWORD" per line, # comments
 * @param realm Digest realm
 * @param errmb Collects FILE:LINE messages, NULL prints to stderr
 *
 * @return 0 if success, otherwise errorcode
 */
int subauth_load(struct subauth **sap, const char *file, const char *realm,
		 struct mbuf *errmb)
{
	struct parse_state ps;
	struct subauth *sa;
	struct mbuf *mb = NULL;
	struct stat st;
	int err;

	if (!sap || !file || !realm)
		return EINVAL;

	sa = mem_zalloc(sizeof(*sa), destructor);
	if (!sa)
		return ENOMEM;

	err  = str_dup(&sa->realm, realm);
	err |= hash_alloc(&sa->users, USER_HASH_SIZE);
	if (err)
		goto out;

	err = file_read(&mb, file, 16 * 1024 * 1024);
	if (err) {
		config_error(errmb, file, 0, "cannot read users: %m", err);
		goto out;
	}

	if (!stat(file, &st) && (st.st_mode & S_IROTH))
		log_warn("subauth: %s holds passwords and is readable by "
			 "everyone (mode %u%u%u): chmod o-r it", file,
			 (unsigned)(st.st_mode >> 6) & 7,
			 (unsigned)(st.st_mode >> 3) & 7,
			 (unsigned)st.st_mode & 7);

	memset(&ps, 0, sizeof(ps));
	ps.sa = sa;
	ps.file = file;
	ps.errmb = errmb;
	(void)file_lines(mb->buf, mb->end, line_handler, &ps);

	if (ps.errors)
		err = EINVAL;

 out:
	mem_deref(mb);
	if (err)
		mem_deref(sa);
	else
		*sap = sa;

	return err;
}


static int ha1_handler(const struct pl *username, uint8_t *ha1, void *arg)
{
	const struct user *u = user_find(arg, username);

	if (!u)
		return ENOENT;

	memcpy(ha1, u->ha1, sizeof(u->ha1));

	return 0;
}


/**
 * Check a request's digest credentials; answer 401 if they fail
 *
 * @param sa  Users
 * @param sip SIP stack
 * @param msg Request
 *
 * @return true if authorised, false if answered (401/400)
 */
bool subauth_check(const struct subauth *sa, struct sip *sip,
		   const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	struct http_auth auth = {sa->realm, false};
	struct httpauth_digest_resp resp;
	static struct log_limit ll;

	if (hdr && http_auth_check(&hdr->val, &msg->met, &auth, ha1_handler,
				   (void *)sa)) {
		/* libre does not bind the digest to the Request-URI */
		if (!httpauth_digest_response_decode(&resp, &hdr->val) &&
		    !pl_cmp(&resp.uri, &msg->ruri))
			return true;

		(void)sip_reply(sip, msg, 400, "Digest URI Mismatch");
		return false;
	}

	if (hdr)
		log_limited(&ll, LOG_LEVEL_INFO, "subauth: %r from %J: "
			    "credentials refused", &msg->met, &msg->src);

	/* stateless: a flood of requests without credentials keeps
	   nothing */
	(void)sip_replyf(sip, msg, 401, "Unauthorized",
			 "WWW-Authenticate: %H\r\n"
			 "Content-Length: 0\r\n\r\n",
			 http_auth_print_challenge, &auth);

	return false;
}


/**
 * Check a user name and password (HTTP basic credentials) against the
 * users file
 *
 * @param sa   Users
 * @param user User name
 * @param pass Password
 *
 * @return true if the user exists and the password is right
 */
bool subauth_basic(const struct subauth *sa, const struct pl *user,
		   const struct pl *pass)
{
	const struct user *u;
	uint8_t ha1[16];

	if (!sa || !user || !pass)
		return false;

	/* the file keeps MD5(user:realm:password) only */
	if (md5_printf(ha1, "%r:%s:%r", user, sa->realm, pass))
		return false;

	u = user_find(sa, user);

	return u && 0 == mem_seccmp(ha1, u->ha1, sizeof(ha1));
}
