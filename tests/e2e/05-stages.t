#!/bin/bash
# 05-stages.t - every libmilter path that ends a transaction or connection,
# driven by miltertest (no MTA), checked in the evidence log; under
# `make san-check` the milter's clean exit also proves no leaks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns.sh"

e2e_init
command -v miltertest >/dev/null || skip_all "miltertest not installed"
plan 25

e2e_dns_start	# return addresses are checked in DNS
e2e_milter_start "Socket inet:$MILTER_PORT@127.0.0.1
Database db
EvidenceLog evidence.log
LocalDomains example.net
Nameserver $DNS_NAMESERVER
Syslog no"
aupctl_run plan set tiny max_rcpts_per_msg=2 >/dev/null
aupctl_run customer add acme --plan tiny --contact noc@acme.example >/dev/null
aupctl_run customer login add acme alice >/dev/null &&
aupctl_run customer domain add acme acme.example >/dev/null
ok $? "provisioned acme with login alice"

MILTER_SOCKET=$MILTER_SOCKET miltertest -s "$E2E_LIB_DIR/stages.lua" \
    > "$E2E_DIR/mt.out" 2>&1
ok $? "miltertest script ran to the end" || e2e_log_tail "$E2E_DIR/mt.out"
while read -r tag result desc; do
	[ "$tag" = RESULT ] || continue
	[ "$result" = done ] && continue
	[ "$result" = ok ]; ok $? "$desc"
done < "$E2E_DIR/mt.out"

ev=$E2E_DIR/evidence.log
acme=$(aupctl_run evidence search --customer acme | grep -c '"event":"transaction"')
is "$acme" 4 "four acme transactions recorded (RSET, EOM, new MAIL, disconnect)"
accepted=$(aupctl_run evidence search --customer acme | grep -c '"action":"accept"')
is "$accepted" 1 "one of them accepted at end of message"
rec=$(aupctl_run evidence search --message-id '<stage-2@acme.example>')
like "$rec" '"queue_id":"STAGEQ1"' "accepted record carries the queue id"
rec=$(aupctl_run evidence search --ip 198.51.100.3)
like "$rec" '"rejected_rcpts":\[\{"rcpt":"v@remote.example","rule":"relay","reply":"550 5.7.1 ' \
    "relay refusal recorded with rule and reply"
like "$rec" '"rcpts":\["u@example.net"\]' "local recipient recorded as accepted"
aupctl_run evidence verify >/dev/null
ok $? "evidence chain verifies"

e2e_milter_stop
is "$MILTER_EXIT" 0 "milter exits cleanly on SIGTERM (no sanitizer report)" ||
    e2e_log_tail "$MILTER_LOG"
done_testing
