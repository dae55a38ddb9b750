/*
 * aup-milter - outbound acceptable-use policy milter (daemon entry point)
 *
 * Startup: parse the config (exit 78 EX_CONFIG with FILE:LINE: reason on
 * any problem; -n stops there), open the milter socket, drop privileges,
 * open the database and the evidence log, detach unless -f, then run
 * libmilter. libmilter owns SIGHUP, SIGTERM and SIGINT (stop); SIGUSR1 is
 * ours: a housekeeping thread reloads the config and reopens the evidence
 * log on it, and clears stale LMDB readers once a minute.
 * Errors: startup failures exit with a sysexits code and one clear line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "config.h"
#include "db.h"
#include "engine.h"
#include "evidence.h"
#include "log.h"
#include "privdrop.h"
#include "qstore.h"

#define AUP_VERSION		"0.1.0"
#define AUP_DEFAULT_CONFIG	"/etc/aup-milter/aup-milter.conf"
#define AUP_HOUSEKEEPING_SECS	60
#define AUP_EVIDENCE_HOLD_MS	10	/* see evidence_hold() */

static struct db *main_db;
static struct evidence *main_ev;
static struct qstore *main_qs;	/* the quota counters */

static void
main_usage(FILE *fp)
{
	fprintf(fp, "usage: aup-milter [-f] [-n] [-c FILE]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -f       stay in the foreground, log to stderr too\n"
	    "  -n       check the configuration and exit (0 good, 78 bad)\n"
	    "  -V       print the version\n", AUP_DEFAULT_CONFIG);
}

/* Keys that need a restart: warn when a reload tries to change them. */
static void
main_check_fixed(const struct config *old, const struct config *new)
{
	if (strcmp(config_socket(old), config_socket(new)) != 0)
		log_msg(LOG_WARNING, NULL, "reload: Socket changes need a "
		    "restart; still serving %s", config_socket(old));
	if (strcmp(config_database(old), config_database(new)) != 0)
		log_msg(LOG_WARNING, NULL, "reload: Database changes need a "
		    "restart; still using %s", config_database(old));
	if (config_quota_sync(old) != config_quota_sync(new) ||
	    config_quota_sync_interval(old) !=
	    config_quota_sync_interval(new))
		log_msg(LOG_WARNING, NULL, "reload: QuotaSync and "
		    "QuotaSyncInterval changes need a restart (with aupctl "
		    "idle: every writer must use one mode)");
	if (strcmp(config_evidence_log(old), config_evidence_log(new)) != 0)
		log_msg(LOG_WARNING, NULL, "reload: EvidenceLog changes need "
		    "a restart; still writing %s", config_evidence_log(old));
}

static void
main_reload(const char *path)
{
	struct config *cfg, *old;
	char err[1024];

	if ((cfg = config_load(path, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERR, NULL, "reload refused, keeping the running "
		    "configuration: %s", err);
	} else {
		old = config_current();
		main_check_fixed(old, cfg);
		config_unref(old);
		if (db_set_sync(main_db, config_database_sync(cfg), err,
		    sizeof(err)) < 0)	/* the old mode stays */
			log_msg(LOG_ERR, NULL, "reload: DatabaseSync: %s", err);
		config_swap(cfg);
		log_msg(LOG_INFO, NULL, "configuration reloaded from %s", path);
	}
	if (evidence_reopen(main_ev, err, sizeof(err)) < 0)
		log_msg(LOG_ERR, NULL, "evidence log reopen: %s", err);
}

static void *
main_housekeeping(void *arg)
{
	const char *path = arg;
	struct timespec ts = { AUP_HOUSEKEEPING_SECS, 0 };
	sigset_t set;
	int sig, n;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGUSR1)
			main_reload(path);
		else if (sig < 0 && errno == EAGAIN &&
		    (n = db_maintain(main_db)) > 0)
			log_msg(LOG_WARNING, NULL, "cleared %d stale database "
			    "reader slot(s) of dead processes", n);
	}
	return NULL;
}

static int
main_drop_privileges(const char *user)
{
	char err[512];

	if (privdrop(user, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, NULL, "%s", err);
		return -1;
	}
	return 0;
}

