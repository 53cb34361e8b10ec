#!/bin/bash
# SPDX-License-Identifier: MIT
# test_curl_conv.sh - tba curl follows curl's conventions, and sends exactly
# what was signed and allowed.
#
# Against the NetSuite stand-in (every request verified with python3-oauthlib),
# a closed port on 127.0.0.1, an unresolvable .invalid name and an untrusted
# certificate: exit codes are curl's (6, 7, 28, 60, 22, 47), options mean
# what curl's do, and the stand-in's log (the request target and headers as
# received) shows what went on the wire.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TBA_SRC/tests/integration/standin.sh"

ACCOUNT=1234567_SB1
read -r REST RESTLETS APP <<<"$(ns_hosts "$ACCOUNT")"
CK=$(rand_hex) CS=$(rand_hex) TK=$(rand_hex) TS=$(rand_hex)

new_token
check "import netsuite profile" import_profile prod "$CS" "$TS" \
	--account "$ACCOUNT" --consumer-key "$CK" --token-id "$TK"
standin_cred "$ACCOUNT" "$CK" "$CS" "$TK" "$TS" $REST $RESTLETS $APP
start_agent || exit 1
start_standin || exit 1

B=https://$REST/services/rest
E=https://$REST/echo
# last_json EXPR: a python expression on the JSON document in $T_DIR/out (`d`).
out_json() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print('"$1"')' "$T_DIR/out"; }

# --- Sent exactly as signed ---------------------------------------------
: > "$STANDIN_LOG"
expect_rc "dot segments: path sent as signed" 0 "$TBA" curl prod "$E/a/../b/./c" --fail "${NS[@]}"
expect_eq "stand-in received the path byte for byte" "$(standin_last 'e["raw_path"]')" "/echo/a/../b/./c"
expect_eq "and verified the signature over it" "$(standin_last 'e["verified"]')" "True"

expect_rc "-H with LF refused" 64 "$TBA" curl prod "$E" -H $'X-A: 1\nAuthorization: OAuth x' "${NS[@]}"
expect_grep "LF refusal says why" 'CR or LF' "$T_DIR/err"
expect_rc "-H with CR refused" 64 "$TBA" curl prod "$E" -H $'X-A: 1\rHost: evil.example' "${NS[@]}"
expect_rc "-H 'Authorization :' refused" 64 "$TBA" curl prod "$E" -H 'Authorization : OAuth x' "${NS[@]}"
expect_grep "names Authorization" "Authorization' is refused" "$T_DIR/err"
expect_rc "-H 'aUtHoRiZaTiOn:' refused" 64 "$TBA" curl prod "$E" -H 'aUtHoRiZaTiOn: x' "${NS[@]}"
expect_rc "-H ' Authorization:' refused" 64 "$TBA" curl prod "$E" -H ' Authorization: x' "${NS[@]}"
expect_rc "-H 'Authorization;' refused" 64 "$TBA" curl prod "$E" -H 'Authorization;' "${NS[@]}"
expect_rc "-H 'Host:' refused" 64 "$TBA" curl prod "$E" -H 'Host: other.example.test' "${NS[@]}"
expect_rc "-H name with a space refused" 64 "$TBA" curl prod "$E" -H 'X Y: 1' "${NS[@]}"
expect_rc "-A with LF refused" 64 "$TBA" curl prod "$E" -A $'x\nAuthorization: y' "${NS[@]}"
expect_rc "-k refused" 64 "$TBA" curl prod "$E" -k "${NS[@]}"
expect_grep "-k refusal says why" 'whoever answers' "$T_DIR/err"
expect_rc "--insecure refused" 64 "$TBA" curl prod "$E" --insecure "${NS[@]}"

expect_rc "a URL that is not http(s) is a usage error" 64 "$TBA" curl prod "ftp://$REST/x" "${NS[@]}"
expect_rc "usage errors come before the agent is asked" 64 env TBA_AGENT_SOCK="$T_DIR/none.sock" "$TBA" curl prod "$E" -k

