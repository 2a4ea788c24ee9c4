/**
 * @file test_config.c  Main config parser: values, defaults, FILE:LINE
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static int parse(struct config **cfgp, const char *text, struct mbuf *err)
{
	return config_parse(cfgp, "/etc/parkblf/parkblf.conf",
			    (const uint8_t *)text, strlen(text), err);
}


static char *errors(struct mbuf *mb)
{
	static char buf[4096];

	memset(buf, 0, sizeof(buf));
	memcpy(buf, mb->buf, mb->end < sizeof(buf) - 1 ? mb->end
	       : sizeof(buf) - 1);

	return buf;
}


static const char minimal[] =
	"sip_listen\t127.0.0.1:5070\n"
	"upstream_uri sip:any-dn@192.0.2.1\n"
	"orbit_map orbits.conf\n";


static void test_minimal_defaults(void **state)
{
	struct config *cfg = NULL;
	struct mbuf *err = mbuf_alloc(64);
	(void)state;

	assert_int_equal(0, parse(&cfg, minimal, err));
	assert_int_equal(0, err->end);
	assert_int_equal(1, cfg->listenc);
	assert_int_equal(5070, sa_port(&cfg->listenv[0]));
	assert_string_equal("sip:any-dn@192.0.2.1", cfg->upstream_uri);
	assert_string_equal("dialog", cfg->upstream_event);
	assert_string_equal("/etc/parkblf/orbits.conf", cfg->orbit_map);
	assert_null(cfg->upstream_user);
	assert_int_equal(600, cfg->upstream_expires);
	assert_int_equal(1, cfg->upstream_retry_min);
	assert_int_equal(60, cfg->upstream_retry_max);
	assert_int_equal(60, cfg->subscribe_min_expires);
	assert_false(cfg->dialog_all_calls);
	assert_int_equal(LAMP_CONFIRMED, cfg->dialog_lamp);
	assert_int_equal(LOG_LEVEL_INFO, cfg->log_level);
	assert_int_equal(NAT_AUTO, cfg->nat_mode);
	assert_int_equal(20, cfg->nat_keepalive);
	assert_int_equal(60, cfg->nat_keepalive_grace);
	assert_false(cfg->stop_handover);

	mem_deref(cfg);
	mem_deref(err);
}


static void test_all_keys(void **state)
{
	struct config *cfg = NULL;
	struct mbuf *err = mbuf_alloc(64);
	static const char text[] =
		"# a comment\n"
		"  \n"
		"sip_listen 127.0.0.1:5070\n"
		"sip_listen [::1]:5070   # IPv6 too\n"
		"upstream_uri sip:any-dn@pbx.example.com:5061;"
		"transport=tls\r\n"
		"upstream_user 9999\n"
		"upstream_password s3cret\n"
		"upstream_event presence\n"
		"upstream_capture /var/log/cap.txt\n"
		"upstream_expires 3600\n"
		"upstream_retry_min 2\n"
		"upstream_retry_max 120\n"
		"orbit_map /srv/orbits.conf\n"
		"http_listen 127.0.0.1:8088\n"
		"upstream_listen 127.0.0.1:5071\n"
		"dialog_all_calls yes\n"
		"dialog_lamp early\n"
		"nat_mode always\n"
		"nat_keepalive 0\n"
		"nat_keepalive_grace 5\n"
		"stop_handover yes\n"
		"log_level debug\n";
	(void)state;

	assert_int_equal(0, parse(&cfg, text, err));
	assert_int_equal(0, err->end);
	assert_int_equal(2, cfg->listenc);
	assert_int_equal(AF_INET6, sa_af(&cfg->listenv[1]));
	assert_string_equal("9999", cfg->upstream_user);
	assert_string_equal("s3cret", cfg->upstream_password);
	assert_string_equal("presence", cfg->upstream_event);
	assert_string_equal("/var/log/cap.txt", cfg->upstream_capture);
	assert_string_equal("/srv/orbits.conf", cfg->orbit_map);
	assert_int_equal(3600, cfg->upstream_expires);
	assert_int_equal(120, cfg->upstream_retry_max);
	assert_int_equal(8088, sa_port(&cfg->http_listen));
	assert_int_equal(5071, sa_port(&cfg->upstream_listen));
	assert_true(cfg->dialog_all_calls);
	assert_int_equal(LAMP_EARLY, cfg->dialog_lamp);
	assert_int_equal(LOG_LEVEL_DEBUG, cfg->log_level);
	assert_int_equal(NAT_ALWAYS, cfg->nat_mode);
	assert_int_equal(0, cfg->nat_keepalive);
	assert_int_equal(5, cfg->nat_keepalive_grace);
	assert_true(cfg->stop_handover);

	mem_deref(cfg);
	mem_deref(err);
}


static void test_errors_have_file_and_line(void **state)
{
	struct config *cfg = NULL;
	struct mbuf *err = mbuf_alloc(64);
	static const char text[] =
		"sip_listen 127.0.0.1:5070\n"                  /* 1 */
		"upstream_uri http://example.com/\n"           /* 2 */
		"orbit_map orbits.conf\n"                      /* 3 */
		"upstream_expires 9\n"                         /* 4 */
		"upstream_retry_max soon\n"                    /* 5 */
		"dialog_all_calls maybe\n"                     /* 6 */
		"dialog_lamp blinking\n"                       /* 7 */
		"colour blue\n"                                /* 8 */
		"orbit_map other.conf\n"                       /* 9 */
		"upstream_user\n"                              /* 10 */
		"upstream_password two words\n"                /* 11 */
		"http_listen 0.0.0.0:8088\n"                   /* 12 */
		"sip_listen localhost\n"                       /* 13 */
		"upstream_uri sips:any-dn@pbx\n"               /* 14 */
		"upstream_listen 0.0.0.0:5071\n"               /* 15 */
		"nat_mode sometimes\n";                       /* 16 */
	const char *e;
	(void)state;

	assert_int_equal(EINVAL, parse(&cfg, text, err));
	assert_null(cfg);
	e = errors(err);

	assert_non_null(strstr(e, "parkblf.conf:2: upstream_uri: "
			       "'http://example.com/' is not a sip:"));
	assert_non_null(strstr(e, ":4: upstream_expires: 9 is out of "
			       "range 10..86400"));
	assert_non_null(strstr(e, ":5: upstream_retry_max: 'soon' is not "
			       "a number"));
	assert_non_null(strstr(e, ":6: dialog_all_calls: 'maybe' is not "
			       "yes or no"));
	assert_non_null(strstr(e, ":7: dialog_lamp: 'blinking'"));
	assert_non_null(strstr(e, ":8: unknown key 'colour'"));
	assert_non_null(strstr(e, ":9: orbit_map: already set on line 3"));
	assert_non_null(strstr(e, ":10: upstream_user: missing value"));
	assert_non_null(strstr(e, ":11: upstream_password: unexpected "
			       "'words'"));
	assert_non_null(strstr(e, ":12: http_listen: needs a concrete "
			       "address"));
	assert_non_null(strstr(e, ":13: sip_listen: 'localhost' is not "
			       "ADDRESS:PORT"));
	assert_non_null(strstr(e, ":14: upstream_uri: sips: URIs are not "
			       "supported; for TLS write "
			       "sip:...;transport=tls"));
	assert_non_null(strstr(e, ":15: upstream_listen: needs a concrete "
			       "address"));
	assert_non_null(strstr(e, ":16: nat_mode: 'sometimes' is not auto, "
			       "always or never"));

	mem_deref(err);
}


