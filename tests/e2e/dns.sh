# dns.sh - a real DNS server on loopback for the tests (unbound, local data)
# shellcheck shell=bash
#
# Sourced by e2e tests (after lib.sh) or run as a script by unit tests:
#
#   . "$(dirname "$0")/dns.sh"
#   e2e_dns_start                  # needs E2E_DIR (e2e_init) or DNS_DIR
#   e2e_milter_start "... Nameserver $DNS_NAMESERVER ..."
#   (e2e_teardown stops it; or e2e_dns_stop)
#
#   tests/e2e/dns.sh start DIR     # prints "PORT SILENT_PORT", returns
#   tests/e2e/dns.sh stop DIR      # once it answers; stop kills both
#
# What runs: unbound (module iterator only, no DNSSEC, never recursing:
# local-zone "." is static, so a name without local data is NXDOMAIN and
# nothing is ever sent off loopback) listening on 127.0.0.1:$DNS_PORT
# (UDP and TCP), plus a "silent" server on 127.0.0.1:$DNS_SILENT_PORT
# that reads UDP queries and never answers. The zone slow.test is
# delegated (stub-zone) to the silent server, so names under it time out.
# Query the silent server directly for a sure timeout.
#
# Test data (all TTL 300 unless said; 127.0.0.0/8 and ::1 are the clients):
#   mx.test            MX 10 mail.mx.test; mail.mx.test A 192.0.2.25
#   aonly.test         A 192.0.2.26 (no MX)
#   aaaaonly.test      AAAA 2001:db8::26 (no MX, no A)
#   nullmx.test        MX 0 . (RFC 7505)
#   nomail.test        TXT only: exists, no MX/A/AAAA
#   ttl1.test          A 192.0.2.27, TTL 1
#   neg.test           zone with SOA minimum 2: x.neg.test is NXDOMAIN
#                      with a negative TTL of 2 s
#   txt.test           TXT "hello" "world" (two strings)
#   (anything else, e.g. nx.test: NXDOMAIN)
#   spf-pass.test      MX; v=spf1 ip4:127.0.0.0/8 ip6:::1 -all
#   spf-fail.test      MX; v=spf1 ip4:192.0.2.1 -all
#   spf-softfail.test  MX; v=spf1 ip4:192.0.2.1 ~all
#   spf-neutral.test   MX; v=spf1 ?all
#   spf-include.test   MX; include chain inc1 -> inc2 -> ip4:127.0.0.0/8
#   spf-toomany.test   MX; 11 include: terms (RFC 7208 limit is 10)
#   spf-void.test      MX; three a: terms naming NXDOMAIN names
#   spf-temp.test      MX; a:x.slow.test (times out)
#   spf-permerror.test MX; a syntax error
#   acme.example, netco.example, leaseco.example, customer.test,
#   other.example, own.example: MX (names the other tests send as)
# Extra unbound local-data lines: DNS_EXTRA_DATA (one per line, as in
# unbound.conf: local-data: "name. TTL IN TYPE RDATA").
#
# Sets DNS_PORT, DNS_SILENT_PORT, DNS_NAMESERVER (127.0.0.1:PORT),
# DNS_PID, DNS_SILENT_PID, DNS_LOG.

DNS_PORT='' DNS_SILENT_PORT='' DNS_NAMESERVER='' DNS_PID='' DNS_SILENT_PID=''
DNS_LOG=''

_dns_fail() {
	if declare -F bail >/dev/null; then
		bail "$1"
	fi
	echo "dns.sh: $1" >&2
	exit 1
}

# _dns_ports: two free ports (UDP and TCP) on 127.0.0.1
_dns_ports() {
	perl -MIO::Socket::INET -e '
		my (@got, %seen);
		for (1 .. 2000) {
			last if @got == 2;
			my $p = 20000 + int(rand(12768));
			next if $seen{$p}++;
			my $u = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
			    LocalPort => $p, Proto => "udp") or next;
			my $t = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
			    LocalPort => $p, Listen => 1, ReuseAddr => 1) or next;
			close $u; close $t; push @got, $p;
		}
		die "no free ports\n" unless @got == 2;
		print "@got\n";'
}

