/*
 * config - the aup-milter.conf file as an immutable, refcounted snapshot
 *
 * Format: "Key value" lines, '#' starts a comment, blank lines ignored,
 * keys case-insensitive. Every key is described by one declarative table in
 * config.c (name, type, default, bounds); unknown keys, bad values, values
 * out of range and missing required keys are errors reported as
 * "FILE:LINE: reason". Relative paths are taken relative to the directory
 * of the config file, so the checkout's etc/aup-milter.conf works from any
 * working directory.
 *
 * A loaded snapshot never changes. The daemon keeps a current pointer
 * (config_current / config_swap); each transaction holds a reference from
 * MAIL to its end, so a reload (SIGUSR1) never changes the rules under a
 * running transaction. Threads: config_current/config_swap/config_ref/
 * config_unref are safe; accessors of a held snapshot are safe.
 */
#ifndef AUP_CONFIG_H
#define AUP_CONFIG_H

#include <stddef.h>

#include "db.h"
#include "rules.h"

struct addrnorm_rules;
struct config;

enum fail_mode {
	FAIL_TEMPFAIL,	/* fail closed: 4xx, the client retries */
	FAIL_ACCEPT	/* fail open: accept and record */
};

/* Parse path; NULL with err = "path:line: reason" on any problem. */
struct config *config_load(const char *path, char *err, size_t errlen);
struct config *config_ref(struct config *cfg);
void	config_unref(struct config *cfg);	/* NULL is a no-op */

/* Process-wide current snapshot (a new reference) and its replacement. */
struct config *config_current(void);
void	config_swap(struct config *cfg);	/* takes over the reference */

const char *config_path(const struct config *cfg);
const char *config_socket(const struct config *cfg);
const char *config_database(const struct config *cfg);
size_t	config_database_size(const struct config *cfg);	/* bytes */
size_t	config_database_max_size(const struct config *cfg);	/* bytes */
const char *config_evidence_log(const struct config *cfg);
int	config_evidence_sync(const struct config *cfg);	/* seconds */
enum fail_mode config_evidence_failure(const struct config *cfg);
enum fail_mode config_database_failure(const struct config *cfg);
/* DatabaseSync: full (default) or meta; see db_set_sync() in db.h. */
enum db_sync config_database_sync(const struct config *cfg);
/* QuotaSync: full (default), meta or periodic; see qstore.h. */
enum db_sync config_quota_sync(const struct config *cfg);
int	config_quota_sync_interval(const struct config *cfg);	/* seconds */
enum fail_mode config_dns_failure(const struct config *cfg);
const char *config_abuse_contact(const struct config *cfg);
const char *config_pid_file(const struct config *cfg);	/* NULL: none */
const char *config_user(const struct config *cfg);	/* NULL: stay */
int	config_umask(const struct config *cfg);
int	config_syslog(const struct config *cfg);
int	config_log_level(const struct config *cfg);	/* syslog LOG_* */
int	config_milter_timeout(const struct config *cfg);	/* seconds */
const char *config_nameserver(const struct config *cfg);	/* NULL */
int	config_dns_timeout(const struct config *cfg);	/* s per try */
int	config_dns_tries(const struct config *cfg);
int	config_dns_budget(const struct config *cfg);	/* s per txn */
size_t	config_dns_cache_size(const struct config *cfg);	/* entries */
enum rule_action config_rule_action(const struct config *cfg,
	    enum rule_id id);

/*
 * Domain lists (LocalDomains, OperatorDomains, RelayHostnames): 1 if name
 * (case-insensitive, trailing dot ignored) is listed or is a subdomain of
 * an entry written with a leading dot (".example.com").
 */
int	config_is_local_domain(const struct config *cfg, const char *domain);
int	config_is_operator_domain(const struct config *cfg, const char *domain);
int	config_is_relay_hostname(const struct config *cfg, const char *host);

/*
 * The address normalisation rules of the AddressRules list file, loaded
 * with the config (NULL: none, every local part is exact). Owned by cfg.
 */
const struct addrnorm_rules *config_address_rules(const struct config *cfg);
/* FeedbackHeader: the token header's name, or NULL for "none". */
const char *config_feedback_header(const struct config *cfg);
/*
 * Bounds of the header checks (rule_header.c): header bytes examined per
 * message (HeaderMaxBytes), addresses per address header
 * (HeaderMaxAddresses), DKIM signatures verified per message
 * (DKIMMaxSignatures; 0 verifies none).
 */
size_t	config_header_max_bytes(const struct config *cfg);
size_t	config_header_max_addresses(const struct config *cfg);
size_t	config_dkim_max_signatures(const struct config *cfg);

#endif