static void test_missing_and_inconsistent(void **state)
{
	struct config *cfg = NULL;
	struct mbuf *err = mbuf_alloc(64);
	static const char text[] =
		"upstream_user 9999\n"
		"upstream_retry_min 30\n"
		"upstream_retry_max 10\n"
		"nat_keepalive 20\n"
		"nat_keepalive_grace 30\n";
	const char *e;
	(void)state;

	assert_int_equal(EINVAL, parse(&cfg, text, err));
	e = errors(err);
	assert_non_null(strstr(e, ":5: missing required key 'sip_listen'"));
	assert_non_null(strstr(e, "missing required key 'upstream_uri'"));
	assert_non_null(strstr(e, "missing required key 'orbit_map'"));
	assert_non_null(strstr(e, "upstream_password is missing"));
	assert_non_null(strstr(e, "upstream_retry_min (30) is above "
			       "upstream_retry_max (10)"));
	assert_non_null(strstr(e, "nat_keepalive_grace (30) must be at least "
			       "twice nat_keepalive (20)"));

	mem_deref(err);
}


static void test_wildcard_listen_accepted(void **state)
{
	struct config *cfg = NULL;
	static const char text[] =
		"sip_listen 0.0.0.0:5060\n"
		"upstream_uri sip:any-dn@192.0.2.1\n"
		"orbit_map orbits.conf\n";
	(void)state;

	/* expanded to concrete addresses when the daemon starts */
	assert_int_equal(0, parse(&cfg, text, NULL));
	assert_true(sa_is_any(&cfg->listenv[0]));
	mem_deref(cfg);
}


