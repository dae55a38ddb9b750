/*
 * config - aup-milter.conf as an immutable, refcounted snapshot
 *
 * One declarative table (cf_keys) says every key's type, default, bounds
 * and where it lands in struct config; the parser knows nothing else.
 * Rule.<id> keys are the one family handled apart, because their names are
 * generated from rules.h.
 *
 * Ownership: config_load() returns a snapshot with one reference; every
 * string in it is owned by the snapshot and freed with its last reference.
 * Threads: the refcount and the current pointer are under one mutex.
 * Errors: config_load() fails with "FILE:LINE: reason" and frees its work.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "addrnorm.h"
#include "config.h"
#include "xalloc.h"

#define CF_LINE_MAX	4096

struct domlist {
	char	**v;	/* lower case, no trailing dot */
	size_t	  n;
};

struct config {
	int		refs;
	char		*path;
	char		*dir;		/* of the file; base of relative paths */
	char		*socket;
	char		*database;
	long		 db_size_mb;
	long		 db_max_mb;
	char		*evidence_log;
	long		 evidence_sync;
	long		 evidence_failure;
	long		 database_failure;
	long		 database_sync;	/* enum db_sync */
	long		 quota_sync;	/* enum db_sync */
	long		 quota_sync_interval;	/* seconds */
	long		 dns_failure;
	char		*abuse_contact;
	char		*pid_file;
	char		*user;
	long		 umask;
	long		 syslog;
	long		 log_level;
	long		 milter_timeout;
	char		*nameserver;
	long		 dns_timeout;	/* DNSTimeout, seconds per try */
	long		 dns_tries;	/* DNSTries */
	long		 dns_budget;	/* DNSBudget, seconds per transaction */
	long		 dns_cache_size;	/* DNSCacheSize, entries */
	struct domlist	 local_domains;
	struct domlist	 operator_domains;
	struct domlist	 relay_hostnames;
	enum rule_action actions[RULE_NRULES];
	char		*address_rules_path;	/* AddressRules */
	struct addrnorm_rules *address_rules;	/* loaded from it */
	char		*feedback_header;	/* FeedbackHeader, "none" */
	long		 header_max_bytes;	/* HeaderMaxBytes */
	long		 header_max_addresses;	/* HeaderMaxAddresses */
	long		 dkim_max_signatures;	/* DKIMMaxSignatures */
};

enum cf_type {
	CF_STRING,	/* free text */
	CF_PATH,	/* file name, relative to the config's directory */
	CF_SOCKET,	/* inet:PORT@HOST, inet6:PORT@HOST, unix:PATH */
	CF_BOOL,
	CF_INT,		/* decimal within [min, max] */
	CF_OCTAL,
	CF_FAILMODE,	/* tempfail | accept */
	CF_DBSYNC,	/* full | meta (enum db_sync) */
	CF_QSYNC,	/* full | meta | periodic (enum db_sync) */
	CF_LOGLEVEL,	/* error | warning | info | debug */
	CF_DOMAINS,	/* list; repeated lines add to it */
	CF_HOSTPORT	/* host or host:port */
};

struct cf_key {
	const char	*name;
	enum cf_type	 type;
	const char	*def;		/* NULL: no default */
	long		 min, max;	/* CF_INT */
	size_t		 off;
	int		 required;
};

#define OFF(f)	offsetof(struct config, f)

