/*
 * evidence_search - find evidence records by ref, Message-ID, client IP,
 * recipient, customer and time (see evidence.h)
 *
 * Speed comes from not parsing what cannot match. The most selective
 * criterion (ref, then Message-ID, recipient, IP, customer) becomes a
 * needle in the form the writer put it in the file: the value passed
 * through json_str(), so a Message-ID with a quote or a control character
 * is found by its escaped bytes. The mapped file is scanned for the needle
 * with memchr(3) on the needle byte that is rarest in a sample of that
 * file (in both cases for the case-insensitive recipient), which runs at
 * memory speed, falling back to memmem(3) when every byte is common; only
 * the line around a hit is then read with json_field()/json_array_each()
 * and checked against every criterion. A time-only query compares the fixed-format ts prefix of each
 * line ({"ts":"2026-11-22T10:01:02.123Z") as a string, as ts is always the
 * first member; other lines fall back to parsing.
 *
 * Matching: values are compared in their decoded form, and the query goes
 * through the same escape-then-decode, so invalid UTF-8 in a query meets
 * the "\xNN" text the writer made of it. Message-IDs match with or without
 * their angle brackets; a ref matches the record's ref or an element of a
 * "refs" array (records citing evidence); an IP is compared in canonical
 * inet_ntop() form; recipients compare ASCII case-insensitively against
 * rcpts and the "rcpt" of each rejected_rcpts element.
 *
 * Ownership: everything is freed before return; lines handed to the
 * callback live in the mapping and are valid only during the call.
 * Threads: no shared state. Errors: -1 with err (a file cannot be read).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "evidence.h"
#include "json.h"
#include "strbuf.h"

/*
 * A needle and how to look for it in one file: memchr(3) on an anchor
 * byte of the needle that is rare in that file (both cases of a letter
 * when ci), then a compare; or memmem(3) when every byte is common.
 */
struct evs_finder {
	const char	*n;		/* lower-case when ci */
	size_t		 m;
	int		 ci;
	int		 by_memmem;	/* no rare byte in this file */
	size_t		 k;		/* anchor offset in the needle */
	int		 a1, a2;	/* anchor byte in both cases */
	const char	*x1, *x2;	/* next anchor hits, cached */
};

struct evs {
	const struct ev_query *q;
	struct strbuf	 ref, mid, ip, rcpt, cust;	/* decoded forms */
	struct strbuf	 needle;
	struct strbuf	 tmp;
	struct evs_finder f;
	int		 has_needle;
	char		 since[32], until[32];
};

/* ---- query preparation ------------------------------------------------ */

/* The decoded form of s as the writer would store it. */
static void
evs_norm(const char *s, size_t len, struct strbuf *out)
{
	struct strbuf esc = STRBUF_INIT;

	strbuf_init(&esc, len + 2);
	json_str(&esc, s, len);
	strbuf_reset(out);
	json_decode(esc.s, esc.len, out);
	strbuf_free(&esc);
}

/* Strip surrounding white space and one pair of angle brackets. */
static void
evs_unbracket(const char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
	if (*len >= 2 && (*s)[0] == '<' && (*s)[*len - 1] == '>') {
		(*s)++;
		*len -= 2;
	}
}

/* Canonical text of an IP address (brackets allowed), else as given. */
static void
evs_canon_ip(const char *s, size_t len, struct strbuf *out)
{
	unsigned char bin[16];
	char in[INET6_ADDRSTRLEN + 2], txt[INET6_ADDRSTRLEN];

	strbuf_reset(out);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len < sizeof(in)) {
		memcpy(in, s, len);
		in[len] = '\0';
		if (inet_pton(AF_INET6, in, bin) == 1 &&
		    inet_ntop(AF_INET6, bin, txt, sizeof(txt)) != NULL) {
			strbuf_adds(out, txt);
			return;
		}
	}
	strbuf_add(out, s, len);
}

static void
evs_finder_init(struct evs_finder *f, const char *n, size_t m, int ci)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	f->m = m;
	f->ci = ci;
}

/*
 * Choose the anchor for the file data[0..len): the needle byte that is
 * rarest in three 64 KB samples (start, middle, end). A needle whose
 * rarest byte is still frequent (over 1 in 64) goes to memmem instead,
 * unless ci, where the anchor is the only way.
 */
