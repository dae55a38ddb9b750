#!/bin/bash
# 10-spine.t - the spine through a real private Postfix: attribution by
# SMTP AUTH login and by static network (IPv4, IPv6), the relay rule, the
# per-transaction recipient cap, evidence records with the reply's ref,
# changes applied without restart, and fail-safe behaviour with the
# milter down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns.sh"

e2e_init
plan 51

e2e_sink_start
e2e_sasl_start
e2e_add_user alice@acme.example alicepw
e2e_add_user bob@other.example bobpw
e2e_dns_start	# return addresses are checked in DNS
e2e_milter_start "Socket inet:$MILTER_PORT@127.0.0.1
Database db
EvidenceLog evidence.log
LocalDomains example.net
Nameserver $DNS_NAMESERVER
Syslog no"
aupctl_run plan set basic max_rcpts_per_msg=99 >/dev/null &&
aupctl_run customer add acme --plan basic --contact noc@acme.example >/dev/null &&
aupctl_run customer login add acme alice@acme.example >/dev/null &&
aupctl_run customer domain add acme acme.example >/dev/null &&
aupctl_run customer add netco --plan basic --contact noc@netco.example >/dev/null &&
aupctl_run customer network add netco 127.0.0.2/32 >/dev/null &&
aupctl_run customer domain add netco netco.example >/dev/null &&
aupctl_run customer network add netco ::1/128 >/dev/null
ok $? "provisioned acme (login) and netco (networks) with aupctl"
e2e_postfix_start "inet:127.0.0.1:$MILTER_PORT"