# --- Long options in full only -------------------------------------------
expect_rc "--head works" 0 "$TBA" curl prod "$E" --head "${NS[@]}"
expect_grep "--head prints the status line" '^HTTP/1.1 200' "$T_DIR/out"
expect_eq "--head sent HEAD" "$(standin_last 'e["method"]')" "HEAD"
expect_rc "--hea refused" 64 "$TBA" curl prod "$E" --hea "${NS[@]}"
expect_grep "--hea named" 'unknown option --hea' "$T_DIR/err"
expect_rc "--heade refused (not --header)" 64 "$TBA" curl prod "$E" --heade 'X-A: 1' "${NS[@]}"
expect_rc "--max-t=5 refused (not --max-time)" 64 "$TBA" curl prod "$E" --max-t=5 "${NS[@]}"
expect_rc "--header=X full spelling works" 0 "$TBA" curl prod "$E" --header='X-Full: yes' "${NS[@]}"
expect_eq "--header= value sent" "$(standin_last 'e["headers"].get("X-Full")')" "yes"
expect_rc "tba list --jso refused" 64 "$TBA" list --jso
expect_rc "tba test --resol refused" 64 "$TBA" test prod --resol x

# --- Exit codes of transfer failures ---------------------------------------
expect_rc "connect to a closed port: 7" 7 "$TBA" curl prod "$E" --connect-to "::127.0.0.1:1"
expect_rc "unresolvable .invalid name: 6" 6 "$TBA" curl prod "$E" --connect-to "::no-such-host.invalid:443"
expect_rc "untrusted certificate (no --cacert): 60" 60 "$TBA" curl prod "$E" --connect-to "::127.0.0.1:$STANDIN_PORT"
expect_grep "60 message names TLS" '^tba curl: \(60\) TLS failure' "$T_DIR/err"
t0=$(date +%s)
expect_rc "stand-in that never answers in time, -m 1: 28" 28 "$TBA" curl prod "https://$REST/slow?seconds=20" -m 1 "${NS[@]}"
expect_eq "-m 1 gave up within 5 s" "$(( $(date +%s) - t0 < 5 ))" "1"
# A plain-text server where TLS is expected: the handshake fails (35).
"$PY" -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); __import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept(); c.recv(4096); c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"); c.close()
' "$T_DIR/plain.port" 2>>"$T_DIR/plain.err" &
T_PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$T_DIR/plain.port" ] && break; sleep 0.05; done
expect_rc "TLS handshake with a plain-text server: 35" 35 "$TBA" curl prod "$E" --connect-to "::127.0.0.1:$(cat "$T_DIR/plain.port")" "${NS[@]}"
expect_rc "server closes without a reply: 52" 52 "$TBA" curl prod "https://$REST/empty" "${NS[@]}"
expect_grep "52 message" '^tba curl: \(52\) .*Empty reply' "$T_DIR/err"
expect_rc "--connect-timeout accepted" 0 "$TBA" curl prod "$E" --connect-timeout 5 "${NS[@]}"
expect_rc "-L past --max-redirs: 47" 47 "$TBA" curl prod "https://$REST/redirect?to=/redirect" -L --max-redirs 1 "${NS[@]}"
expect_rc "-s mutes the transfer error" 7 "$TBA" curl prod "$E" -s --connect-to "::127.0.0.1:1"
expect_eq "-s: stderr empty" "$(wc -c <"$T_DIR/err")" "0"
expect_rc "-sS shows it" 7 "$TBA" curl prod "$E" -sS --connect-to "::127.0.0.1:1"
expect_grep "-sS message" '^tba curl: \(7\)' "$T_DIR/err"

# --- --fail, --fail-with-body ---------------------------------------------
expect_rc "--fail-with-body on 404: 22" 22 "$TBA" curl prod "$B/record/v1/customer/999" --fail-with-body "${NS[@]}"
expect_grep "--fail-with-body prints NetSuite's error" 'NONEXISTENT_ID' "$T_DIR/out"
expect_rc "--fail and --fail-with-body together refused" 64 "$TBA" curl prod "$E" --fail --fail-with-body "${NS[@]}"

