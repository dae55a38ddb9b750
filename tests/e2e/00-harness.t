#!/usr/bin/env bash
# 00-harness.t - the e2e harness itself, without aup-milter: private Postfix
# on loopback, Dovecot SASL, smtp-sink capture, swaks reply parsing, and
# Postfix's milter_default_action=tempfail when no milter answers.

# shellcheck disable=SC2119  # reply helpers read the last transcript by default
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_sink_start
e2e_sasl_start
e2e_add_user alice@cust.test 's3cret pass'
e2e_add_user bob 'b0b'
e2e_postfix_start

# ---- AUTH PLAIN from 127.0.0.1 reaches the sink with the right recipients
smtp_send --auth 'alice@cust.test:s3cret pass' --from a@cust.test \
	--to r1@ext.test,r2@ext.test --header 'Subject: harness 1'
is "$SMTP_RC" 0 "authenticated submission: swaks exit 0"
like "$(smtp_banner_reply)" '^220 relay\.test ' "banner from relay.test"
like "$(smtp_ehlo_reply)" '^250 relay\.test .*AUTH PLAIN LOGIN' "EHLO offers AUTH PLAIN LOGIN without TLS"
like "$(smtp_auth_reply)" '^235 2\.7\.0 ' "AUTH PLAIN accepted"
like "$(smtp_mail_reply)" '^250 2\.1\.0 ' "MAIL accepted"
is "$(smtp_rcpt_replies | cut -c1-9 | tr '\n' ' ')" "250 2.1.5 250 2.1.5 " "both RCPTs accepted"
like "$(smtp_data_cmd_reply)" '^354 ' "DATA answered 354"
like "$(smtp_data_reply)" '^250 2\.0\.0 Ok: queued as [0-9A-F]+$' "end of DATA: queued"
qid1=$(smtp_queue_id)
like "$qid1" '^[0-9A-F]{6,}$' "queue id extracted ($qid1)"
wait_sink_count 1
ok $? "message reached the sink"
is "$(sink_count "$qid1")" 1 "one sink transaction for $qid1"
is "$(sink_rcpts "$qid1" | tr '\n' ' ')" "r1@ext.test r2@ext.test " "sink got exactly r1, r2"
f=$(sink_files "$qid1")
grep -q '^	(Authenticated sender: alice@cust.test)$' "$f"
ok $? "sink copy shows the SASL login in Postfix's Received: header"
grep -q '^Subject: harness 1$' "$f"
ok $? "custom header delivered"
maillog_wait ": $qid1: client=" >/dev/null	# postlogd writes asynchronously
like "$(maillog_qid "$qid1" | grep client=)" "client=unknown\[127\.0\.0\.1\]:[0-9]+, sasl_method=PLAIN, sasl_username=alice@cust\.test" \
	"Postfix log: client address and SASL login"

# ---- AUTH LOGIN works too
smtp_send --auth-login 'bob:b0b' --from b@cust.test --to r3@ext.test
like "$(smtp_auth_reply)" '^235 ' "AUTH LOGIN accepted (334 challenges handled)"
like "$(smtp_data_reply)" '^250 ' "AUTH LOGIN submission queued"

# ---- a bad password gets 535 and nothing is sent
smtp_send --auth 'alice@cust.test:wrong' --from a@cust.test --to r1@ext.test
like "$(smtp_auth_reply)" '^535 5\.7\.8 ' "bad password: 535 5.7.8"
is "$SMTP_RC" 28 "swaks exit 28 (AUTH failed)"
is "$(smtp_mail_reply)" "" "no MAIL after failed AUTH"

# ---- other loopback source addresses are accepted and visible
smtp_send --local-interface 127.0.0.2 --from c@cust.test --to r4@ext.test
like "$(smtp_data_reply)" '^250 ' "mail from 127.0.0.2 accepted (unauthenticated)"
qid2=$(smtp_queue_id)
maillog_wait ": $qid2: client=" >/dev/null
like "$(maillog_qid "$qid2" | grep client=)" 'client=unknown\[127\.0\.0\.2\]:[0-9]+$' \
	"Postfix log: client=unknown[127.0.0.2]"
