/**
 * @file config.c  The main configuration: one table describes every key
 *
 * Format: libre's conf format, `key value` per line, `#` comments.  We
 * parse it ourselves so that every problem is reported as FILE:LINE.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "acl.h"


enum key_type {
	KEY_STR,
	KEY_PATH,     /**< Relative to the config file's directory     */
	KEY_SECRET,   /**< A path; relative: a systemd credential      */
	KEY_URI,
	KEY_U32,
	KEY_BOOL,
	KEY_ADDR,
	KEY_ADDRS,    /**< Repeatable address key                      */
	KEY_LAMP,
	KEY_LOGLEVEL,
	KEY_ACL,      /**< Networks, kept as text once checked         */
	KEY_NATMODE,
};

struct config_key {
	const char *name;
	enum key_type type;
	size_t off;
	const char *dfl;      /**< Default value, NULL = unset            */
	uint32_t min, max;    /**< Bounds for numbers                     */
	bool required;
};

#define OFF(m) offsetof(struct config, m)

static const struct config_key keys[] = {
	{"sip_listen",         KEY_ADDRS, OFF(listenv), NULL, 0, 0, true},
	{"upstream_uri",       KEY_URI,   OFF(upstream_uri), NULL, 0, 0,
	 true},
	{"upstream_user",      KEY_STR,   OFF(upstream_user), NULL, 0, 0,
	 false},
	{"upstream_password",  KEY_STR,   OFF(upstream_password), NULL, 0, 0,
	 false},
	{"upstream_auth_user", KEY_STR,   OFF(upstream_auth_user), NULL, 0, 0,
	 false},
	{"upstream_password_file", KEY_SECRET, OFF(upstream_password_file),
	 NULL, 0, 0, false},
	{"upstream_event",     KEY_STR,   OFF(upstream_event), "dialog", 0, 0,
	 false},
	{"upstream_accept",    KEY_STR,   OFF(upstream_accept), NULL, 0, 0,
	 false},
	{"upstream_capture",   KEY_PATH,  OFF(upstream_capture), NULL, 0, 0,
	 false},
	{"upstream_capture_max_bytes", KEY_U32, OFF(upstream_capture_max),
	 "10000000", 4096, 999999999, false},
	{"upstream_expires",   KEY_U32,   OFF(upstream_expires), "600",
	 10, 86400, false},
	{"upstream_retry_min", KEY_U32,   OFF(upstream_retry_min), "1",
	 1, 3600, false},
	{"upstream_retry_max", KEY_U32,   OFF(upstream_retry_max), "60",
	 1, 86400, false},
	{"upstream_keepalive", KEY_U32,   OFF(upstream_keepalive), "15",
	 0, 3600, false},
	{"upstream_grace",     KEY_U32,   OFF(upstream_grace), "10",
	 0, 3600, false},
	{"unknown_retry_after", KEY_U32,  OFF(unknown_retry_after), "30",
	 1, 3600, false},
	{"orbit_map",          KEY_PATH,  OFF(orbit_map), NULL, 0, 0, true},
	{"state_db",           KEY_PATH,  OFF(state_db), NULL, 0, 0, false},
	{"http_listen",        KEY_ADDR,  OFF(http_listen), NULL, 0, 0,
	 false},
	{"http_allow",         KEY_ACL,   OFF(http_allow),
	 "127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,"
	 "fc00::/7,fe80::/10", 0, 0, false},
	{"http_users",         KEY_SECRET, OFF(http_users), NULL, 0, 0,
	 false},
	{"http_max_connections", KEY_U32, OFF(http_max_connections), "64",
	 1, 10000, false},
	{"upstream_listen",    KEY_ADDR,  OFF(upstream_listen), NULL, 0, 0,
	 false},
	{"subscribe_min_expires", KEY_U32, OFF(subscribe_min_expires), "60",
	 1, 86400, false},
	{"subscribe_max_expires", KEY_U32, OFF(subscribe_max_expires),
	 "3600", 1, 604800, false},
	{"subscribe_default_expires", KEY_U32,
	 OFF(subscribe_default_expires), "3600", 1, 604800, false},
	{"subscribe_max_total", KEY_U32,  OFF(subscribe_max_total), "50000",
	 1, 10000000, false},
	{"subscribe_max_per_source", KEY_U32, OFF(subscribe_max_per_source),
	 "1000", 1, 10000000, false},
	{"dialog_all_calls",   KEY_BOOL,  OFF(dialog_all_calls), "no", 0, 0,
	 false},
	{"dialog_lamp",        KEY_LAMP,  OFF(dialog_lamp), "confirmed", 0, 0,
	 false},
	{"park_alert_after",   KEY_U32,   OFF(park_alert_after), "0", 0,
	 86400, false},
	{"history_max",        KEY_U32,   OFF(history_max), "100", 0, 10000,
	 false},
	{"subscribe_allow",    KEY_ACL,   OFF(subscribe_allow),
	 "127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,"
	 "fc00::/7,fe80::/10", 0, 0, false},
	{"trusted_proxies",    KEY_ACL,   OFF(trusted_proxies), NULL, 0, 0,
	 false},
	{"stop_handover",      KEY_BOOL,  OFF(stop_handover), "no", 0, 0,
	 false},
	{"subscribe_users",    KEY_SECRET, OFF(subscribe_users), NULL, 0, 0,
	 false},
	{"subscribe_realm",    KEY_STR,   OFF(subscribe_realm), "parkblf",
	 0, 0, false},
	{"sip_tls_listen",     KEY_ADDR,  OFF(tls_listen), NULL, 0, 0, false},
	{"sip_tls_cert",       KEY_SECRET, OFF(tls_cert), NULL, 0, 0, false},
	{"privacy",            KEY_BOOL,  OFF(privacy), "no", 0, 0, false},
	{"notify_min_interval", KEY_U32,  OFF(notify_min_interval), "200",
	 0, 60000, false},
	{"notify_phone_rate",  KEY_U32,   OFF(notify_phone_rate), "10",
	 1, 100000, false},
	{"blf_list",           KEY_STR,   OFF(blf_list), NULL, 0, 0, false},
	{"vendor_xml_ctype",   KEY_STR,   OFF(vendor_xml_ctype), NULL, 0, 0,
	 false},
	{"vendor_xml_ns",      KEY_STR,   OFF(vendor_xml_ns), NULL, 0, 0,
	 false},
	{"vendor_xml_dn",      KEY_STR,   OFF(vendor_xml_dn), NULL, 0, 0,
	 false},
	{"vendor_xml_call",    KEY_STR,   OFF(vendor_xml_call), NULL, 0, 0,
	 false},
	{"vendor_xml_call_id", KEY_STR,   OFF(vendor_xml_call_id), NULL, 0, 0,
	 false},
	{"vendor_xml_number",  KEY_STR,   OFF(vendor_xml_number), NULL, 0, 0,
	 false},
	{"vendor_xml_name",    KEY_STR,   OFF(vendor_xml_name), NULL, 0, 0,
	 false},
	{"log_level",          KEY_LOGLEVEL, OFF(log_level), "info", 0, 0,
	 false},
	{"nat_mode",           KEY_NATMODE, OFF(nat_mode), "auto", 0, 0,
	 false},
	{"nat_keepalive",      KEY_U32,   OFF(nat_keepalive), "20", 0, 3600,
	 false},
	{"nat_keepalive_grace", KEY_U32,  OFF(nat_keepalive_grace), "60",
	 1, 86400, false},
	{"tenants_dir",        KEY_PATH,  OFF(tenants_dir), NULL, 0, 0, false},
	{"tenant_domain",      KEY_STR,   OFF(tenant_domain), NULL, 0, 0,
	 false},
	{"tenant_listen",      KEY_ADDR,  OFF(tenant_listen), NULL, 0, 0,
	 false},
};

