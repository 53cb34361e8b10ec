# SPDX-License-Identifier: MIT
# m2m_lib.sh - M2M profiles against the stand-in's token endpoint (source after lib.sh and standin.sh).
#
#   m2m_profile NAME ALG CLIENT_ID CERT_ID [SCOPES]
#       tba m2m new (key pair generated in the token; certificate valid for
#       $M2M_DAYS days, 730 by default) + tba m2m cert-id, and registers the
#       certificate PEM with the stand-in under CERT_ID
#   m2m_register NAME CLIENT_ID CERT_ID PEM [SCOPES]
#       adds one more certificate for a client (a rotation) to the stand-in's file
#   m2m_exchanges [KID]
#       successful token exchanges the stand-in logged (for KID), across restarts
#   standin_post PATH
#       an unauthenticated POST to the stand-in (its test-only endpoints)
#
# The stand-in re-reads $M2M_FILE when it changes, so certificates can be
# added while it runs.

M2M_ACCOUNT=${M2M_ACCOUNT:-1234567_SB1}
M2M_HOST=$(printf '%s' "$M2M_ACCOUNT" | tr 'A-Z_' 'a-z-').suitetalk.api.netsuite.com
M2M_FILE=$T_DIR/m2m-clients.json
STANDIN_EXTRA_HOSTS="${STANDIN_EXTRA_HOSTS:-} $(ns_hosts "$M2M_ACCOUNT")"
echo '[]' > "$M2M_FILE"

m2m_register() {
	local name=$1 client=$2 cert=$3 pem=$4 scopes=${5:-rest_webservices}
	"$PY" - "$M2M_FILE" "$client" "$cert" "$pem" "$scopes" "$M2M_ACCOUNT" <<'EOF'
import json, os, sys
path, client, cert, pem, scopes, account = sys.argv[1:7]
clients = json.load(open(path))
for c in clients:
    if c["client_id"] == client:
        break
else:
    c = {"client_id": client, "account": account, "scopes": scopes.split(","), "certs": []}
    clients.append(c)
c["certs"].append({"id": cert, "pem_file": pem})
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(clients, f)
os.rename(tmp, path)
EOF
}

m2m_profile() {
	local name=$1 alg=$2 client=$3 cert=$4 scopes=${5:-rest_webservices}
	"$TBA" m2m new "$name" --account "$M2M_ACCOUNT" --client-id "$client" --alg "$alg" \
		--scope "$scopes" --days "${M2M_DAYS:-730}" --out "$T_DIR/$name.pem" \
		>"$T_DIR/m2m-new.out" 2>"$T_DIR/m2m-new.err" ||
		{ echo "tba m2m new $name failed: $(cat "$T_DIR/m2m-new.err")" >&2; return 1; }
	"$TBA" m2m cert-id "$name" "$cert" >/dev/null 2>"$T_DIR/m2m-certid.err" ||
		{ echo "tba m2m cert-id $name failed: $(cat "$T_DIR/m2m-certid.err")" >&2; return 1; }
	m2m_register "$name" "$client" "$cert" "$T_DIR/$name.pem" "$scopes"
}

m2m_exchanges() {
	cat "$T_DIR"/standin-*.log 2>/dev/null | "$PY" -c '
import json, sys
kid = sys.argv[1] if len(sys.argv) > 1 else None
n = 0
for line in sys.stdin:
    e = json.loads(line)
    if e.get("m2m") == "exchange" and e.get("ok") and (kid is None or e.get("kid") == kid):
        n += 1
print(n)' ${1:+"$1"}
}

standin_post() {
	"$PY" - "$STANDIN_PORT" "$STANDIN_CA" "$M2M_HOST" "$1" <<'EOF'
import http.client, ssl, sys
port, ca, host, path = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx)
c.sock = ctx.wrap_socket(__import__("socket").create_connection(("127.0.0.1", int(port))),
                         server_hostname=host)
c.request("POST", path, headers={"Host": host})
print(c.getresponse().status)
EOF
}

# A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
closed_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