wait_sink_qid "$qid2"
grep -q '^Received: from e2e-client.test (unknown \[127\.0\.0\.2\])$' "$(sink_files "$qid2")"
ok $? "sink copy: Received: from ... (unknown [127.0.0.2])"

if [ "$E2E_HAVE_IPV6" = 1 ]; then
	smtp_send --server ::1 --local-interface ::1 --from d@cust.test --to r5@ext.test
	like "$(smtp_data_reply)" '^250 ' "mail over IPv6 ::1 accepted"
	qid3=$(smtp_queue_id)
	maillog_wait ": $qid3: client=" >/dev/null
	like "$(maillog_qid "$qid3" | grep client=)" 'client=unknown\[::1\]:[0-9]+$' \
		"Postfix log: client=unknown[::1]"
	wait_sink_qid "$qid3"
	grep -q '^Received: from e2e-client.test (unknown \[IPv6:::1\])$' "$(sink_files "$qid3")"
	ok $? "sink copy: Received: from ... (unknown [IPv6:::1])"
else
	skip "no IPv6 loopback" 3
fi

# ---- 100 recipients in one transaction are all delivered
rcpts=$(seq -f 'u%g@many.test' 1 100 | paste -sd,)
smtp_send --auth 'alice@cust.test:s3cret pass' --from a@cust.test --to "$rcpts"
is "$(smtp_rcpt_replies | grep -c '^250 ')" 100 "100 RCPTs accepted"
like "$(smtp_data_reply)" '^250 ' "100-recipient message queued"
qid4=$(smtp_queue_id)
wait_sink_qid "$qid4"
is "$(sink_rcpt_count "$qid4")" 100 "sink got 100 recipients"
is "$(sink_rcpts "$qid4" | sort -u | wc -l)" 100 "... 100 distinct ones"
# (qmgr sorts recipients, so the sink's order is not the client's)
is "$(sink_rcpts "$qid4" | sort | paste -sd,)" "$(printf '%s\n' "${rcpts//,/$'\n'}" | sort | paste -sd,)" \
	"... exactly the ones sent"
is "$(sink_count "$qid4")" 1 "... in one sink transaction"

# ---- swaks with refused recipients (Postfix refuses two of four)
e2e_postconf 'smtpd_recipient_restrictions = check_recipient_access inline:{ {bad1@ext.test = 550 5.7.1 test refused}, {bad2@ext.test = 450 4.7.1 test deferred} }, permit'
smtp_send --from e@cust.test --to ok1@ext.test,bad1@ext.test,ok2@ext.test,bad2@ext.test
is "$(smtp_rcpt_replies | cut -c1-9 | tr '\n' ' ')" "250 2.1.5 550 5.7.1 250 2.1.5 450 4.7.1 " \
	"RCPT replies reported in order"
like "$(smtp_rcpt_replies | sed -n 2p)" '^550 5\.7\.1 <bad1@ext\.test>: Recipient address rejected: test refused$' \
	"refused RCPT reply text"
like "$(smtp_data_reply)" '^250 ' "swaks still sends DATA when one RCPT was accepted"
is "$SMTP_RC" 0 "... and exits 0"
qid5=$(smtp_queue_id)
wait_sink_qid "$qid5"
is "$(sink_rcpts "$qid5" | tr '\n' ' ')" "ok1@ext.test ok2@ext.test " "only accepted recipients reach the sink"

smtp_send --from e@cust.test --to bad1@ext.test,bad2@ext.test
is "$SMTP_RC" 24 "all RCPTs refused: swaks exit 24"
is "$(smtp_rcpt_replies | cut -c1-3 | tr '\n' ' ')" "550 450 " "... both refusals reported"
is "$(smtp_data_cmd_reply)$(smtp_data_reply)" "" "... and no DATA was sent"
e2e_postconf 'smtpd_recipient_restrictions = permit'

# ---- milter_default_action=tempfail: a milter that is down refuses mail
n_sink=$(sink_count)
e2e_wait_tcp 127.0.0.1 "$MILTER_PORT" 0.2
isnt $? 0 "nothing listens on the milter port $MILTER_PORT"
e2e_postfix_restart "inet:127.0.0.1:$MILTER_PORT"
is "$(postconf -c "$POSTFIX_CONF_DIR" -h milter_default_action)" tempfail "milter_default_action = tempfail"
# Postfix tries the milter at CONNECT; the tempfail is held back and
# given at the first command that can be refused: AUTH gets 454 4.3.0,
# MAIL FROM gets 451 4.7.1 (EHLO/HELO still get 250).
smtp_send --auth 'alice@cust.test:s3cret pass' --from a@cust.test --to r1@ext.test,r2@ext.test
like "$(smtp_ehlo_reply)" '^250 ' "milter down: EHLO still 250"
like "$(smtp_auth_reply)" '^454 4\.3\.0 ' "milter down: AUTH gets 454 4.3.0"
is "$SMTP_RC" 28 "... swaks exit 28"
smtp_send --from a@cust.test --to r1@ext.test,r2@ext.test
like "$(smtp_mail_reply)" '^451 4\.7\.1 Service unavailable - try again later$' \
	"milter down: MAIL FROM gets 451 4.7.1"
is "$(smtp_rcpt_replies)$(smtp_data_reply)" "" "... no RCPT or DATA after it"
is "$SMTP_RC" 23 "... swaks exit 23 (MAIL refused)"
smtp_send --local-interface 127.0.0.3 --helo plain-helo --from a@cust.test --to r1@ext.test -- --protocol SMTP
like "$(smtp_mail_reply)" '^451 4\.7\.1 ' "milter down: same with HELO instead of EHLO"
maillog_wait "warning: connect to Milter service inet:127\.0\.0\.1:$MILTER_PORT: Connection refused" 5
ok $? "Postfix logs that it cannot reach the milter"
maillog_wait 'NOQUEUE: milter-reject: MAIL from' >/dev/null
like "$(maillog_grep 'NOQUEUE: milter-reject: MAIL from' | tail -n 1)" '451 4\.7\.1 Service unavailable' \
	"Postfix logs the milter-reject at MAIL"
sleep 0.5
is "$(sink_count)" "$n_sink" "nothing reached the sink"
is "$(e2e_queue_count)" 0 "nothing queued"

# ---- milter start/stop plumbing, with a stand-in that only listens
cat >"$E2E_DIR/fake-milter" <<'EOF'
#!/usr/bin/perl
# stand-in for aup-milter: parse -c FILE, listen on its Socket, accept
use IO::Socket::IP;
my %o; while (@ARGV) { my $a = shift; $o{$a} = ($a =~ /^-[c]$/) ? shift : 1 }
open my $fh, '<', $o{-c} or die "no config: $!";
my ($port, $host);
while (<$fh>) { ($port, $host) = ($1, $2) if /^Socket\s+inet:(\d+)@(\S+)/ }
select undef, undef, undef, 0.3;    # be slow to start, like a real daemon
my $l = IO::Socket::IP->new(LocalHost => $host, LocalPort => $port,
    Listen => 5, ReuseAddr => 1) or die "listen: $!";
print STDERR "fake-milter listening on $host:$port\n";
while (my $c = $l->accept) { close $c }
EOF
cat >"$E2E_DIR/fake-aupctl" <<'EOF'
#!/bin/sh
echo "aupctl $*"
exit 3
EOF
chmod 0755 "$E2E_DIR/fake-milter" "$E2E_DIR/fake-aupctl"
AUP_MILTER=$E2E_DIR/fake-milter AUPCTL=$E2E_DIR/fake-aupctl
e2e_milter_start "# test config
Socket inet:$MILTER_PORT@127.0.0.1
Database $E2E_DIR/db"
e2e_wait_tcp 127.0.0.1 "$MILTER_PORT" 0.5
ok $? "e2e_milter_start returns once the Socket accepts connections"
like "$(cat "$MILTER_LOG")" "listening on 127\.0\.0\.1:$MILTER_PORT" "milter output goes to MILTER_LOG"
out=$(aupctl_run customer show acme)
rc=$?
is "$out" "aupctl -c $E2E_DIR/aup-milter.conf customer show acme" "aupctl_run passes -c and the arguments"
is "$rc" 3 "aupctl_run passes the exit status through"
pid=$MILTER_PID
e2e_milter_stop
ok "$(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0)" "e2e_milter_stop ended the milter"
is "$MILTER_EXIT" 143 "MILTER_EXIT is the exit status (SIGTERM)"

done_testing
