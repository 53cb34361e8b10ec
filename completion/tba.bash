# SPDX-License-Identifier: MIT
# bash completion for tba and tba-agent.
#
# Installed as .../bash-completion/completions/tba and .../tba-agent, or
# sourced from ~/.bashrc. Completes subcommands, each subcommand's options,
# the values of options with a fixed set, file names, and profile names from
# `tba list` when an agent answers within 2 seconds (quietly nothing when
# none does).

# _tba_profiles [KIND...]: the agent's profiles (of those kinds, if given).
_tba_profiles()
{
	local tba=${COMP_WORDS[0]:-tba}
	command -v "$tba" >/dev/null 2>&1 || tba=tba
	timeout 2 "$tba" list 2>/dev/null </dev/null |
		awk -v kinds=" $* " 'NR == 1 && $1 == "NAME" { next }
			kinds == "  " || index(kinds, " " $2 " ") { print $1 }'
}

# Long and short options of each subcommand.
_tba_opts()
{
	case $1 in
	import) echo "--account --consumer-key --token-id --token --replace --kind --realm
		--signature-method --allow-host --help" ;;
	keys) echo "--token --json --help" ;;
	delete) echo "--token --help" ;;
	list) echo "--json --help" ;;
	header) echo "--form --timestamp --nonce --json --help" ;;
	passport) echo "--xml --json --timestamp --nonce --help" ;;
	curl) echo "-X --request -H --header -d --data --data-binary --data-raw
		--data-urlencode --json -G --get -i --include -I --head -o --output -D --dump-header
		-w --write-out -f --fail --fail-with-body -L --location --max-redirs --retry
		--retry-delay --connect-to --resolve --cacert --connect-timeout -m --max-time
		-x --proxy --noproxy --compressed -A --user-agent -s --silent -S --show-error
		-v --verbose --paginate --help" ;;
	test) echo "--connect-to --resolve --cacert -v --verbose --help" ;;
	token) echo "--renew --json --help" ;;
	exec) echo "--force --help" ;;
	lock | unlock) echo "--help" ;;
	m2m) echo "--help" ;;
	m2m-new) echo "--account --client-id --alg --scope --days --subject --out --token --replace
		--rsa-bits --help" ;;
	m2m-cert-id) echo "--token --help" ;;
	m2m-cert) echo "--next --token --help" ;;
	m2m-rotate) echo "--days --subject --out --token --help" ;;
	tba-agent) echo "--token --socket -f --foreground --max-skew --audit-log --allow-uid
		--lock-after --sessions --connect-to --cacert -s -c -k --help --version" ;;
	esac
}

# Options that take a value: 0 when $1 is one of them (for the subcommand $2).
_tba_takes_value()
{
	case $1 in
	--account | --consumer-key | --token-id | --token | --kind | --realm | --signature-method | \
	--allow-host | --form | --timestamp | --nonce | --client-id | --alg | --scope | --days | \
	--subject | --out | --rsa-bits | --socket | --max-skew | --audit-log | --allow-uid | --lock-after | \
	--sessions | --connect-to | --resolve | --cacert | --max-redirs | --retry | --retry-delay | \
	--connect-timeout | --max-time | --request | --header | --data | --data-ascii | \
	--data-binary | --data-raw | --data-urlencode | --json | --output | --dump-header | \
	--write-out | --proxy | --noproxy | --user-agent)
		[ "$1" != --json ] || [ "$2" = curl ] ;;
	-X | -H | -d | -o | -D | -w | -m | -x | -A) [ "$2" = curl ] ;;
	*) return 1 ;;
	esac
}

_tba_agent()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	case $prev in
	--audit-log | --cacert | --socket)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--allow-uid)
		mapfile -t COMPREPLY < <(compgen -u -- "$cur")
		return ;;
	--token | --max-skew | --lock-after | --sessions | --connect-to)
		return ;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$(_tba_opts tba-agent)" -- "$cur")
}

