# lib.sh - end-to-end harness: a private Postfix on loopback (sourced by *.t)
# shellcheck shell=bash
#
# smtp client (swaks) -> private Postfix smtpd [-> milter] -> smtp-sink
# with a private Dovecot as the SASL service.  Everything listens on
# loopback only, on free ports picked at random; nothing reads or writes
# /etc/postfix/main.cf, the system queue or the system Dovecot, and Postfix
# never does DNS (smtp_dns_support_level=disabled, smtpd_peername_lookup=no).
# Needs root (the Postfix master must start as root) and: postfix (3.4+ for
# maillog_file), swaks, libio-socket-inet6-perl, dovecot-core, perl.
#
# Typical test:
#   . "$(dirname "$0")/lib.sh"      # also sources tap.sh
#   e2e_init; e2e_sink_start; e2e_sasl_start; e2e_add_user u@c.test pw
#   e2e_milter_start "Socket inet:$MILTER_PORT@127.0.0.1
#   ..."                            # optional
#   e2e_postfix_start "inet:127.0.0.1:$MILTER_PORT"   # or no argument
#   smtp_send --auth u@c.test:pw --from a@c.test --to x@y.test
#   like "$(smtp_data_reply)" '^250 ' "accepted"
#   qid=$(smtp_queue_id); wait_sink_qid "$qid"
#   is "$(sink_rcpts "$qid")" x@y.test "delivered"
#   done_testing                     # teardown runs from the EXIT trap
#
# Environment: E2E_STRICT=1 (bail, not skip, when root or a tool is
# missing: use in CI), E2E_KEEP=1 (keep E2E_DIR), TMPDIR (parent of
# E2E_DIR; must be world-searchable, short path), AUP_MILTER, AUPCTL,
# E2E_SINK_USER (default nobody), E2E_NO_IPV6=1 (IPv4 only, as when ::1
# is missing), and the E2E_MILTER_* / E2E_MAIN_CF_EXTRA knobs below.
#
# SETUP AND TEARDOWN
#   e2e_init
#       Skips the test (skip_all) when not root or a tool is missing; with
#       E2E_STRICT=1 it bails instead (use that in CI).  Creates E2E_DIR,
#       picks ports and installs an EXIT trap that calls e2e_teardown.
#       Sets: E2E_DIR, E2E_ROOT (repo root), E2E_HAVE_IPV6 (1|0),
#       SMTPD_PORT, SINK_PORT, MILTER_PORT, E2E_SPARE_PORT (free, unused).
#   e2e_teardown
#       Stops Postfix, the milter, Dovecot and the sink (only processes this
#       harness started, by pid), prints log tails if a test failed, and
#       removes E2E_DIR unless E2E_KEEP=1.  Runs on EXIT; a test may define
#       e2e_user_cleanup(), which is called first.
#
# SINK (smtp-sink on 127.0.0.1:$SINK_PORT, one dump file per transaction)
#   e2e_sink_start         start it; sets SINK_PID, SINK_DIR
#   sink_files [QID]       completed dump files, oldest first; with QID only
#                          those whose Postfix Received: header names QID
#   sink_count [QID]       number of completed transactions
#   sink_rcpts [QID]       envelope recipients, one per line, no <>, in the
#                          order the sink got them (qmgr sorts recipients,
#                          so not necessarily the client's order)
#   sink_rcpt_count [QID]  number of envelope recipients
#   sink_clear             delete completed dump files
#   wait_sink_count N [SECS=15]
#                          poll until sink_count >= N; 0, or 1 with a diag
#   wait_sink_qid QID [SECS=15]
#                          poll until a transaction of queue id QID is at the
#                          sink; 0, or 1 with a diag and the QID's log lines
#   A dump file holds X-Client-Addr (Postfix's address), X-Helo-Args,
#   X-Mail-Args, one X-Rcpt-Args per recipient, then the message with the
#   Received: header Postfix added (it shows the original client address).
#   A file is "completed" when smtp-sink no longer holds it open; the sink
#   closes it before it answers 250 to the final dot.
#
# SASL (private Dovecot, auth service only, passwd-file, PLAIN and LOGIN)
#   e2e_sasl_start         start it; sets DOVECOT_PID, E2E_SASL_SOCKET
#   e2e_add_user LOGIN PASSWORD
#                          add or replace a user (no ':' or newline in
#                          either); works while running (Dovecot re-reads
#                          the file).  Failed logins are not delayed or
#                          penalised (auth_failure_delay=0, no anvil penalty).
#
# POSTFIX (config dir $E2E_DIR/postfix/etc, queue $E2E_DIR/postfix/queue)
#   e2e_postfix_start [MILTER_SPEC]
#       Write main.cf/master.cf and start; returns when smtpd greets on
#       127.0.0.1 (and ::1).  MILTER_SPEC (inet:127.0.0.1:PORT, unix:/path)
#       sets smtpd_milters with milter_default_action=tempfail,
#       milter_protocol=6 and the aup-milter macro lists.  SASL is enabled
#       iff e2e_sasl_start ran.  Extra main.cf lines: $E2E_MAIN_CF_EXTRA.
#       Macro lists may be overridden with E2E_MILTER_{CONNECT,HELO,MAIL,
#       RCPT,DATA,EOH,EOM}_MACROS; milter timeouts with
#       E2E_MILTER_{CONNECT,COMMAND,CONTENT}_TIMEOUT (default 10s/10s/30s).
#       Sets POSTFIX_CONF_DIR, POSTFIX_QUEUE_DIR, E2E_MAILLOG.
#       Readiness is probed with an SMTP session (banner, QUIT), which a
#       configured milter sees as a connect/close with no transaction.
#       Settings that differ from a stock relay, on purpose:
#         relay_domains=static:ALL + smtpd_relay_restrictions=
#           reject_unauth_destination, smtpd_recipient_restrictions=permit
#           (relays everything; smtpd refuses to start with plain "permit")
#         relayhost=[127.0.0.1]:$SINK_PORT, smtp_dns_support_level=disabled,
#           smtpd_peername_lookup=no (client names are "unknown")
#         smtpd_recipient_limit=1000, default_destination_recipient_limit=
#           1000 (one sink transaction per message)
#         smtpd_error_sleep_time=0, smtpd_soft/hard_error_limit=1000 (many
#           refused RCPTs neither slow nor drop the session)
#         local_header_rewrite_clients= (loopback clients are treated as
#           remote: Postfix adds no Message-Id/Date, rewrites no address)
#         smtpd_sasl_authenticated_header=yes, maillog_file=$E2E_DIR/maillog
#       With milter_default_action=tempfail and the milter down, Postfix
#       still answers EHLO/HELO with 250, then AUTH with 454 4.3.0 and MAIL
#       FROM with 451 4.7.1 ("Service unavailable - try again later").
#   e2e_postfix_stop       stop and wait until the master has exited
#   e2e_postfix_restart [MILTER_SPEC]
#   e2e_postfix_reload     reload and wait until no pre-reload smtpd is left
#   e2e_postconf 'name = value'...
#                          edit main.cf and reload if running
#   e2e_queue_count        messages in the private queue
#   maillog_grep ERE       matching lines of Postfix's log
#   maillog_wait ERE [SECS=10]
#                          poll until a line matches; 0, or 1 with a diag
#   maillog_qid QID        the log lines of one queue id
#   postlogd writes the log asynchronously: maillog_wait for a line before
#   asserting on it.
#
# MILTER (${AUP_MILTER:-$E2E_ROOT/aup-milter}, ${AUPCTL:-$E2E_ROOT/aupctl})
#   e2e_milter_start CONFIG_TEXT
#       Write CONFIG_TEXT to $MILTER_CONF and run "$AUP_MILTER -f -c
#       $MILTER_CONF" (extra args: $E2E_MILTER_ARGS), output to $MILTER_LOG;
#       returns once its Socket (inet:PORT@HOST, inet6:PORT@HOST, unix:PATH,
#       local:PATH) accepts a connection; bails with the log tail if it
#       exits or is not ready within $E2E_MILTER_WAIT seconds (10).  The
#       probe connects and closes at once (libmilter sees a bare close).
#       Sets MILTER_PID, MILTER_CONF, MILTER_LOG, MILTER_SOCKET.
#   e2e_milter_stop        SIGTERM, wait (SIGKILL after 10 s); sets
#                          MILTER_EXIT to its exit status; returns 0
#   e2e_milter_kill [SIG]  signal it (default KILL) and reap it
#   e2e_milter_reload      SIGUSR1
#   aupctl_run ARGS...     "$AUPCTL" -c "$MILTER_CONF" ARGS...; passes
#                          stdout, stderr and exit status through
#
# SMTP CLIENT
#   smtp_send [options] [-- extra swaks options]
#       --from ADDR (default sender@customer.test)
#       --to LIST   comma-separated (default rcpt@example.net); 1000+ is fine
#       --auth LOGIN:PASSWORD   AUTH PLAIN (--auth-login for AUTH LOGIN)
#       --server ADDR (127.0.0.1 | ::1; default 127.0.0.1) --port N
#       --local-interface ADDR  source address, e.g. 127.0.0.2 or ::1
#       --helo NAME (default e2e-client.test)  --body TEXT
#       --header 'Name: value'  replace swaks's header of that name, or add
#                               it (repeatable); --add-header always adds
#                               (for duplicate-header tests)
#       swaks adds Date, To, From, Subject, Message-Id, X-Mailer; past 10
#       recipients To: is "undisclosed-recipients:;" unless --header sets it
#       --data FILE  send FILE verbatim as DATA (no swaks headers); write
#                    it with LF or CRLF line ends, without the final "."
#       --pipeline   use ESMTP PIPELINING
#       --log FILE   transcript file (default $E2E_DIR/smtp.N.log)
#       Sets SMTP_LOG (transcript) and SMTP_RC (swaks exit status: 0 ok,
#       23 MAIL refused, 24 every RCPT refused, 25 DATA refused, 26 final dot
#       refused, 28 AUTH failed, 21 banner, 6 connection lost, 2 connect).
#       Returns SMTP_RC.  swaks carries on after a refused RCPT and sends
#       DATA if one RCPT was accepted; if all are refused it sends QUIT.
#   Reply extractors (default: the last transcript, or LOG):
#       smtp_replies [LOG]       "VERB<TAB>reply" per reply, in order; VERB
#                                is CONNECT for the banner, DOT for the end
#                                of DATA, else the command word
#       smtp_banner_reply, smtp_ehlo_reply, smtp_auth_reply,
#       smtp_mail_reply, smtp_data_cmd_reply (reply to "DATA"),
#       smtp_data_reply (reply to the final dot)       [LOG] -> one line
#       smtp_rcpt_replies [LOG]  one line per RCPT, in the order sent
#       smtp_queue_id [LOG]      the id from "250 ... queued as ID"
#       A reply is one line: a multi-line reply's lines are joined with
#       " " after the first line's "NNN-" becomes "NNN " and the "NNN-"
#       / "NNN " prefix of later lines is dropped.  Empty if never sent.
#
# OTHER
#   e2e_log_tail FILE [N]    diag the last N (40) lines of FILE
#   e2e_wait_tcp HOST PORT [SECS]    0 once a TCP connect succeeds
#
# Ports come from 20000-32767 (below Linux's ephemeral range), checked free
# on 127.0.0.1 and ::1.  Only loopback addresses are ever used.

