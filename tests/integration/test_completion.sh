#!/bin/bash
# SPDX-License-Identifier: MIT
# test_completion.sh - the bash completion (completion/tba.bash), driven the
# way bash drives it: COMP_WORDS and COMP_CWORD set, the function called,
# COMPREPLY read. Subcommands, options per subcommand, option values, files,
# and profile names from a running agent (none, quickly, without one).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# shellcheck disable=SC1091
. "$TBA_SRC/completion/tba.bash"

# comp WORD...: completes the last word (may be ""); COMP_WORDS[0] is the
# built tba so the profile lookup runs it. Prints the sorted candidates.
comp() {
	COMP_WORDS=("$TBA" "$@")
	COMP_CWORD=$#
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_tba
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
comp_agent() {
	COMP_WORDS=(tba-agent "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_tba_agent
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
has() { # has NAME WORD LIST: WORD is one of LIST's words
	case " $3 " in *" $2 "*) pass "$1" ;; *) fail "$1" "'$2' not in: $3" ;; esac
}
hasnt() {
	case " $3 " in *" $2 "*) fail "$1" "'$2' should not be in: $3" ;; *) pass "$1" ;; esac
}

check "complete -p tba names _tba" bash -c ". '$TBA_SRC/completion/tba.bash'; complete -p tba | grep -q _tba"
check "complete -p tba-agent names _tba_agent" bash -c ". '$TBA_SRC/completion/tba.bash'; complete -p tba-agent | grep -q _tba_agent"

# Subcommands: every one tba --help lists is offered, and only those.
all=$(comp "")
for c in $("$TBA" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} /^$/ {on = 0}'); do
	has "subcommand $c offered" "$c" "$all"
done
for c in token exec m2m; do has "subcommand $c offered" "$c" "$all"; done
expect_eq "'pa' completes to passport" "$(comp pa)" "passport"
expect_eq "'l' completes to list lock" "$(comp l)" "list lock"
expect_eq "'--v' completes to --version" "$(comp --v)" "--version"
expect_eq "tba help he -> header help? only commands" "$(comp help he)" "header"

# Options per subcommand, checked against the command's own --help where it
# lists them (no option offered that the command does not know).
for c in import keys delete list header passport curl test token exec; do
	"$TBA" help "$c" >/dev/null 2>&1 || continue # a command this build does not have yet
	opts=$(comp "$c" --)
	# (--max-skew: the agent's option, which header and passport's help mention)
	for o in $("$TBA" help "$c" | grep -oE -- '--[a-z][a-z0-9-]+' | grep -vx -- --max-skew | sort -u); do
		has "tba $c: $o offered" "$o" "$opts"
	done
	helptext=$("$TBA" help "$c")
	for o in $opts; do
		grep -qE -- "$o([^a-z-]|$)" <<<"$helptext" && continue
		[ "$o" = --help ] && continue
		fail "tba $c: offered $o is in tba $c --help"
	done
