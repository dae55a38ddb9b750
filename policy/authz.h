/*
 * authz - is a domain one of the attributed customer's domains?
 *
 * One place for the question the return-address and header rules both
 * ask, so they cannot disagree. Domains are compared in ASCII (A-label)
 * form, the one customers' domains are stored in.
 * Threads: per-session. Errors: -1 (a database failure, logged).
 */
#ifndef AUP_AUTHZ_H
#define AUP_AUTHZ_H

struct session;

/*
 * 1 if domain is authorized for the session's customer, 0 if not, -1 on
 * a database error. *exact is 1 when the domain is listed itself rather
 * than through a parent added with --subdomains (OperatorDomains need
 * an exact listing).
 */
int	authz_domain(struct session *s, const char *domain, int *exact);

#endif