# shellcheck disable=SC2034,SC2119,SC2120  # globals are the interface; [LOG] args are optional

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_LIB_DIR/../.." && pwd)
# shellcheck source=tests/e2e/tap.sh
. "$E2E_LIB_DIR/tap.sh"
# The client side (smtp_send and the replies): smtp.sh; the private
# Dovecot that authenticates for Postfix: sasl.sh.
# shellcheck source=tests/e2e/smtp.sh
. "$E2E_LIB_DIR/smtp.sh"
# shellcheck source=tests/e2e/sasl.sh
. "$E2E_LIB_DIR/sasl.sh"

E2E_DIR=''
E2E_HAVE_IPV6=0
SMTPD_PORT=''
SINK_PORT=''
MILTER_PORT=''
E2E_SPARE_PORT=''
SINK_PID=''
SINK_DIR=''
DOVECOT_PID=''
E2E_SASL_SOCKET=''
POSTFIX_CONF_DIR=''
POSTFIX_QUEUE_DIR=''
E2E_MAILLOG=''
MILTER_PID=''
MILTER_CONF=''
MILTER_LOG=''
MILTER_SOCKET=''
MILTER_EXIT=''
SMTP_LOG=''
SMTP_RC=''
E2E_SMTP_SEQ=0
E2E_SINK_USER=${E2E_SINK_USER:-nobody}
AUP_MILTER=${AUP_MILTER:-$E2E_ROOT/aup-milter}
AUPCTL=${AUPCTL:-$E2E_ROOT/aupctl}