static void
evs_finder_plan(struct evs_finder *f, const char *data, size_t len)
{
	static const size_t chunk = 65536;
	size_t count[256] = { 0 }, sampled = 0, best = (size_t)-1, c;
	size_t offs[3] = { 0, len / 2, len > chunk ? len - chunk : 0 };

	for (int i = 0; i < 3; i++) {
		size_t n = len - offs[i] < chunk ? len - offs[i] : chunk;

		for (size_t j = 0; j < n; j++)
			count[(unsigned char)data[offs[i] + j]]++;
		sampled += n;
	}
	for (size_t i = 0; i < f->m; i++) {
		unsigned char b = (unsigned char)f->n[i];

		c = count[b];
		if (f->ci && tolower(b) != toupper(b))
			c = count[tolower(b)] + count[toupper(b)];
		if (c < best) {
			best = c;
			f->k = i;
		}
	}
	f->a1 = f->ci ? tolower((unsigned char)f->n[f->k]) :
	    (unsigned char)f->n[f->k];
	f->a2 = f->ci ? toupper((unsigned char)f->n[f->k]) : f->a1;
	f->by_memmem = !f->ci && best > sampled / 64;
	f->x1 = f->x2 = NULL;
}

/* ---- scanning --------------------------------------------------------- */

static int
evs_ci_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Next anchor byte c at or after a, not beyond last; end if none. */
static const char *
evs_next(const char *a, const char *last, const char *end, int c)
{
	const char *x = memchr(a, c, (size_t)(last - a) + 1);

	return x != NULL ? x : end;
}

static int
evs_eq(const struct evs_finder *f, const char *p)
{
	return f->ci ? evs_ci_eq(p, f->n, f->m) : memcmp(p, f->n, f->m) == 0;
}

/*
 * First needle occurrence in [h, end), or NULL. Within one file (after
 * evs_finder_plan), calls come with h increasing: anchor hits are cached.
 */
static const char *
evs_find(struct evs_finder *f, const char *h, const char *end)
{
	const char *a, *last;

	if ((size_t)(end - h) < f->m)
		return NULL;
	if (f->by_memmem)
		return memmem(h, (size_t)(end - h), f->n, f->m);
	last = end - (f->m - f->k);	/* last possible anchor position */
	for (a = h + f->k; a <= last; a++) {
		if (f->x1 == NULL || f->x1 < a)
			f->x1 = evs_next(a, last, end, f->a1);
		if (f->a2 == f->a1)
			f->x2 = f->x1;
		else if (f->x2 == NULL || f->x2 < a)
			f->x2 = evs_next(a, last, end, f->a2);
		a = f->x1 < f->x2 ? f->x1 : f->x2;
		if (a > last)
			return NULL;
		if (evs_eq(f, a - f->k))
			return a - f->k;
	}
	return NULL;
}

/* ts within [since, until]; the fast path compares the text. */
static int
evs_time_ok(struct evs *s, const char *line, size_t len)
{
	const struct ev_query *q = s->q;
	int64_t ms;

	if (len >= 32 && memcmp(line, "{\"ts\":\"", 7) == 0 &&
	    line[30] == 'Z' && line[31] == '"' && strlen(s->since) == 24 &&
	    strlen(s->until) == 24)
		return (q->since_ms == 0 || memcmp(line + 7, s->since, 24) >= 0)
		    && (q->until_ms == 0 || memcmp(line + 7, s->until, 24) <= 0);
	strbuf_reset(&s->tmp);
	if (json_field(line, len, "ts", &s->tmp) != 1 ||
	    evidence_parse_time(s->tmp.s, &ms) < 0)
		return 0;
	return (q->since_ms == 0 || ms >= q->since_ms) &&
	    (q->until_ms == 0 || ms <= q->until_ms);
}

/* 1 if member key of line decodes to want (exactly, or ci). */
static int
evs_field_is(struct evs *s, const char *line, size_t len, const char *key,
    const struct strbuf *want, int ci)
{
	strbuf_reset(&s->tmp);
	if (json_field(line, len, key, &s->tmp) != 1 || s->tmp.len != want->len)
		return 0;
	return ci ? evs_ci_eq(s->tmp.s, want->s, want->len) :
	    memcmp(s->tmp.s, want->s, want->len) == 0;
}

