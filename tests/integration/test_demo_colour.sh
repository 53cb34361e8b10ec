#!/bin/bash
# SPDX-License-Identifier: MIT
# test_demo_colour.sh - softhsm/demo colours its headings and commands only
# on a terminal, and not at all when NO_COLOR is set (https://no-color.org);
# the walkthrough itself succeeds either way. The terminal is script(1)'s pty.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ESC=$'\033'
demo() { TBA_DEMO_BUILD=$TBA_BUILD bash "$TBA_SRC/softhsm/demo"; }
on_tty() { # on_tty [VAR=VALUE...]: the demo on a pseudo-terminal
	script -qefc "env $* TBA_DEMO_BUILD='$TBA_BUILD' bash '$TBA_SRC/softhsm/demo'" /dev/null
}

expect_rc "demo into a pipe runs" 0 demo
grep -q "$ESC" "$T_DIR/out" && fail "demo into a pipe: no escape codes" "$(grep -m1 "$ESC" "$T_DIR/out" | cat -v)" ||
	pass "demo into a pipe: no escape codes"
expect_grep "demo into a pipe: headings still there" '^== Done' "$T_DIR/out"

expect_rc "demo on a terminal runs" 0 on_tty
expect_grep "demo on a terminal: bold headings" "${ESC}\[1m== " "$T_DIR/out"
expect_grep "demo on a terminal: coloured commands" "${ESC}\[36m\\$ " "$T_DIR/out"

expect_rc "demo on a terminal with NO_COLOR=1 runs" 0 on_tty NO_COLOR=1
grep -q "$ESC\[" "$T_DIR/out" && fail "NO_COLOR=1: no colour" "$(grep -m1 "$ESC" "$T_DIR/out" | cat -v)" ||
	pass "NO_COLOR=1: no colour"
expect_grep "NO_COLOR=1: headings still there" '^== Done' "$T_DIR/out"

expect_rc "demo on a terminal with NO_COLOR empty runs" 0 on_tty NO_COLOR=
expect_grep "NO_COLOR empty: colour (the convention: only a non-empty value)" "${ESC}\[1m== " "$T_DIR/out"
finish