# --- -w, -D, -I, -A, --compressed, -x -------------------------------------
expect_rc "-w variables" 0 "$TBA" curl prod "$B/record/v1/metadata-catalog" -o /dev/null \
	-w '%{http_code} %{response_code} %{num_redirects} %{exitcode} %{content_type}\n%{url_effective}\n' "${NS[@]}"
expect_eq "-w line 1" "$(head -n 1 "$T_DIR/out")" "200 200 0 0 application/json; charset=UTF-8"
expect_eq "-w url_effective is the URL sent" "$(sed -n 2p "$T_DIR/out")" "$B/record/v1/metadata-catalog"
expect_rc "-w sizes and times" 0 "$TBA" curl prod "$E" -d 'a=1' -o /dev/null \
	-w '%{size_download} %{size_upload} %{time_total} %{time_connect} %{time_starttransfer}' "${NS[@]}"
check "-w sizes are the bytes moved, times are seconds" "$PY" -c '
import sys
f = open(sys.argv[1]).read().split()
assert int(f[0]) > 100 and int(f[1]) == 3, f
assert all(0 < float(x) < 10 for x in f[2:]), f
' "$T_DIR/out"
expect_rc "-w after a redirect" 0 "$TBA" curl prod "https://$REST/redirect?to=/echo/x" -L -o /dev/null \
	-w '%{num_redirects} %{url_effective}' "${NS[@]}"
expect_eq "-w counts the redirect" "$(cat "$T_DIR/out")" "1 https://$REST/echo/x"
expect_rc "-w on a failure" 7 "$TBA" curl prod "$E" -s -w '%{exitcode} %{http_code} [%{errormsg}]%{stderr}to-stderr' --connect-to "::127.0.0.1:1"
expect_grep "-w prints exitcode and errormsg" '^7 000 \[.*Could.*connect' "$T_DIR/out"
expect_grep "-w %{stderr} switches stream" 'to-stderr' "$T_DIR/err"
expect_rc "-w unknown variable warned, the rest printed" 0 "$TBA" curl prod "$E" -o /dev/null -w '%{nosuch}[%{http_code}]' "${NS[@]}"
expect_eq "-w prints around it" "$(cat "$T_DIR/out")" "[200]"
expect_grep "-w names the unknown variable" "unknown --write-out variable: 'nosuch'" "$T_DIR/err"
printf '%%{http_code}\\n' > "$T_DIR/wfmt"
expect_rc "-w @FILE" 0 "$TBA" curl prod "$E" -o /dev/null -w "@$T_DIR/wfmt" "${NS[@]}"
expect_eq "-w @FILE output" "$(cat "$T_DIR/out")" "200"
expect_rc "-D FILE" 0 "$TBA" curl prod "$E" -D "$T_DIR/hdrs" "${NS[@]}"
expect_grep "-D has the status line" '^HTTP/1.1 200' "$T_DIR/hdrs"
expect_grep "-D keeps the body on stdout" '"verified": true' "$T_DIR/out"
expect_rc "-D - (stdout)" 0 "$TBA" curl prod "$E" -D - -o "$T_DIR/body" "${NS[@]}"
expect_grep "-D - writes headers to stdout" '^Content-Type: application/json' "$T_DIR/out"
expect_rc "-I with -d refused (curl's rule)" 64 "$TBA" curl prod "$E" -I -d a=1 "${NS[@]}"
expect_rc "-A sets User-Agent" 0 "$TBA" curl prod "$E" -A 'integration/1.0' "${NS[@]}"
expect_eq "User-Agent received" "$(standin_last 'e["headers"].get("User-Agent")')" "integration/1.0"
expect_rc "--compressed" 0 "$TBA" curl prod "https://$REST/gzip" --compressed "${NS[@]}"
expect_eq "server sent gzip, tba decoded it" "$(standin_last '"gzip" in e["headers"].get("Accept-Encoding", "")'):$(out_json 'd["compressed"]')" "True:True"
expect_rc "-x to a closed proxy port fails to connect: 7" 7 "$TBA" curl prod "$E" -x "http://127.0.0.1:1" "${NS[@]}"
expect_rc "--noproxy '*' bypasses -x" 0 "$TBA" curl prod "$E" -x "http://127.0.0.1:1" --noproxy '*' "${NS[@]}"