_tba()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= sub= key i w npos=0 dashdash=0
	local cmds="import keys delete list header passport curl test token exec m2m lock unlock help"
	COMPREPLY=()
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# The subcommand, the m2m action, and how many positional arguments
	# stand before the word being completed (options and their values skipped).
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [ -z "$cmd" ]; then
			case $w in
			-*) ;;
			*) cmd=$w ;;
			esac
			continue
		fi
		if [ "$dashdash" = 1 ]; then
			npos=$((npos + 1))
			continue
		fi
		case $w in
		--) dashdash=1 npos=0 ;;
		--*=*) ;;
		-*) _tba_takes_value "$w" "$cmd" && i=$((i + 1)) ;;
		*)
			if [ "$cmd" = m2m ] && [ -z "$sub" ]; then
				sub=$w
			else
				npos=$((npos + 1))
			fi ;;
		esac
	done

	if [ -z "$cmd" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$cmds --help --version" -- "$cur")
		return
	fi
	key=$cmd
	[ "$cmd" = m2m ] && [ -n "$sub" ] && key=m2m-$sub

	# tba exec PROFILE -- COMMAND [ARG]...: complete the command, then its files.
	if [ "$cmd" = exec ] && [ "$dashdash" = 1 ]; then
		if [ "$npos" -eq 0 ]; then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return
	fi

	# Values of options.
	case $prev in
	--kind) mapfile -t COMPREPLY < <(compgen -W "netsuite oauth1" -- "$cur"); return ;;
	--signature-method)
		mapfile -t COMPREPLY < <(compgen -W "HMAC-SHA256 HMAC-SHA1 HMAC-SHA512" -- "$cur")
		return ;;
	--alg) mapfile -t COMPREPLY < <(compgen -W "ES256 ES384 ES512 PS256 PS384 PS512" -- "$cur"); return ;;
	--rsa-bits) mapfile -t COMPREPLY < <(compgen -W "3072 4096" -- "$cur"); return ;;
	--scope)
		mapfile -t COMPREPLY < <(compgen -W "rest_webservices restlets suite_analytics" -- "$cur")
		return ;;
	-X | --request)
		[ "$cmd" = curl ] || return
		mapfile -t COMPREPLY < <(compgen -W "GET POST PUT PATCH DELETE HEAD OPTIONS" -- "$cur")
		return ;;
	-o | --output | -D | --dump-header | --cacert | --out)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	esac
	if _tba_takes_value "$prev" "$cmd"; then
		return # a free-form value: nothing sensible to offer
	fi

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_tba_opts "$key")" -- "$cur")
		return
	fi

	# Positional arguments.
	case $key in
	help) [ "$npos" -eq 0 ] && mapfile -t COMPREPLY < <(compgen -W "${cmds% help}" -- "$cur") ;;
	m2m) mapfile -t COMPREPLY < <(compgen -W "new cert-id cert rotate" -- "$cur") ;;
	header)
		case $npos in
		0) mapfile -t COMPREPLY < <(compgen -W "$(_tba_profiles netsuite oauth1)" -- "$cur") ;;
		1) mapfile -t COMPREPLY < <(compgen -W "GET POST PUT PATCH DELETE HEAD" -- "$cur") ;;
		esac ;;
	passport)
		[ "$npos" -eq 0 ] && mapfile -t COMPREPLY < <(compgen -W "$(_tba_profiles netsuite)" -- "$cur") ;;
	token)
		[ "$npos" -eq 0 ] && mapfile -t COMPREPLY < <(compgen -W "$(_tba_profiles m2m)" -- "$cur") ;;
	exec)
		if [ "$npos" -eq 0 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_tba_profiles m2m)" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "--" -- "$cur")
		fi ;;
	curl | test | delete | m2m-cert-id | m2m-cert | m2m-rotate)
		[ "$npos" -eq 0 ] && mapfile -t COMPREPLY < <(compgen -W "$(_tba_profiles)" -- "$cur") ;;
	esac
	return 0
}

complete -F _tba tba
complete -F _tba_agent tba-agent