static int
evs_ci_cb(const char *v, size_t vlen, void *arg)
{
	const struct strbuf *want = arg;

	evs_unbracket(&v, &vlen);
	return vlen == want->len && evs_ci_eq(v, want->s, vlen);
}

static int
evs_rejected_cb(const char *v, size_t vlen, void *arg)
{
	struct strbuf sb = STRBUF_INIT;
	int hit;

	strbuf_init(&sb, 128);
	if (json_field(v, vlen, "rcpt", &sb) == 1)
		hit = evs_ci_cb(sb.s, sb.len, arg);
	else
		hit = evs_ci_cb(v, vlen, arg);
	strbuf_free(&sb);
	return hit;
}

/* An array element test that remembers whether it fired. */
struct evs_elem {
	int	(*cb)(const char *, size_t, void *);
	const struct strbuf *want;
	int	 hit;
};

static int
evs_elem_cb(const char *v, size_t vlen, void *arg)
{
	struct evs_elem *e = arg;

	e->hit = e->cb(v, vlen, (void *)e->want);
	return e->hit;
}

static int
evs_array_has(const char *line, size_t len, const char *key,
    int (*cb)(const char *, size_t, void *), const struct strbuf *want)
{
	struct evs_elem e = { cb, want, 0 };

	return json_array_each(line, len, key, evs_elem_cb, &e) == 1 && e.hit;
}

static int
evs_mid_is(struct evs *s, const char *line, size_t len)
{
	const char *v;
	size_t vlen;

	strbuf_reset(&s->tmp);
	if (json_field(line, len, "message_id", &s->tmp) != 1)
		return 0;
	v = s->tmp.s;
	vlen = s->tmp.len;
	evs_unbracket(&v, &vlen);
	return vlen == s->mid.len && memcmp(v, s->mid.s, vlen) == 0;
}

static int
evs_ip_is(struct evs *s, const char *line, size_t len)
{
	struct strbuf raw;
	int eq = 0;

	strbuf_init(&raw, 64);
	if (json_field(line, len, "client_addr", &raw) == 1) {
		evs_canon_ip(raw.s, raw.len, &s->tmp);
		eq = s->tmp.len == s->ip.len &&
		    memcmp(s->tmp.s, s->ip.s, s->ip.len) == 0;
	}
	strbuf_free(&raw);
	return eq;
}

/* Every criterion of the query holds for line. */
static int
evs_match(struct evs *s, const char *line, size_t len)
{
	const struct ev_query *q = s->q;

	if ((q->since_ms != 0 || q->until_ms != 0) &&
	    !evs_time_ok(s, line, len))
		return 0;
	if (q->ref != NULL && !evs_field_is(s, line, len, "ref", &s->ref, 1) &&
	    !evs_array_has(line, len, "refs", evs_ci_cb, &s->ref))
		return 0;
	if (q->message_id != NULL && !evs_mid_is(s, line, len))
		return 0;
	if (q->ip != NULL && !evs_ip_is(s, line, len))
		return 0;
	if (q->customer != NULL &&
	    !evs_field_is(s, line, len, "customer", &s->cust, 0))
		return 0;
	if (q->rcpt != NULL &&
	    !evs_array_has(line, len, "rcpts", evs_ci_cb, &s->rcpt) &&
	    !evs_array_has(line, len, "rejected_rcpts", evs_rejected_cb,
	    &s->rcpt))
		return 0;
	return 1;
}

/*
 * Hand every matching line of data[0..len) to fn. Returns matches; sets
 * *stop when fn asked to stop.
 */
static long
evs_scan(struct evs *s, const char *data, size_t len,
    int (*fn)(const char *, size_t, void *), void *arg, int *stop)
{
	const char *p = data, *end = data + len, *hit, *ls, *le;
	long n = 0;

	if (s->has_needle)
		evs_finder_plan(&s->f, data, len);
	while (p < end) {
		hit = p;
		if (s->has_needle && (hit = evs_find(&s->f, p, end)) == NULL)
			break;
		ls = hit > p ? memrchr(p, '\n', (size_t)(hit - p)) : NULL;
		ls = ls != NULL ? ls + 1 : p;
		if ((le = memchr(hit, '\n', (size_t)(end - hit))) == NULL)
			le = end;
		if (le > ls && evs_match(s, ls, (size_t)(le - ls))) {
			n++;
			if (fn(ls, (size_t)(le - ls), arg) != 0) {
				*stop = 1;
				break;
			}
		}
		p = le < end ? le + 1 : end;
	}
	return n;
}

