#!/bin/bash
# 15-daemon.t - aup-milter as a daemon (no -f), as an init script starts
# it: the starting process exits 0 only once the daemon serves (and with
# the daemon's error when it cannot open its state), the PidFile names
# the daemon, mail goes through it, the counters' flush thread of
# QuotaSync periodic runs in the daemon (it used to be left behind in the
# parent at the fork), and SIGTERM stops it and removes the PidFile.
. "$(dirname "$0")/lib.sh"

e2e_user_cleanup() {	# a daemon left by a failed run: not ours to keep
	local p
	p=$(cat "$E2E_DIR/aup-milter.pid" 2>/dev/null) && kill -KILL "$p" 2>/dev/null
	return 0
}
e2e_init
plan 15

e2e_sink_start
e2e_sasl_start
e2e_add_user "u@d.test" pw
conf="Socket inet:$MILTER_PORT@127.0.0.1
Database db
EvidenceLog evidence.log
LocalDomains example.net
PidFile $E2E_DIR/aup-milter.pid
QuotaSync periodic
QuotaSyncInterval 1
Rule.return_address log
Syslog no"
MILTER_CONF=$E2E_DIR/aup-milter.conf
printf '%s\n' "$conf" >"$MILTER_CONF"
prov() { aupctl_run "$@" >/dev/null || echo "FAILED: $*"; }
out=$(
	prov plan set basic
	prov customer add dco --plan basic --contact noc@dco.example
	prov customer login add dco u@d.test
	prov customer domain add dco mx.test
)
is "$out" "" "provisioned a customer with a login"

# A state it cannot open: the starter learns it from the exit status.
sed 's|^Database db$|Database /proc/aup-no-such-dir/db|' "$MILTER_CONF" \
    >"$E2E_DIR/bad.conf"
timeout 20 "$AUP_MILTER" -c "$E2E_DIR/bad.conf" >/dev/null 2>&1
is "$?" 73 "daemon mode, database cannot be created: the starter exits 73"

timeout 20 "$AUP_MILTER" -c "$MILTER_CONF" >"$E2E_DIR/start.out" 2>&1
is "$?" 0 "daemon mode: the starter exits 0 once the daemon serves"
pid=$(cat "$E2E_DIR/aup-milter.pid" 2>/dev/null)
kill -0 "$pid" 2>/dev/null
ok $? "the PidFile names a live daemon ($pid)"
e2e_wait_tcp 127.0.0.1 "$MILTER_PORT" 5
ok $? "it accepts milter connections"

e2e_postfix_start "inet:127.0.0.1:$MILTER_PORT"
synced() { awk '{ print $2 + 0 }' "$E2E_DIR/db/quota/synced" 2>/dev/null; }
before=$(synced)
smtp_send --auth "u@d.test:pw" --from a@mx.test --to r1@remote.example
like "$(smtp_data_reply)" '^250 ' "a message through the daemon is accepted"
# The flush thread records each flush; it must move past the charge
# (before anything else opens the counters: aupctl flushes when it ends).
for _ in $(seq 1 50); do
	[ "$(synced)" -gt "${before:-0}" ] 2>/dev/null && break
	sleep 0.1
done
[ "$(synced)" -gt "${before:-0}" ] 2>/dev/null
ok $? "QuotaSync periodic: the daemon's flush thread flushed the charge" ||
    diag "synced before: $before, now: $(synced)"
like "$(aupctl_run quota show dco)" 'msgs_per_hour +1 of ' \
    "and charged (msgs_per_hour 1)"

kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null
ok $? "SIGTERM stops the daemon"
[ ! -e "$E2E_DIR/aup-milter.pid" ]
ok $? "and its PidFile is removed"

# --- UserID: aupctl run as root acts as the daemon's user -------------------
# An administrator provisions before the first start, as root: the files
# aupctl creates must be the UserID's, or the daemon cannot open them.
udir=$E2E_DIR/as-nobody
mkdir -p "$udir" && chown nobody "$udir"
uconf=$udir/aup-milter.conf
printf '%s\n' "Socket inet:$MILTER_PORT@127.0.0.1
Database $udir/db
EvidenceLog $udir/evidence.log
LocalDomains example.net
PidFile $udir/aup-milter.pid
UserID nobody
Syslog no" >"$uconf"
"$AUPCTL" -c "$uconf" plan set basic >/dev/null
is "$(stat -c %U "$udir/db/data.mdb" "$udir/db/lock.mdb" "$udir/evidence.log" |
    sort -u)" nobody "aupctl as root, UserID nobody: the files it made are nobody's"
like "$(grep '"event":"admin"' "$udir/evidence.log")" '"actor":"root","uid":0,' \
    "and its evidence record still names root, who ran it"
timeout 20 "$AUP_MILTER" -c "$uconf" >"$udir/start.out" 2>&1
is "$?" 0 "the daemon, as nobody, opens what aupctl made" ||
    e2e_log_tail "$udir/start.out"
upid=$(cat "$udir/aup-milter.pid" 2>/dev/null)
[ "$(stat -c %U "/proc/$upid" 2>/dev/null)" = nobody ]
ok $? "and runs as nobody"
kill -TERM "$upid" 2>/dev/null
for _ in $(seq 1 100); do kill -0 "$upid" 2>/dev/null || break; sleep 0.1; done
"$AUPCTL" -c "$uconf" plan set basic msgs_per_hour=7 >/dev/null
like "$("$AUPCTL" -c "$uconf" plan show basic)" 'msgs_per_hour +7' \
    "aupctl as root still changes the database the daemon made its own"
