# tap.sh - minimal TAP producer for bash test scripts (sourced)
# shellcheck shell=bash
#
# Output is TAP version 12 as read by prove(1) / TAP::Harness. Results go to
# standard output; diagnostics go to standard error prefixed "# ".
#
#   plan N                 print the plan "1..N" (at most once, before or
#                          after the tests; done_testing prints it if absent)
#   ok STATUS DESC         STATUS is a shell exit status: 0 passes, anything
#                          else fails.  Typical: [ -s f ]; ok $? "f not empty"
#                          Returns 0 on pass, 1 on fail (so "ok ... || diag").
#   pass DESC / fail DESC  unconditional result
#   is GOT EXPECTED DESC   string equality; shows both on failure
#   isnt GOT UNEXPECTED DESC
#   like GOT REGEX DESC    bash ERE match ([[ GOT =~ REGEX ]])
#   unlike GOT REGEX DESC
#   skip REASON [COUNT]    record COUNT (default 1) skipped tests
#   diag MSG...            to stderr, one line per argument, prefixed "# "
#   note MSG...            to stdout, one line per argument, prefixed "# "
#   skip_all REASON        "1..0 # SKIP REASON" and exit 0 (before any test)
#   bail REASON            "Bail out! REASON" and exit 255
#   done_testing           print the plan if none was printed, then exit:
#                          0 if all passed and the count matches the plan,
#                          else the number of failures (max 254) or 255.
#
# Globals (read-only for callers): TAP_COUNT, TAP_FAILED, TAP_PLANNED.
# Safe under "set -u".  Does not set -e: a failed assertion never aborts.

TAP_COUNT=0
TAP_FAILED=0
TAP_PLANNED=

plan() {
	if [ -n "$TAP_PLANNED" ]; then
		bail "plan called twice"
	fi
	TAP_PLANNED=$1
	printf '1..%s\n' "$1"
}

diag() {
	# stderr, so prove shows it even without -v; one line per argument
	printf "%s\n" "$@" | sed 's/^/# /' >&2
}

note() {
	printf "%s\n" "$@" | sed 's/^/# /'
}

# _tap_desc DESC: TAP descriptions must not start with a digit or contain '#'
_tap_desc() {
	local d=${1:-}
	d=${d//#/\\#}
	d=${d//$'\n'/ }
	printf '%s' "$d"
}

# _tap_where: "file line N" of the first caller outside tap.sh
_tap_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		case ${BASH_SOURCE[$i]} in
		*/tap.sh | tap.sh) ;;
		*)
			printf '%s line %s' "${BASH_SOURCE[$i]}" "${BASH_LINENO[$((i - 1))]}"
			return
			;;
		esac
	done
}

ok() {
	local status=${1:-1} desc
	desc=$(_tap_desc "${2:-}")
	TAP_COUNT=$((TAP_COUNT + 1))
	if [ "$status" = 0 ]; then
		printf 'ok %d - %s\n' "$TAP_COUNT" "$desc"
		return 0
	fi
	TAP_FAILED=$((TAP_FAILED + 1))
	printf 'not ok %d - %s\n' "$TAP_COUNT" "$desc"
	diag "  Failed test '${2:-}'" "  at $(_tap_where)"
	return 1
}

pass() { ok 0 "${1:-}"; }
fail() { ok 1 "${1:-}"; }

is() {
	local got=$1 exp=$2 desc=${3:-}
	if [ "$got" = "$exp" ]; then
		ok 0 "$desc"
		return 0
	fi
	ok 1 "$desc"
	diag "         got: '$got'" "    expected: '$exp'"
	return 1
}

isnt() {
	local got=$1 exp=$2 desc=${3:-}
	if [ "$got" != "$exp" ]; then
		ok 0 "$desc"
		return 0
	fi
	ok 1 "$desc"
	diag "         got: '$got'" "    expected: anything else"
	return 1
}

like() {
	local got=$1 re=$2 desc=${3:-}
	if [[ $got =~ $re ]]; then
		ok 0 "$desc"
		return 0
	fi
	ok 1 "$desc"
	diag "                  '$got'" "    doesn't match '$re'"
	return 1
}

unlike() {
	local got=$1 re=$2 desc=${3:-}
	if ! [[ $got =~ $re ]]; then
		ok 0 "$desc"
		return 0
	fi
	ok 1 "$desc"
	diag "                  '$got'" "          matches '$re'"
	return 1
}

skip() {
	local why n=${2:-1} i
	why=$(_tap_desc "${1:-}")
	for ((i = 0; i < n; i++)); do
		TAP_COUNT=$((TAP_COUNT + 1))
		printf 'ok %d # skip %s\n' "$TAP_COUNT" "$why"
	done
}

skip_all() {
	printf '1..0 # SKIP %s\n' "$(_tap_desc "${1:-}")"
	TAP_PLANNED=0
	exit 0
}

bail() {
	printf 'Bail out! %s\n' "$(_tap_desc "${1:-}")"
	exit 255
}

done_testing() {
	if [ -z "$TAP_PLANNED" ]; then
		TAP_PLANNED=$TAP_COUNT
		printf '1..%d\n' "$TAP_COUNT"
	fi
	if [ "$TAP_PLANNED" != "$TAP_COUNT" ]; then
		diag "Looks like you planned $TAP_PLANNED tests but ran $TAP_COUNT."
		exit 255
	fi
	if [ "$TAP_FAILED" -gt 0 ]; then
		diag "Looks like you failed $TAP_FAILED test(s) of $TAP_COUNT."
		[ "$TAP_FAILED" -gt 254 ] && exit 254
		exit "$TAP_FAILED"
	fi
	exit 0
}