/* Keys a tenant file (tenants_dir/NAME.conf) may set.  The first
   TENANT_OWN are the tenant's own: absent, their default applies (never
   parkblf.conf's value: one PBX's credentials are not another's); the
   others default to parkblf.conf's value. */
static const char * const tenant_keys[] = {
	"upstream_uri", "upstream_user", "upstream_auth_user",
	"upstream_password", "upstream_password_file", "upstream_event",
	"upstream_accept", "upstream_capture", "orbit_map", "tenant_domain",
	"tenant_listen", "http_users",
	/* inherited */
	"upstream_capture_max_bytes", "upstream_expires",
	"upstream_retry_min", "upstream_retry_max", "upstream_keepalive",
	"upstream_grace", "unknown_retry_after", "subscribe_min_expires",
	"subscribe_max_expires", "subscribe_default_expires",
	"subscribe_max_total", "subscribe_max_per_source",
	"dialog_all_calls", "dialog_lamp", "park_alert_after", "history_max",
	"privacy", "notify_min_interval", "notify_phone_rate", "blf_list",
};

enum { TENANT_OWN = 12 };

enum { KEY_COUNT = sizeof(keys) / sizeof(keys[0]) };

/* The configuration in force, for modules (config_module_str) */
static const struct config *current;

struct parse_state {
	struct config *cfg;
	const char *file;
	struct mbuf *errmb;
	unsigned seen[KEY_COUNT];   /**< Line each key was set on        */
	unsigned lines;
	unsigned errors;
	bool tenant;                /**< A tenant file                   */
	const char *main_file;      /**< parkblf.conf (this or its base) */
};


/* Keys whose field is a mem string */
static bool is_string(enum key_type type)
{
	return type == KEY_STR || type == KEY_PATH || type == KEY_URI ||
		type == KEY_ACL || type == KEY_SECRET;
}


static void destructor(void *arg)
{
	struct config *cfg = arg;
	size_t i;

	for (i = 0; i < KEY_COUNT; i++) {
		if (is_string(keys[i].type)) {
			char **sp = (char **)(void *)((uint8_t *)cfg +
						      keys[i].off);
			*sp = mem_deref(*sp);
		}
	}
	mem_deref(cfg->file);
	mem_deref(cfg->lines);
}