# ---------------------------------------------------------------- helpers

# _e2e_need_or_skip REASON: skip the test, or bail under E2E_STRICT=1
_e2e_need_or_skip() {
	if [ "${E2E_STRICT:-0}" = 1 ]; then
		bail "$1"
	fi
	skip_all "$1"
}

e2e_log_tail() {
	local f=$1 n=${2:-40}
	if [ -s "$f" ]; then
		diag "---- last $n lines of $f ----"
		diag "$(tail -n "$n" "$f")"
	else
		diag "---- $f: missing or empty ----"
	fi
}

# _e2e_bail REASON FILE...: show the tails of FILEs, then bail
_e2e_bail() {
	local why=$1 f
	shift
	for f in "$@"; do
		e2e_log_tail "$f" 30
	done
	E2E_TAILS_SHOWN=1
	bail "$why"
}

# _e2e_sleep: the poll interval (fractional sleep is GNU coreutils)
_e2e_sleep() { sleep 0.1; }

# _e2e_pick_ports N: print N distinct free TCP ports, one per line
_e2e_pick_ports() {
	perl -MIO::Socket::IP -e '
		my ($n, $v6) = @ARGV; my %seen; my @got;
		for (1 .. 2000) {
			last if @got == $n;
			my $p = 20000 + int(rand(12768));
			next if $seen{$p}++;
			my $ok = 1;
			for my $a ("127.0.0.1", $v6 ? ("::1") : ()) {
				my $s = IO::Socket::IP->new(LocalHost => $a,
				    LocalPort => $p, Listen => 1, ReuseAddr => 1);
				if (!$s) { $ok = 0; last }
				close $s;
			}
			push @got, $p if $ok;
		}
		die "no free ports\n" unless @got == $n;
		print "$_\n" for @got;' "$1" "$E2E_HAVE_IPV6"
}

