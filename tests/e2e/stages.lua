-- stages.lua - milter stage-level checks with OpenDKIM's miltertest.
-- Driven by 05-stages.t, which starts aup-milter and reads the RESULT lines.
-- Exercises every libmilter path that ends a transaction or a connection:
-- close without MAIL, RSET (abort), several transactions on one connection,
-- a new MAIL without RSET, and disconnect in the middle of a transaction.

local sock = os.getenv("MILTER_SOCKET")

local function check(cond, desc)
	if cond then
		print("RESULT ok " .. desc)
	else
		print("RESULT fail " .. desc)
	end
end

local function open(host, ip)
	local c = mt.connect(sock, 20, 0.25)
	if c == nil then
		error("cannot connect to " .. sock)
	end
	check(mt.conninfo(c, host, ip) == nil, "conninfo " .. ip)
	check(mt.getreply(c) == SMFIR_CONTINUE, "connect continues " .. ip)
	return c
end

-- A connection that ends before anything else (close is the only callback
-- that may see no private data).
local c = mt.connect(sock, 20, 0.25)
check(c ~= nil, "bare connect")
mt.disconnect(c)

-- Customer acme (AUTH alice), plan cap 2: third recipient refused.
c = open("client.example", "192.0.2.9")
mt.helo(c, "client.example")
mt.macro(c, SMFIC_MAIL, "{auth_authen}", "alice")
check(mt.mailfrom(c, "<a@acme.example>") == nil, "MAIL sent")
check(mt.getreply(c) == SMFIR_CONTINUE, "MAIL continues")
mt.rcptto(c, "<r1@remote.example>")
check(mt.getreply(c) == SMFIR_CONTINUE, "first recipient")
mt.rcptto(c, "<r2@remote.example>")
check(mt.getreply(c) == SMFIR_CONTINUE, "second recipient")
mt.rcptto(c, "<r3@remote.example>")
check(mt.getreply(c) == SMFIR_REPLYCODE, "third recipient refused")
-- RSET: libmilter sends abort; the transaction is recorded as abort.
mt.abort(c)

-- Second transaction on the same connection, through to end of message.
mt.macro(c, SMFIC_MAIL, "{auth_authen}", "alice")
mt.mailfrom(c, "<a@acme.example>")
mt.macro(c, SMFIC_RCPT, "i", "STAGEQ1")
mt.rcptto(c, "<r1@remote.example>")
check(mt.getreply(c) == SMFIR_CONTINUE, "second transaction recipient")
mt.header(c, "From", "A <a@acme.example>")
mt.header(c, "Message-ID", "<stage-2@acme.example>")
mt.header(c, "Subject", "stage two")
mt.bodystring(c, "hello\r\n")
check(mt.eom(c) == nil, "EOM sent")
check(mt.getreply(c) == SMFIR_ACCEPT, "EOM accepts")

-- A new MAIL without RSET ends the open transaction, then disconnect in
-- the middle of the next one.
mt.macro(c, SMFIC_MAIL, "{auth_authen}", "alice")
mt.mailfrom(c, "<a@acme.example>")
mt.rcptto(c, "<x@remote.example>")
mt.macro(c, SMFIC_MAIL, "{auth_authen}", "alice")
mt.mailfrom(c, "<b@acme.example>")
check(mt.getreply(c) == SMFIR_CONTINUE, "MAIL without RSET continues")
mt.rcptto(c, "<y@remote.example>")
mt.disconnect(c)

-- An unattributed client: relay refused, a LocalDomains recipient passes.
c = open("stranger.example", "198.51.100.3")
mt.mailfrom(c, "<s@stranger.example>")
mt.rcptto(c, "<v@remote.example>")
check(mt.getreply(c) == SMFIR_REPLYCODE, "relay refused")
mt.rcptto(c, "<u@example.net>")
check(mt.getreply(c) == SMFIR_CONTINUE, "local domain accepted")
mt.disconnect(c)
print("RESULT done")
