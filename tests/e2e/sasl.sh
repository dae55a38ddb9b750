# sasl.sh - the end-to-end harness's private Dovecot, the SASL service
# of the private Postfix (sourced by lib.sh; see its usage notes).
# shellcheck shell=bash

e2e_sasl_start() {
	local dc=$E2E_DIR/dovecot
	command -v dovecot >/dev/null 2>&1 ||
		_e2e_need_or_skip "dovecot not installed (apt-get install dovecot-core)"
	mkdir -p "$dc/run" "$dc/state"
	: >>"$dc/passwd"
	chmod 0644 "$dc/passwd"
	E2E_SASL_SOCKET=$dc/auth-postfix
	# No protocols and no listeners: only the auth service runs.  base_dir,
	# state_dir and logs are private, so the system Dovecot is untouched.
	cat >"$dc/dovecot.conf" <<-EOF
		instance_name = aup-e2e-$$
		base_dir = $dc/run
		state_dir = $dc/state
		protocols =
		ssl = no
		log_path = $E2E_DIR/dovecot.log
		info_log_path = $E2E_DIR/dovecot.log
		disable_plaintext_auth = no
		auth_mechanisms = plain login
		auth_verbose = yes
		auth_cache_size = 0
		# no 2 s delay after a failed login, no growing per-IP penalty
		# (all clients share 127.0.0.1, so one bad password slows the rest)
		auth_failure_delay = 0
		passdb {
		  driver = passwd-file
		  args = scheme=PLAIN username_format=%u $dc/passwd
		}
		userdb {
		  driver = static
		  args = uid=nobody gid=nogroup home=/nonexistent
		}
		service anvil {
		  unix_listener anvil-auth-penalty {
		    mode = 0
		  }
		}
		service auth {
		  unix_listener $E2E_SASL_SOCKET {
		    mode = 0660
		    user = postfix
		    group = postfix
		  }
		}
	EOF
	dovecot -F -c "$dc/dovecot.conf" >"$E2E_DIR/dovecot.out" 2>&1 &
	DOVECOT_PID=$!
	if ! _e2e_wait_unix_pid "$E2E_SASL_SOCKET" "$DOVECOT_PID" 10; then
		_e2e_bail "dovecot auth socket $E2E_SASL_SOCKET not ready" \
			"$E2E_DIR/dovecot.out" "$E2E_DIR/dovecot.log"
	fi
}

e2e_add_user() {
	local login=$1 pass=$2 f=$E2E_DIR/dovecot/passwd tmp
	case $login$pass in
	*:* | *$'\n'*) bail "e2e_add_user: no ':' or newline in login/password" ;;
	esac
	tmp=$f.tmp.$$
	{
		awk -F: -v l="$login" '$1 != l' "$f"
		printf '%s:{PLAIN}%s\n' "$login" "$pass"
	} >"$tmp"
	# rewrite in place: Dovecot notices the new mtime/size on next lookup
	cat "$tmp" >"$f"
	rm -f "$tmp"
}
