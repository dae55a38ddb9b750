#!/bin/bash
# 30-quota.t - plans and quotas through a real private Postfix: hourly
# messages, daily recipients, the per-recipient bombing limit, message
# size (SIZE= at MAIL and the real size at end of message), the per-send
# recipient cap across split transactions, a login's own plan, the warn
# event, 20 connections racing for a quota, counts kept across a kill -9
# of the daemon (QuotaSync full, then periodic), and aupctl quota show /
# reset.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns.sh"

e2e_init
plan 55

# Counters live in hour and UTC-day windows: keep the test inside one.
left=$((3600 - $(date +%s) % 3600))
if [ "$left" -lt 150 ]; then
	diag "waiting ${left}s for the hour to turn"
	sleep $((left + 1))
fi
next_hour=$(date -u -d "@$(( ($(date +%s) / 3600 + 1) * 3600 ))" +%H:00)

e2e_sink_start
e2e_sasl_start
for u in h d b s p r al ti; do e2e_add_user "$u@q.test" pw; done
e2e_dns_start
e2e_milter_start "Socket inet:$MILTER_PORT@127.0.0.1
Database db
EvidenceLog evidence.log
LocalDomains example.net
Nameserver $DNS_NAMESERVER
Syslog no"
prov() { aupctl_run "$@" >/dev/null || echo "FAILED: $*"; }
out=$(
	prov plan set hourly msgs_per_hour=3 warn_percent=60
	prov plan set daily rcpts_per_day=5
	prov plan set bomb per_rcpt_per_hour=2
	prov plan set small max_msg_bytes=2000
	prov plan set send max_rcpts_per_msg=3
	prov plan set race msgs_per_hour=5
	prov plan set basic
	prov plan set tight msgs_per_hour=1
	for c in h:hourly d:daily b:bomb s:small p:send r:race l:basic; do
		id=${c%%:*}co
		prov customer add "$id" --plan "${c#*:}" --contact "noc@$id.example"
		prov customer domain add "$id" mx.test
		[ "$id" = lco ] || prov customer login add "$id" "${c%%:*}@q.test"
	done
	prov customer login add lco al@q.test
	prov customer login add lco ti@q.test
	prov customer login plan lco ti@q.test tight
)
is "$out" "" "provisioned plans, customers, logins and a login plan"
e2e_postfix_start "inet:127.0.0.1:$MILTER_PORT"

