# smtp.sh - the end-to-end harness's SMTP client: swaks driving the
# private Postfix, and the replies it got (sourced by lib.sh; see the
# SMTP CLIENT part of lib.sh's usage notes).
# shellcheck shell=bash

smtp_send() {
	local from=sender@customer.test to=rcpt@example.net server=127.0.0.1
	local port=$SMTPD_PORT log='' li='' helo=e2e-client.test body='' data=''
	local auth='' authtype=PLAIN pipeline='' user pass
	local -a hdrs=() extra=() args
	while [ $# -gt 0 ]; do
		case $1 in
		--from) from=$2; shift 2 ;;
		--to) to=$2; shift 2 ;;
		--auth) auth=$2; shift 2 ;;
		--auth-login) auth=$2 authtype=LOGIN; shift 2 ;;
		--server) server=$2; shift 2 ;;
		--port) port=$2; shift 2 ;;
		--local-interface | --li) li=$2; shift 2 ;;
		--helo | --ehlo) helo=$2; shift 2 ;;
		--header) hdrs+=(--header "$2"); shift 2 ;;
		--add-header) hdrs+=(--add-header "$2"); shift 2 ;;
		--body) body=$2; shift 2 ;;
		--data) data=$2; shift 2 ;;
		--pipeline) pipeline=1; shift ;;
		--log) log=$2; shift 2 ;;
		--) shift; extra=("$@"); break ;;
		*) bail "smtp_send: unknown option $1" ;;
		esac
	done
	if [ -z "$log" ]; then
		E2E_SMTP_SEQ=$((E2E_SMTP_SEQ + 1))
		log=$E2E_DIR/smtp.$E2E_SMTP_SEQ.log
	fi
	args=(--server "$server" --port "$port" --from "$from" --to "$to"
		--helo "$helo" --timeout 60)
	[ -n "$li" ] && args+=(--local-interface "$li")
	if [ -n "$auth" ]; then
		user=${auth%%:*}
		pass=${auth#*:}
		args+=(--auth "$authtype" --auth-user "$user" --auth-password "$pass")
	fi
	[ -n "$pipeline" ] && args+=(--pipeline)
	if [ -n "$data" ]; then
		# --no-data-fixup sends the file as is, without the final dot,
		# dot-stuffing or CRLF: do those here, on a copy
		[ -r "$data" ] || bail "smtp_send: cannot read --data $data"
		perl -0777 -pe 's/\r?\n/\r\n/g; $_ .= "\r\n" if length && !/\r\n\z/;
			s/^\./../mg; $_ .= "."' "$data" >"$log.data"
		args+=(--data "@$log.data" --no-data-fixup)
	else
		[ -n "$body" ] && args+=(--body "$body")
		# swaks's To: header is the whole --to list; past 10 recipients
		# use a short one (a later --header 'To: ...' still wins)
		case $to in *,*,*,*,*,*,*,*,*,*,*)
			args+=(--header 'To: undisclosed-recipients:;') ;;
		esac
		args+=("${hdrs[@]}")
	fi
	SMTP_LOG=$log
	swaks "${args[@]}" "${extra[@]}" >"$log" 2>&1 </dev/null
	SMTP_RC=$?
	return "$SMTP_RC"
}

# smtp_replies [LOG]: "VERB<TAB>reply" for each server reply, in order.
# Sent lines are queued and replies matched in FIFO order, which also holds
# with PIPELINING; message content (after a 354) is not a command.
smtp_replies() {
	awk '
		function emit() {
			if (cur == "") return
			verb = (qh < qt) ? q[qh++] : "?"
			print verb "\t" cur
			cur = ""
		}
		BEGIN { qh = 0; qt = 0; q[qt++] = "CONNECT"; indata = 0; authcont = 0; cur = "" }
		# swaks prefixes: sent " -> " (" ~> " TLS, "**> " "*~> " error),
		# received "<-  " ("<~  " TLS, "<** " "<~* " unexpected reply)
		/^( ->| ~>|\*\*>|\*~>) / {
			line = substr($0, 5)
			sub(/\r$/, "", line)
			if (indata) {
				if (line == ".") { q[qt++] = "DOT"; indata = 0 }
				next
			}
			split(line, w, " ")
			v = toupper(w[1])
			if (v == "") v = "?"
			# an answer to a 334 challenge belongs to AUTH
			if (authcont) { v = "AUTH"; authcont = 0 }
			q[qt++] = v
			next
		}
		/^(<- |<~ |<\*\*|<~\*) / {
			line = substr($0, 5)
			sub(/\r$/, "", line)
			code = substr(line, 1, 3); sep = substr(line, 4, 1)
			if (cur == "") {
				cur = (sep == "-") ? code " " substr(line, 5) : line
			} else {
				cur = cur " " substr(line, 5)
			}
			if (sep != "-") {
				last = (qh < qt) ? q[qh] : "?"
				if (last == "DATA" && code == "354") indata = 1
				if (last == "AUTH" && code == "334") authcont = 1
				emit()
			}
		}
	' "${1:-$SMTP_LOG}"
}

# _smtp_reply VERB [LOG]: replies to VERB, one per line
_smtp_reply() {
	smtp_replies "${2:-}" | awk -F '\t' -v v="$1" '$1 == v { print $2 }'
}

smtp_banner_reply() { _smtp_reply CONNECT "${1:-}" | head -n 1; }
smtp_ehlo_reply() { _smtp_reply EHLO "${1:-}" | tail -n 1; }
smtp_auth_reply() { _smtp_reply AUTH "${1:-}" | tail -n 1; }
smtp_mail_reply() { _smtp_reply MAIL "${1:-}" | tail -n 1; }
smtp_rcpt_replies() { _smtp_reply RCPT "${1:-}"; }
smtp_data_cmd_reply() { _smtp_reply DATA "${1:-}" | tail -n 1; }
smtp_data_reply() { _smtp_reply DOT "${1:-}" | tail -n 1; }

smtp_queue_id() {
	smtp_data_reply "${1:-}" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p'
}
