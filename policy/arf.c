/*
 * arf - RFC 5965 feedback report parser (see arf.h)
 *
 * The input is copied once with CRLF turned into LF; every later step
 * works on views of that copy. Header blocks (of the report, of each MIME
 * part, of the feedback fields and of the original) go through one
 * reader, arf_hdrs_parse(), strict for what the report itself says
 * (a line that is not a field is an error naming the line) and lenient
 * for the original message, which is the complained-about mail and may be
 * anything. Only the top-level multipart is split: the original's own
 * MIME structure is never entered, only its header.
 *
 * Ownership: every string in struct arf_report is malloc()ed and freed
 * by arf_report_free(); scratch is freed before return.
 * Threads: reentrant. Errors: -1 with a sentence in err.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arf.h"
#include "base64.h"
#include "errbuf.h"
#include "strbuf.h"
#include "xalloc.h"

#define ARF_FIELDS_MAX	1000	/* fields in one header block */
#define ARF_PARTS_MAX	64	/* parts of the report */

struct arf_field {
	char	*name;
	char	*value;		/* unfolded, trimmed, cut at ARF_FIELD_MAX */
};

struct arf_hdrs {
	struct arf_field *v;
	size_t		  n;
};

/* ---- header blocks ---------------------------------------------------- */

static void
arf_hdrs_free(struct arf_hdrs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

/* Trim white space of s[0..n) and keep at most ARF_FIELD_MAX bytes. */
static char *
arf_value(const char *s, size_t n)
{
	char *v, *w;

	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	v = xstrndup(s, n > ARF_FIELD_MAX ? ARF_FIELD_MAX : n);
	for (w = v; *w != '\0'; w++)	/* unfold: a line end is a space */
		if (*w == '\n')
			*w = ' ';
	return v;
}

/* 1 if s[0..n) is a field name (RFC 5322 ftext, WSP before ':' allowed). */
static int
arf_field_name(const char *s, size_t *n)
{
	size_t len = *n;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126)
			return 0;
	*n = len;
	return 1;
}

/*
 * Read the header block at p[0..len) into h. *body is set to the offset
 * just after the blank line (len if there is none). strict: a line that is
 * not a field or a continuation is an error naming what and the line.
 */
static int
arf_hdrs_parse(const char *p, size_t len, int strict, const char *what,
    struct arf_hdrs *h, size_t *body, char *err, size_t errlen)
{
	size_t off = 0, start = 0, vend = 0, nlen;
	long line = 0;
	const char *nl, *colon;
	int open = 0;	/* a field is being read, from start */

	*body = len;
	while (off < len) {
		nl = memchr(p + off, '\n', len - off);
		size_t e = nl != NULL ? (size_t)(nl - p) : len;

		line++;
		if (e == off) {			/* blank line: end */
			*body = nl != NULL ? e + 1 : len;
			break;
		}
		if (p[off] == ' ' || p[off] == '\t') {
			if (!open && strict)
				return errbuf_set(err, errlen, "%s, line %ld: "
				    "continuation line before any field",
				    what, line);
			vend = e;
		} else {
			if (open) {
				h->v[h->n - 1].value = arf_value(p + start,
				    vend - start);
				open = 0;
			}
			colon = memchr(p + off, ':', e - off);
			nlen = colon != NULL ? (size_t)(colon - p) - off : 0;
			if (colon == NULL || !arf_field_name(p + off, &nlen)) {
				if (strict)
					return errbuf_set(err, errlen, "%s, "
					    "line %ld: not a header field: "
					    "'%.40s'", what, line, p + off);
			} else if (h->n >= ARF_FIELDS_MAX) {
				return errbuf_set(err, errlen, "%s: more "
				    "than %d header fields", what,
				    ARF_FIELDS_MAX);
			} else {
				h->v = xrealloc(h->v, (h->n + 1) *
				    sizeof(*h->v));
				h->v[h->n].name = xstrndup(p + off, nlen);
				h->v[h->n].value = NULL;
				h->n++;
				start = (size_t)(colon - p) + 1;
				vend = e;
				open = 1;
			}
		}
		off = nl != NULL ? e + 1 : len;
	}
	if (open)
		h->v[h->n - 1].value = arf_value(p + start, vend - start);
	return 0;
}

static const char *
arf_get(const struct arf_hdrs *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			return h->v[i].value;
	return NULL;
}

static void
arf_keep(char **slot, const char *v)
{
	if (*slot == NULL && v != NULL)
		*slot = xstrdup(v);
}

