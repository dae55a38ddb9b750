/*
 * evidence_record - evidence records under construction (see evidence.h)
 * and their references
 *
 * A record is the JSON text of one object without its closing members:
 * evidence_append() seals it with prev and hash. Keys are trusted
 * constants; values are escaped by the json module.
 * Ownership: a struct evrec owns its strbuf (evrec_free). Threads: a
 * struct evrec belongs to one thread; evidence_new_ref() from any.
 * Errors: none (allocation failure aborts).
 */
#include <errno.h>
#include <sys/random.h>
#include <unistd.h>

#include "evidence.h"
#include "json.h"
#include "strbuf.h"

void
evidence_new_ref(char ref[EVIDENCE_REF_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	static unsigned long fallback;
	unsigned char rnd[EVIDENCE_REF_LEN / 2];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(rnd)) {
		n = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(rnd)) {
		/* No kernel entropy call: unique, if guessable, refs. */
		unsigned long long v = (unsigned long long)evidence_now_ms() ^
		    ((unsigned long long)getpid() << 40) ^
		    __atomic_add_fetch(&fallback, 1, __ATOMIC_RELAXED);

		for (size_t i = 0; i < sizeof(rnd); i++, v >>= 8)
			rnd[i] = (unsigned char)v;
	}
	for (size_t i = 0; i < sizeof(rnd); i++) {
		ref[2 * i] = hex[rnd[i] >> 4];
		ref[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	ref[EVIDENCE_REF_LEN] = '\0';
}

/* A NULL ref gets a fresh one, so every record can be quoted. */
void
evrec_begin(struct evrec *r, const char *event, const char *ref)
{
	char ts[32], fresh[EVIDENCE_REF_LEN + 1];

	if (ref == NULL) {
		evidence_new_ref(fresh);
		ref = fresh;
	}
	evidence_timestamp(evidence_now_ms(), ts, sizeof(ts));
	strbuf_init(&r->sb, 1024);
	strbuf_adds(&r->sb, "{\"ts\":\"");
	strbuf_adds(&r->sb, ts);
	strbuf_adds(&r->sb, "\",\"ref\":");
	json_cstr(&r->sb, ref);
	strbuf_adds(&r->sb, ",\"event\":");
	json_cstr(&r->sb, event);
}

static void
evrec_key(struct evrec *r, const char *key)
{
	strbuf_addc(&r->sb, ',');
	json_cstr(&r->sb, key);
	strbuf_addc(&r->sb, ':');
}

void
evrec_str(struct evrec *r, const char *key, const char *val)
{
	evrec_key(r, key);
	json_cstr(&r->sb, val);
}

void
evrec_int(struct evrec *r, const char *key, long long val)
{
	evrec_key(r, key);
	strbuf_addf(&r->sb, "%lld", val);
}

void
evrec_raw(struct evrec *r, const char *key, const char *json)
{
	evrec_key(r, key);
	strbuf_adds(&r->sb, json != NULL ? json : "null");
}

void
evrec_free(struct evrec *r)
{
	strbuf_free(&r->sb);
}