# e2e_wait_tcp HOST PORT [SECS]: 0 once a TCP connection succeeds
e2e_wait_tcp() {
	perl -MIO::Socket::IP -MTime::HiRes=sleep,time -e '
		my ($h, $p, $t) = @ARGV; my $end = time + $t;
		while (time < $end) {
			my $s = IO::Socket::IP->new(PeerHost => $h, PeerPort => $p,
			    Timeout => 1);
			if ($s) { close $s; exit 0 }
			sleep 0.05;
		}
		exit 1;' "$1" "$2" "${3:-10}"
}

# _e2e_wait_unix PATH [SECS]: 0 once a unix-socket connection succeeds
_e2e_wait_unix() {
	perl -MIO::Socket::UNIX -MTime::HiRes=sleep,time -e '
		my ($path, $t) = @ARGV; my $end = time + $t;
		while (time < $end) {
			my $s = IO::Socket::UNIX->new(Peer => $path);
			if ($s) { close $s; exit 0 }
			sleep 0.05;
		}
		exit 1;' "$1" "${2:-10}"
}

# _e2e_wait_unix_pid PATH PID [SECS]: like _e2e_wait_unix, 1 early if PID dies
_e2e_wait_unix_pid() {
	local path=$1 pid=$2 secs=${3:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		_e2e_running "$pid" || return 1
		[ -S "$path" ] && _e2e_wait_unix "$path" 0.1 && return 0
		_e2e_sleep
	done
	return 1
}

# _e2e_wait_smtp HOST PORT [SECS]: 0 once the server sends a 220 greeting
_e2e_wait_smtp() {
	perl -MIO::Socket::IP -MTime::HiRes=sleep,time -e '
		my ($h, $p, $t) = @ARGV; my $end = time + $t;
		while (time < $end) {
			my $s = IO::Socket::IP->new(PeerHost => $h, PeerPort => $p,
			    Timeout => 2);
			if ($s) {
				# a throttled master accepts but never greets: time out
				my $l = eval {
					local $SIG{ALRM} = sub { die "timeout\n" };
					alarm 2; my $r = <$s>; alarm 0; $r;
				};
				if (defined $l && $l =~ /^220 /) {
					print $s "QUIT\r\n"; close $s; exit 0;
				}
				close $s;
			}
			sleep 0.1;
		}
		exit 1;' "$1" "$2" "${3:-10}"
}

# _e2e_pid_alive PID: the pid exists (a zombie child still does)
_e2e_pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# _e2e_running PID: the pid exists and is not a zombie
_e2e_running() {
	_e2e_pid_alive "${1:-}" || return 1
	case $(ps -o stat= -p "$1" 2>/dev/null) in Z*) return 1 ;; esac
	return 0
}

# _e2e_stop_pid PID [SECS=10]: TERM, wait, KILL; reap if it is our child
_e2e_stop_pid() {
	local pid=$1 secs=${2:-10} i
	_e2e_pid_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		_e2e_running "$pid" || break
		_e2e_sleep
	done
	_e2e_running "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- init

e2e_init() {
	local t ports d
	if [ "$(id -u)" != 0 ]; then
		_e2e_need_or_skip "needs root: a Postfix master must start as root"
	fi
	for t in postfix postconf postqueue smtp-sink swaks perl ps; do
		command -v "$t" >/dev/null 2>&1 ||
			_e2e_need_or_skip "$t not installed (see tests/e2e/lib.sh)"
	done
	id "$E2E_SINK_USER" >/dev/null 2>&1 ||
		_e2e_need_or_skip "user $E2E_SINK_USER missing (E2E_SINK_USER)"
	id postfix >/dev/null 2>&1 ||
		_e2e_need_or_skip "user postfix missing (install postfix)"

	E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/aup-e2e.XXXXXX") ||
		bail "mktemp -d under ${TMPDIR:-/tmp} failed"
	E2E_DIR=$(cd "$E2E_DIR" && pwd -P)
	trap e2e_teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	chmod 0755 "$E2E_DIR"
	# postfix and dovecot users must reach sockets and files in E2E_DIR
	d=$E2E_DIR
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		if [ -z "$(find "$d" -maxdepth 0 -perm -0001)" ]; then
			bail "$d is not world-searchable: set TMPDIR to e.g. /tmp"
		fi
	done
	# sockets live in E2E_DIR: sun_path holds 108 bytes
	if [ "${#E2E_DIR}" -gt 60 ]; then
		bail "E2E_DIR path too long for unix sockets: $E2E_DIR"
	fi

	if [ "${E2E_NO_IPV6:-0}" != 1 ] &&
		perl -MIO::Socket::IP -e 'IO::Socket::IP->new(LocalHost => "::1",
	    LocalPort => 0, Listen => 1) or exit 1' 2>/dev/null &&
		perl -MIO::Socket::INET6 -e 1 2>/dev/null; then
		E2E_HAVE_IPV6=1
	else
		E2E_HAVE_IPV6=0
	fi

	ports=$(_e2e_pick_ports 4) || bail "cannot find free loopback ports"
	# shellcheck disable=SC2086
	set -- $ports
	SMTPD_PORT=$1 SINK_PORT=$2 MILTER_PORT=$3 E2E_SPARE_PORT=$4
	note "E2E_DIR=$E2E_DIR smtpd=$SMTPD_PORT sink=$SINK_PORT milter=$MILTER_PORT ipv6=$E2E_HAVE_IPV6"
}

