/*
 * sha256 - unit tests: SHA-256 of FIPS 180-2 examples, HMAC-SHA-256 of
 * the RFC 4231 test cases (one-shot and with a prepared key), and the
 * prepared key against the one-shot form for every key length around
 * the 64-byte block
 */
#include <stdio.h>
#include <string.h>

#include "sha256.h"
#include "tap.h"

struct hmac_case {
	const char	*name;
	const char	*key;		/* hex */
	const char	*data;		/* hex */
	const char	*want;		/* hex; may be a prefix (case 5) */
};

static const struct hmac_case hmac_cases[] = {
	{ "RFC 4231 case 1",
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	  "4869205468657265",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "RFC 4231 case 2",
	  "4a656665",
	  "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "RFC 4231 case 3",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	  "dddddddddddddddddddddddddddddddddddd",
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "RFC 4231 case 4",
	  "0102030405060708090a0b0c0d0e0f10111213141516171819",
	  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "RFC 4231 case 5 (truncated to 128 bits)",
	  "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
	  "546573742057697468205472756e636174696f6e",
	  "a3b6167473100ee06e0c796c2955552b" },
	{ "RFC 4231 case 6 (131-byte key)",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaa",
	  "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
	  "65204b6579202d2048617368204b6579204669727374",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "RFC 4231 case 7 (131-byte key, long data)",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaa",
	  "5468697320697320612074657374207573696e672061206c6172676572207468"
	  "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
	  "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
	  "647320746f20626520686173686564206265666f7265206265696e6720757365"
	  "642062792074686520484d414320616c676f726974686d2e",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

static size_t
unhex(const char *h, unsigned char *out)
{
	size_t n = 0;

	for (; h[0] != '\0' && h[1] != '\0'; h += 2) {
		unsigned v;

		sscanf(h, "%2x", &v);
		out[n++] = (unsigned char)v;
	}
	return n;
}

static void
tohex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static void
test_digest(void)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855", "sha256 of empty");
	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad", "sha256 of abc");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1", "sha256 of two blocks");
}

static void
test_hmac(void)
{
	for (size_t i = 0; i < sizeof(hmac_cases) / sizeof(*hmac_cases);
	    i++) {
		const struct hmac_case *c = &hmac_cases[i];
		unsigned char key[256], data[256], mac[32];
		struct sha256_hmac_key *k;
		size_t klen = unhex(c->key, key), dlen = unhex(c->data, data);
		size_t wlen = strlen(c->want) / 2;
		char got[65];

		sha256_hmac(key, klen, data, dlen, mac);
		tohex(mac, wlen, got);
		is_str(got, c->want, "%s: sha256_hmac", c->name);
		k = sha256_hmac_key_new(key, klen);
		memset(mac, 0, sizeof(mac));
		sha256_hmac_keyed(k, data, dlen, mac);
		tohex(mac, wlen, got);
		is_str(got, c->want, "%s: prepared key", c->name);
		/* a prepared key is reusable: a second MAC gives the same */
		memset(mac, 0, sizeof(mac));
		sha256_hmac_keyed(k, data, dlen, mac);
		tohex(mac, wlen, got);
		is_str(got, c->want, "%s: prepared key, again", c->name);
		sha256_hmac_key_free(k);
	}
	sha256_hmac_key_free(NULL);
}

/* Every key length 0..130 and data length 0..130: both forms agree. */
static void
test_hmac_agree(void)
{
	unsigned char key[131], data[131], a[32], b[32];
	int bad = 0;

	for (size_t i = 0; i < sizeof(key); i++) {
		key[i] = (unsigned char)(i * 7 + 1);
		data[i] = (unsigned char)(i * 13 + 5);
	}
	for (size_t kl = 0; kl <= sizeof(key); kl += 1) {
		struct sha256_hmac_key *k = sha256_hmac_key_new(key, kl);

		for (size_t dl = 0; dl <= sizeof(data); dl += 5) {
			sha256_hmac(key, kl, data, dl, a);
			sha256_hmac_keyed(k, data, dl, b);
			if (memcmp(a, b, sizeof(a)) != 0 && bad++ == 0)
				diag("differ at key %zu data %zu", kl, dl);
		}
		sha256_hmac_key_free(k);
	}
	ok(bad == 0, "prepared key agrees with one-shot HMAC for key "
	    "lengths 0..131");
}

int
main(void)
{
	plan_no_plan();
	test_digest();
	test_hmac();
	test_hmac_agree();
	return tap_done();
}
