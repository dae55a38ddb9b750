#!/bin/bash
# 40-optout.t - opt-out lists and ARF complaints through a real private
# Postfix: a recipient opted out by hand (per customer, with address
# normalisation) or through an ingested ARF report is refused at RCPT for
# that customer only, while other customers still reach it unless the
# opt-out is global; accepted mail carries the feedback token header that
# maps a complaint back even with its Message-ID rewritten; complaints are
# recorded in the evidence, linked to the original's ref, and unmatched or
# bad reports are handled as SPEC says.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns.sh"

e2e_init
plan 46

e2e_sink_start
e2e_sasl_start
e2e_add_user alice@acme.example alicepw
e2e_add_user bob@beta.example bobpw
printf 'gmail.test casefold subaddress=+ nodots\n' >"$E2E_DIR/address-rules"
e2e_dns_start
e2e_milter_start "Socket inet:$MILTER_PORT@127.0.0.1
Database db
EvidenceLog evidence.log
LocalDomains example.net
Nameserver $DNS_NAMESERVER
AddressRules address-rules
Syslog no"
aupctl_run plan set basic >/dev/null &&
aupctl_run customer add acme --plan basic --contact noc@acme.example >/dev/null &&
aupctl_run customer login add acme alice@acme.example >/dev/null &&
aupctl_run customer domain add acme mx.test >/dev/null &&
aupctl_run customer add beta --plan basic --contact noc@beta.example >/dev/null &&
aupctl_run customer login add beta bob@beta.example >/dev/null &&
aupctl_run customer domain add beta mx.test >/dev/null
ok $? "provisioned customers acme (alice) and beta (bob)"
e2e_postfix_start "inet:127.0.0.1:$MILTER_PORT"