static int
main_write_pid(const char *path)
{
	FILE *fp;

	if (path == NULL)
		return 0;
	if ((fp = fopen(path, "w")) == NULL) {
		log_msg(LOG_ERR, NULL, "PidFile %s: %s", path,
		    strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	return fclose(fp) == 0 ? 0 : -1;
}

/*
 * Go to the background before opening any state: LMDB environments must
 * not cross a fork(2), and threads (the counters' flusher, the evidence
 * keeper) do not. The parent waits for the child's word on a pipe
 * (main_ready) and exits with it, so whoever started the daemon still
 * learns whether it came up. *ready gets the child's end.
 */
static int
main_detach(int *ready)
{
	unsigned char status;
	int p[2], fd;
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		while ((n = read(p[0], &status, 1)) < 0 && errno == EINTR)
			continue;
		_exit(n == 1 ? status : EX_OSERR);	/* none: it died */
	}
	close(p[0]);
	*ready = p[1];
	if (setsid() < 0)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* The child's startup status to the waiting parent (EX_OK: serving). */
static void
main_ready(int *ready, int status)
{
	unsigned char b = (unsigned char)status;

	if (*ready < 0)
		return;
	while (write(*ready, &b, 1) < 0 && errno == EINTR)
		continue;
	close(*ready);
	*ready = -1;
}

static int
main_open_state(const struct config *cfg)
{
	char err[1024];

	main_db = db_open(config_database(cfg), config_database_size(cfg),
	    config_database_max_size(cfg), 0, err, sizeof(err));
	if (main_db == NULL) {
		log_msg(LOG_ERR, NULL, "%s", err);
		return EX_CANTCREAT;
	}
	if (db_set_sync(main_db, config_database_sync(cfg), err,
	    sizeof(err)) < 0) {
		log_msg(LOG_ERR, NULL, "%s", err);
		return EX_CANTCREAT;
	}
	main_qs = qstore_open(config_database(cfg), config_quota_sync(cfg),
	    config_quota_sync_interval(cfg), config_database_size(cfg),
	    config_database_max_size(cfg), 0, err, sizeof(err));
	if (main_qs == NULL) {
		log_msg(LOG_ERR, NULL, "%s", err);
		return EX_CANTCREAT;
	}
	main_ev = evidence_open(config_evidence_log(cfg),
	    config_evidence_sync(cfg), err, sizeof(err));
	if (main_ev == NULL) {
		log_msg(LOG_ERR, NULL, "%s", err);
		return EX_CANTCREAT;
	}
	return 0;
}

static int
main_serve(struct config *cfg, const char *path, int foreground)
{
	struct smfiDesc desc;
	struct engine *eng;
	pthread_t hk;
	sigset_t set;
	char err[512];
	int rc, ready = -1;

	callbacks_describe(&desc);
	umask((mode_t)config_umask(cfg));
	if (smfi_setconn((char *)config_socket(cfg)) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_settimeout(config_milter_timeout(cfg)) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		log_msg(LOG_ERR, NULL, "cannot listen on %s (in use, or no "
		    "permission?)", config_socket(cfg));
		return EX_UNAVAILABLE;
	}
	if (main_drop_privileges(config_user(cfg)) < 0)
		return EX_NOPERM;
	if (!foreground && main_detach(&ready) < 0)
		return EX_OSERR;
	/*
	 * Block the signals before any thread exists (the counters' flusher
	 * starts in main_open_state): SIGUSR1 is taken by our housekeeping
	 * thread, the stop signals by libmilter's sigwait thread. A thread
	 * with SIGTERM unblocked would let it kill the process before
	 * libmilter could stop cleanly.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((rc = main_open_state(cfg)) != 0) {
		main_ready(&ready, rc);
		return rc;
	}
	evidence_hold(main_ev, AUP_EVIDENCE_HOLD_MS);
	if (main_write_pid(config_pid_file(cfg)) < 0) {
		main_ready(&ready, EX_CANTCREAT);
		return EX_CANTCREAT;
	}
	eng = engine_new(main_db, qstore_db(main_qs), main_ev);
	callbacks_set_engine(eng);
	pthread_create(&hk, NULL, main_housekeeping, (void *)path);
	pthread_detach(hk);
	log_msg(LOG_INFO, NULL, "aup-milter %s listening on %s", AUP_VERSION,
	    config_socket(cfg));
	main_ready(&ready, EX_OK);
	rc = smfi_main() == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
	log_msg(LOG_INFO, NULL, "stopping");
	/* Not closed: a libmilter thread may still be finishing a session. */
	if (qstore_flush(main_qs, err, sizeof(err)) < 0)
		log_msg(LOG_ERR, NULL, "%s", err);
	evidence_hold(main_ev, 0);	/* the head file up to date */
	if (config_pid_file(cfg) != NULL)
		unlink(config_pid_file(cfg));
	return rc;
}

int
main(int argc, char **argv)
{
	const char *path = AUP_DEFAULT_CONFIG;
	int foreground = 0, check = 0, opt, rc;
	struct config *cfg;
	char err[1024];

	while ((opt = getopt(argc, argv, "c:fnVh")) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check = 1; break;
		case 'V': printf("aup-milter %s\n", AUP_VERSION); return EX_OK;
		case 'h': main_usage(stdout); return EX_OK;
		default: main_usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return EX_USAGE;
	}
	if ((cfg = config_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "aup-milter: %s\n", err);
		return EX_CONFIG;
	}
	if (check) {
		printf("aup-milter: %s: configuration OK\n", path);
		config_unref(cfg);
		return EX_OK;
	}
	log_open("aup-milter", (config_syslog(cfg) ? LOG_TO_SYSLOG : 0) |
	    (foreground ? LOG_TO_STDERR : 0), config_log_level(cfg));
	config_swap(config_ref(cfg));
	rc = main_serve(cfg, path, foreground);
	config_unref(cfg);
	return rc;
}