/**
 * Report one problem in a file as FILE:LINE: message
 *
 * @param errmb Collects the messages; NULL reports them (log.c)
 * @param file  File name
 * @param line  Line number, 0 for the file as a whole
 * @param fmt   Message format
 */
void config_error(struct mbuf *errmb, const char *file, unsigned line,
		  const char *fmt, ...)
{
	char pos[16] = "";
	va_list ap;

	/* line 0: about the whole file (FILE: cannot read: ...) */
	if (line)
		(void)re_snprintf(pos, sizeof(pos), ":%u", line);

	va_start(ap, fmt);
	if (errmb)
		(void)mbuf_printf(errmb, "%s%s: %v\n", file, pos, fmt, &ap);
	else
		log_file_error(file, pos, fmt, &ap);
	va_end(ap);
}


static bool is_wildcard(const struct sa *sa)
{
	return sa_is_any(sa);
}


static bool all_digits(const struct pl *pl)
{
	size_t i;

	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return false;
	}

	return true;
}


/*
 * The port of HOST[:PORT] or [V6][:PORT] must fit 16 bits (libre would
 * wrap 70000 to 4464), and an IPv6 address needs its brackets (else
 * "::1:5060" is taken as a host with a port).
 */
static int port_check(const struct pl *hostport)
{
	const char *p = hostport->p, *end = p + hostport->l;
	const char *colon;
	struct pl port;

	if (hostport->l && p[0] == '[') {
		const char *rb = memchr(p, ']', hostport->l);

		if (!rb)
			return EINVAL;
		if (rb + 1 == end)
			return 0;
		if (rb[1] != ':')
			return EINVAL;
		colon = rb + 1;
	}
	else {
		colon = memchr(p, ':', hostport->l);
		if (!colon)
			return 0;
		if (memchr(colon + 1, ':', end - colon - 1))
			return EAFNOSUPPORT;
	}

	port.p = colon + 1;
	port.l = end - port.p;
	if (!port.l || port.l > 5 || !all_digits(&port) ||
	    pl_u32(&port) > 65535)
		return ERANGE;

	return 0;
}


/* HOST[:PORT] of a sip: URI as written (uri_decode wraps the port) */
static void uri_hostport(struct pl *hp, const struct pl *uri)
{
	const char *p = pl_strchr(uri, ':');
	size_t i;

	hp->p = p ? p + 1 : uri->p;
	hp->l = uri->l - (hp->p - uri->p);

	for (i = hp->l; i > 0; i--) {
		if (hp->p[i - 1] == '@') {
			pl_advance(hp, i);
			break;
		}
	}
	for (i = 0; i < hp->l; i++) {
		if (hp->p[i] == ';' || hp->p[i] == '?')
			break;
	}
	hp->l = i;
}


static int port_error(struct parse_state *ps, const struct config_key *k,
		      const struct pl *val, const struct pl *hp, int err,
		      unsigned line)
{
	if (err == EAFNOSUPPORT)
		config_error(ps->errmb, ps->file, line,
			     "%s: '%r': an IPv6 address goes in brackets "
			     "([ADDRESS]:PORT)", k->name, val);
	else if (err == ERANGE)
		config_error(ps->errmb, ps->file, line,
			     "%s: '%r': the port is not a number in "
			     "0..65535", k->name, hp);
	else
		config_error(ps->errmb, ps->file, line,
			     "%s: '%r' is not ADDRESS:PORT (IPv6 as "
			     "[ADDRESS]:PORT)", k->name, val);

	return EINVAL;
}


/* The directory of secrets beside parkblf.conf, which parkblf.service
 * loads whole as credentials named CRED_DIR "_" FILENAME
 * (LoadCredential=credentials:/etc/parkblf/credentials): a tenant's
 * password needs no drop-in of its own */
#define CRED_DIR "credentials"


/* A relative secret NAME: under parkblf.service ($CREDENTIALS_DIRECTORY)
 * the credential NAME (LoadCredential=NAME:...), else the file NAME of
 * the credentials directory (credential credentials_NAME); run by hand,
 * the file NAME relative to the config file, else credentials/NAME
 * beside parkblf.conf.  The first of each pair when neither exists (its
 * absence is reported later). */
static int secret_path(char **pathp, const struct parse_state *ps,
		       const char *raw)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	bool unit = raw[0] != '/' && creds && creds[0];
	char *alt = NULL;
	int err;

	if (unit)
		err = re_sdprintf(pathp, "%s/%s", creds, raw);
	else
		err = file_path_relative(pathp, ps->file, raw);
	if (err || raw[0] == '/' || !access(*pathp, F_OK))
		return err;

	if (unit)
		err = strchr(raw, '/') ? ENOENT :
			re_sdprintf(&alt, "%s/" CRED_DIR "_%s", creds, raw);
	else
		err = re_sdprintf(&alt, CRED_DIR "/%s", raw);
	if (err)
		return err == ENOENT ? 0 : err;

	if (!unit) {
		char *rel = alt;

		err = file_path_relative(&alt, ps->main_file, rel);
		mem_deref(rel);
		if (err)
			return err;
	}

	if (!access(alt, F_OK)) {
		mem_deref(*pathp);
		*pathp = alt;
	}
	else {
		mem_deref(alt);
	}

	return 0;
}


