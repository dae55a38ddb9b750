#!/bin/bash
# 50-headers.t - no header forgery, through a real private Postfix:
# header_from (one From; From, Sender, Reply-To parse, with encoded words;
# the From domain authorized; no display-name spoof), trace (no Received
# header naming the provider's relays) and dkim (signatures verified by
# libopendkim with keys from the loopback DNS server, tests/e2e/dns.sh).
# The DKIM test key is made at test time with openssl and the message is
# signed here (relaxed/relaxed, rsa-sha256) independently of libopendkim.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns.sh"

e2e_init
plan 53

command -v openssl >/dev/null || bail "openssl not installed"
key=$E2E_DIR/dkim.key
openssl genrsa -out "$key" 1024 2>/dev/null || bail "openssl genrsa failed"
pub=$(openssl rsa -in "$key" -pubout -outform DER 2>/dev/null | base64 -w0)
[ -n "$pub" ] || bail "no public key"

e2e_sink_start
e2e_sasl_start
e2e_add_user alice@acme.example alicepw
DNS_EXTRA_DATA="local-data: 'sel._domainkey.acme.example. 300 IN TXT \"v=DKIM1; k=rsa; p=$pub\"'
local-data: 'other._domainkey.acme.example. 300 IN TXT \"v=DKIM1; k=rsa; p=$pub\"'"
e2e_dns_start
base_conf="Socket inet:$MILTER_PORT@127.0.0.1
Database db
EvidenceLog evidence.log
LocalDomains example.net
RelayHostnames relay.provider.example
Nameserver $DNS_NAMESERVER
DNSTimeout 1
DNSTries 1
Syslog no"
e2e_milter_start "$base_conf"
prov() { aupctl_run "$@" >/dev/null || diag "aupctl $* failed"; }
prov plan set basic max_rcpts_per_msg=99
prov customer add acme --plan basic --contact noc@acme.example
prov customer login add acme alice@acme.example
prov customer domain add acme acme.example
e2e_postfix_start "inet:127.0.0.1:$MILTER_PORT"