expect_rc "--json with the user's Accept" 0 "$TBA" curl prod "$E" --json '{}' -H 'Accept: text/plain' "${NS[@]}"
expect_eq "one Accept, the user's" "$(standin_last 'e["headers"].get("Accept")')" "text/plain"

# --- -G and --data-urlencode ------------------------------------------------
: > "$STANDIN_LOG"
expect_rc "-G puts -d in the query" 0 "$TBA" curl prod "$B/record/v1/customer?limit=5" -G \
	-d 'q=companyName START_WITH "A"' --data-urlencode 'note=a&b c' "${NS[@]}"
expect_eq "-G request is a GET with the data signed in the query" \
	"$(standin_last 'e["method"] + " " + str(e["verified"]) + " " + str(e["query"]) + " " + str(e["form"])')" \
	"GET True [['limit', '5'], ['q', 'companyName START_WITH \"A\"'], ['note', 'a&b c']] []"
expect_rc "--data-urlencode forms on POST" 0 "$TBA" curl prod "$E" --data-urlencode 'plain & text' \
	--data-urlencode '=x=y' --data-urlencode 'name=a+b c' --data-urlencode "f@$T_DIR/wfmt" \
	--data-urlencode 'a@b=c@d' "${NS[@]}"
expect_eq "forms decoded by the server, signed" "$(standin_last 'str(e["verified"]) + " " + str(e["form"])')" \
	"True [['plain & text', ''], ['x=y', ''], ['name', 'a+b c'], ['f', '%{http_code}\\\\n'], ['a@b', 'c@d']]"

# --- --retry with Retry-After (seconds, HTTP date) on 429 and 503 -----------
: > "$STANDIN_LOG"
expect_rc "--retry honours Retry-After: 2 on 429" 0 "$TBA" curl prod "https://$REST/retry-after?key=a&fails=1&after=2" \
	--retry 2 --retry-delay 0 "${NS[@]}"
check "waited the 2 s Retry-After asked for, not --retry-delay 0" "$PY" -c '
import json,sys; d=json.load(open(sys.argv[1])); assert d["attempt"] == 2 and 1.8 <= d["waited"] < 5, d' "$T_DIR/out"
expect_eq "both tries verified, fresh nonces" "$(grep -c '"verified": true' "$STANDIN_LOG") $(grep -o '"nonce": "[^"]*"' "$STANDIN_LOG" | sort -u | wc -l)" "2 2"
expect_rc "--retry honours a Retry-After date on 503" 0 "$TBA" curl prod "https://$REST/retry-after?key=b&fails=1&after=date&code=503" \
	--retry 1 --retry-delay 0 "${NS[@]}"
check "waited until the date" "$PY" -c '
import json,sys; d=json.load(open(sys.argv[1])); assert d["attempt"] == 2 and 0.5 <= d["waited"] < 5, d' "$T_DIR/out"
expect_rc "Retry-After beyond the cap ends the retries" 0 "$TBA" curl prod "https://$REST/retry-after?key=c&fails=1&after=100000" \
	--retry 3 --retry-delay 0 "${NS[@]}"
expect_grep "the 429 body is shown" 'CONCURRENCY_LIMIT_EXCEEDED' "$T_DIR/out"
expect_rc "429 without --retry, --fail: 22" 22 "$TBA" curl prod "https://$REST/retry-after?key=d&fails=1" --fail "${NS[@]}"

finish