static int set_value(struct parse_state *ps, const struct config_key *k,
		     const struct pl *val, unsigned line)
{
	void *field = (uint8_t *)ps->cfg + k->off;
	struct sa sa;
	uint32_t u;
	int err = 0;

	switch (k->type) {

	case KEY_STR:
		err = pl_strdup((char **)field, val);
		break;

	case KEY_PATH:
	case KEY_SECRET: {
		char *raw;

		err = pl_strdup(&raw, val);
		if (err)
			break;
		if (k->type == KEY_SECRET)
			err = secret_path((char **)field, ps, raw);
		else
			err = file_path_relative((char **)field, ps->file,
						 raw);
		mem_deref(raw);
		break;
	}

	case KEY_URI: {
		struct uri uri;
		struct pl hp;

		if (uri_decode(&uri, val) ||
		    (pl_strcasecmp(&uri.scheme, "sip") &&
		     pl_strcasecmp(&uri.scheme, "sips")) ||
		    !pl_isset(&uri.host)) {
			config_error(ps->errmb, ps->file, line,
				     "%s: '%r' is not a sip: or sips: URI",
				     k->name, val);
			return EINVAL;
		}
		/* libre 1.1.0 routes only sip: URIs */
		if (!pl_strcasecmp(&uri.scheme, "sips")) {
			config_error(ps->errmb, ps->file, line,
				     "%s: sips: URIs are not supported; for "
				     "TLS write sip:...;transport=tls",
				     k->name);
			return EINVAL;
		}
		uri_hostport(&hp, val);
		err = port_check(&hp);
		if (err)
			return port_error(ps, k, val, &hp, err, line);
		err = pl_strdup((char **)field, val);
		break;
	}

	case KEY_U32:
		if (!val->l || val->l > 9 || !all_digits(val)) {
			config_error(ps->errmb, ps->file, line,
				     "%s: '%r' is not a number", k->name, val);
			return EINVAL;
		}
		u = pl_u32(val);
		if (u < k->min || u > k->max) {
			config_error(ps->errmb, ps->file, line,
				     "%s: %u is out of range %u..%u",
				     k->name, u, k->min, k->max);
			return ERANGE;
		}
		*(uint32_t *)field = u;
		break;

	case KEY_BOOL:
		if (!pl_strcasecmp(val, "yes") || !pl_strcasecmp(val, "true")
		    || !pl_strcmp(val, "1"))
			*(bool *)field = true;
		else if (!pl_strcasecmp(val, "no") ||
			 !pl_strcasecmp(val, "false") || !pl_strcmp(val, "0"))
			*(bool *)field = false;
		else {
			config_error(ps->errmb, ps->file, line,
				     "%s: '%r' is not yes or no", k->name,
				     val);
			return EINVAL;
		}
		break;

	case KEY_ADDR:
	case KEY_ADDRS:
		if (sa_decode(&sa, val->p, val->l)) {
			config_error(ps->errmb, ps->file, line,
				     "%s: '%r' is not ADDRESS:PORT "
				     "(IPv6 as [ADDRESS]:PORT)", k->name, val);
			return EINVAL;
		}
		err = port_check(val);
		if (err)
			return port_error(ps, k, val, val, err, line);
		if (k->type == KEY_ADDR) {
			if (is_wildcard(&sa)) {
				config_error(ps->errmb, ps->file, line,
					     "%s: needs a concrete address, "
					     "not '%r'", k->name, val);
				return EINVAL;
			}
			*(struct sa *)field = sa;
			break;
		}
		if (ps->cfg->listenc >= CONFIG_MAX_LISTEN) {
			config_error(ps->errmb, ps->file, line,
				     "%s: at most %u addresses", k->name,
				     CONFIG_MAX_LISTEN);
			return E2BIG;
		}
		ps->cfg->listen_line[ps->cfg->listenc] = line;
		ps->cfg->listenv[ps->cfg->listenc++] = sa;
		break;

	case KEY_LAMP:
		if (!pl_strcmp(val, "confirmed"))
			*(enum lamp_style *)field = LAMP_CONFIRMED;
		else if (!pl_strcmp(val, "early"))
			*(enum lamp_style *)field = LAMP_EARLY;
		else {
			config_error(ps->errmb, ps->file, line,
				     "%s: '%r' is not confirmed or early",
				     k->name, val);
			return EINVAL;
		}
		break;

	case KEY_ACL: {
		struct acl *acl = NULL;
		struct pl bad = PL_INIT;

		err = acl_alloc(&acl, val, &bad);
		mem_deref(acl);
		if (err == EINVAL) {
			config_error(ps->errmb, ps->file, line,
				     "%s: '%r' is not ADDRESS[/PREFIX] (list "
				     "separated by commas, at most 64)",
				     k->name, &bad);
			return EINVAL;
		}
		if (!err)
			err = pl_strdup((char **)field, val);
		break;
	}

	case KEY_NATMODE:
		if (!pl_strcmp(val, "auto"))
			*(enum nat_mode *)field = NAT_AUTO;
		else if (!pl_strcmp(val, "always"))
			*(enum nat_mode *)field = NAT_ALWAYS;
		else if (!pl_strcmp(val, "never"))
			*(enum nat_mode *)field = NAT_NEVER;
		else {
			config_error(ps->errmb, ps->file, line,
				     "%s: '%r' is not auto, always or never",
				     k->name, val);
			return EINVAL;
		}
		break;

	case KEY_LOGLEVEL:
		if (!pl_strcmp(val, "debug"))
			*(enum log_level *)field = LOG_LEVEL_DEBUG;
		else if (!pl_strcmp(val, "info"))
			*(enum log_level *)field = LOG_LEVEL_INFO;
		else if (!pl_strcmp(val, "warning"))
			*(enum log_level *)field = LOG_LEVEL_WARN;
		else if (!pl_strcmp(val, "error"))
			*(enum log_level *)field = LOG_LEVEL_ERROR;
		else {
			config_error(ps->errmb, ps->file, line,
				     "%s: '%r' is not debug, info, warning "
				     "or error", k->name, val);
			return EINVAL;
		}
		break;
	}

	return err;
}


