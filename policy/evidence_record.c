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
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "evidence.h"
#include "json.h"
#include "strbuf.h"

/*
 * Random bytes for references, from getrandom(2) a pool at a time (one
 * system call per 32 references, not one each). The pool is the
 * thread's; a fork's child must not hand out its parent's bytes again,
 * so a fork makes every pool stale (ref_forks).
 */
#define REF_POOL	(32 * EVIDENCE_REF_LEN / 2)

static atomic_uint ref_forks;
static pthread_once_t ref_once = PTHREAD_ONCE_INIT;

static void
ref_forked(void)
{
	atomic_fetch_add(&ref_forks, 1);
}

static void
ref_init(void)
{
	(void)pthread_atfork(NULL, NULL, ref_forked);
}

/* n random bytes into out: 0, or -1 if the kernel gives none. */
static int
ref_random(unsigned char *out, size_t n)
{
	static _Thread_local unsigned char pool[REF_POOL];
	static _Thread_local size_t left;
	static _Thread_local unsigned gen;
	size_t got = 0;
	ssize_t r;

	pthread_once(&ref_once, ref_init);
	if (gen != atomic_load(&ref_forks)) {
		gen = atomic_load(&ref_forks);
		left = 0;
	}
	if (left < n) {
		while (got < sizeof(pool)) {
			r = getrandom(pool + got, sizeof(pool) - got, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			got += (size_t)r;
		}
		left = sizeof(pool);
	}
	memcpy(out, pool + sizeof(pool) - left, n);
	explicit_bzero(pool + sizeof(pool) - left, n);	/* used once */
	left -= n;
	return 0;
}

void
evidence_new_ref(char ref[EVIDENCE_REF_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	static unsigned long fallback;
	unsigned char rnd[EVIDENCE_REF_LEN / 2];

	if (ref_random(rnd, sizeof(rnd)) < 0) {
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