# _dns_query PORT NAME: 0 when the server answers an A query (any rcode)
_dns_query() {
	perl -MIO::Socket::INET -e '
		my ($port, $name) = @ARGV;
		my $q = pack("n6", 0x4242, 0x0100, 1, 0, 0, 0) .
		    join("", map { chr(length) . $_ } split /\./, $name) .
		    "\0" . pack("n2", 1, 1);
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $port, Proto => "udp") or exit 1;
		$s->send($q) or exit 1;
		my $r = "";
		eval {
			local $SIG{ALRM} = sub { die "t\n" };
			alarm 1; $s->recv($r, 4096); alarm 0;
		};
		exit(length($r) >= 12 && unpack("n", $r) == 0x4242 ? 0 : 1);' \
		"$1" "$2"
}

_dns_zone_data() {
	cat <<-EOF
		local-data: "mx.test. 300 IN MX 10 mail.mx.test."
		local-data: "mail.mx.test. 300 IN A 192.0.2.25"
		local-data: "aonly.test. 300 IN A 192.0.2.26"
		local-data: "aaaaonly.test. 300 IN AAAA 2001:db8::26"
		local-data: "nullmx.test. 300 IN MX 0 ."
		local-data: 'nomail.test. 300 IN TXT "no mail here"'
		local-data: "ttl1.test. 1 IN A 192.0.2.27"
		local-data: 'txt.test. 300 IN TXT "hello" "world"'
		local-zone: "neg.test." static
		local-data: "neg.test. 300 IN SOA ns.neg.test. host.neg.test. 1 3600 600 86400 2"
		local-data: "ready.test. 300 IN A 192.0.2.1"
	EOF
	local d
	for d in spf-pass spf-fail spf-softfail spf-neutral spf-include \
	    spf-toomany spf-void spf-temp spf-permerror acme.example \
	    netco.example leaseco.example customer.test other.example \
	    own.example; do
		case $d in *.*) ;; *) d=$d.test ;; esac
		echo "local-data: \"$d. 300 IN MX 10 mail.mx.test.\""
	done
	cat <<-'EOF'
		local-data: 'spf-pass.test. 300 IN TXT "v=spf1 ip4:127.0.0.0/8 ip6:::1 -all"'
		local-data: 'spf-fail.test. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"'
		local-data: 'spf-softfail.test. 300 IN TXT "v=spf1 ip4:192.0.2.1 ~all"'
		local-data: 'spf-neutral.test. 300 IN TXT "v=spf1 ?all"'
		local-data: 'spf-include.test. 300 IN TXT "v=spf1 include:inc1.spf-include.test -all"'
		local-data: 'inc1.spf-include.test. 300 IN TXT "v=spf1 include:inc2.spf-include.test -all"'
		local-data: 'inc2.spf-include.test. 300 IN TXT "v=spf1 ip4:127.0.0.0/8 ip6:::1 -all"'
		local-data: 'spf-void.test. 300 IN TXT "v=spf1 a:nx1.test a:nx2.test a:nx3.test ip4:127.0.0.0/8 -all"'
		local-data: 'spf-temp.test. 300 IN TXT "v=spf1 a:x.slow.test ip4:127.0.0.0/8 -all"'
		local-data: 'spf-permerror.test. 300 IN TXT "v=spf1 ip4:not-an-address -all"'
	EOF
	# a TXT string holds 255 octets: the record is two strings, which
	# SPF joins without a space (RFC 7208 3.3)
	local i inc=''
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		inc+="include:l$i.spf-toomany.test "
		[ "$i" = 6 ] && inc+='" "'
		echo "local-data: 'l$i.spf-toomany.test. 300 IN TXT \"v=spf1 ip4:192.0.2.$i -all\"'"
	done
	echo "local-data: 'spf-toomany.test. 300 IN TXT \"v=spf1 ${inc}ip4:127.0.0.0/8 -all\"'"
	[ -n "${DNS_EXTRA_DATA:-}" ] && printf '%s\n' "$DNS_EXTRA_DATA"
	:
}

