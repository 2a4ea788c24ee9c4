/**
 * @file cfgcheck.c  Will the configuration work at run time?
 *
 * The parser (config.c) checks each value; this checks what only the
 * system can tell: that the files parkblf writes (state_db,
 * upstream_capture) can be created, that the addresses to listen on are
 * this host's, that the sample's placeholders were replaced, that the
 * TLS certificate loads.  `parkblf -t` and a start
 * run it, so that -t catches what a start would refuse or silently
 * degrade.
 *
 * Under parkblf.service (ExecStartPre runs -t) the checks run as the
 * service's user in its sandbox, so they are exact.  Run by hand, -t
 * also warns about what the unit will not allow: writing outside its
 * StateDirectory= and LogsDirectory= (ProtectSystem=strict), and
 * reading files that others may not read (DynamicUser=).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


/* The directories parkblf.service lets parkblf write (StateDirectory=,
 * LogsDirectory=); under the unit systemd names them in the
 * environment */
static const char * const unit_dirs[] = {
	"/var/lib/parkblf",
	"/var/log/parkblf",
};
static const char * const unit_envs[] = {
	"STATE_DIRECTORY",
	"LOGS_DIRECTORY",
};

struct check {
	const struct config *cfg;
	struct mbuf *errmb;
	bool test_only;
	unsigned errors;
};


static bool under_unit(void)
{
	const char *s = getenv("STATE_DIRECTORY");

	return s && s[0];
}


static const char *unit_dir(size_t i)
{
	const char *env = getenv(unit_envs[i]);

	return env && env[0] ? env : unit_dirs[i];
}


/* dir is one of the unit's writable directories or below one */
static bool in_unit_dirs(const char *dir, bool *exact)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unit_dirs); i++) {
		const char *u = unit_dir(i);
		size_t n = strlen(u);

		if (strncmp(dir, u, n) || (dir[n] && dir[n] != '/'))
			continue;
		*exact = dir[n] == '\0';
		return true;
	}

	return false;
}


/* key: the path named by key must be creatable and writable */
static void check_writable(struct check *c, const char *key,
			   const char *path)
{
	const struct config *cfg = c->cfg;
	unsigned line = config_line(cfg, key);
	const char *slash = strrchr(path, '/');
	bool in_unit, exact = false;
	char dir[512];
	struct stat st;

	if (!slash)
		(void)re_snprintf(dir, sizeof(dir), ".");
	else
		(void)re_snprintf(dir, sizeof(dir), "%b", path,
				  slash == path ? (size_t)1
				  : (size_t)(slash - path));

	in_unit = in_unit_dirs(dir, &exact);

	if (stat(dir, &st)) {
		/* the unit creates its own directories at start */
		if (in_unit && exact && !under_unit())
			return;
		config_error(c->errmb, cfg->file, line, "%s: %s: directory "
			     "%s: %m", key, path, dir, errno);
		++c->errors;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		config_error(c->errmb, cfg->file, line, "%s: %s: %s is not "
			     "a directory", key, path, dir);
		++c->errors;
		return;
	}
	if (access(dir, W_OK | X_OK) ||
	    (!access(path, F_OK) && access(path, R_OK | W_OK))) {
		int err = errno;

		config_error(c->errmb, cfg->file, line, "%s: cannot write "
			     "%s: %m%s", key, path, err, under_unit() ?
			     " (parkblf.service lets parkblf write only in "
			     "its StateDirectory= and LogsDirectory=; for "
			     "another place add ReadWritePaths= in a drop-in)"
			     : "");
		++c->errors;
		return;
	}

	if (c->test_only && !under_unit() && !in_unit) {
		config_error(c->errmb, cfg->file, line, "warning: %s: %s is "
			     "outside %s and %s, the only directories "
			     "parkblf.service lets parkblf write "
			     "(ProtectSystem=strict): under the unit it "
			     "cannot be written (use a path there, or add "
			     "ReadWritePaths= in a drop-in)", key, path,
			     unit_dirs[0], unit_dirs[1]);
	}
}


/* The unit's DynamicUser= reads the config and the map as "others" */
static void check_readable(struct check *c, const char *key,
			   const char *path)
{
	struct stat st;

	if (!c->test_only || under_unit() || geteuid() != 0)
		return;
	if (stat(path, &st) || (st.st_mode & S_IROTH))
		return;

	/* the config itself: FILE: warning: ... */
	config_error(c->errmb, key ? c->cfg->file : path, key ?
		     config_line(c->cfg, key) : 0, "warning: %s%s%s%s not "
		     "readable by others (mode %H): parkblf.service "
		     "(DynamicUser=) cannot read it; secrets belong in "
		     "upstream_password_file (a credential), not here",
		     key ? key : "", key ? ": " : "", key ? path : "",
		     key ? " is" : "", file_mode_print, &st.st_mode);
}