e2e_teardown() {
	local rc=$?
	trap - EXIT INT TERM
	if declare -F e2e_user_cleanup >/dev/null; then
		e2e_user_cleanup
	fi
	# the loopback DNS server of dns.sh, if the test started one
	if declare -F e2e_dns_stop >/dev/null; then
		e2e_dns_stop
	fi
	[ -n "$E2E_DIR" ] || return "$rc"
	# signal everything first, then wait: each takes about a second
	local pids='' p master=''
	master=$(_e2e_master_pid) &&
		postfix -c "$POSTFIX_CONF_DIR" stop >/dev/null 2>&1
	for p in "$MILTER_PID" "$DOVECOT_PID" "$SINK_PID"; do
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null && pids+="$p "
	done
	for p in $master $pids; do
		_e2e_stop_pid "$p" 10
	done
	MILTER_PID='' DOVECOT_PID='' SINK_PID=''
	if [ -z "${E2E_TAILS_SHOWN:-}" ] &&
		{ [ "$TAP_FAILED" -gt 0 ] || [ "$rc" != 0 ]; }; then
		for p in "$E2E_DIR/maillog" "$MILTER_LOG" "$E2E_DIR/dovecot.log" "$SMTP_LOG"; do
			[ -n "$p" ] && [ -s "$p" ] && e2e_log_tail "$p" 30
		done
	fi
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		diag "E2E_KEEP=1: kept $E2E_DIR"
	else
		rm -rf "$E2E_DIR"
	fi
	return "$rc"
}

# ---------------------------------------------------------------- sink

e2e_sink_start() {
	SINK_DIR=$E2E_DIR/sink
	mkdir -p "$SINK_DIR"
	chown "$E2E_SINK_USER" "$SINK_DIR"
	# -d: one file per transaction, named TEMPLATE + 8 hex digits; -u is
	# required as root; -h names the sink in its own Received: line.
	smtp-sink -u "$E2E_SINK_USER" -h sink.test -t 60 \
		-d "$SINK_DIR/%Y%m%d%H%M%S." \
		"127.0.0.1:$SINK_PORT" 256 >"$E2E_DIR/sink.log" 2>&1 &
	SINK_PID=$!
	if ! e2e_wait_tcp 127.0.0.1 "$SINK_PORT" 10; then
		_e2e_bail "smtp-sink did not start on 127.0.0.1:$SINK_PORT" \
			"$E2E_DIR/sink.log"
	fi
}

# sink_files [QID]: completed dump files, oldest first
sink_files() {
	local qid=${1:-} f open=" " fd
	[ -n "$SINK_DIR" ] || return 0
	if _e2e_pid_alive "$SINK_PID"; then
		for fd in /proc/"$SINK_PID"/fd/*; do
			open+="$(readlink "$fd" 2>/dev/null) "
		done
	fi
	# ls -tr: mtime order (the sink writes a file until its transaction ends)
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		f=$SINK_DIR/$f
		case $open in *" $f "*) continue ;; esac
		if [ -n "$qid" ] &&
			! grep -Eq "^[[:space:]]+by relay\.test \(Postfix\) with [A-Z]+ id $qid(;|\$)" "$f"; then
			continue
		fi
		printf '%s\n' "$f"
	done < <(ls -1tr "$SINK_DIR" 2>/dev/null)
}

sink_count() {
	sink_files "${1:-}" | wc -l
}

sink_rcpts() {
	local f
	sink_files "${1:-}" | while IFS= read -r f; do
		sed -n 's/^X-Rcpt-Args: *<\([^>]*\)>.*/\1/p' "$f"
	done
}

sink_rcpt_count() {
	sink_rcpts "${1:-}" | wc -l
}

sink_clear() {
	local f
	sink_files | while IFS= read -r f; do
		rm -f "$f"
	done
}

wait_sink_count() {
	local want=$1 secs=${2:-15} i n
	for ((i = 0; i < secs * 10; i++)); do
		n=$(sink_count)
		[ "$n" -ge "$want" ] && return 0
		_e2e_sleep
	done
	diag "wait_sink_count: $n transaction(s) at the sink after ${secs}s, wanted $want"
	[ -n "$POSTFIX_CONF_DIR" ] && diag "$(postqueue -c "$POSTFIX_CONF_DIR" -p 2>&1 | tail -n 20)"
	return 1
}