record() { aupctl_run evidence search --ref "$1"; }
field() {	# field RECORD KEY
	head -n 1 <<< "$1" | perl -MJSON::PP -e 'my $k = shift; my $l = <STDIN>;
	    my $r = eval { decode_json($l) } or exit 1; my $v = $r->{$k};
	    print ref $v ? JSON::PP->new->canonical->encode($v) : ($v // "null")' "$2"
}
ref_of() { sed -n 's/.*(rule [a-z_]*, ref \([0-9a-f]*\)).*/\1/p' <<< "$1" | head -n 1; }
send() {	# send LOGIN RCPTS [swaks args...]
	local login=$1 to=$2
	shift 2
	smtp_send --auth "$login@q.test:pw" --from "a@mx.test" --to "$to" -- "$@"
}

# --- hourly messages ---------------------------------------------------------
sink_clear
for i in 1 2 3; do send h "r$i@remote.example"; done
like "$(smtp_data_reply)" '^250 ' "hourly: the 3rd message of 3 is accepted"
reply=$(send h r4@remote.example; smtp_rcpt_replies)
like "$reply" "^451 4\\.7\\.1 Hourly message quota of 3 reached for customer hco; resets $next_hour UTC \\(rule rate, ref [0-9a-f]{12}\\)\$" \
    "hourly: the 4th gets 451 4.7.1 naming limit, value, reset time, rule, ref"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" action)" tempfail "hourly: evidence: tempfail"
is "$(field "$rec" rule)" rate "hourly: evidence: rule rate"
wait_sink_count 3
sleep 1
is "$(sink_count)" 3 "hourly: 3 messages reached the sink"
warns=$(aupctl_run evidence search --customer hco | grep -c '"event":"warn"')
is "$warns" 1 "warn: crossing 60% of the hourly quota recorded one warn event"
like "$(aupctl_run evidence search --customer hco | grep '"event":"warn"')" \
    '"counter":"msgs_per_hour","value":2,"limit":3,"warn_percent":60' \
    "warn: the event names counter, value, limit and threshold"

# --- daily recipients --------------------------------------------------------
sink_clear
send d "a1@remote.example,a2@remote.example,a3@remote.example"
like "$(smtp_data_reply)" '^250 ' "daily: 3 recipients of 5 accepted"
send d "b1@remote.example,b2@remote.example,b3@remote.example"
replies=$(smtp_rcpt_replies)
is "$(grep -c '^250 ' <<< "$replies")" 2 "daily: 2 more recipients accepted"
like "$(tail -n 1 <<< "$replies")" '^451 4\.7\.1 Daily recipient quota of 5 reached for customer dco; resets 00:00 UTC \(rule rate, ref [0-9a-f]{12}\)$' \
    "daily: the 6th recipient gets 451 with the daily reset"
like "$(smtp_data_reply)" '^250 ' "daily: the message goes to the 2"
qid=$(smtp_queue_id)
wait_sink_qid "$qid"
is "$(sink_rcpt_count "$qid")" 2 "daily: the sink got it for 2 recipients"

# --- bombing -----------------------------------------------------------------
sink_clear
send b victim@remote.example
send b victim@REMOTE.Example
like "$(smtp_data_reply)" '^250 ' "bomb: 2 messages to one recipient (two spellings)"
send b "victim@remote.example,other@remote.example"
replies=$(smtp_rcpt_replies)
like "$(head -n 1 <<< "$replies")" '^451 4\.7\.1 Hourly limit of 2 messages to victim@remote\.example reached for customer bco; resets [0-9]{2}:00 UTC \(rule bomb, ref [0-9a-f]{12}\)$' \
    "bomb: the 3rd to the victim gets 451 naming the recipient"
like "$(smtp_data_reply)" '^250 ' "bomb: the other recipient still gets the message"
qid=$(smtp_queue_id)
wait_sink_qid "$qid"
is "$(sink_rcpts "$qid")" other@remote.example "bomb: delivered to the other only"

# --- message size ------------------------------------------------------------
# SIZE= needs a raw client: swaks sends no MAIL parameters.
size_reply=$(perl -MIO::Socket::INET -MMIME::Base64 -e '
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]",
	    Timeout => 20) or die "connect: $!";
	sub rd { my $r = ""; while (my $l = <$s>) { $r = $l; last if $l =~ /^\d{3} / } $r =~ s/\r?\n$//; $r }
	rd();
	print $s "EHLO raw.test\r\n"; rd();
	print $s "AUTH PLAIN " . encode_base64("\0s\@q.test\0pw", "") . "\r\n"; rd();
	print $s "MAIL FROM:<a\@mx.test> SIZE=5000\r\n"; print rd(), "\n";
	print $s "QUIT\r\n"; rd();' "$SMTPD_PORT")
like "$size_reply" '^552 5\.3\.4 Message size 5000 exceeds the limit of 2000 bytes for customer sco \(rule msg_size, ref [0-9a-f]{12}\)$' \
    "size: SIZE=5000 at MAIL gets 552 5.3.4"
send s r@remote.example --body "$(head -c 3000 /dev/zero | tr '\0' x)"
like "$(smtp_data_reply)" '^552 5\.3\.4 Message size [0-9]+ exceeds the limit of 2000 bytes for customer sco \(rule msg_size' \
    "size: a 3000-byte body without SIZE= gets 552 5.3.4 at end of message"
like "$(aupctl_run quota show sco)" 'msgs_per_hour +0 of 500' \
    "size: refused mail is not charged"
send s r@remote.example --body small
like "$(smtp_data_reply)" '^250 ' "size: a small message passes"

# --- a send split into transactions ------------------------------------------
sink_clear
send p "p1@remote.example,p2@remote.example" --header 'Message-Id: <split-1@mx.test>'
like "$(smtp_data_reply)" '^250 ' "send: first part (2 recipients) accepted"
send p "p3@remote.example,p4@remote.example" --header 'Message-Id: <split-1@mx.test>'
like "$(smtp_rcpt_replies)" '^250 ' "send: the continuation's recipients pass RCPT"
reply=$(smtp_data_reply)
like "$reply" '^550 5\.7\.1 Mailing refused: with this transaction the send <split-1@mx\.test> reaches 4 recipients, over the limit of 3 per send for customer pco .*\(rule rcpt_cap, ref [0-9a-f]{12}\)$' \
    "send: the continuation that goes over 3 is refused whole with 550 5.7.1"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" stage)" eom "send: evidence: refused at end of message"
send p "p5@remote.example,p6@remote.example" --header 'Message-Id: <split-2@mx.test>'
like "$(smtp_data_reply)" '^250 ' "send: another Message-ID is another send"
wait_sink_count 2
sleep 1
is "$(sink_count)" 2 "send: the refused part never reached the sink"

# --- a login's own plan ------------------------------------------------------
send ti r@remote.example
like "$(smtp_data_reply)" '^250 ' "login plan: ti's first message"
send ti r@remote.example
like "$(smtp_rcpt_replies)" '^451 4\.7\.1 Hourly message quota of 1 reached for login ti@q\.test; ' \
    "login plan: ti's own plan (1 per hour) refuses the second"
send al r@remote.example
like "$(smtp_data_reply)" '^250 ' "login plan: al, same customer, goes on"
out=$(aupctl_run quota show lco)
like "$out" 'customer lco \(plan basic\):
  msgs_per_hour +2 of 500' "quota show: the customer counts both logins"
like "$out" 'login ti@q\.test \(plan tight\):
  msgs_per_hour +1 of 1, resets [0-9T:-]+Z' "quota show: the login's own counter and limit"

# --- 20 connections racing for a quota of 5 ----------------------------------
sink_clear
pids=()
for i in $(seq 1 20); do
	smtp_send --log "$E2E_DIR/race.$i.log" --auth r@q.test:pw --from a@mx.test \
	    --to "race$i@remote.example" &
	pids+=($!)
done
wait "${pids[@]}"	# not a bare wait: the harness's daemons are children too
accepted=0 tempfailed=0
for i in $(seq 1 20); do
	case $(smtp_data_reply "$E2E_DIR/race.$i.log") in
	250\ *) accepted=$((accepted + 1)) ;;
	esac
	case $(smtp_rcpt_replies "$E2E_DIR/race.$i.log") in
	"451 4.7.1 Hourly message quota of 5 reached"*) tempfailed=$((tempfailed + 1)) ;;
	esac