/* Keep v without one pair of angle brackets. */
static void
arf_keep_addr(char **slot, const char *v)
{
	size_t n;

	if (*slot != NULL || v == NULL)
		return;
	n = strlen(v);
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>')
		*slot = xstrndup(v + 1, n - 2);
	else
		*slot = xstrdup(v);
}

/* ---- Content-Type ----------------------------------------------------- */

/* "type/subtype" of a Content-Type value, lower case, into out. */
static void
arf_ctype(const char *v, char *out, size_t outlen)
{
	size_t n = 0;

	if (v == NULL)
		v = "text/plain";
	while (isspace((unsigned char)*v))
		v++;
	while (*v != '\0' && *v != ';' && !isspace((unsigned char)*v) &&
	    n + 1 < outlen)
		out[n++] = (char)tolower((unsigned char)*v++);
	out[n] = '\0';
}

/* Parameter name of a Content-Type value (quoted or not): 1 found. */
static int
arf_param(const char *v, const char *name, struct strbuf *out)
{
	size_t nl = strlen(name);
	const char *p;

	strbuf_reset(out);
	if (v == NULL || (p = strchr(v, ';')) == NULL)
		return 0;
	while (p != NULL && *p != '\0') {
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (strncasecmp(p, name, nl) == 0) {
			const char *q = p + nl;

			while (isspace((unsigned char)*q))
				q++;
			if (*q == '=') {
				q++;
				while (isspace((unsigned char)*q))
					q++;
				if (*q == '"') {
					for (q++; *q != '\0' && *q != '"'; q++)
						strbuf_addc(out, *q == '\\' &&
						    q[1] != '\0' ? *++q : *q);
				} else
					while (*q != '\0' && *q != ';' &&
					    !isspace((unsigned char)*q))
						strbuf_addc(out, *q++);
				return 1;
			}
		}
		p = strchr(p, ';');
	}
	return 0;
}

/* ---- transfer encodings ----------------------------------------------- */

static int
arf_base64(const char *p, size_t n, struct strbuf *out)
{
	unsigned acc = 0;
	int bits = 0, v;

	for (size_t i = 0; i < n; i++) {
		if (isspace((unsigned char)p[i]))
			continue;
		if (p[i] == '=')
			break;
		if ((v = base64_value((unsigned char)p[i])) < 0)
			return -1;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			strbuf_addc(out, (char)(acc >> bits & 0xff));
		}
	}
	return 0;
}

static void
arf_qp(const char *p, size_t n, struct strbuf *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		const char *a, *b;

		if (p[i] != '=') {
			strbuf_addc(out, p[i]);
			continue;
		}
		if (i + 1 < n && p[i + 1] == '\n') {	/* soft line break */
			i++;
			continue;
		}
		if (i + 2 < n && p[i + 1] != '\0' && p[i + 2] != '\0' &&
		    (a = strchr(hex, tolower((unsigned char)p[i + 1]))) &&
		    (b = strchr(hex, tolower((unsigned char)p[i + 2])))) {
			strbuf_addc(out, (char)((a - hex) << 4 | (b - hex)));
			i += 2;
		} else
			strbuf_addc(out, '=');
	}
}

/* CRLF to LF in place (decoded content has its own line ends). */
static void
arf_crlf(struct strbuf *sb)
{
	size_t w = 0;

	for (size_t i = 0; i < sb->len; i++)
		if (!(sb->s[i] == '\r' && i + 1 < sb->len &&
		    sb->s[i + 1] == '\n'))
			sb->s[w++] = sb->s[i];
	sb->len = w;
	sb->s[w] = '\0';
}

/* The decoded content of a part into out; -1 on bad base64. */
static int
arf_decode(const struct arf_hdrs *h, const char *p, size_t n,
    struct strbuf *out)
{
	const char *cte = arf_get(h, "Content-Transfer-Encoding");

	strbuf_reset(out);
	if (cte != NULL && strncasecmp(cte, "base64", 6) == 0) {
		if (arf_base64(p, n, out) < 0)
			return -1;
		arf_crlf(out);
	} else if (cte != NULL && strncasecmp(cte, "quoted-printable",
	    16) == 0) {
		arf_qp(p, n, out);
		arf_crlf(out);
	} else
		strbuf_add(out, p, n);
	return 0;
}

/* ---- parts ------------------------------------------------------------ */

struct arf_ctx {
	struct arf_report *r;
	const char	*token_header;
	int		 nfeedback;
	char		*err;
	size_t		 errlen;
};