wait_sink_qid() {
	local qid=$1 secs=${2:-15} i
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(sink_count "$qid")" -ge 1 ] && return 0
		_e2e_sleep
	done
	diag "wait_sink_qid: nothing from queue id $qid at the sink after ${secs}s"
	[ -n "$E2E_MAILLOG" ] && diag "$(maillog_qid "$qid")"
	return 1
}

# ---------------------------------------------------------------- postfix

_e2e_postfix_write_conf() {
	local milter=${1:-} pf=$E2E_DIR/postfix inet_if inet_proto
	POSTFIX_CONF_DIR=$pf/etc
	POSTFIX_QUEUE_DIR=$pf/queue
	E2E_MAILLOG=$E2E_DIR/maillog
	mkdir -p "$POSTFIX_CONF_DIR" "$POSTFIX_QUEUE_DIR" "$pf/data"
	# postfix-script only fixes what it creates: data_directory holds
	# master.lock and must belong to mail_owner
	chown postfix "$pf/data"
	chmod 0700 "$pf/data"
	if [ "$E2E_HAVE_IPV6" = 1 ]; then
		inet_if='127.0.0.1, [::1]' inet_proto=all
	else
		inet_if='127.0.0.1' inet_proto=ipv4
	fi
	cat >"$POSTFIX_CONF_DIR/main.cf" <<-EOF
		# private aup-milter e2e instance: generated by tests/e2e/lib.sh
		compatibility_level = 3.6
		queue_directory = $POSTFIX_QUEUE_DIR
		data_directory = $pf/data
		mail_owner = postfix
		setgid_group = postdrop
		syslog_name = postfix-e2e
		maillog_file = $E2E_MAILLOG
		maillog_file_prefixes = $E2E_DIR
		myhostname = relay.test
		mydomain = relay.test
		myorigin = \$myhostname
		mydestination =
		local_recipient_maps =
		local_transport = error:5.1.1 local delivery disabled in e2e
		alias_maps =
		alias_database =
		biff = no
		append_dot_mydomain = no
		inet_interfaces = $inet_if
		inet_protocols = $inet_proto
		mynetworks = 127.0.0.0/8 [::1]/128
		smtpd_banner = \$myhostname ESMTP e2e
		# relay everything to the sink; never any DNS
		relayhost = [127.0.0.1]:$SINK_PORT
		smtp_dns_support_level = disabled
		smtpd_peername_lookup = no
		smtp_tls_security_level = none
		smtpd_tls_security_level = none
		# one sink transaction per message (relay_domains mail uses "relay")
		default_destination_recipient_limit = 1000
		# the milter, not Postfix, enforces policy
		# smtpd will not start unless a list has a working reject rule ("permit,
		# reject_unauth_destination" is refused), so every domain is a relay
		# domain and reject_unauth_destination never rejects
		relay_domains = static:ALL
		smtpd_relay_restrictions = reject_unauth_destination
		smtpd_recipient_restrictions = permit
		smtpd_recipient_limit = 1000
		# many refused RCPTs must not slow down or drop the session
		smtpd_error_sleep_time = 0
		smtpd_soft_error_limit = 1000
		smtpd_hard_error_limit = 1000
		smtpd_client_port_logging = yes
		# test clients come from loopback, which the default counts as local:
		# treat them like remote customers (no added Message-Id/Date/From,
		# no address rewriting)
		local_header_rewrite_clients =
		# quick retries if the sink was briefly away
		queue_run_delay = 2s
		minimal_backoff_time = 2s
		maximal_backoff_time = 4s
		delay_warning_time = 0
		smtpd_sasl_authenticated_header = yes
	EOF
	if [ -n "$E2E_SASL_SOCKET" ]; then
		cat >>"$POSTFIX_CONF_DIR/main.cf" <<-EOF
			smtpd_sasl_auth_enable = yes
			smtpd_sasl_type = dovecot
			smtpd_sasl_path = $E2E_SASL_SOCKET
			smtpd_tls_auth_only = no
			smtpd_sasl_security_options = noanonymous
		EOF
	fi
	if [ -n "$milter" ]; then
		cat >>"$POSTFIX_CONF_DIR/main.cf" <<-EOF
			smtpd_milters = $milter
			milter_default_action = tempfail
			milter_protocol = 6
			milter_connect_timeout = ${E2E_MILTER_CONNECT_TIMEOUT:-10s}
			milter_command_timeout = ${E2E_MILTER_COMMAND_TIMEOUT:-10s}
			milter_content_timeout = ${E2E_MILTER_CONTENT_TIMEOUT:-30s}
			milter_connect_macros = ${E2E_MILTER_CONNECT_MACROS:-j {daemon_name} {client_addr} {client_name} {client_port}}
			milter_helo_macros = ${E2E_MILTER_HELO_MACROS:-{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}}
			milter_mail_macros = ${E2E_MILTER_MAIL_MACROS:-i {auth_type} {auth_authen} {auth_author} {mail_addr}}
			milter_rcpt_macros = ${E2E_MILTER_RCPT_MACROS:-i {rcpt_addr}}
			milter_data_macros = ${E2E_MILTER_DATA_MACROS:-i}
			milter_end_of_header_macros = ${E2E_MILTER_EOH_MACROS:-i}
			milter_end_of_data_macros = ${E2E_MILTER_EOM_MACROS:-i}
		EOF
	fi
	if [ -n "${E2E_MAIN_CF_EXTRA:-}" ]; then
		printf '%s\n' "$E2E_MAIN_CF_EXTRA" >>"$POSTFIX_CONF_DIR/main.cf"
	fi
	# no chroot anywhere; postlog is required by maillog_file
	cat >"$POSTFIX_CONF_DIR/master.cf" <<-EOF
		$SMTPD_PORT inet n - n - - smtpd
		pickup    unix  n - n 60 1 pickup
		cleanup   unix  n - n -  0 cleanup
		qmgr      unix  n - n 300 1 qmgr
		rewrite   unix  - - n -  - trivial-rewrite
		bounce    unix  - - n -  0 bounce
		defer     unix  - - n -  0 bounce
		trace     unix  - - n -  0 bounce
		verify    unix  - - n -  1 verify
		flush     unix  n - n 1000? 0 flush
		proxymap  unix  - - n -  - proxymap
		proxywrite unix - - n -  1 proxymap
		smtp      unix  - - n -  - smtp
		relay     unix  - - n -  - smtp
		showq     unix  n - n -  - showq
		error     unix  - - n -  - error
		retry     unix  - - n -  - error
		discard   unix  - - n -  - discard
		anvil     unix  - - n -  1 anvil
		scache    unix  - - n -  1 scache
		postlog   unix-dgram n - n - 1 postlogd
	EOF
	_e2e_postfix_age_conf
}