/* An address to listen on must be one of this host's (a start fails
 * with EADDRNOTAVAIL otherwise); port 0, so that neither a running
 * parkblf nor a privileged port gets in the way of the check */
static void check_local(struct check *c, const char *key, unsigned line,
			const struct sa *addr)
{
	struct sa sa = *addr;
	int fd, err = 0;

	if (!sa_isset(&sa, SA_ADDR) || sa_is_any(&sa))
		return;

	sa_set_port(&sa, 0);
	fd = socket(sa_af(&sa), SOCK_DGRAM, 0);
	if (fd < 0)
		return;
	if (bind(fd, &sa.u.sa, sa.len))
		err = errno;
	(void)close(fd);

	if (err != EADDRNOTAVAIL)
		return;

	config_error(c->errmb, c->cfg->file, line ? line
		     : config_line(c->cfg, key),
		     "%s: %j is not an address of this host", key, addr);
	++c->errors;
}


/* RFC 2606 names: the sample's placeholders, never a real PBX */
static bool placeholder_host(const struct pl *host)
{
	static const char * const names[] = {
		"example.com", "example.net", "example.org", "example",
		"invalid",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		size_t n = strlen(names[i]);
		struct pl tail;

		if (host->l < n)
			continue;
		tail.p = host->p + host->l - n;
		tail.l = n;
		if (pl_strcasecmp(&tail, names[i]))
			continue;
		if (host->l == n || tail.p[-1] == '.')
			return true;
	}

	return false;
}


static void check_placeholders(struct check *c)
{
	const struct config *cfg = c->cfg;
	struct uri uri;
	struct pl pl;

	/* tenants_dir alone: parkblf.conf names no PBX */
	pl_set_str(&pl, cfg->upstream_uri ? cfg->upstream_uri : "");
	if (pl.l && !uri_decode(&uri, &pl) && placeholder_host(&uri.host)) {
		config_error(c->errmb, cfg->file,
			     config_line(cfg, "upstream_uri"),
			     "upstream_uri: %r is a placeholder (RFC 2606): "
			     "put your PBX's address", &uri.host);
		++c->errors;
	}

	/* the sample of earlier versions; tests use it with a fake PBX */
	if (c->test_only && cfg->upstream_password &&
	    !cfg->upstream_password_file &&
	    !strcmp(cfg->upstream_password, "secret")) {
		config_error(c->errmb, cfg->file,
			     config_line(cfg, "upstream_password"),
			     "warning: upstream_password: 'secret' is the "
			     "old sample's placeholder");
	}
}


static void check_tls(struct check *c)
{
	struct tls *tls = NULL;
	int err;

	if (!c->test_only || !c->cfg->tls_cert)
		return;

	err = tls_alloc(&tls, TLS_METHOD_SSLV23, c->cfg->tls_cert, NULL);
	mem_deref(tls);
	if (err) {
		config_error(c->errmb, c->cfg->file,
			     config_line(c->cfg, "sip_tls_cert"),
			     "sip_tls_cert: cannot load %s (one PEM with the "
			     "certificate chain and the key): %m",
			     c->cfg->tls_cert, err);
		++c->errors;
	}
}


/**
 * Check that a parsed configuration will work at run time
 *
 * @param cfg       Configuration (config_load)
 * @param map       Its orbit map
 * @param test_only true for parkblf -t: also the certificate, and
 *                  warnings about what parkblf.service will not allow
 * @param errmb     Collects FILE:LINE messages, NULL prints to stderr
 *
 * @return 0 if it will work, EINVAL if not (every problem reported)
 */
int cfgcheck_run(const struct config *cfg, const struct orbitmap *map,
		 bool test_only, struct mbuf *errmb)
{
	struct check c;
	size_t i;

	if (!cfg)
		return EINVAL;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.errmb = errmb;
	c.test_only = test_only;

	check_placeholders(&c);

	/* a tenant file: parkblf.conf's addresses are checked with it */
	for (i = 0; i < cfg->listenc && !cfg->tenant; i++)
		check_local(&c, "sip_listen", cfg->listen_line[i],
			    &cfg->listenv[i]);
	if (!cfg->tenant) {
		check_local(&c, "http_listen", 0, &cfg->http_listen);
		check_local(&c, "upstream_listen", 0, &cfg->upstream_listen);
		check_local(&c, "sip_tls_listen", 0, &cfg->tls_listen);
	}
	check_local(&c, "tenant_listen", 0, &cfg->tenant_listen);

	if (cfg->state_db)
		check_writable(&c, "state_db", cfg->state_db);
	if (cfg->upstream_capture)
		check_writable(&c, "upstream_capture", cfg->upstream_capture);

	check_readable(&c, NULL, cfg->file);
	if (map)
		check_readable(&c, "orbit_map", map->file);

	if (!cfg->tenant)
		check_tls(&c);

	return c.errors ? EINVAL : 0;
}