static int
arf_feedback(struct arf_ctx *c, const char *p, size_t n)
{
	struct arf_report *r = c->r;
	struct arf_hdrs h = { NULL, 0 };
	size_t body;
	const char *v;

	if (++c->nfeedback > 1)
		return errbuf_set(c->err, c->errlen, "two message/feedback-"
		    "report parts");
	if (arf_hdrs_parse(p, n, 1, "feedback report", &h, &body, c->err,
	    c->errlen) < 0) {
		arf_hdrs_free(&h);
		return -1;
	}
	arf_keep(&r->feedback_type, arf_get(&h, "Feedback-Type"));
	arf_keep(&r->user_agent, arf_get(&h, "User-Agent"));
	arf_keep(&r->version, arf_get(&h, "Version"));
	arf_keep_addr(&r->original_mail_from,
	    arf_get(&h, "Original-Mail-From"));
	for (size_t i = 0; i < h.n; i++)
		if (strcasecmp(h.v[i].name, "Original-Rcpt-To") == 0) {
			r->nrcpt_to++;
			arf_keep_addr(&r->original_rcpt_to, h.v[i].value);
		}
	v = arf_get(&h, "Arrival-Date");
	arf_keep(&r->arrival_date, v != NULL ? v : arf_get(&h,
	    "Received-Date"));
	arf_keep(&r->source_ip, arf_get(&h, "Source-IP"));
	arf_keep(&r->reported_domain, arf_get(&h, "Reported-Domain"));
	arf_keep(&r->reporting_mta, arf_get(&h, "Reporting-MTA"));
	arf_keep(&r->incidents, arf_get(&h, "Incidents"));
	arf_hdrs_free(&h);
	return 0;
}

static void
arf_original(struct arf_ctx *c, const char *p, size_t n,
    enum arf_original kind)
{
	struct arf_report *r = c->r;
	struct arf_hdrs h = { NULL, 0 };
	size_t body;

	if (r->original != ARF_ORIG_NONE)
		return;		/* the first original wins */
	r->original = kind;
	(void)arf_hdrs_parse(p, n, 0, "original", &h, &body, NULL, 0);
	arf_keep(&r->message_id, arf_get(&h, "Message-ID"));
	arf_keep(&r->orig_from, arf_get(&h, "From"));
	arf_keep(&r->orig_to, arf_get(&h, "To"));
	arf_keep(&r->orig_subject, arf_get(&h, "Subject"));
	arf_keep(&r->orig_date, arf_get(&h, "Date"));
	/* The last one: the MTA added ours after any the client sent. */
	if (c->token_header != NULL)
		for (size_t i = h.n; i-- > 0;)
			if (strcasecmp(h.v[i].name, c->token_header) == 0) {
				arf_keep(&r->token, h.v[i].value);
				break;
			}
	arf_hdrs_free(&h);
}

/* One MIME part p[0..n) of the report, number idx (1-based). */
static int
arf_part(struct arf_ctx *c, const char *p, size_t n, int idx)
{
	struct arf_hdrs h = { NULL, 0 };
	struct strbuf dec = STRBUF_INIT;
	char what[32], type[128];
	size_t body;
	int rc = 0;

	snprintf(what, sizeof(what), "part %d", idx);
	strbuf_init(&dec, n + 1);
	if (arf_hdrs_parse(p, n, 1, what, &h, &body, c->err, c->errlen) < 0) {
		rc = -1;
		goto out;
	}
	arf_ctype(arf_get(&h, "Content-Type"), type, sizeof(type));
	if (arf_decode(&h, p + body, n - body, &dec) < 0) {
		rc = errbuf_set(c->err, c->errlen, "%s (%s): bad base64 "
		    "content", what, type);
		goto out;
	}
	if (strcmp(type, "message/feedback-report") == 0)
		rc = arf_feedback(c, dec.s, dec.len);
	else if (strcmp(type, "message/rfc822") == 0 ||
	    strcmp(type, "message/global") == 0)
		arf_original(c, dec.s, dec.len, ARF_ORIG_MESSAGE);
	else if (strcmp(type, "text/rfc822-headers") == 0 ||
	    strcmp(type, "message/global-headers") == 0)
		arf_original(c, dec.s, dec.len, ARF_ORIG_HEADERS);
out:
	arf_hdrs_free(&h);
	strbuf_free(&dec);
	return rc;
}

/*
 * Is the line at p[0..n) the delimiter "--B" (2) or the closing "--B--"
 * (3), with optional trailing white space? 0 if neither.
 */
static int
arf_delim(const char *p, size_t n, const char *b, size_t blen)
{
	size_t i;

	if (n < blen + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, blen) != 0)
		return 0;
	i = blen + 2;
	int close = n >= i + 2 && p[i] == '-' && p[i + 1] == '-';

	for (i += close ? 2 : 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return close ? 3 : 2;
}