# _e2e_postfix_age_conf: Postfix re-reads main.cf in 300 ms steps until its
# mtime is in the past (a file being edited), so every start or reload
# after writing it costs about 2 s; backdate the files instead.
_e2e_postfix_age_conf() {
	touch -d '-1 minute' "$POSTFIX_CONF_DIR/main.cf" "$POSTFIX_CONF_DIR/master.cf"
}

# _e2e_master_pid: pid of our Postfix master, or nothing
_e2e_master_pid() {
	local pid
	[ -n "$POSTFIX_QUEUE_DIR" ] || return 1
	pid=$(tr -dc 0-9 <"$POSTFIX_QUEUE_DIR/pid/master.pid" 2>/dev/null)
	_e2e_pid_alive "$pid" && printf '%s\n' "$pid"
}

e2e_postfix_start() {
	local milter=${1:-} out
	if _e2e_master_pid >/dev/null; then
		bail "e2e_postfix_start: already running (use e2e_postfix_restart)"
	fi
	_e2e_postfix_write_conf "$milter"
	out=$E2E_DIR/postfix-start.log
	if ! postfix -c "$POSTFIX_CONF_DIR" start >"$out" 2>&1; then
		_e2e_bail "postfix -c $POSTFIX_CONF_DIR start failed" "$out" "$E2E_MAILLOG"
	fi
	if ! _e2e_wait_smtp 127.0.0.1 "$SMTPD_PORT" 15; then
		_e2e_bail "private Postfix does not greet on 127.0.0.1:$SMTPD_PORT" \
			"$out" "$E2E_MAILLOG"
	fi
	if [ "$E2E_HAVE_IPV6" = 1 ] && ! _e2e_wait_smtp ::1 "$SMTPD_PORT" 5; then
		_e2e_bail "private Postfix does not greet on [::1]:$SMTPD_PORT" \
			"$out" "$E2E_MAILLOG"
	fi
}

e2e_postfix_stop() {
	local pid i
	pid=$(_e2e_master_pid) || return 0
	postfix -c "$POSTFIX_CONF_DIR" stop >/dev/null 2>&1
	for ((i = 0; i < 100; i++)); do
		_e2e_pid_alive "$pid" || break
		_e2e_sleep
	done
	if _e2e_pid_alive "$pid"; then
		diag "postfix master $pid ignored stop; killing it"
		postfix -c "$POSTFIX_CONF_DIR" abort >/dev/null 2>&1
		kill -KILL "$pid" 2>/dev/null
	fi
	# the master's children exit once its status pipe closes
	for ((i = 0; i < 50; i++)); do
		e2e_wait_tcp 127.0.0.1 "$SMTPD_PORT" 0.1 || return 0
		_e2e_sleep
	done
	return 0
}

e2e_postfix_restart() {
	e2e_postfix_stop
	e2e_postfix_start "$@"
}

# _e2e_smtpd_pids MASTER: pids of the master's smtpd children
_e2e_smtpd_pids() {
	ps -o pid=,comm= --ppid "$1" 2>/dev/null | awk '$2 == "smtpd" { print $1 }'
}