static const struct cf_key cf_keys[] = {
	{ "Socket", CF_SOCKET, NULL, 0, 0, OFF(socket), 1 },
	{ "Database", CF_PATH, NULL, 0, 0, OFF(database), 1 },
	{ "DatabaseSize", CF_INT, "64", 1, 1L << 20, OFF(db_size_mb), 0 },
	{ "DatabaseMaxSize", CF_INT, "4096", 1, 1L << 24, OFF(db_max_mb), 0 },
	{ "DatabaseFailure", CF_FAILMODE, "tempfail", 0, 0,
	    OFF(database_failure), 0 },
	{ "DatabaseSync", CF_DBSYNC, "full", 0, 0, OFF(database_sync), 0 },
	{ "QuotaSync", CF_QSYNC, "full", 0, 0, OFF(quota_sync), 0 },
	{ "QuotaSyncInterval", CF_INT, "1", 1, 60, OFF(quota_sync_interval),
	    0 },
	{ "EvidenceLog", CF_PATH, NULL, 0, 0, OFF(evidence_log), 1 },
	{ "EvidenceSync", CF_INT, "1", 0, 3600, OFF(evidence_sync), 0 },
	{ "EvidenceFailure", CF_FAILMODE, "tempfail", 0, 0,
	    OFF(evidence_failure), 0 },
	{ "DNSFailure", CF_FAILMODE, "tempfail", 0, 0, OFF(dns_failure), 0 },
	{ "Nameserver", CF_HOSTPORT, NULL, 0, 0, OFF(nameserver), 0 },
	{ "DNSTimeout", CF_INT, "3", 1, 30, OFF(dns_timeout), 0 },
	{ "DNSTries", CF_INT, "2", 1, 5, OFF(dns_tries), 0 },
	{ "DNSBudget", CF_INT, "15", 1, 25, OFF(dns_budget), 0 },
	{ "DNSCacheSize", CF_INT, "10000", 0, 1000000, OFF(dns_cache_size), 0 },
	{ "LocalDomains", CF_DOMAINS, NULL, 0, 0, OFF(local_domains), 0 },
	{ "OperatorDomains", CF_DOMAINS, NULL, 0, 0, OFF(operator_domains), 0 },
	{ "RelayHostnames", CF_DOMAINS, NULL, 0, 0, OFF(relay_hostnames), 0 },
	{ "AbuseContact", CF_STRING, "", 0, 0, OFF(abuse_contact), 0 },
	{ "PidFile", CF_PATH, NULL, 0, 0, OFF(pid_file), 0 },
	{ "UserID", CF_STRING, NULL, 0, 0, OFF(user), 0 },
	{ "UMask", CF_OCTAL, "007", 0, 0777, OFF(umask), 0 },
	{ "Syslog", CF_BOOL, "yes", 0, 0, OFF(syslog), 0 },
	{ "LogLevel", CF_LOGLEVEL, "info", 0, 0, OFF(log_level), 0 },
	{ "MilterTimeout", CF_INT, "300", 10, 86400, OFF(milter_timeout), 0 },
	{ "AddressRules", CF_PATH, NULL, 0, 0, OFF(address_rules_path), 0 },
	{ "FeedbackHeader", CF_STRING, "X-AUP-Feedback", 0, 0,
	    OFF(feedback_header), 0 },
	{ "HeaderMaxBytes", CF_INT, "65536", 1024, 1L << 20,
	    OFF(header_max_bytes), 0 },
	{ "HeaderMaxAddresses", CF_INT, "100", 1, 10000,
	    OFF(header_max_addresses), 0 },
	{ "DKIMMaxSignatures", CF_INT, "5", 0, 50, OFF(dkim_max_signatures),
	    0 },
};

#define CF_NKEYS	(sizeof(cf_keys) / sizeof(cf_keys[0]))

static pthread_mutex_t cf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *cf_current;

