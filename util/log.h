/*
 * log - the one logging module
 *
 * Lines go to syslog (facility mail) and/or standard error. Each line starts
 * with the connection id and, once known, the queue id, so an admin can grep
 * one transaction: "c17 3F2A81C0D2: text". Priorities are syslog's LOG_*.
 * Threads: safe (syslog(3) and one fprintf per line).
 * Errors: logging never fails visibly.
 */
#ifndef AUP_LOG_H
#define AUP_LOG_H

#include <syslog.h>

#define LOG_TO_SYSLOG	0x1
#define LOG_TO_STDERR	0x2

/*
 * Set where lines go and the least important priority written (LOG_INFO
 * by default; LOG_DEBUG shows more). ident is borrowed for the process life.
 */
void	log_open(const char *ident, int sinks, int max_prio);
void	log_close(void);

/*
 * Write one line. id is "c17" or "c17 QUEUEID" or NULL for process-level
 * messages. Control characters in the result are replaced by '?', so text
 * taken from the network cannot forge log lines.
 */
void	log_msg(int prio, const char *id, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