field() {	# field RECORD PATH (a.b for nested): the member, JSON if not a string
	head -n 1 <<< "$1" | perl -MJSON::PP -e 'binmode STDOUT, ":utf8";
	    my $k = shift; my $l = <STDIN>;
	    my $v = eval { decode_json($l) } or exit 1;
	    for (split /\./, $k) { $v = ref $v eq "HASH" ? $v->{$_} :
	        ref $v eq "ARRAY" ? $v->[$_] : undef }
	    print ref $v ? JSON::PP->new->canonical->encode($v) : ($v // "null")' "$2"
}
ref_of() { sed -n 's/.*(rule [a-z_]*, ref \([0-9a-f]*\)).*/\1/p' <<< "$1" | head -n 1; }
record() { aupctl_run evidence search --ref "$1"; }
n=0
# msg HEADERS... : write a message (CRLF), headers one per argument, then
# a two-line body; sets MSG to the file name (not in a subshell: it counts)
msg() {
	local f=$E2E_DIR/msg.$((++n)) h
	{
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf 'To: r@remote.example\r\nSubject: test %d\r\n' "$n"
		printf 'Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n'
		printf 'Message-ID: <m%d@acme.example>\r\n\r\n' "$n"
		printf 'Hello,\r\nthis is message %d.\r\n' "$n"
	} >"$f"
	MSG=$f
}
send() { smtp_send --auth alice@acme.example:alicepw --from a@acme.example \
    --to r@remote.example --data "$1"; }

# dkim_sign FILE SELECTOR [DOMAIN]: print FILE with a DKIM-Signature
# (relaxed/relaxed, rsa-sha256, d=DOMAIN, default acme.example) over
# from:to:subject:date:message-id
dkim_sign() {
	perl -MDigest::SHA=sha256_base64 -e '
		my ($file, $sel, $key, $dom) = @ARGV;
		local $/; open my $fh, "<", $file or die; my $m = <$fh>;
		my ($head, $body) = split /\r\n\r\n/, $m, 2;
		my $b = $body; $b =~ s/[ \t]+\r\n/\r\n/g; $b =~ s/[ \t]+/ /g;
		$b =~ s/(\r\n)+\z//; $b .= "\r\n" if length $b;
		my $bh = sha256_base64($b); $bh .= "=" while length($bh) % 4;
		my %h;
		for (split /\r\n(?![ \t])/, $head) {
			my ($n, $v) = /^([^:]+):(.*)\z/s or next;
			$h{lc $n} //= $v;
		}
		my $canon = sub { my ($n, $v) = @_; $v =~ s/\r\n//g;
		    $v =~ s/[ \t]+/ /g; $v =~ s/^ | $//g; lc($n) . ":" . $v };
		my @names = qw(from to subject date message-id);
		my $sig = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=$dom; " .
		    "s=$sel; t=" . time() . "; h=" . join(":", @names) .
		    "; bh=$bh; b=";
		my $data = join("", map { $canon->($_, $h{$_}) . "\r\n" } @names) .
		    $canon->("DKIM-Signature", " $sig");
		open my $o, "|-", "openssl dgst -sha256 -sign $key -binary | base64 -w0 > $file.sig" or die;
		print $o $data; close $o or die "openssl failed\n";
		open my $s, "<", "$file.sig" or die; my $b64 = <$s>;
		print "DKIM-Signature: $sig$b64\r\n$m";' "$1" "$2" "$key" \
	    "${3:-acme.example}"
}

# --- header_from -----------------------------------------------------------
msg 'From: =?UTF-8?Q?Alic=C3=A9_L?= <alice@acme.example>'
send "$MSG"
like "$(smtp_data_reply)" '^250 ' "aligned From (encoded display name): accepted"
rec=$(aupctl_run evidence search --message-id "<m$n@acme.example>")
is "$(field "$rec" header_from)" alice@acme.example "evidence: the From address"
is "$(field "$rec" header_from_name)" "Alicé L" "evidence: the decoded display name"
is "$(field "$rec" dkim)" '[]' "evidence: no DKIM signature"
accepted=1

msg 'From: Mallory <x@other.example>'
send "$MSG"
reply=$(smtp_data_reply)
like "$reply" '^550 5\.7\.1 From header address <x@other\.example>: domain other\.example is not authorized for customer acme \(rule header_from, ref [0-9a-f]{12}\)$' \
    "foreign From: 550 5.7.1 naming the header and why"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" rule)" header_from "evidence: rule header_from"
is "$(field "$rec" stage)" eom "evidence: refused at end of message"
is "$(field "$rec" header_from)" x@other.example "evidence: the foreign From"

msg 'From: alice@acme.example' 'From: bob@acme.example'
send "$MSG"
like "$(smtp_data_reply)" '^550 5\.7\.1 The message has 2 From headers; exactly one is allowed \(rule header_from' \
    "two From headers: 550 5.7.1"

msg 'Sender: alice@acme.example'
send "$MSG"
like "$(smtp_data_reply)" '^550 5\.7\.1 The message has no From header \(rule header_from' \
    "missing From: 550 5.7.1"

msg 'From: alice@acme.example' 'Reply-To: Support <help@acme.example'
send "$MSG"
like "$(smtp_data_reply)" '^550 5\.7\.1 The Reply-To header does not parse: unbalanced angle brackets at character 9 of "Support <help@acme.example" \(rule header_from' \
    "unparsable Reply-To: 550 5.7.1 naming the problem and where"

msg 'From: alice@acme.example' 'Reply-To: helpdesk@elsewhere.example'
send "$MSG"
like "$(smtp_data_reply)" '^250 ' "a Reply-To of another domain is allowed"
accepted=$((accepted + 1))

msg 'From: "support@bank.example" <x@acme.example>'
send "$MSG"
like "$(smtp_data_reply)" '^550 5\.7\.1 From header display name shows an address of another domain \(bank\.example\) than its own <x@acme\.example> \(rule header_from' \
    "display-name spoof: 550 5.7.1"

msg 'From: =?utf-8?q?support=40bank=2Eexample?= <x@acme.example>'
send "$MSG"
like "$(smtp_data_reply)" '^550 5\.7\.1 From header display name shows an address of another domain \(bank\.example\)' \
    "display-name spoof hidden in an encoded word: 550 5.7.1"

msg 'From: "Alice (alice@acme.example)" <alice@acme.example>'
send "$MSG"
like "$(smtp_data_reply)" '^250 ' "a display name showing its own address is fine"
accepted=$((accepted + 1))

msg 'From: alice@acme.example' 'Sender: ops@other.example'
send "$MSG"
like "$(smtp_data_reply)" '^550 5\.7\.1 Sender header address <ops@other\.example>: domain other\.example is not authorized' \
    "Sender of a foreign domain: 550 5.7.1"

msg 'From: alice@acme.example,' ' bob@other.example'
send "$MSG"
like "$(smtp_data_reply)" '^550 5\.7\.1 From header address <bob@other\.example>' \
    "folded From list with a foreign second address: 550 5.7.1"

# --- trace -----------------------------------------------------------------
msg 'Received: from mx.example (mx.example [192.0.2.7])' \
    '	by relay.provider.example (Postfix) with ESMTPS id 4Xyz' \
    '	for <r@remote.example>; Sun, 22 Nov 2026 09:59:00 +0000' \
    'From: alice@acme.example'
send "$MSG"
reply=$(smtp_data_reply)
like "$reply" '^550 5\.7\.1 Forged trace header: Received header 1 claims the message passed through relay\.provider\.example, a relay of this provider \(rule trace, ref [0-9a-f]{12}\)$' \
    "forged Received naming the provider's relay: 550 5.7.1"
is "$(field "$(record "$(ref_of "$reply")")" rule)" trace "evidence: rule trace"

msg 'Received: from laptop (laptop.acme.example [192.0.2.9])' \
    '	by mail.acme.example; Sun, 22 Nov 2026 09:59:00 +0000' \
    'From: alice@acme.example'
send "$MSG"
like "$(smtp_data_reply)" '^250 ' "the customer's own Received headers are fine"
accepted=$((accepted + 1))

msg 'Received: from x by y; for <user@relay.provider.example>' \
    'From: alice@acme.example'
send "$MSG"
like "$(smtp_data_reply)" '^250 ' "a relay hostname in an address is no trace claim"
accepted=$((accepted + 1))

msg 'Authentication-Results: relay.provider.example; dkim=pass header.d=acme.example' \
    'From: alice@acme.example'
send "$MSG"
like "$(smtp_data_reply)" '^250 ' "a client's Authentication-Results is not read (and not trusted)"
accepted=$((accepted + 1))

# --- dkim ------------------------------------------------------------------
msg 'From: Alice <alice@acme.example>'
f=$MSG
dkim_sign "$f" sel >"$f.signed" || bail "signing failed"
send "$f.signed"
like "$(smtp_data_reply)" '^250 ' "DKIM-signed with the published key: accepted"
accepted=$((accepted + 1))
rec=$(aupctl_run evidence search --message-id "<m$n@acme.example>")
is "$(field "$rec" dkim.0.result)" pass "evidence: dkim pass"
is "$(field "$rec" dkim.0.domain)" acme.example "evidence: dkim domain"
is "$(field "$rec" dkim.0.selector)" sel "evidence: dkim selector"
is "$(field "$rec" dkim.0.reason)" "signature verified" "evidence: dkim reason"

altered=$f.altered
sed 's/this is message/this is an altered message/' "$f.signed" >"$altered"
send "$altered"
reply=$(smtp_data_reply)
like "$reply" '^550 5\.7\.1 DKIM signature of acme\.example \(selector sel\) fails: body hash does not match \(body altered\) \(rule dkim, ref [0-9a-f]{12}\)$' \
    "the same message altered: 550 5.7.1"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" rule)" dkim "evidence: rule dkim"
is "$(field "$rec" dkim.0.result)" fail "evidence: dkim fail"

sed 's/^Subject: test [0-9]*/Subject: changed/' "$f.signed" >"$f.subj"
send "$f.subj"
like "$(smtp_data_reply)" '^550 5\.7\.1 DKIM signature of acme\.example \(selector sel\) fails: signature does not verify' \
    "a signed header altered: 550 5.7.1"

msg 'From: Alice <alice@acme.example>'
f=$MSG
dkim_sign "$f" nokey >"$f.signed" || bail "signing failed"
send "$f.signed"
like "$(smtp_data_reply)" '^250 ' "a signature whose key is not published is recorded, not refused"
accepted=$((accepted + 1))
rec=$(aupctl_run evidence search --message-id "<m$n@acme.example>")
is "$(field "$rec" dkim.0.result)" permerror "evidence: dkim permerror"

# six signatures, DKIMMaxSignatures 5: the sixth is skipped
msg 'From: Alice <alice@acme.example>'
f=$MSG
cp "$f" "$f.s0"
for i in 1 2 3 4 5 6; do
	dkim_sign "$f.s$((i - 1))" sel >"$f.s$i" || bail "signing failed"
done
send "$f.s6"
like "$(smtp_data_reply)" '^250 ' "six valid signatures: accepted"
accepted=$((accepted + 1))
rec=$(aupctl_run evidence search --message-id "<m$n@acme.example>")
is "$(field "$rec" dkim.4.result)" pass "evidence: the fifth signature verified"
is "$(field "$rec" dkim.5.result)" skipped "evidence: the sixth skipped (DKIMMaxSignatures)"

# A key lookup that times out (slow.test is delegated to a server that
# never answers, tests/e2e/dns.sh) for a domain of the customer's:
# 451 4.4.3 within the DNS budget, or accepted with DNSFailure accept.
prov customer domain add acme acme.slow.test
msg 'From: Alice <alice@acme.example>'
f=$MSG
dkim_sign "$f" sel acme.slow.test >"$f.slow" || bail "signing failed"
send "$f.slow"
reply=$(smtp_data_reply)
like "$reply" '^451 4\.4\.3 Cannot check the DKIM signature of acme\.slow\.test now: key lookup failed: .*; try again later \(rule dkim, ref [0-9a-f]{12}\)$' \
    "a DKIM key lookup that times out: 451 4.4.3"
rec=$(record "$(ref_of "$reply")")
is "$(field "$rec" dkim.0.result)" temperror "evidence: dkim temperror"
grep -q "ref=$(ref_of "$reply") rule=dkim dns=\"sel._domainkey.acme.slow.test: .*failed closed (tempfail)" "$MILTER_LOG"
ok $? "the milter logs the lookup that failed and that it failed closed"
e2e_milter_stop
e2e_milter_start "$base_conf
DNSFailure accept"
send "$f.slow"
like "$(smtp_data_reply)" '^250 ' "DNSFailure accept: the message whose key lookup times out is accepted"
accepted=$((accepted + 1))
rec=$(aupctl_run evidence search --message-id "<m$n@acme.example>" | tail -n 1)
is "$(field "$rec" dkim.0.result)" temperror "and its evidence says temperror"
dkim_sign "$f.slow" sel >"$f.both" || bail "signing failed"
send "$f.both"
like "$(smtp_data_reply)" '^250 ' "signed again by acme.example: accepted"
accepted=$((accepted + 1))
rec=$(aupctl_run evidence search --message-id "<m$n@acme.example>" | tail -n 1)
is "$(field "$rec" dkim.0.result)/$(field "$rec" dkim.1.result)" pass/temperror \
    "the other signature is still verified (a lookup timing out spoils only its own)"

# --- log mode, and nothing refused reached the sink ------------------------
wait_sink_count "$accepted" >/dev/null
is "$(sink_count)" "$accepted" "only the accepted messages reached the sink"
e2e_milter_stop
e2e_milter_start "$base_conf
Rule.header_from log
Rule.dkim log"
msg 'From: Mallory <x@other.example>'
send "$MSG"
like "$(smtp_data_reply)" '^250 ' "Rule.header_from log: the foreign From is accepted"
rec=$(aupctl_run evidence search --message-id "<m$n@acme.example>")
like "$(field "$rec" violations)" '"rule":"header_from"' "and recorded as a violation"
send "$altered"
like "$(smtp_data_reply)" '^250 ' "Rule.dkim log: the altered message is accepted"
e2e_milter_stop
e2e_milter_start "$base_conf
HeaderMaxAddresses 2"
msg 'From: a@acme.example, b@acme.example, c@acme.example' 'Sender: a@acme.example'
send "$MSG"
like "$(smtp_data_reply)" '^550 5\.7\.1 The From header has more than 2 addresses \(rule header_from' \
    "HeaderMaxAddresses 2: a From of three addresses is refused"

# --- Rule.dkim off and Rule.msg_size off: Postfix does not send the body ---
bigmsg() {	# a message from alice with a 6000-byte body
	msg 'From: Alice <alice@acme.example>'
	head -c 6000 /dev/zero | tr '\0' x | fold -w 75 | sed 's/$/\r/' >>"$MSG"
}
bigmsg
send "$MSG"
size=$(field "$(aupctl_run evidence search --message-id "<m$n@acme.example>")" size)
[ "${size:-0}" -gt 6000 ]; ok $? "with the body requested, size counts it ($size)"
e2e_milter_stop
e2e_milter_start "$base_conf
Rule.dkim off
Rule.msg_size off"
bigmsg
send "$MSG"
like "$(smtp_data_reply)" '^250 ' "dkim and msg_size off: accepted"
size=$(field "$(aupctl_run evidence search --message-id "<m$n@acme.example>")" size)
[ "${size:-99999}" -lt 6000 ]; ok $? "the body was not requested: size is the header's ($size)"
send "$altered"
like "$(smtp_data_reply)" '^250 ' "Rule.dkim off: the altered signed message is accepted"
mid=$(sed -n 's/^Message-I[dD]: *//p' "$altered" | head -n 1 | tr -d '\r')
rec=$(aupctl_run evidence search --message-id "$mid" | tail -n 1)
is "$(field "$rec" dkim)" null "and its signature is not verified (evidence dkim: null)"