/* ---- the query -------------------------------------------------------- */

/*
 * The escaped form of v, quoted or not, as the needle; lower-cased if
 * lower, and searched case-insensitively if ci.
 */
static void
evs_set_needle(struct evs *s, const char *v, size_t len, int quoted,
    int lower, int ci)
{
	struct strbuf esc = STRBUF_INIT;

	strbuf_init(&esc, len + 2);
	json_str(&esc, v, len);
	if (lower || ci)
		for (size_t i = 0; i < esc.len; i++)
			esc.s[i] = (char)tolower((unsigned char)esc.s[i]);
	strbuf_reset(&s->needle);
	if (quoted)
		strbuf_add(&s->needle, esc.s, esc.len);
	else
		strbuf_add(&s->needle, esc.s + 1, esc.len - 2);
	strbuf_free(&esc);
	s->has_needle = s->needle.len > 0;
	evs_finder_init(&s->f, s->needle.s, s->needle.len, ci);
}

/* Normalise the criteria; the needle is the first, most selective one. */
static void
evs_prepare(struct evs *s, const struct ev_query *q)
{
	const char *v;
	size_t len;

	memset(s, 0, sizeof(*s));
	s->q = q;
	strbuf_init(&s->tmp, 256);
	strbuf_init(&s->needle, 64);
	evidence_timestamp(q->since_ms, s->since, sizeof(s->since));
	evidence_timestamp(q->until_ms, s->until, sizeof(s->until));
	if (q->customer != NULL) {
		evs_norm(q->customer, strlen(q->customer), &s->cust);
		evs_set_needle(s, q->customer, strlen(q->customer), 1, 0, 0);
	}
	if (q->ip != NULL) {
		evs_canon_ip(q->ip, strlen(q->ip), &s->tmp);
		evs_norm(s->tmp.s, s->tmp.len, &s->ip);
		evs_set_needle(s, s->tmp.s, s->tmp.len, 1, 0, 0);
	}
	if (q->rcpt != NULL) {
		v = q->rcpt;
		len = strlen(v);
		evs_unbracket(&v, &len);
		evs_norm(v, len, &s->rcpt);
		evs_set_needle(s, v, len, 0, 1, 1);
	}
	if (q->message_id != NULL) {
		v = q->message_id;
		len = strlen(v);
		evs_unbracket(&v, &len);
		evs_norm(v, len, &s->mid);
		evs_set_needle(s, v, len, 0, 0, 0);
	}
	if (q->ref != NULL) {
		v = q->ref;
		len = strlen(v);
		evs_unbracket(&v, &len);
		evs_norm(v, len, &s->ref);
		/* Refs are written in lower case; the match itself is ci. */
		evs_set_needle(s, v, len, 0, 1, 0);
	}
}

static void
evs_free(struct evs *s)
{
	strbuf_free(&s->ref);
	strbuf_free(&s->mid);
	strbuf_free(&s->ip);
	strbuf_free(&s->rcpt);
	strbuf_free(&s->cust);
	strbuf_free(&s->needle);
	strbuf_free(&s->tmp);
}

long
evidence_search(const char *const *files, int nfiles,
    const struct ev_query *q,
    int (*fn)(const char *line, size_t len, void *arg), void *arg,
    char *err, size_t errlen)
{
	struct evs s;
	struct ev_map m;
	long total = 0;
	int stop = 0;

	evs_prepare(&s, q);
	for (int i = 0; i < nfiles && !stop; i++) {
		if (evidence_map(files[i], &m, err, errlen) < 0) {
			total = -1;
			break;
		}
		if (m.len > 0)
			total += evs_scan(&s, m.data, m.len, fn, arg, &stop);
		evidence_unmap(&m);
	}
	evs_free(&s);
	return total;
}