# _dns_start DIR: start both servers, state in DIR
_dns_start() {
	local dir=$1 i ports
	command -v unbound >/dev/null 2>&1 || _dns_fail "unbound not installed"
	mkdir -p "$dir"
	ports=$(_dns_ports) || _dns_fail "no free ports for DNS"
	DNS_PORT=${ports% *}
	DNS_SILENT_PORT=${ports#* }
	DNS_LOG=$dir/unbound.log
	{
		cat <<-EOF
			server:
			    username: ""
			    chroot: ""
			    directory: "$dir"
			    pidfile: "$dir/unbound.pid"
			    logfile: "$DNS_LOG"
			    use-syslog: no
			    verbosity: 1
			    do-daemonize: no
			    num-threads: 1
			    interface: 127.0.0.1@$DNS_PORT
			    port: $DNS_PORT
			    interface-automatic: no
			    outgoing-interface: 127.0.0.1
			    do-ip6: no
			    access-control: 127.0.0.0/8 allow
			    do-not-query-localhost: no
			    module-config: "iterator"
			    qname-minimisation: no
			    so-reuseport: no
			    outgoing-range: 32
			    local-zone: "." static
			    local-zone: "slow.test." transparent
		EOF
		_dns_zone_data | sed 's/^/    /'
		cat <<-EOF
			stub-zone:
			    name: "slow.test."
			    stub-addr: 127.0.0.1@$DNS_SILENT_PORT
		EOF
	} >"$dir/unbound.conf"
	unbound-checkconf "$dir/unbound.conf" >"$dir/checkconf.log" 2>&1 ||
		_dns_fail "unbound.conf: $(cat "$dir/checkconf.log")"
	# the silent server: takes queries, never answers
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		    LocalPort => $ARGV[0], Proto => "udp") or die "bind: $!\n";
		$SIG{TERM} = sub { exit 0 };
		while (1) { my $b; $s->recv($b, 4096) }' "$DNS_SILENT_PORT" \
		</dev/null >"$dir/silent.log" 2>&1 &
	DNS_SILENT_PID=$!
	echo "$DNS_SILENT_PID" >"$dir/silent.pid"
	unbound -d -c "$dir/unbound.conf" </dev/null >>"$DNS_LOG" 2>&1 &
	DNS_PID=$!
	echo "$DNS_PID" >"$dir/unbound.pid.run"
	for ((i = 0; i < 100; i++)); do
		_dns_query "$DNS_PORT" ready.test && break
		kill -0 "$DNS_PID" 2>/dev/null ||
			_dns_fail "unbound exited: $(tail -n 5 "$DNS_LOG")"
		sleep 0.1
	done
	[ "$i" -lt 100 ] || _dns_fail "unbound does not answer on port $DNS_PORT"
	DNS_NAMESERVER=127.0.0.1:$DNS_PORT
	echo "$DNS_PORT $DNS_SILENT_PORT" >"$dir/ports"
}

# _dns_stop DIR: stop what _dns_start started (by pid)
_dns_stop() {
	local dir=$1 f p i
	for f in unbound.pid.run silent.pid; do
		[ -f "$dir/$f" ] || continue
		p=$(tr -dc 0-9 <"$dir/$f")
		rm -f "$dir/$f"
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	return 0
}

e2e_dns_start() {
	DNS_DIR=${DNS_DIR:-$E2E_DIR/dns}
	[ -n "$DNS_DIR" ] && [ "$DNS_DIR" != /dns ] ||
		_dns_fail "e2e_dns_start: call e2e_init first (or set DNS_DIR)"
	_dns_start "$DNS_DIR"
}

e2e_dns_stop() {
	local p
	[ -n "${DNS_DIR:-}" ] && _dns_stop "$DNS_DIR"
	# the pid files may be gone with the directory: the pids we know
	for p in $DNS_PID $DNS_SILENT_PID; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	DNS_PID='' DNS_SILENT_PID=''
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	start)
		[ -n "${2:-}" ] || _dns_fail "usage: dns.sh start|stop DIR"
		_dns_start "$2"
		echo "$DNS_PORT $DNS_SILENT_PORT"
		# the servers must outlive this script
		disown -a
		;;
	stop)
		[ -n "${2:-}" ] || _dns_fail "usage: dns.sh start|stop DIR"
		_dns_stop "$2"
		;;
	*) _dns_fail "usage: dns.sh start|stop DIR" ;;
	esac
fi
