/*
 * fuzz_config - the configuration file parser of policy/config.h
 *
 * The input is written to the scratch file (fuzz.h) and loaded with
 * config_load. A refusal must leave a terminated reason; an accepted
 * snapshot is read through its accessors and released, so a leak on
 * either path shows under LeakSanitizer. Properties break with abort().
 * Ownership: the snapshot is released here. Threads: single.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "rules.h"

static void
fz_read(const struct config *cfg)
{
	size_t sum = 0;

	/* Every string the snapshot owns must be a readable C string. */
	sum += strlen(config_path(cfg)) + strlen(config_socket(cfg));
	sum += strlen(config_database(cfg)) + strlen(config_evidence_log(cfg));
	sum += strlen(config_abuse_contact(cfg));
	if (config_pid_file(cfg) != NULL)
		sum += strlen(config_pid_file(cfg));
	if (config_user(cfg) != NULL)
		sum += strlen(config_user(cfg));
	if (config_nameserver(cfg) != NULL)
		sum += strlen(config_nameserver(cfg));
	if (config_database_max_size(cfg) < config_database_size(cfg))
		abort();
	for (int id = 0; id < RULE_NRULES; id++)
		sum += (size_t)config_rule_action(cfg, (enum rule_id)id);
	sum += (size_t)config_is_local_domain(cfg, "example.net");
	sum += (size_t)config_is_operator_domain(cfg, "a.b.example.net.");
	sum += (size_t)config_is_relay_hostname(cfg, "relay.example.net");
	sum += (size_t)config_is_local_domain(cfg, "");
	(void)sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;
	char err[512];

	memset(err, 0xa5, sizeof(err));
	cfg = config_load(fuzz_file(data, size), err, sizeof(err));
	if (cfg == NULL) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return 0;
	}
	fz_read(cfg);
	config_unref(cfg);
	return 0;
}