done
is "$accepted" 5 "race: of 20 concurrent connections exactly 5 are accepted"
is "$tempfailed" 15 "race: the other 15 get the hourly quota reply"
wait_sink_count 5
sleep 1
is "$(sink_count)" 5 "race: 5 messages reached the sink"
like "$(aupctl_run quota show rco)" 'msgs_per_hour +5 of 5' "race: 5 charged"

# --- kill -9 and restart: committed counts hold ------------------------------
e2e_milter_kill KILL
is "$MILTER_EXIT" 137 "the daemon was killed with SIGKILL"
e2e_milter_start "$(cat "$MILTER_CONF")"
like "$(aupctl_run quota show hco)" 'msgs_per_hour +3 of 3' \
    "after kill -9: hco's count is still 3"
like "$(aupctl_run quota show rco)" 'msgs_per_hour +5 of 5' \
    "after kill -9: rco's count is still 5"
send h r5@remote.example
like "$(smtp_rcpt_replies)" '^451 4\.7\.1 Hourly message quota of 3 reached' \
    "after kill -9: the quota is still enforced"
like "$(aupctl_run quota show dco)" 'rcpts_per_day +5 of 5, resets [0-9-]+T00:00:00Z' \
    "after kill -9: the daily recipients (5) are kept"

# --- reset ---------------------------------------------------------------------
out=$(aupctl_run quota reset hco)
like "$out" '^customer hco: quota counters reset \([0-9]+ cleared\)$' "quota reset: done"
like "$(aupctl_run quota show hco)" 'msgs_per_hour +0 of 3' "quota reset: the counter is 0"
send h r6@remote.example
like "$(smtp_data_reply)" '^250 ' "quota reset: hco may send again"
like "$(aupctl_run evidence search --customer hco | grep '"event":"admin"' | tail -n 1)" \
    '"command":"quota reset hco"' "quota reset: recorded as an admin event"
aupctl_run quota show nosuch >/dev/null 2>&1
is "$?" 1 "quota show of an unknown customer: exit 1"
aupctl_run quota show >/dev/null 2>&1
is "$?" 2 "quota show without an id: usage, exit 2"
aupctl_run customer login plan lco nobody@q.test tight >/dev/null 2>&1
is "$?" 1 "login plan for a login the customer does not have: refused"

# --- QuotaSync periodic: a kill -9 loses no charge ----------------------------
# The interval is long so the charge below is still unflushed at the kill:
# it lives only in the kernel's page cache, which outlives the process.
e2e_milter_kill TERM
e2e_milter_start "$(cat "$MILTER_CONF")
QuotaSync periodic
QuotaSyncInterval 60"
like "$(aupctl_run quota show hco)" 'msgs_per_hour +1 of 3' \
    "periodic: the counters of full mode are there (hco 1 of 3)"
like "$(cat "$E2E_DIR/db/quota/synced")" \
    "^$(cat /proc/sys/kernel/random/boot_id) +[0-9]{20}\$" \
    "periodic: the synced record names this boot and a transaction"
send h r7@remote.example
like "$(smtp_data_reply)" '^250 ' "periodic: a message accepted"
e2e_milter_kill KILL
is "$MILTER_EXIT" 137 "periodic: the daemon killed with SIGKILL, unflushed"
e2e_milter_start "$(cat "$MILTER_CONF")"
like "$(aupctl_run quota show hco)" 'msgs_per_hour +2 of 3' \
    "periodic: after kill -9 the unflushed charge is kept (2 of 3)"
is "$(ls -d "$E2E_DIR"/db/quota.torn-* 2>/dev/null)" "" \
    "periodic: nothing set aside after a crash of the daemon alone"

out=$(aupctl_run evidence verify)
ok $? "evidence verify: chain intact" || diag "$out"
done_testing