static size_t token_len(const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && p[n] != ' ' && p[n] != '\t')
		++n;

	return n;
}


static void skip_blanks(struct pl *pl)
{
	while (pl->l && (pl->p[0] == ' ' || pl->p[0] == '\t'))
		pl_advance(pl, 1);
}


/* -1: not a tenant key; else its index in tenant_keys */
static int tenant_key(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tenant_keys); i++) {
		if (!strcmp(tenant_keys[i], name))
			return (int)i;
	}

	return -1;
}


/* Whether a key may be set in this file (parkblf.conf or a tenant's) */
static bool scope_ok(struct parse_state *ps, const struct config_key *k,
		     unsigned lineno)
{
	const bool tkey = tenant_key(k->name) >= 0;
	const bool own = !strncmp(k->name, "tenant_", 7);

	if (ps->tenant && !tkey) {
		config_error(ps->errmb, ps->file, lineno, "%s: not a tenant "
			     "key: set it in parkblf.conf (it holds for every "
			     "tenant)", k->name);
		return false;
	}
	if (!ps->tenant && own) {
		config_error(ps->errmb, ps->file, lineno, "%s: only in a "
			     "tenant file (tenants_dir/NAME.conf)", k->name);
		return false;
	}

	return true;
}


static void line_handler(const struct pl *line, unsigned lineno, void *arg)
{
	struct parse_state *ps = arg;
	struct pl key, val, rest;
	size_t i;


	key = *line;
	key.l = token_len(line->p, line->l);
	val.p = key.p + key.l;
	val.l = line->l - key.l;
	skip_blanks(&val);
	rest = val;
	val.l = token_len(val.p, val.l);
	pl_advance(&rest, val.l);
	skip_blanks(&rest);

	for (i = 0; i < KEY_COUNT; i++) {
		if (!pl_strcmp(&key, keys[i].name))
			break;
	}
	if (i == KEY_COUNT) {
		config_error(ps->errmb, ps->file, lineno,
			     "unknown key '%r'", &key);
		++ps->errors;
		return;
	}
	if (!scope_ok(ps, &keys[i], lineno)) {
		++ps->errors;
		return;
	}
	if (!pl_isset(&val)) {
		config_error(ps->errmb, ps->file, lineno,
			     "%s: missing value", keys[i].name);
		++ps->errors;
		return;
	}

	/* anything after the value must be a comment */
	if (rest.l && rest.p[0] != '#') {
		config_error(ps->errmb, ps->file, lineno,
			     "%s: unexpected '%r' after the value "
			     "(values are one word)", keys[i].name, &rest);
		++ps->errors;
		return;
	}

	if (ps->seen[i] && keys[i].type != KEY_ADDRS) {
		config_error(ps->errmb, ps->file, lineno,
			     "%s: already set on line %u", keys[i].name,
			     ps->seen[i]);
		++ps->errors;
		return;
	}

	/* replace the default */
	if (is_string(keys[i].type)) {
		char **sp = (char **)(void *)((uint8_t *)ps->cfg +
					      keys[i].off);
		*sp = mem_deref(*sp);
	}

	if (set_value(ps, &keys[i], &val, lineno))
		++ps->errors;
	else
		ps->seen[i] = lineno;
}


static int apply_defaults(struct parse_state *ps)
{
	size_t i;
	int err;

	for (i = 0; i < KEY_COUNT; i++) {
		struct pl dfl;

		if (!keys[i].dfl)
			continue;

		pl_set_str(&dfl, keys[i].dfl);
		err = set_value(ps, &keys[i], &dfl, 0);
		if (err)
			return err;
	}

	return 0;
}


static unsigned seen(const struct parse_state *ps, const char *name)
{
	size_t i;

	for (i = 0; i < KEY_COUNT; i++) {
		if (!strcmp(keys[i].name, name))
			return ps->seen[i];
	}

	return 0;
}


/* A tenant file needs its PBX and its map; parkblf.conf with
   tenants_dir may leave both out (no default tenant), but not one */