static void test_load_missing_file(void **state)
{
	struct config *cfg = NULL;
	struct mbuf *err = mbuf_alloc(64);
	(void)state;

	assert_int_equal(ENOENT, config_load(&cfg, "/nonexistent/x.conf",
					     err));
	/* no line to point at: FILE: message, not FILE:0: */
	assert_non_null(strstr(errors(err), "/nonexistent/x.conf: "
			       "cannot read: "));
	mem_deref(err);
}


static void test_ports_and_ipv6(void **state)
{
	struct config *cfg = NULL;
	struct mbuf *err = mbuf_alloc(64);
	static const char text[] =
		"sip_listen 127.0.0.1:70000\n"                       /* 1 */
		"upstream_uri sip:any-dn@192.0.2.1:292100\n"         /* 2 */
		"orbit_map orbits.conf\n"                            /* 3 */
		"http_listen [::1]:65536\n"                          /* 4 */
		"upstream_listen 127.0.0.1:-1\n";                    /* 5 */
	static const char v6[] =
		"sip_listen 127.0.0.1:5060\n"
		"upstream_uri sip:any-dn@::1:29210\n"                /* 2 */
		"orbit_map orbits.conf\n";
	static const char good[] =
		"sip_listen [::1]:65535\n"
		"upstream_uri sip:any-dn@[::1]:29210;transport=tcp\n"
		"orbit_map orbits.conf\n";
	const char *e;
	(void)state;

	assert_int_equal(EINVAL, parse(&cfg, text, err));
	e = errors(err);
	assert_non_null(strstr(e, "parkblf.conf:1: sip_listen: "
			       "'127.0.0.1:70000': the port is not a "
			       "number in 0..65535"));
	assert_non_null(strstr(e, "parkblf.conf:2: upstream_uri: "
			       "'192.0.2.1:292100': the port is not"));
	assert_non_null(strstr(e, "parkblf.conf:4: http_listen: "
			       "'[::1]:65536': the port"));
	assert_non_null(strstr(e, "parkblf.conf:5: upstream_listen:"));

	mbuf_reset(err);
	assert_int_equal(EINVAL, parse(&cfg, v6, err));
	assert_non_null(strstr(errors(err), "parkblf.conf:2: upstream_uri: "
			       "'sip:any-dn@::1:29210': an IPv6 address "
			       "goes in brackets"));

	mbuf_reset(err);
	assert_int_equal(0, parse(&cfg, good, err));
	assert_int_equal(65535, sa_port(&cfg->listenv[0]));
	mem_deref(cfg);
	mem_deref(err);
}


static void test_auth_user(void **state)
{
	struct config *cfg = NULL;
	struct mbuf *err = mbuf_alloc(64);
	static const char text[] =
		"sip_listen 127.0.0.1:5070\n"
		"upstream_uri sip:any-dn@192.0.2.1\n"
		"orbit_map orbits.conf\n"
		"upstream_user 9999\n"
		"upstream_auth_user Kx7yQ2\n"
		"upstream_password s3cret\n";
	static const char alone[] =
		"sip_listen 127.0.0.1:5070\n"
		"upstream_uri sip:any-dn@192.0.2.1\n"
		"orbit_map orbits.conf\n"
		"upstream_auth_user Kx7yQ2\n"
		"upstream_password s3cret\n";
	(void)state;

	assert_int_equal(0, parse(&cfg, text, err));
	assert_string_equal("9999", cfg->upstream_user);
	assert_string_equal("Kx7yQ2", config_auth_user(cfg));
	assert_int_equal(5, config_line(cfg, "upstream_auth_user"));
	cfg = mem_deref(cfg);

	/* without it, the extension is the digest user too */
	assert_int_equal(0, parse(&cfg, minimal, err));
	assert_null(config_auth_user(cfg));
	assert_int_equal(0, config_line(cfg, "upstream_auth_user"));
	cfg = mem_deref(cfg);

	assert_int_equal(EINVAL, parse(&cfg, alone, err));
	assert_non_null(strstr(errors(err), "upstream_auth_user needs "
			       "upstream_user"));
	mem_deref(err);
}