/* Split the multipart body p[0..n) on boundary b and read each part. */
static int
arf_split(struct arf_ctx *c, const char *p, size_t n, const char *b)
{
	size_t blen = strlen(b), off = 0, start = 0, e;
	const char *nl;
	int kind, nparts = 0, in = 0;

	while (off < n) {
		nl = memchr(p + off, '\n', n - off);
		e = nl != NULL ? (size_t)(nl - p) : n;
		kind = arf_delim(p + off, e - off, b, blen);
		if (kind != 0) {
			/* The line end before a delimiter belongs to it. */
			if (in && arf_part(c, p + start, off > start ?
			    off - 1 - start : 0, nparts) < 0)
				return -1;
			if (kind == 3)
				return in || nparts > 0 ? 0 :
				    errbuf_set(c->err, c->errlen, "the "
				    "multipart/report has no parts");
			if (++nparts > ARF_PARTS_MAX)
				return errbuf_set(c->err, c->errlen, "more "
				    "than %d parts", ARF_PARTS_MAX);
			in = 1;
			start = nl != NULL ? e + 1 : n;
		}
		off = nl != NULL ? e + 1 : n;
	}
	if (nparts == 0)
		return errbuf_set(c->err, c->errlen, "no part begins with the "
		    "boundary \"--%s\"", b);
	return errbuf_set(c->err, c->errlen, "report truncated: the closing "
	    "boundary \"--%s--\" never comes (part %d is cut)", b, nparts);
}

/* ---- the report ------------------------------------------------------- */

/* A copy of data with CRLF as LF and a leading mbox "From " line cut. */
static char *
arf_unix(const char *data, size_t len, size_t *outlen)
{
	char *buf = xmalloc(len + 1);
	size_t n = 0, i = 0;

	if (len >= 5 && memcmp(data, "From ", 5) == 0) {
		const char *nl = memchr(data, '\n', len);

		i = nl != NULL ? (size_t)(nl - data) + 1 : len;
	}
	for (; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		buf[n++] = data[i];
	}
	buf[n] = '\0';
	*outlen = n;
	return buf;
}