static bool required(const struct parse_state *ps, size_t i)
{
	const char *name = keys[i].name;
	const bool pbx = !strcmp(name, "upstream_uri") ||
		!strcmp(name, "orbit_map");

	if (ps->tenant)
		return pbx;
	if (pbx && ps->cfg->tenants_dir && !seen(ps, "upstream_uri") &&
	    !seen(ps, "orbit_map"))
		return false;

	return keys[i].required;
}


static void check_keys(struct parse_state *ps)
{
	const struct config *cfg = ps->cfg;
	unsigned eof = ps->lines ? ps->lines : 1;
	size_t i;

	for (i = 0; i < KEY_COUNT; i++) {
		if (!required(ps, i))
			continue;
		if (!ps->seen[i]) {
			config_error(ps->errmb, ps->file, eof,
				     "missing required key '%s'",
				     keys[i].name);
			++ps->errors;
		}
	}

	if ((cfg->upstream_user || cfg->upstream_auth_user) &&
	    !cfg->upstream_password && !cfg->upstream_password_file) {
		config_error(ps->errmb, ps->file, eof,
			     "upstream_user is set but upstream_password "
			     "is missing (or upstream_password_file)");
		++ps->errors;
	}
	if (cfg->upstream_password && cfg->upstream_password_file) {
		config_error(ps->errmb, ps->file, eof,
			     "upstream_password and upstream_password_file: "
			     "set only one");
		++ps->errors;
	}
	if (cfg->upstream_auth_user && !cfg->upstream_user) {
		config_error(ps->errmb, ps->file, eof,
			     "upstream_auth_user needs upstream_user (the "
			     "extension, parkblf's From user)");
		++ps->errors;
	}
	if (sa_isset(&cfg->tls_listen, SA_ADDR) != (cfg->tls_cert != NULL)) {
		config_error(ps->errmb, ps->file, eof,
			     "sip_tls_listen and sip_tls_cert go together");
		++ps->errors;
	}
	if (cfg->upstream_retry_min > cfg->upstream_retry_max) {
		config_error(ps->errmb, ps->file, eof,
			     "upstream_retry_min (%u) is above "
			     "upstream_retry_max (%u)",
			     cfg->upstream_retry_min, cfg->upstream_retry_max);
		++ps->errors;
	}
	if (cfg->subscribe_min_expires > cfg->subscribe_default_expires ||
	    cfg->subscribe_default_expires > cfg->subscribe_max_expires) {
		config_error(ps->errmb, ps->file, eof,
			     "need subscribe_min_expires (%u) <= "
			     "subscribe_default_expires (%u) <= "
			     "subscribe_max_expires (%u)",
			     cfg->subscribe_min_expires,
			     cfg->subscribe_default_expires,
			     cfg->subscribe_max_expires);
		++ps->errors;
	}
	if (cfg->nat_keepalive &&
	    cfg->nat_keepalive_grace < 2 * cfg->nat_keepalive) {
		config_error(ps->errmb, ps->file, eof,
			     "nat_keepalive_grace (%u) must be at least twice "
			     "nat_keepalive (%u): one lost keepalive must not "
			     "end a phone's subscriptions",
			     cfg->nat_keepalive_grace, cfg->nat_keepalive);
		++ps->errors;
	}
}


/* A tenant starts from parkblf.conf's values, but its own keys (see
   tenant_keys) from their defaults; state_db and tenants_dir are the
   daemon's (one database keeps every tenant's rows, app.c) */
static int inherit(struct parse_state *ps, const struct config *base)
{
	struct config *cfg = ps->cfg;
	size_t i;
	int err = 0;

	for (i = 0; i < KEY_COUNT && !err; i++) {
		const struct config_key *k = &keys[i];
		const int t = tenant_key(k->name);
		const bool own = t >= 0 && t < TENANT_OWN;
		void *field = (uint8_t *)cfg + k->off;
		const void *from = (const uint8_t *)base + k->off;
		struct pl dfl;

		if (is_string(k->type)) {
			const char *str = *(char * const *)from;

			if (!own && str && strcmp(k->name, "state_db") &&
			    strcmp(k->name, "tenants_dir"))
				err = str_dup((char **)field, str);
			if (!own)
				continue;
		}
		else if (!own) {
			continue;   /* copied with the struct */
		}
		else if (k->type == KEY_ADDR) {
			memset(field, 0, sizeof(struct sa));
		}

		if (!k->dfl)
			continue;
		pl_set_str(&dfl, k->dfl);
		err = set_value(ps, k, &dfl, 0);
	}

	return err;
}


static int parse(struct config **cfgp, const struct config *base,
		 const char *file, const uint8_t *buf, size_t len,
		 struct mbuf *errmb)
{
	struct parse_state ps;
	struct config *cfg;
	size_t i;
	int err;

	if (!cfgp || !file || (!buf && len))
		return EINVAL;

	cfg = mem_zalloc(sizeof(*cfg), destructor);
	if (!cfg)
		return ENOMEM;

	memset(&ps, 0, sizeof(ps));
	ps.cfg = cfg;
	ps.file = file;
	ps.errmb = errmb;
	ps.tenant = base != NULL;
	ps.main_file = base ? base->file : file;

