#!/bin/bash
# 20-sender.t - the return address, the own-mail-server half of relay,
# SPF and dynamic leases, through a real private Postfix, with every DNS
# answer from a real DNS server on loopback (unbound, tests/e2e/dns.sh):
# syntax (553 5.1.7), authorized domains, subdomains and operator
# domains (550 5.1.8), MX / A / null MX / NXDOMAIN / no mail records,
# DNS timeouts (451 4.4.3, or accepted with DNSFailure accept), the null
# sender as a one-recipient bounce, own_mail_server relaying (550 5.7.1),
# SPF results (fail: 550 5.7.23) for customers attributed by IP but not
# by login, and attribution by the lease in force.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns.sh"

e2e_init
plan 67

e2e_sink_start
e2e_sasl_start
e2e_add_user alice@acme.example alicepw
e2e_add_user staff@acme.example staffpw
DNS_EXTRA_DATA='local-data: "sub.mx.test. 300 IN MX 10 mail.mx.test."
local-data: "xn--bcher-kva.example. 300 IN MX 10 mail.mx.test."'
e2e_dns_start
conf="Socket inet:$MILTER_PORT@127.0.0.1
Database db
EvidenceLog evidence.log
LocalDomains example.net
OperatorDomains mail.mx.test
Nameserver $DNS_NAMESERVER
DNSTimeout 1
DNSTries 1
Syslog no"
e2e_milter_start "$conf"
now=$(date -u +%s)
ago() { date -u -d "@$((now - $1))" +%Y-%m-%dT%H:%M:%SZ; }
prov() { aupctl_run "$@" >/dev/null || diag "aupctl $* failed"; }
prov plan set basic max_rcpts_per_msg=99
prov customer add acme --plan basic --contact noc@acme.example
prov customer login add acme alice@acme.example
for d in acme.example aonly.test aaaaonly.test nullmx.test nx.test \
    nomail.test spf-fail.test; do
	prov customer domain add acme "$d"
done
prov customer domain add acme mx.test --subdomains
prov customer domain add acme slow.test --subdomains
prov customer add staff --plan basic --contact noc@mx.test
prov customer login add staff staff@acme.example
prov customer domain add staff mail.mx.test
prov customer add netco --plan basic --contact noc@netco.example
prov customer network add netco 127.0.0.2/32
for d in spf-pass.test spf-fail.test spf-softfail.test spf-neutral.test \
    spf-include.test spf-toomany.test spf-temp.test mx.test; do
	prov customer domain add netco "$d"
done
prov customer add ownco --plan basic --contact noc@own.example --own-mail-server
prov customer network add ownco 127.0.0.4/32
prov customer domain add ownco own.example
prov customer add leaseco --plan basic --contact noc@leaseco.example
prov customer domain add leaseco leaseco.example
out=$(aupctl_run lease add 127.0.0.5 leaseco "$(ago 3600)")
like "$out" '^lease 127\.0\.0\.5: customer leaseco from .* \(open\)$' \
    "aupctl lease add: an open lease"
aupctl_run lease add 127.0.0.6 leaseco "$(ago 7200)" "$(ago 3600)" >/dev/null
ok $? "aupctl lease add: a lease that has ended"
e2e_postfix_start "inet:127.0.0.1:$MILTER_PORT"

