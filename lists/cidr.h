/*
 * cidr - IPv4/IPv6 addresses and networks
 *
 * A struct cidr is a small public value: an address family, 16 address bytes
 * (IPv4 uses the first 4) and a prefix length. An address is a network whose
 * prefix length is the full width. IPv4-mapped IPv6 addresses
 * (::ffff:192.0.2.1) are folded to IPv4 on parse, because Postfix reports
 * an IPv4 client on a dual-stack socket in either form.
 * Threads: pure functions, safe. Errors: -1 with a reason in err.
 */
#ifndef AUP_CIDR_H
#define AUP_CIDR_H

#include <stddef.h>
#include <stdint.h>

#define CIDR_V4	4
#define CIDR_V6	6

struct cidr {
	int	family;		/* CIDR_V4 or CIDR_V6 */
	uint8_t	addr[16];	/* network byte order; host bits are zero */
	int	plen;		/* 0..32 or 0..128 */
};

/*
 * Parse "192.0.2.0/24", "2001:db8::/32" or a bare address (full prefix).
 * Host bits set beyond the prefix ("192.0.2.1/24") are an error, as in
 * Postfix cidr tables: the admin almost certainly meant something else.
 * Returns 0, or -1 with err set ("bad prefix length '33' for IPv4").
 */
int	cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen);

/* Parse a bare address (no "/"); 0 or -1. */
int	cidr_parse_addr(const char *s, struct cidr *out);

/* Build an address from a sockaddr (AF_INET/AF_INET6); 0 or -1. */
struct sockaddr;
int	cidr_from_sockaddr(const struct sockaddr *sa, struct cidr *out);

/* 1 if addr (a full-length address) lies inside net, else 0. */
int	cidr_contains(const struct cidr *net, const struct cidr *addr);

/* Copy addr into out with the host bits beyond plen cleared. */
void	cidr_mask(const struct cidr *addr, int plen, struct cidr *out);

/* "192.0.2.0/24", or the bare address when plen is full. */
void	cidr_format(const struct cidr *c, char *buf, size_t len);

/* Bytes of address for the family: 4 or 16. */
int	cidr_addr_len(const struct cidr *c);

#endif