	if (base) {
		/* numbers and addresses; the strings are copied below */
		*cfg = *base;
		for (i = 0; i < KEY_COUNT; i++) {
			if (is_string(keys[i].type))
				*(char **)(void *)((uint8_t *)cfg +
						   keys[i].off) = NULL;
		}
		cfg->file = NULL;
		cfg->lines = NULL;
		cfg->tenant = true;
		err = inherit(&ps, base);
	}
	else {
		err = apply_defaults(&ps);
	}
	if (err)
		goto out;

	err = str_dup(&cfg->file, file);
	if (err)
		goto out;

	ps.lines = file_lines(buf, len, line_handler, &ps);
	check_keys(&ps);

	cfg->lines = mem_zalloc(sizeof(ps.seen), NULL);
	if (!cfg->lines) {
		err = ENOMEM;
		goto out;
	}
	memcpy(cfg->lines, ps.seen, sizeof(ps.seen));

	if (ps.errors)
		err = EINVAL;

 out:
	if (err)
		mem_deref(cfg);
	else
		*cfgp = cfg;

	return err;
}


/**
 * Parse a configuration from memory
 *
 * @param cfgp  Where to store the configuration
 * @param file  File name for messages and relative paths
 * @param buf   Text
 * @param len   Length of text
 * @param errmb Collects FILE:LINE messages, NULL prints to stderr
 *
 * @return 0 if success, otherwise errorcode (EINVAL on bad content)
 */
int config_parse(struct config **cfgp, const char *file,
		 const uint8_t *buf, size_t len, struct mbuf *errmb)
{
	return parse(cfgp, NULL, file, buf, len, errmb);
}


/**
 * Parse a tenant file (tenants_dir/NAME.conf): the keys of one PBX;
 * the others are parkblf.conf's
 *
 * @param cfgp  Where to store the tenant's configuration
 * @param base  parkblf.conf's configuration
 * @param file  File name for messages and relative paths
 * @param buf   Text
 * @param len   Length of text
 * @param errmb Collects FILE:LINE messages, NULL prints to stderr
 *
 * @return 0 if success, otherwise errorcode (EINVAL on bad content)
 */
int config_parse_tenant(struct config **cfgp, const struct config *base,
			const char *file, const uint8_t *buf, size_t len,
			struct mbuf *errmb)
{
	if (!base)
		return EINVAL;

	return parse(cfgp, base, file, buf, len, errmb);
}


/* Where a secret came from, for messages: under parkblf.service a
 * relative path is the credential that the unit loads from the config
 * directory (LoadCredential=NAME:/etc/parkblf/NAME) or from its
 * credentials directory */
static int secret_origin(char **strp, const struct config *cfg,
			 const char *path)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	const char *slash = strrchr(cfg->file, '/');
	size_t n = creds ? strlen(creds) : 0;
	const char *name;

	if (!n || strncmp(path, creds, n) || path[n] != '/')
		return str_dup(strp, path);

	name = path + n + 1;
	if (!strncmp(name, CRED_DIR "_", sizeof(CRED_DIR)))
		return re_sdprintf(strp, "the systemd credential '%s' "
				   "(parkblf.service loads it from "
				   CRED_DIR "/%s beside parkblf.conf)", name,
				   name + sizeof(CRED_DIR));

	return re_sdprintf(strp, "the systemd credential '%s' "
			   "(parkblf.service loads it from %b/%s)",
			   path + n + 1, cfg->file,
			   slash ? (size_t)(slash - cfg->file) : (size_t)1,
			   path + n + 1);
}


/* upstream_password_file: the password is the file's text without one
 * final line break */
static int read_password(struct config *cfg, struct mbuf *errmb)
{
	const char *path = cfg->upstream_password_file;
	unsigned line = config_line(cfg, "upstream_password_file");
	char *origin = NULL;
	struct mbuf *mb;
	struct pl pw;
	size_t i;
	int err;

	err = secret_origin(&origin, cfg, path);
	if (err)
		return err;

	err = file_read(&mb, path, 4096);
	if (err) {
		config_error(errmb, cfg->file, line, "upstream_password_file: "
			     "cannot read %s: %m", origin, err);
		mem_deref(origin);
		return err;
	}

	pw.p = (const char *)mb->buf;
	pw.l = mb->end;
	if (pw.l && pw.p[pw.l - 1] == '\n')
		--pw.l;
	if (pw.l && pw.p[pw.l - 1] == '\r')
		--pw.l;

	for (i = 0; i < pw.l; i++) {
		if ((unsigned char)pw.p[i] < 0x20 || pw.p[i] == 0x7f)
			break;
	}
	if (!pw.l || i < pw.l) {
		config_error(errmb, cfg->file, line, "upstream_password_file: "
			     "%s %s", origin, pw.l ?
			     "has more than one line or a control character" :
			     "is empty: write the PBX password in it");
		err = EINVAL;
	}
	else {
		err = pl_strdup(&cfg->upstream_password, &pw);
	}

	mem_deref(origin);
	mem_deref(mb);
	return err;
}


