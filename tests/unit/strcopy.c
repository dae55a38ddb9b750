/*
 * strcopy - unit tests: every buffer size against snprintf's result
 */
#include <stdio.h>
#include <string.h>

#include "strcopy.h"
#include "tap.h"

int
main(void)
{
	static const char *const srcs[] = { "", "a", "ref0123456789", "c17" };
	char want[32], got[32];
	int bad = 0, bad2 = 0;

	plan_no_plan();
	for (size_t i = 0; i < sizeof(srcs) / sizeof(*srcs); i++)
		for (size_t len = 1; len <= 16; len++) {
			memset(got, 'x', sizeof(got));
			snprintf(want, len, "%s", srcs[i]);
			if (strcopy(got, len, srcs[i]) != strlen(want) ||
			    strcmp(got, want) != 0 || got[len] != 'x')
				bad++;
			for (size_t j = 0; j < sizeof(srcs) / sizeof(*srcs);
			    j++) {
				memset(got, 'x', sizeof(got));
				snprintf(want, len, "%s:%s", srcs[i], srcs[j]);
				if (strcopy2(got, len, srcs[i], ':', srcs[j]) !=
				    strlen(want) || strcmp(got, want) != 0 ||
				    got[len] != 'x')
					bad2++;
				snprintf(want, len, "%s%s", srcs[i], srcs[j]);
				if (strcopy2(got, len, srcs[i], '\0',
				    srcs[j]) != strlen(want) ||
				    strcmp(got, want) != 0)
					bad2++;
			}
		}
	ok(bad == 0, "strcopy is snprintf(\"%%s\") for sizes 1..16");
	ok(bad2 == 0, "strcopy2 is snprintf(\"%%s:%%s\") for sizes 1..16");
	is_int((long long)strcopy(got, 0, "abc"), 0, "strcopy into nothing");
	return tap_done();
}