e2e_postfix_reload() {
	local master old p i left
	master=$(_e2e_master_pid) || bail "e2e_postfix_reload: Postfix not running"
	old=$(_e2e_smtpd_pids "$master")
	postfix -c "$POSTFIX_CONF_DIR" reload >/dev/null 2>&1 ||
		_e2e_bail "postfix reload failed" "$E2E_MAILLOG"
	# an idle smtpd of the old generation could still take the next client
	for ((i = 0; i < 100; i++)); do
		left=
		for p in $old; do
			_e2e_pid_alive "$p" && left+="$p "
		done
		[ -z "$left" ] && break
		_e2e_sleep
	done
	[ -z "$left" ] || diag "e2e_postfix_reload: old smtpd still alive: $left"
	_e2e_wait_smtp 127.0.0.1 "$SMTPD_PORT" 10 ||
		_e2e_bail "Postfix does not greet after reload" "$E2E_MAILLOG"
}

e2e_postconf() {
	[ -n "$POSTFIX_CONF_DIR" ] || bail "e2e_postconf before e2e_postfix_start"
	postconf -c "$POSTFIX_CONF_DIR" -e "$@" || bail "postconf -e $* failed"
	_e2e_postfix_age_conf
	if _e2e_master_pid >/dev/null; then
		e2e_postfix_reload
	fi
}

e2e_queue_count() {
	postqueue -c "$POSTFIX_CONF_DIR" -j 2>/dev/null | wc -l
}

maillog_grep() {
	grep -E -- "$1" "$E2E_MAILLOG" 2>/dev/null
}

maillog_wait() {
	local re=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		grep -Eq -- "$re" "$E2E_MAILLOG" 2>/dev/null && return 0
		_e2e_sleep
	done
	diag "maillog_wait: no line matching '$re' after ${secs}s"
	return 1
}

maillog_qid() {
	grep -E -- ": $1: " "$E2E_MAILLOG" 2>/dev/null
}

# ---------------------------------------------------------------- milter

e2e_milter_start() {
	local text=$1 sock host port path secs=${E2E_MILTER_WAIT:-10} i ready=
	MILTER_CONF=$E2E_DIR/aup-milter.conf
	MILTER_LOG=$E2E_DIR/milter.log
	printf '%s\n' "$text" >"$MILTER_CONF"
	MILTER_SOCKET=$(awk '$1 == "Socket" { print $2; exit }' "$MILTER_CONF")
	[ -n "$MILTER_SOCKET" ] || bail "e2e_milter_start: no Socket line in config"
	if _e2e_pid_alive "$MILTER_PID"; then
		bail "e2e_milter_start: milter already running (pid $MILTER_PID)"
	fi
	[ -x "$AUP_MILTER" ] || bail "e2e_milter_start: $AUP_MILTER not executable (AUP_MILTER)"
	# shellcheck disable=SC2086  # E2E_MILTER_ARGS is a word list
	"$AUP_MILTER" -f -c "$MILTER_CONF" ${E2E_MILTER_ARGS:-} >>"$MILTER_LOG" 2>&1 &
	MILTER_PID=$!
	MILTER_EXIT=
	sock=$MILTER_SOCKET
	for ((i = 0; i < secs * 10; i++)); do
		if ! _e2e_running "$MILTER_PID"; then
			wait "$MILTER_PID" 2>/dev/null
			MILTER_EXIT=$?
			MILTER_PID=
			_e2e_bail "aup-milter exited with status $MILTER_EXIT at startup" \
				"$MILTER_LOG"
		fi
		case $sock in
		inet:* | inet6:*)
			port=${sock#*:}
			port=${port%%@*}
			host=127.0.0.1
			case $sock in *@*) host=${sock#*@} ;; esac
			case $host in localhost) host=127.0.0.1 ;; \[*\]) host=${host#[} host=${host%]} ;; esac
			e2e_wait_tcp "$host" "$port" 0.2 && ready=1
			;;
		unix:* | local:* | /*)
			path=${sock#unix:}
			path=${path#local:}
			[ -S "$path" ] && _e2e_wait_unix "$path" 0.2 && ready=1
			;;
		*) bail "e2e_milter_start: unsupported Socket $sock" ;;
		esac
		[ -n "$ready" ] && return 0
		_e2e_sleep
	done
	_e2e_bail "aup-milter not accepting on $sock after ${secs}s" "$MILTER_LOG"
}

e2e_milter_stop() {
	[ -n "$MILTER_PID" ] || return 0
	_e2e_stop_pid "$MILTER_PID" 10
	MILTER_EXIT=$?
	MILTER_PID=
	return 0
}

e2e_milter_kill() {
	[ -n "$MILTER_PID" ] || return 0
	kill -"${1:-KILL}" "$MILTER_PID" 2>/dev/null
	wait "$MILTER_PID" 2>/dev/null
	MILTER_EXIT=$?
	MILTER_PID=
}

e2e_milter_reload() {
	[ -n "$MILTER_PID" ] && kill -USR1 "$MILTER_PID"
}

aupctl_run() {
	"$AUPCTL" -c "${MILTER_CONF:-$E2E_DIR/aup-milter.conf}" "$@"
}
