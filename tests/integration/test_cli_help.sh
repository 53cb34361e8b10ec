#!/bin/bash
# SPDX-License-Identifier: MIT
# test_cli_help.sh - help and usage errors the way git gives them: tba help
# CMD and tba CMD -h|--help print that command's usage on stdout (exit 0),
# tba --help lists every command, --version and help, a mistyped command
# gets the nearest one suggested (exit 64), and every tba-agent option error
# names the option. No token or agent needed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CMDS="import keys delete list header passport curl test lock unlock"

expect_rc "tba --help exits 0" 0 "$TBA" --help
# Every command tba --help lists (commands added later included) has its help.
CMDS="$CMDS $(awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ && $1 != "help" {print $1} /^$/ {on = 0}' \
	"$T_DIR/out" | tr '\n' ' ')"
CMDS=$(printf '%s\n' $CMDS | sort -u | tr '\n' ' ')
for c in $CMDS; do
	expect_grep "tba --help lists $c" "^  $c " "$T_DIR/out"
done
expect_grep "tba --help lists help" '^  help ' "$T_DIR/out"
expect_grep "tba --help lists --version" '--version' "$T_DIR/out"
expect_eq "tba --help writes nothing to stderr" "$(wc -c <"$T_DIR/err")" 0
expect_rc "tba help (alone) lists the commands" 0 "$TBA" help
expect_grep "tba help shows the list" '^  passport ' "$T_DIR/out"
expect_rc "tba with no command is a usage error" 64 "$TBA"

expect_rc "tba --version" 0 "$TBA" --version
expect_grep "tba --version prints the version" '^tba [0-9]+\.[0-9]+\.[0-9]+$' "$T_DIR/out"

for c in $CMDS; do
	expect_rc "tba help $c exits 0" 0 "$TBA" help "$c"
	expect_grep "tba help $c prints its usage" "^usage: tba $c" "$T_DIR/out"
	cp "$T_DIR/out" "$T_DIR/help.out"
	expect_rc "tba $c --help exits 0" 0 "$TBA" "$c" --help
	expect_eq "tba $c --help = tba help $c" "$(cat "$T_DIR/out")" "$(cat "$T_DIR/help.out")"
	expect_rc "tba $c -h exits 0" 0 "$TBA" "$c" -h
	expect_eq "tba $c -h = tba help $c" "$(cat "$T_DIR/out")" "$(cat "$T_DIR/help.out")"
done

# Mistyped commands: the nearest command (transposition, deletion,
# insertion, a prefix), or no guess when nothing is near.
suggest() { # suggest TYPED WANT
	expect_rc "tba $1 exits 64" 64 "$TBA" "$1"
	expect_eq "tba $1 suggests $2" "$(cat "$T_DIR/err")" \
		"tba: '$1' is not a tba command. Did you mean '$2'?"
}
suggest lsit list
suggest hedaer header
suggest passprt passport
suggest pass passport
suggest unlok unlock
suggest helpp help
expect_rc "tba frobnicate exits 64" 64 "$TBA" frobnicate
expect_eq "nothing near: no guess" "$(cat "$T_DIR/err")" \
	"tba: 'frobnicate' is not a tba command. See 'tba --help'."
expect_rc "tba help lsit exits 64" 64 "$TBA" help lsit
expect_grep "tba help lsit suggests list" "Did you mean 'list'" "$T_DIR/err"
expect_rc "unknown global option exits 64" 64 "$TBA" --frob
expect_grep "unknown global option is named" "'--frob'" "$T_DIR/err"

# tba-agent: every option error names the option, exit 64, and a hint.
agent_err() { # agent_err NAME WANT_REGEX ARGS...
	local n=$1 want=$2
	shift 2
	expect_rc "tba-agent $n exits 64" 64 "$TBA_AGENT" "$@"
	expect_grep "tba-agent $n names it" "^tba-agent: .*$want.*Try 'tba-agent --help'" "$T_DIR/err"
}
agent_err "unknown long option" "unknown option --frob" --frob
agent_err "unknown long option with a value" "unknown option --frob\." --frob=1
agent_err "unknown short option" "unknown option -z" -z
agent_err "unknown short option in a cluster" "unknown option -z" -fz
for o in --token --socket --max-skew --audit-log --allow-uid --sessions --lock-after --connect-to --cacert; do
	agent_err "$o without value" "option $o needs a value" "$o"
done
agent_err "--foreground with a value" "option --foreground takes no value" --foreground=1
agent_err "bad --max-skew" "--max-skew wants" --max-skew x --token pkcs11:
agent_err "bad --sessions" "--sessions wants" --sessions 99 --token pkcs11:
agent_err "bad --lock-after" "--lock-after wants" --lock-after x --token pkcs11:
agent_err "bad --connect-to" "--connect-to wants" --connect-to x --token pkcs11:
agent_err "bad --allow-uid" "--allow-uid: no user" --allow-uid no-such-user-xyz --token pkcs11:
agent_err "stray argument" "unexpected argument 'extra'" extra --token pkcs11:
expect_rc "tba-agent --help exits 0" 0 "$TBA_AGENT" --help
expect_grep "tba-agent --help shows usage" '^usage: tba-agent' "$T_DIR/out"
finish