done
if "$TBA" help m2m >/dev/null 2>&1; then
	m2mopts="$(comp m2m new p --) $(comp m2m cert-id p --) $(comp m2m cert p --) $(comp m2m rotate p --)"
	for o in $("$TBA" help m2m | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
		has "tba m2m: $o offered" "$o" "$m2mopts"
	done
fi
curlopts=$(comp curl prod https://x/ -)
for o in -X -H -d -o -i --data-urlencode --write-out --dump-header --fail-with-body --head --get \
	--max-time --proxy --noproxy --compressed --user-agent --retry --silent --show-error --paginate; do
	has "tba curl: $o offered" "$o" "$curlopts"
done
expect_eq "tba import --k -> --kind" "$(comp import p --k)" "--kind"
expect_eq "tba header --j -> --json" "$(comp header --j)" "--json"
hasnt "tba list offers no --form" --form "$(comp list --)"
expect_eq "tba m2m actions" "$(comp m2m "")" "cert cert-id new rotate"
has "tba m2m new: --client-id" --client-id "$(comp m2m new p --)"
has "tba m2m rotate: --days" --days "$(comp m2m rotate p --)"
has "tba token: --renew" --renew "$(comp token --)"
has "tba exec: --force" --force "$(comp exec --)"

# Option values.
expect_eq "--kind values" "$(comp import p --kind "")" "netsuite oauth1"
expect_eq "--signature-method values" "$(comp import p --signature-method HMAC-SHA5)" "HMAC-SHA512"
expect_eq "--alg values" "$(comp m2m new p --alg E)" "ES256 ES384 ES512"
expect_eq "--scope values" "$(comp m2m new p --scope r)" "rest_webservices restlets"
expect_eq "curl -X values" "$(comp curl p u -X P)" "PATCH POST PUT"
expect_eq "header METHOD" "$(comp header p D)" "DELETE"
mkdir "$T_DIR/files" && : >"$T_DIR/files/ca-one.pem" && : >"$T_DIR/files/ca-two.pem"
expect_eq "--cacert completes files" "$(comp curl p u --cacert "$T_DIR/files/ca-")" \
	"$T_DIR/files/ca-one.pem $T_DIR/files/ca-two.pem"
expect_eq "-o completes files" "$(comp curl p u -o "$T_DIR/files/ca-o")" "$T_DIR/files/ca-one.pem"
expect_eq "a free-form value (--account) gets nothing" "$(comp import p --account "")" ""
expect_eq "after a value, options again" "$(comp import p --account 123 --acc)" "--account"

# tba-agent.
has "tba-agent: --token" --token "$(comp_agent --)"
has "tba-agent: --allow-uid" --allow-uid "$(comp_agent --)"
has "tba-agent: --lock-after" --lock-after "$(comp_agent --)"
for o in $("$TBA_AGENT" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
	has "tba-agent: $o offered" "$o" "$(comp_agent --)"
done
expect_eq "tba-agent --allow-uid completes users" "$(comp_agent --allow-uid roo)" "root"

# Profiles: none (and fast) without an agent...
export TBA_AGENT_SOCK=$T_DIR/none.sock XDG_RUNTIME_DIR=$T_DIR/nort
expect_eq "no agent: no profiles" "$(comp header "")" ""
# ...and none within about 2 s from an agent that never answers.
"$PY" -c 'import socket,sys,time
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
c=[]
while True: c.append(s.accept())' "$T_DIR/mute.sock" &
T_PIDS+=("$!")
for i in $(seq 1 50); do [ -S "$T_DIR/mute.sock" ] && break; sleep 0.05; done
start=$(date +%s%N)
got=$(TBA_AGENT_SOCK=$T_DIR/mute.sock comp curl "")
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "mute agent: no profiles" "$got" ""
[ "$ms" -lt 4000 ] && pass "mute agent: completion gives up in ${ms} ms" ||
	fail "mute agent: completion gives up within 4 s" "${ms} ms"

new_token completion
check "import prod" import_profile prod cs ts --account 1234567 --consumer-key ck --token-id tk
check "import prod-sb1" import_profile prod-sb1 cs ts --account 1234567_SB1 --consumer-key ck --token-id tk
check "import api" import_profile api cs ts --kind oauth1 --consumer-key ck --token-id tk --allow-host api.example.com
start_agent || finish
expect_eq "profiles after tba header" "$(comp header "")" "api prod prod-sb1"
expect_eq "profiles after tba curl, by prefix" "$(comp curl pr)" "prod prod-sb1"
expect_eq "profiles after tba curl with options first" "$(comp curl -s --max-time 5 pr)" "prod prod-sb1"
expect_eq "passport: NetSuite profiles only" "$(comp passport "")" "prod prod-sb1"
expect_eq "tba test PROFILE" "$(comp test prod-)" "prod-sb1"
expect_eq "no profile after the first positional" "$(comp curl prod "")" ""
expect_eq "token: M2M profiles only (none here)" "$(comp token "")" ""
expect_eq "exec: after -- the command" "$(comp exec p -- ls -l "")" "$(compgen -f -- "" | sort | tr '\n' ' ' | sed 's/ $//')"
has "exec: after -- a command name" bash "$(comp exec p -- bas)"
finish