field() {	# field RECORD KEY: the member as text (JSON for arrays/objects)
	head -n 1 <<< "$1" | perl -MJSON::PP -e 'my $k = shift; my $l = <STDIN>;
	    my $r = eval { decode_json($l) } or exit 1; my $v = $r->{$k};
	    print ref $v ? JSON::PP->new->canonical->encode($v) : ($v // "null")' "$2"
}
acme() { smtp_send --auth alice@acme.example:alicepw --from a@mx.test "$@"; }
beta() { smtp_send --auth bob@beta.example:bobpw --from b@mx.test "$@"; }

# --- the feedback token header on accepted outbound mail --------------------
sink_clear
acme --to victim@remote.example --header 'Message-Id: <m1@acme.example>'
like "$(smtp_data_reply)" '^250 ' "acme's first message to victim is accepted"
qid=$(smtp_queue_id); wait_sink_qid "$qid"
f=$(sink_files "$qid" | head -n 1)
hdr=$(grep -i '^X-AUP-Feedback:' "$f" | tr -d '\r')
ref1=$(field "$(aupctl_run evidence search --message-id '<m1@acme.example>')" ref)
like "$hdr" "^X-AUP-Feedback: $ref1:[0-9a-f]{20}\$" \
    "the delivered message carries X-AUP-Feedback: <evidence ref>:<token>"
tok_acme=${hdr##*:}
beta --to someone@remote.example --header 'Message-Id: <b1@beta.example>'
qid=$(smtp_queue_id); wait_sink_qid "$qid"
tok_beta=$(grep -i '^X-AUP-Feedback:' "$(sink_files "$qid" | head -n 1)" | tr -d '\r')
tok_beta=${tok_beta##*:}
[ -n "$tok_beta" ] && [ "$tok_beta" != "$tok_acme" ]
ok $? "each customer has its own token ($tok_acme, $tok_beta)"
unlike "$hdr" 'acme' "the token does not reveal the customer's name"
# A customer's own X-AUP-Feedback headers would point complaints at
# another customer's token: only the one the milter adds is delivered.
sink_clear
acme --to victim2@remote.example --header 'Message-Id: <forged@acme.example>' \
    --add-header "X-AUP-Feedback: 0123456789ab:$tok_beta" \
    --add-header 'x-aup-feedback: ffffffffffff:00000000000000000000'
like "$(smtp_data_reply)" '^250 ' "a message with two forged feedback headers is accepted"
qid=$(smtp_queue_id); wait_sink_qid "$qid"
f=$(sink_files "$qid" | head -n 1)
ref=$(field "$(aupctl_run evidence search --message-id '<forged@acme.example>')" ref)
is "$(grep -ci '^X-AUP-Feedback:' "$f")" 1 "one feedback header is delivered"
like "$(grep -i '^X-AUP-Feedback:' "$f" | tr -d '\r')" \
    "^X-AUP-Feedback: $ref:$tok_acme\$" "and it is the milter's, with acme's token"
grep -q "ref=$ref removing 2 X-AUP-Feedback headers the client sent" "$MILTER_LOG"
ok $? "the removal is logged with the message's reference"
sink_clear
smtp_send --local-interface 127.0.0.3 --from x@stranger.example \
    --to user@example.net --header 'Message-Id: <in-1@stranger.example>'
qid=$(smtp_queue_id); wait_sink_qid "$qid"
! grep -qi '^X-AUP-Feedback:' "$(sink_files "$qid" | head -n 1)"
ok $? "inbound (unattributed) mail is not stamped"

# --- opt-out by hand, per customer, normalised ------------------------------
out=$(aupctl_run optout add --customer acme 'Some.One+news@GMAIL.test' 'hand@BÜCHER.example')
like "$out" '^2 added to the opt-out list of customer acme' "optout add --customer acme"
sink_clear
acme --to someone@gmail.test,hand@xn--bcher-kva.example,ok@remote.example \
    --header 'Message-Id: <m2@acme.example>'
replies=$(smtp_rcpt_replies)
like "$(sed -n 1p <<< "$replies")" '^550 5\.7\.1 Recipient <someone@gmail\.test> is on the opt-out list of customer acme; .*\(rule optout, ref [0-9a-f]{12}\)$' \
    "someone@gmail.test (listed as Some.One+news@GMAIL.test): 550 5.7.1 naming acme's list"
like "$(sed -n 2p <<< "$replies")" '^550 5\.7\.1 .*opt-out list of customer acme.*rule optout' \
    "the A-label spelling of an address listed with U-labels is refused too"
like "$(sed -n 3p <<< "$replies")" '^250 ' "the other recipient is unaffected"
like "$(smtp_data_reply)" '^250 ' "and the message is accepted for it"
qid=$(smtp_queue_id); wait_sink_qid "$qid"
is "$(sink_rcpts "$qid")" ok@remote.example "only ok@remote.example reached the sink"
rec=$(aupctl_run evidence search --message-id '<m2@acme.example>')
like "$(field "$rec" rejected_rcpts)" '"rcpt":"someone@gmail.test","reply":"550 5\.7\.1 [^"]*","rule":"optout"' \
    "evidence: the refused recipient with rule optout"
is "$(field "$rec" rcpts)" '["ok@remote.example"]' "evidence: the accepted recipient"
beta --to someone@gmail.test
like "$(smtp_rcpt_replies)" '^250 ' "beta may still send to an address on acme's list"
like "$(smtp_data_reply)" '^250 ' "and its message is accepted"

# --- the global list ----------------------------------------------------------
aupctl_run optout add everyone@remote.example >/dev/null
ok $? "optout add (global)"
beta --to everyone@remote.example
like "$(smtp_rcpt_replies)" '^550 5\.7\.1 Recipient <everyone@remote\.example> is on the global opt-out list; .*\(rule optout, ref [0-9a-f]{12}\)$' \
    "a globally opted-out address is refused for beta"
acme --to everyone@remote.example
like "$(smtp_rcpt_replies)" '^550 5\.7\.1 .*global opt-out list' "and for acme"

# --- import: all or nothing --------------------------------------------------
printf 'imp1@remote.example\nnot-an-address\n\nimp2@remote.example\n' >"$E2E_DIR/imp"
out=$(aupctl_run optout import --customer beta "$E2E_DIR/imp" 2>&1)
is "$?" 1 "import with a bad line is refused"
like "$out" 'imp:2: no .@. in address' "and the bad line is named by number"
beta --to imp1@remote.example
like "$(smtp_rcpt_replies)" '^250 ' "nothing of the refused import was applied"
out=$(aupctl_run optout import --customer beta --skip-bad "$E2E_DIR/imp" 2>/dev/null)
like "$out" '2 addresses, 2 new' "--skip-bad imports the good lines"
beta --to imp2@remote.example
like "$(smtp_rcpt_replies)" '^550 5\.7\.1 .*customer beta' "an imported address is refused"

# --- a complaint with the token; the Message-ID was rewritten ---------------
arf() {	# arf RCPT MID ORIGINAL-HEADERS...: an ARF report on stdout
	local rcpt=$1 mid=$2
	shift 2
	printf '%s\n' 'From: fbl@provider.test' 'To: abuse@relay.test' \
	    'Subject: FBL report' 'MIME-Version: 1.0' \
	    'Content-Type: multipart/report; report-type=feedback-report; boundary="B0"' \
	    '' '--B0' 'Content-Type: text/plain' '' 'Abuse report.' '' '--B0' \
	    'Content-Type: message/feedback-report' '' 'Feedback-Type: abuse' \
	    'User-Agent: e2e-fbl/1.0' 'Version: 1' "Original-Rcpt-To: <$rcpt>" \
	    "Arrival-Date: $(date -u -R)" 'Source-IP: 192.0.2.99' '' '--B0' \
	    'Content-Type: text/rfc822-headers' '' "Message-ID: $mid" \
	    'From: a@acme.example' "To: $rcpt" "$@" '' '--B0--'
}
arf victim@remote.example '<rewritten-by-a-list@lists.example>' "$hdr" \
    >"$E2E_DIR/arf1"
out=$(aupctl_run complaint ingest "$E2E_DIR/arf1")
ok $? "complaint ingest of a report with the token header" || diag "$out"
like "$out" "matched transaction $ref1 by feedback-token \\(customer acme" \
    "matched to the original by the token, though the Message-ID differs"
like "$out" 'victim@remote\.example added to the opt-out list of customer acme' \
    "the complaining recipient joins acme's list"
like "$out" 'customer acme: 1 complaint$' "the complaint is counted"
recs=$(aupctl_run evidence search --ref "$ref1")
is "$(grep -c . <<< "$recs")" 2 "evidence search --ref finds the original and the complaint"
crec=$(grep '"event":"complaint"' <<< "$recs")
is "$(field "$crec" refs)" "[\"$ref1\"]" "the complaint record links to the original's ref"
is "$(field "$crec" customer)/$(field "$crec" matched)/$(field "$crec" complaints)" \
    acme/true/1 "complaint record: customer, matched, count"
like "$(aupctl_run customer show acme)" $'\ncomplaints: 1$' \
    "customer show reports the complaint count"
acme --to victim@remote.example
like "$(smtp_rcpt_replies)" '^550 5\.7\.1 Recipient <victim@remote\.example> is on the opt-out list of customer acme' \
    "after the complaint, acme's next message to victim is refused at RCPT"
beta --to victim@remote.example
like "$(smtp_rcpt_replies)" '^250 ' "beta can still reach victim"

# --- by Message-ID, without the token (headers only) -------------------------
acme --to reader@remote.example --header 'Message-Id: <m3@acme.example>'
ref3=$(field "$(aupctl_run evidence search --message-id '<m3@acme.example>')" ref)
arf reader@remote.example '<m3@acme.example>' >"$E2E_DIR/arf2"
out=$(aupctl_run complaint ingest < "$E2E_DIR/arf2")
like "$out" "matched transaction $ref3 by message-id \\(customer acme\\)" \
    "a report from standard input matched by Message-ID"
acme --to reader@remote.example
like "$(smtp_rcpt_replies)" '^550 5\.7\.1 .*rule optout' "reader is now refused for acme"

# --- unmatched and bad reports ----------------------------------------------
arf stranger@remote.example '<never-sent@nowhere.example>' >"$E2E_DIR/arf3"
out=$(aupctl_run complaint ingest "$E2E_DIR/arf3")
ok $? "an unmatched report is ingested (exit 0)"
like "$out" 'unmatched: no transaction found' "and says it is unmatched"
crec=$(aupctl_run evidence search --message-id '<never-sent@nowhere.example>')
is "$(field "$crec" event)/$(field "$crec" matched)" complaint/false \
    "the unmatched complaint is recorded, not dropped"
head -n 14 "$E2E_DIR/arf1" >"$E2E_DIR/arf-cut"
out=$(aupctl_run complaint ingest "$E2E_DIR/arf-cut" 2>&1)
is "$?" 1 "a truncated report is refused"
like "$out" 'bad feedback report: report truncated: the closing boundary "--B0--" never comes' \
    "with a clear error"

out=$(aupctl_run evidence verify)
ok $? "evidence chain intact after complaints" || diag "$out"
done_testing