static int
arf_check_feedback(const struct arf_report *r, char *err, size_t errlen)
{
	if (r->feedback_type == NULL || r->feedback_type[0] == '\0')
		return errbuf_set(err, errlen, "the feedback report has no "
		    "Feedback-Type field");
	if (r->version == NULL)
		return errbuf_set(err, errlen, "the feedback report has no "
		    "Version field");
	if (strcmp(r->version, "1") != 0 && strcmp(r->version, "0.1") != 0)
		return errbuf_set(err, errlen, "the feedback report is "
		    "Version %.40s; this reads version 1", r->version);
	for (char *p = r->feedback_type; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* The top-level header said what it is; is that a feedback report? */
static int
arf_check_type(const char *ct, const char *type, struct strbuf *tmp,
    char *err, size_t errlen)
{
	if (ct == NULL)
		return errbuf_set(err, errlen, "not an ARF report: no "
		    "Content-Type header (want multipart/report)");
	if (strcmp(type, "multipart/report") != 0)
		return errbuf_set(err, errlen, "not an ARF report: Content-"
		    "Type is %.60s, not multipart/report", type);
	if (!arf_param(ct, "report-type", tmp))
		return errbuf_set(err, errlen, "multipart/report without a "
		    "report-type parameter (want feedback-report)");
	if (strcasecmp(tmp->s, "feedback-report") != 0)
		return errbuf_set(err, errlen, "report-type is '%.60s', not "
		    "'feedback-report' (not an ARF report)", tmp->s);
	if (!arf_param(ct, "boundary", tmp) || tmp->len == 0)
		return errbuf_set(err, errlen, "multipart/report without a "
		    "boundary parameter");
	if (tmp->len > 70)
		return errbuf_set(err, errlen, "boundary longer than 70 "
		    "characters (RFC 2046)");
	return 0;
}

int
arf_parse(const char *data, size_t len, const char *token_header,
    struct arf_report *r, char *err, size_t errlen)
{
	struct arf_ctx c = { r, token_header, 0, err, errlen };
	struct arf_hdrs h = { NULL, 0 };
	struct strbuf tmp = STRBUF_INIT;
	char *buf, type[128];
	size_t n, body;
	const char *ct;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (len == 0)
		return errbuf_set(err, errlen, "empty report");
	if (len > ARF_MAX_BYTES)
		return errbuf_set(err, errlen, "report larger than %d bytes",
		    ARF_MAX_BYTES);
	buf = arf_unix(data, len, &n);
	strbuf_init(&tmp, 128);
	if (arf_hdrs_parse(buf, n, 1, "report header", &h, &body, err,
	    errlen) < 0)
		goto out;
	ct = arf_get(&h, "Content-Type");
	arf_ctype(ct, type, sizeof(type));
	if (arf_check_type(ct, type, &tmp, err, errlen) < 0)
		goto out;
	if (body >= n) {
		errbuf_set(err, errlen, "report truncated: no body after the "
		    "header");
		goto out;
	}
	if (arf_split(&c, buf + body, n - body, tmp.s) < 0)
		goto out;
	if (c.nfeedback == 0) {
		errbuf_set(err, errlen, "no message/feedback-report part: "
		    "not an ARF report");
		goto out;
	}
	if (arf_check_feedback(r, err, errlen) < 0)
		goto out;
	if (r->arrival_date != NULL &&
	    arf_parse_date(r->arrival_date, &r->arrival_ms) < 0)
		r->arrival_ms = 0;
	rc = 0;
out:
	arf_hdrs_free(&h);
	strbuf_free(&tmp);
	free(buf);
	return rc;
}

void
arf_report_free(struct arf_report *r)
{
	char **s[] = { &r->feedback_type, &r->user_agent, &r->version,
	    &r->original_mail_from, &r->original_rcpt_to, &r->arrival_date,
	    &r->source_ip, &r->reported_domain, &r->reporting_mta,
	    &r->incidents, &r->message_id, &r->token, &r->orig_from,
	    &r->orig_to, &r->orig_subject, &r->orig_date };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
}

/* ---- dates ------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
arf_days(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static int
arf_num(const char **s, int min, int max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)**s))
		return -1;
	v = strtol(*s, &end, 10);
	if (end - *s < min || end - *s > max)
		return -1;
	*s = end;
	*out = v;
	return 0;
}

/* A zone: +hhmm / -hhmm, or an obsolete name; seconds east of UTC. */
static int
arf_zone(const char *s, long *east)
{
	static const struct { const char *n; int h; } zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	long v;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '+' || *s == '-') {
		int neg = *s == '-';

		s++;
		if (arf_num(&s, 4, 4, &v) < 0 || v % 100 > 59)
			return -1;
		*east = (neg ? -1 : 1) * ((v / 100) * 3600 + (v % 100) * 60);
		return 0;
	}
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		size_t n = strlen(zones[i].n);

		if (strncasecmp(s, zones[i].n, n) == 0 &&
		    !isalpha((unsigned char)s[n])) {
			*east = zones[i].h * 3600L;
			return 0;
		}
	}
	*east = 0;	/* RFC 5322 4.3: other zones are -0000 */
	return isalpha((unsigned char)*s) ? 0 : -1;
}

int
arf_parse_date(const char *s, int64_t *ms)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	long day, year, hh, mm, ss = 0, east;
	const char *m;
	unsigned mon;

	while (isspace((unsigned char)*s))
		s++;
	if (isalpha((unsigned char)*s)) {	/* day of week */
		while (isalpha((unsigned char)*s))
			s++;
		if (*s++ != ',')
			return -1;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (arf_num(&s, 1, 2, &day) < 0 || !isspace((unsigned char)*s))
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (strlen(s) < 3)
		return -1;
	{
		char mn[4] = { (char)tolower((unsigned char)s[0]),
		    (char)tolower((unsigned char)s[1]),
		    (char)tolower((unsigned char)s[2]), '\0' };

		if ((m = strstr(months, mn)) == NULL || (m - months) % 3 != 0)
			return -1;
		mon = (unsigned)((m - months) / 3 + 1);
	}
	s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (arf_num(&s, 2, 4, &year) < 0)
		return -1;
	if (year < 100)
		year += year < 50 ? 2000 : 1900;
	while (isspace((unsigned char)*s))
		s++;
	if (arf_num(&s, 1, 2, &hh) < 0 || *s++ != ':' ||
	    arf_num(&s, 2, 2, &mm) < 0)
		return -1;
	if (*s == ':' && (s++, arf_num(&s, 2, 2, &ss) < 0))
		return -1;
	if (arf_zone(s, &east) < 0 || day < 1 || day > 31 || hh > 23 ||
	    mm > 59 || ss > 60 || year < 1970 || year > 9999)
		return -1;
	*ms = ((arf_days(year, mon, (unsigned)day) * 86400 + hh * 3600 +
	    mm * 60 + ss) - east) * 1000;
	return 0;
}