/* write_file DIR NAME TEXT MODE: a file for config_load */
static void write_file(char *path, size_t sz, const char *dir,
		       const char *name, const char *text)
{
	FILE *f;

	(void)re_snprintf(path, sz, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(strlen(text), fwrite(text, 1, strlen(text), f));
	assert_int_equal(0, fclose(f));
}


static void test_password_file(void **state)
{
	char dir[] = "/tmp/parkblf-unit.XXXXXX", creds[256], conf[256];
	char pw[256], cpw[256];
	struct config *cfg = NULL;
	struct mbuf *err = mbuf_alloc(64);
	char text[512];
	(void)state;

	assert_non_null(mkdtemp(dir));
	(void)re_snprintf(creds, sizeof(creds), "%s/creds", dir);
	assert_int_equal(0, mkdir(creds, 0700));
	(void)re_snprintf(text, sizeof(text), "%s%s", minimal,
			  "upstream_user 9999\n"
			  "upstream_password_file upstream_password\n");
	write_file(conf, sizeof(conf), dir, "parkblf.conf", text);

	/* outside systemd: relative to the config file; one newline off */
	(void)unsetenv("CREDENTIALS_DIRECTORY");
	write_file(pw, sizeof(pw), dir, "upstream_password", "pa ss\n");
	assert_int_equal(0, config_load(&cfg, conf, err));
	assert_null(cfg->upstream_password);
	assert_int_equal(0, config_read_secrets(cfg, err));
	assert_string_equal("pa ss", cfg->upstream_password);
	cfg = mem_deref(cfg);

	/* under the unit: the credential of that name */
	assert_int_equal(0, setenv("CREDENTIALS_DIRECTORY", creds, 1));
	write_file(cpw, sizeof(cpw), creds, "upstream_password", "cred\r\n");
	assert_int_equal(0, config_load(&cfg, conf, err));
	assert_int_equal(0, config_read_secrets(cfg, err));
	assert_string_equal("cred", cfg->upstream_password);
	cfg = mem_deref(cfg);

	/* an empty credential (the unit's SetCredential= default) */
	write_file(cpw, sizeof(cpw), creds, "upstream_password", "");
	assert_int_equal(0, config_load(&cfg, conf, err));
	assert_int_equal(EINVAL, config_read_secrets(cfg, err));
	cfg = mem_deref(cfg);
	assert_non_null(strstr(errors(err), "parkblf.conf:5: "
			       "upstream_password_file: the systemd "
			       "credential 'upstream_password' "
			       "(parkblf.service loads it from "));
	assert_non_null(strstr(errors(err), "/upstream_password) is empty: "
			       "write the PBX password in it"));
	(void)unlink(cpw);
	mbuf_reset(err);
	assert_int_equal(0, config_load(&cfg, conf, err));
	assert_int_equal(ENOENT, config_read_secrets(cfg, err));
	cfg = mem_deref(cfg);
	assert_non_null(strstr(errors(err), "parkblf.conf:5: "
			       "upstream_password_file: parkblf.service "
			       "passes no credential 'upstream_password': "
			       "put the file in the credentials directory "));
	assert_non_null(strstr(errors(err), "or add "
			       "LoadCredential=upstream_password:PATH in a "
			       "drop-in"));
	(void)unsetenv("CREDENTIALS_DIRECTORY");

	/* two lines are a mistake, not a password */
	mbuf_reset(err);
	write_file(pw, sizeof(pw), dir, "upstream_password", "a\nb\n");
	assert_int_equal(0, config_load(&cfg, conf, err));
	assert_int_equal(EINVAL, config_read_secrets(cfg, err));
	cfg = mem_deref(cfg);
	assert_non_null(strstr(errors(err), "has more than one line"));

	(void)unlink(pw);
	(void)unlink(conf);
	(void)rmdir(creds);
	(void)rmdir(dir);
	mem_deref(err);
}


/* tenant_password: the password a tenant file (DIR/tenants.d/a.conf,
   upstream_password_file a.password) reads, or NULL; errors in err */
static char *tenant_password(const char *dir, struct mbuf *err)
{
	static const char tenant[] = "upstream_uri sip:any-dn@192.0.2.7\n"
		"upstream_user 9999\n"
		"orbit_map a.map\n"
		"upstream_password_file a.password\n";
	char main_file[256], file[256], *pw = NULL;
	struct config *base = NULL, *cfg = NULL;

	(void)re_snprintf(main_file, sizeof(main_file), "%s/parkblf.conf",
			  dir);
	(void)re_snprintf(file, sizeof(file), "%s/tenants.d/a.conf", dir);
	assert_int_equal(0, config_parse(&base, main_file,
					 (const uint8_t *)minimal,
					 strlen(minimal), err));
	assert_int_equal(0, config_parse_tenant(&cfg, base, file,
						(const uint8_t *)tenant,
						strlen(tenant), err));
	if (!config_read_secrets(cfg, err))
		(void)str_dup(&pw, cfg->upstream_password);
	mem_deref(cfg);
	mem_deref(base);
	return pw;
}


/* A tenant's password from the credentials directory (the unit loads
   /etc/parkblf/credentials whole: credentials_FILENAME), with no
   LoadCredential= of its own; run by hand, from credentials/ beside
   parkblf.conf when it is not beside the tenant file */
static void test_tenant_credentials_dir(void **state)
{
	char dir[] = "/tmp/parkblf-unit.XXXXXX", sub[256], creds[256];
	char f1[256], f2[256], f3[256], *pw;
	struct mbuf *err = mbuf_alloc(64);
	(void)state;

	assert_non_null(mkdtemp(dir));
	(void)re_snprintf(sub, sizeof(sub), "%s/tenants.d", dir);
	assert_int_equal(0, mkdir(sub, 0700));
	(void)re_snprintf(sub, sizeof(sub), "%s/credentials", dir);
	assert_int_equal(0, mkdir(sub, 0700));
	(void)re_snprintf(creds, sizeof(creds), "%s/run-creds", dir);
	assert_int_equal(0, mkdir(creds, 0700));

	/* by hand: not beside the tenant file: credentials/ beside
	   parkblf.conf */
	(void)unsetenv("CREDENTIALS_DIRECTORY");
	write_file(f1, sizeof(f1), sub, "a.password", "by-hand\n");
	chmod(f1, 0600);
	pw = tenant_password(dir, err);
	assert_string_equal("by-hand", pw);
	pw = mem_deref(pw);

	/* under the unit: the directory's credential credentials_a.password */
	assert_int_equal(0, setenv("CREDENTIALS_DIRECTORY", creds, 1));
	write_file(f2, sizeof(f2), creds, "credentials_a.password",
		   "from-dir\n");
	pw = tenant_password(dir, err);
	assert_int_equal(0, err->end);
	assert_string_equal("from-dir", pw);
	pw = mem_deref(pw);

	/* a credential of its own (LoadCredential=a.password:...) wins */
	write_file(f3, sizeof(f3), creds, "a.password", "own\n");
	pw = tenant_password(dir, err);
	assert_string_equal("own", pw);
	pw = mem_deref(pw);
	(void)unlink(f3);

	/* an empty one: named with where the admin put it */
	write_file(f2, sizeof(f2), creds, "credentials_a.password", "");
	assert_null(tenant_password(dir, err));
	assert_non_null(strstr(errors(err), "tenants.d/a.conf:4: "
			       "upstream_password_file: the systemd "
			       "credential 'credentials_a.password' "
			       "(parkblf.service loads it from "
			       "credentials/a.password beside parkblf.conf) "
			       "is empty"));

	/* neither: how to pass it, without a drop-in */
	(void)unlink(f2);
	mbuf_reset(err);
	assert_null(tenant_password(dir, err));
	assert_non_null(strstr(errors(err), "tenants.d/a.conf:4: "
			       "upstream_password_file: parkblf.service "
			       "passes no credential 'a.password': put the "
			       "file in the credentials directory beside "
			       "parkblf.conf (mode 0600) and restart "
			       "parkblf"));
	(void)unsetenv("CREDENTIALS_DIRECTORY");

	(void)unlink(f1);
	(void)rmdir(creds);
	(void)rmdir(sub);
	(void)re_snprintf(sub, sizeof(sub), "%s/tenants.d", dir);
	(void)rmdir(sub);
	(void)rmdir(dir);
	mem_deref(err);
}


/* A tenant file: its own PBX keys (never parkblf.conf's), the others
   inherited unless set; parkblf.conf-only keys refused with FILE:LINE */
static void test_tenant_file(void **state)
{
	static const char base_text[] =
		"sip_listen 127.0.0.1:5070\n"
		"upstream_uri sip:any-dn@192.0.2.1\n"
		"upstream_user 9999\n"
		"upstream_password secret\n"
		"upstream_event presence\n"
		"orbit_map orbits.conf\n"
		"privacy yes\n"
		"subscribe_max_total 77\n"
		"state_db /var/lib/parkblf/state.db\n"
		"tenants_dir tenants.d\n";
	static const char tenant[] =
		"upstream_uri sip:any-dn@198.51.100.7\n"
		"orbit_map ../maps/a.map\n"
		"subscribe_max_total 5\n"
		"tenant_domain a.example,b.example\n"
		"tenant_listen 127.0.0.2:5060\n";
	static const char bad[] = "# a\nsip_listen 127.0.0.1:1\n";
	const char *file = "/etc/parkblf/tenants.d/a.conf";
	struct config *base = NULL, *cfg = NULL;
	struct mbuf *err = mbuf_alloc(64);
	(void)state;

	assert_int_equal(0, parse(&base, base_text, err));
	assert_string_equal("/etc/parkblf/tenants.d", base->tenants_dir);

	assert_int_equal(0, config_parse_tenant(&cfg, base, file,
						(const uint8_t *)tenant,
						strlen(tenant), err));
	assert_int_equal(0, err->end);
	assert_true(cfg->tenant);
	assert_string_equal(file, cfg->file);
	assert_string_equal("sip:any-dn@198.51.100.7", cfg->upstream_uri);
	assert_string_equal("/etc/parkblf/tenants.d/../maps/a.map",
			    cfg->orbit_map);
	assert_string_equal("a.example,b.example", cfg->tenant_domain);
	assert_int_equal(5060, sa_port(&cfg->tenant_listen));
	assert_int_equal(5, cfg->subscribe_max_total);
	/* its own: defaults, not parkblf.conf's PBX */
	assert_null(cfg->upstream_user);
	assert_null(cfg->upstream_password);
	assert_string_equal("dialog", cfg->upstream_event);
	assert_null(cfg->state_db);
	assert_null(cfg->tenants_dir);
	/* inherited */
	assert_true(cfg->privacy);
	assert_int_equal(1, cfg->listenc);
	assert_int_equal(5070, sa_port(&cfg->listenv[0]));
	assert_int_equal(4, config_line(cfg, "tenant_domain"));
	cfg = mem_deref(cfg);

	/* parkblf.conf's keys; upstream_uri and orbit_map missing */
	mbuf_rewind(err);
	assert_int_equal(EINVAL, config_parse_tenant(&cfg, base, file,
						     (const uint8_t *)bad,
						     strlen(bad), err));
	assert_null(cfg);
	assert_non_null(strstr(errors(err), "tenants.d/a.conf:2: sip_listen: "
			       "not a tenant key"));
	assert_non_null(strstr(errors(err), "tenants.d/a.conf:2: missing "
			       "required key 'upstream_uri'"));

	/* tenant keys in parkblf.conf */
	mbuf_rewind(err);
	base = mem_deref(base);
	assert_int_equal(EINVAL, parse(&base, "tenant_domain a.example\n",
				       err));
	assert_non_null(strstr(errors(err), "parkblf.conf:1: tenant_domain: "
			       "only in a tenant file"));

	/* tenants_dir alone: no PBX of parkblf.conf's own; one of the two
	   alone is not enough */
	mbuf_rewind(err);
	assert_int_equal(0, parse(&base, "sip_listen 127.0.0.1:5070\n"
				  "tenants_dir t\n", err));
	assert_null(base->upstream_uri);
	base = mem_deref(base);
	assert_int_equal(EINVAL, parse(&base, "sip_listen 127.0.0.1:5070\n"
				       "tenants_dir t\norbit_map m\n", err));
	assert_non_null(strstr(errors(err), "missing required key "
			       "'upstream_uri'"));

	mem_deref(base);
	mem_deref(err);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_minimal_defaults),
	cmocka_unit_test(test_all_keys),
	cmocka_unit_test(test_errors_have_file_and_line),
	cmocka_unit_test(test_missing_and_inconsistent),
	cmocka_unit_test(test_wildcard_listen_accepted),
	cmocka_unit_test(test_load_missing_file),
	cmocka_unit_test(test_ports_and_ipv6),
	cmocka_unit_test(test_auth_user),
	cmocka_unit_test(test_password_file),
	cmocka_unit_test(test_tenant_file),
	cmocka_unit_test(test_tenant_credentials_dir),
};

const struct unit_group unit_config = UNIT_GROUP(config, tests);
