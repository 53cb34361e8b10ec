#!/bin/bash
# SPDX-License-Identifier: MIT
# test_remote_token.sh - one token, many machines, with what exists (the
# README's "One token, many machines"):
#
# 1. `p11-kit server` serves the SoftHSM token on a Unix socket; the socket
#    is forwarded (unixfwd.py, standing in for `ssh -L`); tba-agent on the
#    "other host" uses p11-kit-client.so with P11_KIT_SERVER_ADDRESS and signs
#    with the remote key. Signatures are checked with Python's hmac. What
#    this route exposes: any process of that user with the socket and the
#    PIN drives the whole token (check_key.py computes raw HMACs with the
#    key over arbitrary messages, no policy in the way).
# 2. An agent socket forwarded (as `ssh -R` does): the remote side gets
#    policy-checked signatures and nothing else (other hosts refused, no PIN,
#    no raw HMAC).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P11_CLIENT=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
[ -f "$P11_CLIENT" ] || P11_CLIENT=$(pkg-config --variable=p11_module_path p11-kit-1)/p11-kit-client.so
HOST=1234567.suitetalk.api.netsuite.com
URL="https://$HOST/services/rest/record/v1/customer?limit=5&q=a b"
CS='remote consumer secret'
TS='remote&token=secret'

# verify_header NAME: the tba header --json reply in $T_DIR/out, checked with hmac.
cat >"$T_DIR/verify.py" <<'PY'
import base64, hashlib, hmac, json, sys, urllib.parse
r = json.load(open(sys.argv[1]))
enc = lambda v: urllib.parse.quote(v, safe="~")
key = (enc(sys.argv[2]) + "&" + enc(sys.argv[3])).encode()
want = base64.b64encode(hmac.new(key, r["base_string"].encode(), hashlib.sha256).digest()).decode()
print("good" if want == r["signature"] and r["base_string"].startswith("GET&https%3A%2F%2F") else "bad")
PY
verify_header() {
	expect_eq "$1" "$("$PY" "$T_DIR/verify.py" "$T_DIR/out" "$CS" "$TS" 2>&1)" good
}

new_token tba-remote
expect_rc "import a profile on the token's host" 0 import_profile remote "$CS" "$TS" \
	--account 1234567 --consumer-key ck-remote --token-id tk-remote

# --- the token's host: p11-kit server on a Unix socket ----------------------
mkdir -m 0700 "$T_DIR/hsm-host" "$T_DIR/app-host"
P11_SOCK=$T_DIR/hsm-host/p11-kit.sock
p11-kit server -f --provider "$SOFTHSM_MODULE" -n "$P11_SOCK" "pkcs11:token=tba-remote" \
	>/dev/null 2>"$T_DIR/p11-server.log" &
T_PIDS+=("$!")
for i in $(seq 1 100); do [ -S "$P11_SOCK" ] && break; sleep 0.05; done
check "p11-kit server serves the token" test -S "$P11_SOCK"

# --- the wire between the hosts (ssh -L app-host:hsm-host) -------------------
FWD_P11=$T_DIR/app-host/p11-kit.sock
"$PY" "$TBA_SRC/tests/integration/unixfwd.py" "$FWD_P11" "$P11_SOCK" &
FWD_PID=$!
T_PIDS+=("$FWD_PID")
for i in $(seq 1 100); do [ -S "$FWD_P11" ] && break; sleep 0.05; done
check "the forwarded p11-kit socket is there" test -S "$FWD_P11"

# --- the application host: its agent knows only p11-kit-client.so -------------
# (no SoftHSM configuration: the token can only come over the socket)
APP_PIN=$T_DIR/app-host/pin
install -m 0600 "$TOKEN_PIN_FILE" "$APP_PIN"
export P11_KIT_SERVER_ADDRESS=unix:path=$FWD_P11
SOFTHSM2_CONF=/nonexistent start_agent \
	--token "pkcs11:token=tba-remote?module-path=$P11_CLIENT&pin-source=file:$APP_PIN" ||
	{ fail "agent starts on p11-kit-client.so"; finish; }
unset TBA_TOKEN
expect_rc "tba list through the remote token" 0 "$TBA" list
expect_grep "the remote profile is listed" '^remote +netsuite +1234567' "$T_DIR/out"
expect_rc "tba header signed by the remote token" 0 "$TBA" header remote GET "$URL" --json
verify_header "the remote token's signature checks with hmac"
expect_rc "tba passport through the remote token" 0 "$TBA" passport remote --json
expect_grep "each signature has its audit line" 'remote' "$T_DIR/agent.log"

# What the p11-kit route exposes: the whole token to any process of the
# user that can reach the socket and holds the PIN - here raw HMACs over
# random messages with the profile's key (no host, method or audit).
printf '%s\n%s\n' "$CS" "$TS" | SOFTHSM2_CONF=/nonexistent \
	"$PY" "$TBA_SRC/tests/integration/check_key.py" "$P11_CLIENT" tba-remote "$APP_PIN" remote \
	>"$T_DIR/raw" 2>&1
expect_grep "p11-kit route: another process signs raw messages with the key" '^key ok' "$T_DIR/raw"

# The token really is remote: with the server gone, signing fails.
kill "$FWD_PID"; wait "$FWD_PID" 2>/dev/null
expect_rc "the link down: signing fails (TokenError, exit 1)" 1 "$TBA" header remote GET "$URL"

# --- forwarding the agent socket (ssh -R remote.sock:$TBA_AGENT_SOCK) --------
FWD_AGENT=$T_DIR/app-host/agent.sock
stop_agent
unset P11_KIT_SERVER_ADDRESS
# shellcheck disable=SC1091
. "$TOKEN_DIR/env" # the token's host: SoftHSM itself, TBA_TOKEN with its PIN file
start_agent || { fail "agent starts on the token's host"; finish; }
"$PY" "$TBA_SRC/tests/integration/unixfwd.py" "$FWD_AGENT" "$TBA_AGENT_SOCK" &
T_PIDS+=("$!")
for i in $(seq 1 100); do [ -S "$FWD_AGENT" ] && break; sleep 0.05; done
expect_rc "agent socket forwarded: tba header" 0 env TBA_AGENT_SOCK="$FWD_AGENT" \
	"$TBA" header remote GET "$URL" --json
verify_header "forwarded agent: the signature checks with hmac"
expect_rc "forwarded agent: another host is refused (exit 1)" 1 env TBA_AGENT_SOCK="$FWD_AGENT" \
	"$TBA" header remote GET "https://attacker.example.com/collect"
expect_grep "forwarded agent: PolicyDenied names the host" 'attacker\.example\.com' "$T_DIR/err"
expect_rc "forwarded agent: plain http is refused (exit 1)" 1 env TBA_AGENT_SOCK="$FWD_AGENT" \
	"$TBA" header remote GET "http://$HOST/services/rest/record/v1/customer"
finish