# The evidence record with this ref, and one field of it.
record() { aupctl_run evidence search --ref "$1"; }
field() {	# field RECORD KEY: the member as text (JSON for arrays/objects)
	head -n 1 <<< "$1" | perl -MJSON::PP -e 'my $k = shift; my $l = <STDIN>;
	    my $r = eval { decode_json($l) } or exit 1; my $v = $r->{$k};
	    print ref $v ? JSON::PP->new->canonical->encode($v) : ($v // "null")' "$2"
}
ref_of() { sed -n 's/.*(rule [a-z_]*, ref \([0-9a-f]*\)).*/\1/p' <<< "$1" | head -n 1; }

# --- relay: an unattributed client may not send out ------------------------
smtp_send --local-interface 127.0.0.3 --from x@stranger.example \
    --to victim@remote.example
reply=$(smtp_rcpt_replies)
like "$reply" '^550 5\.7\.1 Relaying to remote\.example denied: .* \(rule relay, ref [0-9a-f]{12}\)$' \
    "unattributed client to a remote domain: 550 5.7.1 naming the rule and ref"
ref=$(ref_of "$reply")
rec=$(record "$ref")
is "$(field "$rec" action)" reject "evidence: the refused transaction is recorded"
is "$(field "$rec" rule)" relay "evidence: rule relay"
is "$(field "$rec" client_addr)" 127.0.0.3 "evidence: client address"
is "$(field "$rec" rejected_rcpts)" \
    "[{\"rcpt\":\"victim@remote.example\",\"reply\":\"$reply\",\"rule\":\"relay\"}]" \
    "evidence: the refused recipient with its rule and the exact reply"

# --- inbound to LocalDomains passes -----------------------------------------
sink_clear
smtp_send --local-interface 127.0.0.3 --from x@stranger.example \
    --to user@example.net --header 'Message-Id: <inbound-1@stranger.example>'
like "$(smtp_data_reply)" '^250 ' "unattributed client to LocalDomains: accepted"
wait_sink_count 1
is "$(sink_rcpts)" user@example.net "inbound message reached the sink"
rec=$(aupctl_run evidence search --message-id '<inbound-1@stranger.example>')
is "$(field "$rec" action)" accept "evidence: accepted"
is "$(field "$rec" customer)" null "evidence: no customer"
is "$(field "$rec" queue_id)" "$(smtp_queue_id)" "evidence: Postfix queue id"

# --- rcpt_cap through SMTP AUTH attribution ---------------------------------
rcpts=$(seq -f 'r%g@remote.example' 1 100 | paste -sd,)
sink_clear
smtp_send --auth alice@acme.example:alicepw --from a@acme.example \
    --to "$rcpts" --header 'Message-Id: <cap-1@acme.example>' \
    --header 'Subject: hundred'
like "$(smtp_auth_reply)" '^235 ' "alice authenticated"
replies=$(smtp_rcpt_replies)
is "$(grep -c '^250 ' <<< "$replies")" 99 "first 99 recipients accepted"
last=$(tail -n 1 <<< "$replies")
like "$last" '^452 4\.5\.3 Too many recipients: plan basic allows 99 per message for customer acme \(rule rcpt_cap, ref [0-9a-f]{12}\)$' \
    "100th recipient: 452 4.5.3 naming the limit and a reference"
like "$(smtp_data_reply)" '^250 ' "the message is still accepted for the 99"
qid=$(smtp_queue_id)
wait_sink_count 1
is "$(sink_rcpt_count)" 99 "the sink received the message for 99 recipients"
[ "$(sink_rcpts | grep -c '^r100@')" = 0 ]; ok $? "r100 is not among them"
rec=$(aupctl_run evidence search --message-id '<cap-1@acme.example>')
is "$(field "$rec" ref)" "$(ref_of "$last")" "evidence ref equals the ref in the 452 reply"
is "$(field "$rec" customer)" acme "evidence: customer acme"
is "$(field "$rec" auth)" alice@acme.example "evidence: SASL login"
is "$(field "$rec" attribution)" \
    '{"by":"login","plan":"basic","value":"alice@acme.example"}' \
    "evidence: attributed by login"
is "$(field "$rec" action)" accept "evidence: accepted"
is "$(field "$rec" queue_id)" "$qid" "evidence: queue id"
is "$(head -n 1 <<< "$rec" | perl -MJSON::PP -e 'print scalar @{decode_json(scalar <STDIN>)->{rcpts}}')" 99 \
    "evidence: 99 accepted recipients"
like "$(field "$rec" rejected_rcpts)" '^\[\{"rcpt":"r100@remote.example","reply":"452 4\.5\.3 [^"]*","rule":"rcpt_cap"\}\]$' \
    "evidence: r100 refused by rcpt_cap"
is "$(field "$rec" subject)" hundred "evidence: subject"
like "$(field "$rec" mail_from)" '^a@acme\.example$' "evidence: mail_from"
like "$(field "$rec" size)" '^[0-9]+$' "evidence: size"
for f in ts ref event queue_id client_addr client_name helo auth customer \
    mail_from rcpts rejected_rcpts header_from message_id subject size rule \
    action reply spf dkim prev hash; do
	head -n 1 <<< "$rec" | perl -MJSON::PP -e 'my $k = shift;
	    exit(exists decode_json(scalar <STDIN>)->{$k} ? 0 : 1)' "$f" ||
	    missing="${missing:-} $f"
done
is "${missing:-}" "" "evidence record has every field SPEC requires"
like "$(field "$rec" ts)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' \
    "evidence: ts is RFC 3339 UTC with milliseconds"

# --- attribution by static network, IPv4 and IPv6 ---------------------------
smtp_send --local-interface 127.0.0.2 --from n@netco.example \
    --to out@remote.example --header 'Message-Id: <net-4@netco.example>'
like "$(smtp_data_reply)" '^250 ' "netco by IPv4 network may send out"
rec=$(aupctl_run evidence search --message-id '<net-4@netco.example>')
is "$(field "$rec" attribution)" '{"by":"network","plan":"basic","value":"127.0.0.2"}' \
    "evidence: attributed by IPv4 network"
if [ "$E2E_HAVE_IPV6" = 1 ]; then
	smtp_send --server ::1 --local-interface ::1 --from n@netco.example \
	    --to out@remote.example --header 'Message-Id: <net-6@netco.example>'
	like "$(smtp_data_reply)" '^250 ' "netco by IPv6 network may send out"
	rec=$(aupctl_run evidence search --message-id '<net-6@netco.example>')
	is "$(field "$rec" customer)" netco "evidence: IPv6 client attributed to netco"
	is "$(field "$rec" client_addr)" ::1 "evidence: IPv6 client address"
else
	skip "no IPv6 loopback" 3
fi

# --- a SASL login that is no customer's is unattributed ---------------------
smtp_send --local-interface 127.0.0.3 --auth bob@other.example:bobpw \
    --from b@other.example --to out@remote.example
like "$(smtp_rcpt_replies)" '^550 5\.7\.1 .*rule relay' \
    "authenticated but unknown login: relay refused"

# --- changes take effect at the next transaction, no restart ----------------
aupctl_run customer add other --plan basic --contact noc@other.example >/dev/null &&
aupctl_run customer login add other bob@other.example >/dev/null &&
aupctl_run customer domain add other other.example >/dev/null
ok $? "aupctl adds customer other with login bob while the milter runs"
smtp_send --local-interface 127.0.0.3 --auth bob@other.example:bobpw \
    --from b@other.example --to out@remote.example \
    --header 'Message-Id: <bob-2@other.example>'
like "$(smtp_data_reply)" '^250 ' "bob's next message is accepted"
rec=$(aupctl_run evidence search --message-id '<bob-2@other.example>')
is "$(field "$rec" customer)" other "and attributed to the new customer"
is "$(aupctl_run evidence search --customer other | grep -c '"event":"admin"')" 3 \
    "the admin changes are in the evidence log too"

# --- the evidence chain -------------------------------------------------------
out=$(aupctl_run evidence verify)
ok $? "evidence verify: chain intact" || diag "$out"
like "$out" '^OK: [0-9]+ records' "evidence verify reports the record count"
cp "$E2E_DIR/evidence.log" "$E2E_DIR/tampered.log"
n=$(grep -n '"mail_from":"a@acme.example"' "$E2E_DIR/tampered.log" | head -n 1 | cut -d: -f1)
perl -i -pe 's/"customer":"acme"/"customer":"acmf"/ if $. == '"$n" "$E2E_DIR/tampered.log"
out=$(aupctl_run evidence verify "$E2E_DIR/tampered.log")
is "$?" 1 "a tampered copy fails verification"
like "$out" "tampered\.log:$n: hash mismatch" "and the first bad line ($n) is named"

# --- aup-milter -n ---------------------------------------------------------
printf 'Socket inet:1@127.0.0.1\nDatabase db\nEvidenceLog e\nRule.relay maybe\n' \
    > "$E2E_DIR/bad.conf"
out=$("$AUP_MILTER" -n -c "$E2E_DIR/bad.conf" 2>&1)
is "$?" 78 "aup-milter -n: bad config exits 78 (EX_CONFIG)"
like "$out" "bad\.conf:4: Rule\.relay: 'maybe' is not reject, tempfail, log or off" \
    "and names file, line and problem"
"$AUP_MILTER" -n -c "$MILTER_CONF" >/dev/null
ok $? "aup-milter -n: the running config checks out"

# --- the milter down: Postfix tempfails, nothing accepted, nothing lost -----
e2e_milter_stop
sink_clear
smtp_send --auth alice@acme.example:alicepw --from a@acme.example \
    --to down@remote.example
all=$(smtp_replies | cut -f2)
like "$all" $'(^|\n)4[0-9][0-9] ' "with the milter stopped Postfix answers 4xx"
unlike "$(smtp_data_reply)" '^250 ' "and accepts nothing"
is "$(e2e_queue_count)" 0 "nothing sits in the queue unchecked"
sleep 1
is "$(sink_count)" 0 "nothing reached the sink"
done_testing