/* Secrets: a credential the unit does not pass is named as such; a
 * file parkblf reads itself should be private, since under the unit
 * systemd (root) reads it and hands it over as a credential */
static int check_secrets(const struct config *cfg, struct mbuf *errmb)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	size_t n = creds ? strlen(creds) : 0;
	int err = 0;
	size_t i;

	for (i = 0; i < KEY_COUNT; i++) {
		const char *path;
		struct stat st;

		if (keys[i].type != KEY_SECRET)
			continue;
		path = *(char * const *)(const void *)((const uint8_t *)cfg
						       + keys[i].off);
		if (!path)
			continue;

		if (n && !strncmp(path, creds, n) && path[n] == '/') {
			if (!access(path, F_OK))
				continue;
			config_error(errmb, cfg->file, cfg->lines[i], "%s: "
				     "parkblf.service passes no credential "
				     "'%s': put the file in the "
				     CRED_DIR " directory beside parkblf.conf "
				     "(mode 0600) and restart parkblf "
				     "(credentials are read at start), or add "
				     "LoadCredential=%s:PATH in a drop-in "
				     "(systemctl edit parkblf)",
				     keys[i].name, path + n + 1,
				     path + n + 1);
			err = ENOENT;
			continue;
		}

		/* subauth.c warns about its users file itself */
		if (!strcmp(keys[i].name, "subscribe_users") ||
		    stat(path, &st) || !(st.st_mode & S_IROTH))
			continue;

		log_warn("config: %s:%u: %s: %s is readable by everyone "
			 "(mode %H): chmod 600 it (parkblf.service passes "
			 "it to parkblf as a credential)", cfg->file,
			 cfg->lines[i], keys[i].name, path, file_mode_print,
			 &st.st_mode);
	}

	return err;
}


/**
 * Read and parse a configuration file
 *
 * @param cfgp  Where to store the configuration
 * @param file  Path of the file
 * @param errmb Collects FILE:LINE messages, NULL prints to stderr
 *
 * @return 0 if success, otherwise errorcode
 */
int config_load(struct config **cfgp, const char *file, struct mbuf *errmb)
{
	struct config *cfg;
	struct stat st;
	struct mbuf *mb;
	int err;

	err = file_read(&mb, file, 1024 * 1024);
	if (err) {
		config_error(errmb, file, 0, "cannot read: %m", err);
		return err;
	}

	err = config_parse(cfgp, file, mb->buf, mb->end, errmb);
	mem_deref(mb);
	if (err)
		return err;

	cfg = *cfgp;
	if (cfg->upstream_password && !stat(file, &st) &&
	    (st.st_mode & S_IROTH)) {
		log_warn("config: %s holds upstream_password and is "
			 "readable by everyone (mode %H): move the password "
			 "to upstream_password_file (parkblf.conf(5)); the "
			 "unit's DynamicUser needs this file readable", file,
			 file_mode_print, &st.st_mode);
	}

	return 0;
}


/**
 * Read the secrets the daemon needs (upstream_password_file) and check
 * that every secret path exists where it is a systemd credential
 *
 * @param cfg   Configuration (config_load); gets upstream_password
 * @param errmb Collects FILE:LINE messages, NULL prints to stderr
 *
 * @return 0 if success, otherwise errorcode
 */
int config_read_secrets(struct config *cfg, struct mbuf *errmb)
{
	int err;

	if (!cfg)
		return EINVAL;

	err = check_secrets(cfg, errmb);
	if (!err && cfg->upstream_password_file)
		err = read_password(cfg, errmb);

	return err;
}


/**
 * Make a configuration the one modules read
 *
 * @param cfg Configuration (not referenced), NULL for none
 */
void config_set_current(const struct config *cfg)
{
	current = cfg;
}


/**
 * Get a string key of the configuration in force, for modules
 *
 * @param name Key name
 *
 * @return The value, or NULL if unset or not a string key
 */
const char *config_module_str(const char *name)
{
	size_t i;

	if (!current || !name)
		return NULL;

	for (i = 0; i < KEY_COUNT; i++) {
		if (strcmp(keys[i].name, name))
			continue;
		if (!is_string(keys[i].type))
			return NULL;
		return *(char * const *)(const void *)((const uint8_t *)current
						       + keys[i].off);
	}

	return NULL;
}


/**
 * Get the line a key was set on, for FILE:LINE messages
 *
 * @param cfg Configuration
 * @param key Key name
 *
 * @return Line number, 0 if the key has its default (or is unknown)
 */
unsigned config_line(const struct config *cfg, const char *key)
{
	size_t i;

	if (!cfg || !cfg->lines || !key)
		return 0;

	for (i = 0; i < KEY_COUNT; i++) {
		if (!strcmp(keys[i].name, key))
			return cfg->lines[i];
	}

	return 0;
}


/**
 * Get the digest user name parkblf gives the PBX
 *
 * @param cfg Configuration
 *
 * @return upstream_auth_user, else upstream_user, else NULL
 */
const char *config_auth_user(const struct config *cfg)
{
	if (!cfg)
		return NULL;

	return cfg->upstream_auth_user ? cfg->upstream_auth_user
		: cfg->upstream_user;
}