static void
domlist_free(struct domlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
config_free(struct config *cfg)
{
	char **strs[] = { &cfg->path, &cfg->dir, &cfg->socket, &cfg->database,
	    &cfg->evidence_log, &cfg->abuse_contact, &cfg->pid_file,
	    &cfg->user, &cfg->nameserver, &cfg->address_rules_path,
	    &cfg->feedback_header };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	domlist_free(&cfg->local_domains);
	domlist_free(&cfg->operator_domains);
	domlist_free(&cfg->relay_hostnames);
	addrnorm_rules_free(cfg->address_rules);
	free(cfg);
}

static char *
cf_abspath(const struct config *cfg, const char *v)
{
	size_t n;
	char *p;

	if (v[0] == '/')
		return xstrdup(v);
	n = strlen(cfg->dir) + strlen(v) + 2;
	p = xmalloc(n);
	snprintf(p, n, "%s/%s", cfg->dir, v);
	return p;
}

static int
cf_parse_long(const char *v, int base, long *out)
{
	char *end;
	long n;

	if (*v == '\0' || *v == '-' || *v == '+' || isspace((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtol(v, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

static int
cf_parse_bool(const char *v, long *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* A domain name as the config may list it: LDH labels, optional '.'. */
static int
cf_valid_domain(const char *d)
{
	size_t label = 0, total = strlen(d);

	if (*d == '.')
		d++, total--;
	if (total == 0 || total > 253)
		return 0;
	for (; *d != '\0'; d++) {
		if (*d == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)*d) || *d == '-' ||
		    *d == '_') {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0 || d[-1] == '.';
}

static int
cf_add_domains(struct domlist *l, const char *v, char *why, size_t wlen)
{
	char *copy = xstrdup(v), *save = NULL;

	for (char *t = strtok_r(copy, ", \t", &save); t != NULL;
	    t = strtok_r(NULL, ", \t", &save)) {
		size_t n = strlen(t);

		if (n > 1 && t[n - 1] == '.')
			t[--n] = '\0';
		if (!cf_valid_domain(t)) {
			snprintf(why, wlen, "'%s' is not a domain name", t);
			free(copy);
			return -1;
		}
		for (char *p = t; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = xstrdup(t);
	}
	free(copy);
	return 0;
}

/* inet:PORT@HOST, inet6:PORT@HOST, unix:PATH or local:PATH. */
static int
cf_check_socket(struct config *cfg, const char *v, char **out, char *why,
    size_t wlen)
{
	const char *rest;
	long port;

	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		rest = strchr(v, ':') + 1;
		if (*rest == '\0') {
			snprintf(why, wlen, "socket '%s' has no path", v);
			return -1;
		}
		if (rest[0] != '/') {
			char *abs = cf_abspath(cfg, rest);
			size_t n = strlen(abs) + 6;

			*out = xmalloc(n);
			snprintf(*out, n, "unix:%s", abs);
			free(abs);
			return 0;
		}
		*out = xstrdup(v);
		return 0;
	}
	if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		char portbuf[16];
		const char *at;

		rest = strchr(v, ':') + 1;
		at = strchr(rest, '@');
		if (at == NULL || at == rest || (size_t)(at - rest) >= 16 ||
		    at[1] == '\0') {
			snprintf(why, wlen, "socket '%s' is not PORT@HOST", v);
			return -1;
		}
		memcpy(portbuf, rest, (size_t)(at - rest));
		portbuf[at - rest] = '\0';
		if (cf_parse_long(portbuf, 10, &port) < 0 || port < 1 ||
		    port > 65535) {
			snprintf(why, wlen, "bad port '%s' in socket '%s'",
			    portbuf, v);
			return -1;
		}
		*out = xstrdup(v);
		return 0;
	}
	snprintf(why, wlen, "socket '%s' must start with inet:, inet6: "
	    "or unix:", v);
	return -1;
}

static int
cf_check_hostport(const char *v, char *why, size_t wlen)
{
	const char *colon = strrchr(v, ':');
	long port;

	if (*v == '\0' || strpbrk(v, " \t/") != NULL) {
		snprintf(why, wlen, "bad name server '%s'", v);
		return -1;
	}
	/* host:port, but a bare IPv6 address has colons of its own. */
	if (colon != NULL && strchr(v, ':') == colon &&
	    (cf_parse_long(colon + 1, 10, &port) < 0 || port < 1 ||
	    port > 65535)) {
		snprintf(why, wlen, "bad port in name server '%s'", v);
		return -1;
	}
	return 0;
}

static int
cf_set(struct config *cfg, const struct cf_key *k, const char *v, char *why,
    size_t wlen)
{
	char *base = (char *)cfg;
	char **sp = (char **)(base + k->off);
	long *lp = (long *)(base + k->off);
	static const char *const levels[] = { "error", "warning", "info",
	    "debug" };
	static const int prios[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
	    LOG_DEBUG };

	switch (k->type) {
	case CF_STRING:
		free(*sp);
		*sp = xstrdup(v);
		return 0;
	case CF_PATH:
		if (*v == '\0')
			return snprintf(why, wlen, "empty path"), -1;
		free(*sp);
		*sp = cf_abspath(cfg, v);
		return 0;
	case CF_SOCKET:
		free(*sp);
		*sp = NULL;
		return cf_check_socket(cfg, v, sp, why, wlen);
	case CF_HOSTPORT:
		if (cf_check_hostport(v, why, wlen) < 0)
			return -1;
		free(*sp);
		*sp = xstrdup(v);
		return 0;
	case CF_BOOL:
		if (cf_parse_bool(v, lp) < 0)
			return snprintf(why, wlen, "'%s' is not yes or no", v),
			    -1;
		return 0;
	case CF_INT:
	case CF_OCTAL:
		if (cf_parse_long(v, k->type == CF_OCTAL ? 8 : 10, lp) < 0)
			return snprintf(why, wlen, "'%s' is not a number", v),
			    -1;
		if (*lp < k->min || *lp > k->max)
			return snprintf(why, wlen, "%s out of range "
			    "(%ld..%ld)", v, k->min, k->max), -1;
		return 0;
	case CF_FAILMODE:
		if (strcmp(v, "tempfail") == 0)
			*lp = FAIL_TEMPFAIL;
		else if (strcmp(v, "accept") == 0)
			*lp = FAIL_ACCEPT;
		else
			return snprintf(why, wlen, "'%s' is not tempfail or "
			    "accept", v), -1;
		return 0;
	case CF_DBSYNC:
	case CF_QSYNC:
		if (strcmp(v, "full") == 0)
			*lp = DB_SYNC_FULL;
		else if (strcmp(v, "meta") == 0)
			*lp = DB_SYNC_META;
		else if (k->type == CF_QSYNC && strcmp(v, "periodic") == 0)
			*lp = DB_SYNC_PERIODIC;
		else
			return snprintf(why, wlen, "'%s' is not full%s meta",
			    v, k->type == CF_QSYNC ? ", periodic or" : " or"),
			    -1;
		return 0;
	case CF_LOGLEVEL:
		for (size_t i = 0; i < 4; i++)
			if (strcmp(v, levels[i]) == 0)
				return *lp = prios[i], 0;
		return snprintf(why, wlen, "'%s' is not error, warning, info "
		    "or debug", v), -1;
	case CF_DOMAINS:
		return cf_add_domains((struct domlist *)(base + k->off), v,
		    why, wlen);
	}
	return -1;
}

static int
cf_set_rule(struct config *cfg, const char *key, const char *v, char *why,
    size_t wlen)
{
	int id = rule_lookup(key + 5), act;

	if (id < 0)
		return snprintf(why, wlen, "unknown rule '%s'", key + 5), -1;
	act = rule_action_lookup(v);
	if (act < 0)
		return snprintf(why, wlen, "'%s' is not reject, tempfail, "
		    "log or off", v), -1;
	cfg->actions[id] = act;
	return 0;
}

/* Split "Key value # comment" in place; 0 blank, 1 key/value, -1 bad. */
static int
cf_split(char *line, char **key, char **val)
{
	char *p, *end;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	p = line;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;
	*key = p;
	while (*p != '\0' && !isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return -1;
	*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	*val = p;
	return 1;
}

static const struct cf_key *
cf_find(const char *key)
{
	for (size_t i = 0; i < CF_NKEYS; i++)
		if (strcasecmp(cf_keys[i].name, key) == 0)
			return &cf_keys[i];
	return NULL;
}

static void
cf_init(struct config *cfg, const char *path)
{
	const char *slash = strrchr(path, '/');
	char why[256];

	cfg->refs = 1;
	cfg->path = xstrdup(path);
	cfg->dir = slash == NULL ? xstrdup(".") :
	    slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	for (size_t i = 0; i < CF_NKEYS; i++)
		if (cf_keys[i].def != NULL)
			(void)cf_set(cfg, &cf_keys[i], cf_keys[i].def, why,
			    sizeof(why));
	for (int i = 0; i < RULE_NRULES; i++)
		cfg->actions[i] = ACTION_REJECT;
}

static int
cf_parse_line(struct config *cfg, char *line, long lineno,
    unsigned char *seen, char *err, size_t errlen)
{
	char why[512], *key, *val;
	int r;

	if ((r = cf_split(line, &key, &val)) == 0)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "%s:%ld: key '%s' has no value",
		    cfg->path, lineno, key);
		return -1;
	}
	if (strncasecmp(key, "Rule.", 5) == 0) {
		r = cf_set_rule(cfg, key, val, why, sizeof(why));
	} else {
		const struct cf_key *k = cf_find(key);

		if (k == NULL) {
			snprintf(err, errlen, "%s:%ld: unknown key '%s'",
			    cfg->path, lineno, key);
			return -1;
		}
		seen[k - cf_keys] = 1;
		r = cf_set(cfg, k, val, why, sizeof(why));
	}
	if (r < 0)
		snprintf(err, errlen, "%s:%ld: %s: %s", cfg->path, lineno,
		    key, why);
	return r;
}

static int
cf_parse_file(struct config *cfg, FILE *fp, unsigned char *seen, char *err,
    size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (n >= CF_LINE_MAX) {
			snprintf(err, errlen, "%s:%ld: line longer than %d "
			    "bytes", cfg->path, lineno, CF_LINE_MAX - 1);
			rc = -1;
		} else if (memchr(line, '\0', (size_t)n) != NULL) {
			snprintf(err, errlen, "%s:%ld: NUL byte in line",
			    cfg->path, lineno);
			rc = -1;
		} else
			rc = cf_parse_line(cfg, line, lineno, seen, err,
			    errlen);
	}
	free(line);
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: read error: %s", cfg->path,
		    strerror(errno));
		rc = -1;
	}
	return rc;
}

/*
 * The list files the config names (AddressRules) and checks of values
 * that need more than their type (FeedbackHeader). Errors name the list
 * file and line, or the config file.
 */
static int
cf_load_lists(struct config *cfg, char *err, size_t errlen)
{
	const char *h = cfg->feedback_header;

	if (cfg->address_rules_path != NULL &&
	    (cfg->address_rules = addrnorm_rules_load(cfg->address_rules_path,
	    err, errlen)) == NULL)
		return -1;
	if (h == NULL || strcasecmp(h, "none") == 0)
		return 0;
	for (const char *p = h; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == ':' || p - h >= 64) {
			snprintf(err, errlen, "%s: FeedbackHeader: '%s' is not "
			    "a header field name (or none)", cfg->path, h);
			return -1;
		}
	return 0;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	unsigned char seen[CF_NKEYS] = { 0 };
	struct config *cfg;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	cfg = xcalloc(1, sizeof(*cfg));
	cf_init(cfg, path);
	if (cf_parse_file(cfg, fp, seen, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < CF_NKEYS; i++) {
		if (cf_keys[i].required && !seen[i]) {
			snprintf(err, errlen, "%s: required key '%s' is "
			    "missing", path, cf_keys[i].name);
			goto fail;
		}
	}
	if (cf_load_lists(cfg, err, errlen) < 0)
		goto fail;
	if (cfg->db_max_mb < cfg->db_size_mb) {
		snprintf(err, errlen, "%s: DatabaseMaxSize (%ld) is smaller "
		    "than DatabaseSize (%ld)", path, cfg->db_max_mb,
		    cfg->db_size_mb);
		goto fail;
	}
	fclose(fp);
	return cfg;
fail:
	fclose(fp);
	config_free(cfg);
	return NULL;
}

struct config *
config_ref(struct config *cfg)
{
	pthread_mutex_lock(&cf_lock);
	cfg->refs++;
	pthread_mutex_unlock(&cf_lock);
	return cfg;
}

void
config_unref(struct config *cfg)
{
	int last;

	if (cfg == NULL)
		return;
	pthread_mutex_lock(&cf_lock);
	last = --cfg->refs == 0;
	pthread_mutex_unlock(&cf_lock);
	if (last)
		config_free(cfg);
}

struct config *
config_current(void)
{
	struct config *cfg;

	pthread_mutex_lock(&cf_lock);
	cfg = cf_current;
	if (cfg != NULL)
		cfg->refs++;
	pthread_mutex_unlock(&cf_lock);
	return cfg;
}

void
config_swap(struct config *cfg)
{
	struct config *old;

	pthread_mutex_lock(&cf_lock);
	old = cf_current;
	cf_current = cfg;
	pthread_mutex_unlock(&cf_lock);
	config_unref(old);
}

const char *config_path(const struct config *c) { return c->path; }
const char *config_socket(const struct config *c) { return c->socket; }
const char *config_database(const struct config *c) { return c->database; }
const char *config_evidence_log(const struct config *c)
{ return c->evidence_log; }
int config_evidence_sync(const struct config *c)
{ return (int)c->evidence_sync; }
const char *config_abuse_contact(const struct config *c)
{ return c->abuse_contact; }
const char *config_pid_file(const struct config *c) { return c->pid_file; }
const char *config_user(const struct config *c) { return c->user; }
int config_umask(const struct config *c) { return (int)c->umask; }
int config_syslog(const struct config *c) { return (int)c->syslog; }
int config_log_level(const struct config *c) { return (int)c->log_level; }
int config_milter_timeout(const struct config *c)
{ return (int)c->milter_timeout; }
const char *config_nameserver(const struct config *c)
{ return c->nameserver; }
int config_dns_timeout(const struct config *c)
{ return (int)c->dns_timeout; }
int config_dns_tries(const struct config *c) { return (int)c->dns_tries; }
int config_dns_budget(const struct config *c) { return (int)c->dns_budget; }
size_t config_dns_cache_size(const struct config *c)
{ return (size_t)c->dns_cache_size; }

size_t
config_database_size(const struct config *c)
{
	return (size_t)c->db_size_mb << 20;
}

size_t
config_database_max_size(const struct config *c)
{
	return (size_t)c->db_max_mb << 20;
}

enum fail_mode
config_evidence_failure(const struct config *c)
{
	return (enum fail_mode)c->evidence_failure;
}

enum fail_mode
config_database_failure(const struct config *c)
{
	return (enum fail_mode)c->database_failure;
}

enum db_sync
config_database_sync(const struct config *c)
{
	return (enum db_sync)c->database_sync;
}

enum db_sync
config_quota_sync(const struct config *c)
{
	return (enum db_sync)c->quota_sync;
}

int
config_quota_sync_interval(const struct config *c)
{
	return (int)c->quota_sync_interval;
}

enum fail_mode
config_dns_failure(const struct config *c)
{
	return (enum fail_mode)c->dns_failure;
}

enum rule_action
config_rule_action(const struct config *c, enum rule_id id)
{
	if ((unsigned)id >= RULE_NRULES)
		return ACTION_REJECT;
	return c->actions[id];
}

static int
domlist_match(const struct domlist *l, const char *name)
{
	char buf[256];
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(buf))
		return 0;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	if (buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		const char *e = l->v[i];
		size_t el = strlen(e);

		if (e[0] != '.') {
			if (strcmp(e, buf) == 0)
				return 1;
		} else if (n > el && strcmp(buf + n - el, e) == 0)
			return 1;
	}
	return 0;
}

int
config_is_local_domain(const struct config *c, const char *d)
{
	return domlist_match(&c->local_domains, d);
}

int
config_is_operator_domain(const struct config *c, const char *d)
{
	return domlist_match(&c->operator_domains, d);
}

int
config_is_relay_hostname(const struct config *c, const char *h)
{
	return domlist_match(&c->relay_hostnames, h);
}

const struct addrnorm_rules *
config_address_rules(const struct config *c)
{
	return c->address_rules;
}

const char *
config_feedback_header(const struct config *c)
{
	if (c->feedback_header == NULL ||
	    strcasecmp(c->feedback_header, "none") == 0)
		return NULL;
	return c->feedback_header;
}

size_t config_header_max_bytes(const struct config *c)
{ return (size_t)c->header_max_bytes; }
size_t config_header_max_addresses(const struct config *c)
{ return (size_t)c->header_max_addresses; }
size_t config_dkim_max_signatures(const struct config *c)
{ return (size_t)c->dkim_max_signatures; }
