/*
 * tap - the project's small TAP producer for unit tests
 *
 * Output follows TAP version 12 so prove(1) reads it. Not thread-safe: call
 * from the test's main thread. tap_done() returns the exit status.
 */
#ifndef AUP_TAP_H
#define AUP_TAP_H

void	plan(int n);
void	plan_no_plan(void);
void	skip_all(const char *why);
void	bail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	is_int(long long got, long long want, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	is_str(const char *got, const char *want, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prints the trailing plan when plan_no_plan() was used; exit status. */
int	tap_done(void);

#endif