record() { aupctl_run evidence search --ref "$1"; }
field() {	# field RECORD PATH (a.b for nested): the member, JSON if not a string
	head -n 1 <<< "$1" | perl -MJSON::PP -e 'my $k = shift; my $l = <STDIN>;
	    my $v = eval { decode_json($l) } or exit 1;
	    for (split /\./, $k) { $v = ref $v eq "HASH" ? $v->{$_} :
	        ref $v eq "ARRAY" ? $v->[$_] : undef }
	    print ref $v ? JSON::PP->new->canonical->encode($v) : ($v // "null")' "$2"
}
ref_of() { sed -n 's/.*(rule [a-z_]*, ref \([0-9a-f]*\)).*/\1/p' <<< "$1" | head -n 1; }
# as_alice FROM [smtp_send options]: send as alice (not in a subshell:
# smtp_send sets SMTP_LOG for the reply extractors)
as_alice() {
	local from=$1
	shift
	smtp_send --auth alice@acme.example:alicepw --from "$from" \
	    --to r@remote.example "$@"
}
# from_ip IP FROM [options]: send from a loopback address, no AUTH
from_ip() {
	local ip=$1 from=$2
	shift 2
	smtp_send --local-interface "$ip" --from "$from" --to r@remote.example "$@"
}

# --- syntax -------------------------------------------------------------------
as_alice 'a..b@acme.example'
reply=$(smtp_mail_reply)
like "$reply" '^553 5\.1\.7 Invalid return address .*bad local part at character 4 \(rule return_address, ref [0-9a-f]{12}\)$' \
    "bad local part: 553 5.1.7 naming the problem and where"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" action)" reject "evidence: refused at MAIL"
is "$(field "$rec" stage)" mail "evidence: stage mail"
is "$(field "$rec" rule)" return_address "evidence: rule return_address"
as_alice '"john doe"@acme.example' --header 'Message-Id: <quoted@acme.example>'
reply=$(smtp_mail_reply)
like "$reply" '^250 ' "a quoted local part is a valid return address"
like "$(smtp_data_reply)" '^250 ' "and the message is accepted"
as_alice "$(printf 'a%.0s' $(seq 65))@acme.example"
reply=$(smtp_mail_reply)
like "$reply" '^553 5\.1\.7 .*local part longer than 64 octets' \
    "65-octet local part: 553 5.1.7"
as_alice '@relay.example:a@acme.example' --header 'Message-Id: <route@acme.example>' \
    --header 'From: a@acme.example'
reply=$(smtp_mail_reply)
like "$reply" '^250 ' "a source route is accepted (and ignored)"
rec=$(aupctl_run evidence search --message-id '<route@acme.example>')
is "$(field "$rec" action)" accept "evidence: the routed sender was accepted"

# --- authorized domains ----------------------------------------------------------
as_alice a@other.example
reply=$(smtp_mail_reply)
like "$reply" '^550 5\.1\.8 Return address domain other\.example is not authorized for customer acme \(rule return_address, ref [0-9a-f]{12}\)$' \
    "domain not authorized: 550 5.1.8"
as_alice a@sub.mx.test --header 'Message-Id: <sub@acme.example>'
reply=$(smtp_mail_reply)
like "$reply" '^250 ' "subdomain of a domain authorized with --subdomains"
like "$(smtp_data_reply)" '^250 ' "accepted"
as_alice a@mail.mx.test
reply=$(smtp_mail_reply)
like "$reply" '^550 5\.1\.8 Return address domain mail\.mx\.test belongs to the provider and is not authorized for customer acme' \
    "an OperatorDomains domain, covered only by --subdomains: 550 5.1.8"
smtp_send --auth staff@acme.example:staffpw --from a@mail.mx.test --to r@remote.example
like "$(smtp_mail_reply)" '^250 ' "explicitly authorized for the operator domain: accepted"
as_alice 'a@[192.0.2.1]'
reply=$(smtp_mail_reply)
like "$reply" '^550 5\.1\.8 Return address <a@\[192\.0\.2\.1\]> has an address literal' \
    "an address literal is no customer domain: 550 5.1.8"

# --- the domain exists for mail -----------------------------------------------------
as_alice a@aonly.test --header 'Message-Id: <aonly@acme.example>'
reply=$(smtp_mail_reply)
like "$reply" '^250 ' "A record, no MX: the domain exists"
like "$(smtp_data_reply)" '^250 ' "accepted"
wait_sink_count 1 >/dev/null
as_alice a@aaaaonly.test
reply=$(smtp_mail_reply)
like "$reply" '^250 ' "AAAA record only: exists"
as_alice a@nullmx.test
reply=$(smtp_mail_reply)
like "$reply" '^550 5\.1\.8 Return address domain nullmx\.test has a null MX \(RFC 7505\)' \
    "null MX: 550 5.1.8"
as_alice a@nx.test
reply=$(smtp_mail_reply)
like "$reply" '^550 5\.1\.8 Return address domain nx\.test does not exist in DNS' \
    "NXDOMAIN: 550 5.1.8"
as_alice a@nomail.test
reply=$(smtp_mail_reply)
like "$reply" '^550 5\.1\.8 Return address domain nomail\.test has no MX or address records' \
    "a name with neither MX nor A/AAAA: 550 5.1.8"
# The milter's own 451 (not Postfix's milter-timeout default, the harness
# sets milter_command_timeout 10s) shows the DNS budget held: no timed test.
as_alice a@x.slow.test
reply=$(smtp_mail_reply)
like "$reply" '^451 4\.4\.3 Cannot check the return address now: DNS lookup of x\.slow\.test MX failed \(.*\); try again later \(rule return_address, ref [0-9a-f]{12}\)$' \
    "DNS timeout: 451 4.4.3"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" action)" tempfail "evidence: tempfail"
is "$(field "$rec" dns.0.outcome)" "failed closed" "evidence: the DNS failure failed closed"
is "$(field "$rec" dns.0.query)" "x.slow.test MX" "evidence: which query"

# --- the null sender is a bounce: one recipient ---------------------------------------
smtp_send --auth alice@acme.example:alicepw --from '<>' --to r@remote.example \
    --header 'Message-Id: <bounce-1@acme.example>' \
    --header 'From: MAILER-DAEMON@acme.example'
like "$(smtp_data_reply)" '^250 ' "null sender with one recipient: accepted"
smtp_send --auth alice@acme.example:alicepw --from '<>' \
    --to r1@remote.example,r2@remote.example --header 'Message-Id: <bounce-2@acme.example>'
replies=$(smtp_rcpt_replies)
like "$(head -n 1 <<< "$replies")" '^250 ' "null sender: first recipient accepted"
like "$(tail -n 1 <<< "$replies")" '^550 5\.5\.3 The null sender <> is for bounces, which have one recipient' \
    "null sender: second recipient refused 550 5.5.3"
rec=$(aupctl_run evidence search --message-id '<bounce-2@acme.example>')
is "$(field "$rec" rejected_rcpts.0.rule)" return_address "evidence: refused by return_address"

# --- own mail server: no third-party relaying -------------------------------------------
from_ip 127.0.0.4 a@mx.test
reply=$(smtp_mail_reply)
like "$reply" '^550 5\.7\.1 Relaying denied: customer ownco runs its own mail server and may only send as its own domains, not mx\.test \(rule relay, ref [0-9a-f]{12}\)$' \
    "own_mail_server customer with another domain: 550 5.7.1"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" rule)" relay "evidence: rule relay"
from_ip 127.0.0.4 a@own.example --header 'Message-Id: <own@own.example>'
reply=$(smtp_mail_reply)
like "$reply" '^250 ' "own_mail_server customer with its own domain: accepted"
like "$(smtp_data_reply)" '^250 ' "and delivered"

# --- SPF for customers attributed by IP -----------------------------------------------
from_ip 127.0.0.2 a@spf-fail.test
reply=$(smtp_mail_reply)
like "$reply" '^550 5\.7\.23 SPF check failed: spf-fail\.test does not allow 127\.0\.0\.2 to send its mail \(rule spf, ref [0-9a-f]{12}\)$' \
    "SPF fail: 550 5.7.23"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" spf.result)" fail "evidence: spf result fail"
is "$(field "$rec" spf.domain)" spf-fail.test "evidence: spf domain"
spf_of() {	# spf_of FROM: send from netco, print the recorded SPF result
	local mid="<spf-$1@netco.example>"
	from_ip 127.0.0.2 "$1" --header "Message-Id: $mid" >/dev/null
	field "$(aupctl_run evidence search --message-id "$mid")" spf.result
}
is "$(spf_of a@spf-pass.test)" pass "SPF pass: accepted and recorded"
is "$(spf_of a@spf-softfail.test)" softfail "SPF softfail: accepted, recorded"
is "$(spf_of a@spf-neutral.test)" neutral "SPF neutral: accepted, recorded"
is "$(spf_of a@mx.test)" none "no SPF record: none, recorded"
is "$(spf_of a@spf-include.test)" pass "include chain: pass"
is "$(spf_of a@spf-toomany.test)" permerror "more than 10 DNS terms: permerror, recorded"
rec=$(aupctl_run evidence search --message-id '<spf-a@spf-toomany.test@netco.example>')
is "$(field "$rec" action)" accept "permerror does not refuse the message"
from_ip 127.0.0.2 a@spf-temp.test
reply=$(smtp_mail_reply)
like "$reply" '^451 4\.4\.3 Cannot check SPF now: .*\(rule spf, ref [0-9a-f]{12}\)$' \
    "SPF temperror (DNS timeout inside the record): 451 4.4.3"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" spf.result)" temperror "evidence: spf temperror"
is "$(field "$rec" dns.0.check)" spf "evidence: the DNS failure is SPF's"
as_alice a@spf-fail.test --header 'Message-Id: <auth-spf@acme.example>'
reply=$(smtp_mail_reply)
like "$reply" '^250 ' "SMTP AUTH submission: SPF does not apply"
rec=$(aupctl_run evidence search --message-id '<auth-spf@acme.example>')
is "$(field "$rec" spf)" null "evidence: spf null (not evaluated)"

# --- dynamic leases ------------------------------------------------------------------
from_ip 127.0.0.5 a@leaseco.example --header 'Message-Id: <lease@leaseco.example>'
reply=$(smtp_mail_reply)
like "$reply" '^250 ' "client on a leased address: may send"
like "$(smtp_data_reply)" '^250 ' "accepted"
rec=$(aupctl_run evidence search --message-id '<lease@leaseco.example>')
is "$(field "$rec" customer)" leaseco "evidence: attributed to the lease holder"
is "$(field "$rec" attribution.by)" lease "evidence: by lease"
like "$(field "$rec" attribution.value)" '^127\.0\.0\.5 [0-9T:-]+Z/-$' \
    "evidence: names the lease (address, start, open end)"
is "$(field "$rec" spf.result)" none "evidence: SPF evaluated for a leased address"
smtp_send --local-interface 127.0.0.6 --from a@leaseco.example --to r@remote.example
like "$(smtp_rcpt_replies)" '^550 5\.7\.1 Relaying to remote\.example denied' \
    "an ended lease attributes nothing: relay refused"
aupctl_run lease add 127.0.0.5 netco "$(ago 1800)" "$(ago 600)" >/dev/null 2>"$E2E_DIR/err"
is "$?" 1 "an overlapping lease is refused (exit 1)"
like "$(cat "$E2E_DIR/err")" "leased to customer 'leaseco'" "naming the lease it overlaps"
aupctl_run lease add 127.0.0.5 netco yesterday >/dev/null 2>&1
is "$?" 2 "a bad time is a usage error (exit 2)"
is "$(aupctl_run lease list --customer leaseco | wc -l)" 2 "lease list shows the history"

# --- SMTPUTF8: a U-label domain is checked in its A-label form --------------
prov customer domain add acme xn--bcher-kva.example
utf8_mail() {	# utf8_mail FROM [PARAM]: the reply to MAIL FROM
	perl -MIO::Socket::INET -MMIME::Base64 -e '
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]",
	    Timeout => 20) or die "connect: $!";
	sub rd { my $r = ""; while (my $l = <$s>) { $r = $l; last if $l =~ /^\d{3} / } $r =~ s/\r?\n$//; $r }
	rd();
	print $s "EHLO raw.test\r\n"; rd();
	print $s "AUTH PLAIN " . encode_base64("\0alice\@acme.example\0alicepw", "") . "\r\n"; rd();
	print $s "MAIL FROM:<$ARGV[1]>$ARGV[2]\r\n"; print rd(), "\n";
	print $s "QUIT\r\n"; rd();' "$SMTPD_PORT" "$1" "${2:-}"
}
like "$(utf8_mail 'a@bücher.example' ' SMTPUTF8')" '^250 ' \
    "SMTPUTF8: a@bücher.example is authorized as xn--bcher-kva.example and found in DNS"
like "$(utf8_mail 'a@☃.example' ' SMTPUTF8')" \
    '^553 5\.1\.7 Invalid return address domain .*not a valid internationalized domain name \(rule return_address, ref [0-9a-f]{12}\)$' \
    "SMTPUTF8: a domain IDNA2008 disallows (U+2603) gets 553 5.1.7"

# --- DNSFailure accept ---------------------------------------------------------------
e2e_milter_stop
e2e_milter_start "$conf
DNSFailure accept"
as_alice a@y.slow.test --header 'Message-Id: <dnsopen@acme.example>'
reply=$(smtp_mail_reply)
like "$reply" '^250 ' "DNSFailure accept: a DNS timeout lets the mail through"
like "$(smtp_data_reply)" '^250 ' "accepted"
rec=$(aupctl_run evidence search --message-id '<dnsopen@acme.example>')
is "$(field "$rec" dns.0.outcome)" "failed open" "evidence: the DNS failure failed open"

aupctl_run evidence verify >/dev/null
ok $? "evidence chain verifies"
done_testing
