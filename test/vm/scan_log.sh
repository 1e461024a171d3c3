#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scan kernel logs (a guest's console.log, a dmesg dump) for signs of kernel
# trouble: oopses, BUG/WARNING, lockups, hung tasks, memory corruption... The
# patterns are in log_patterns beside this script (one place, shared with
# other runners), with the known reports of the kernel under test that are
# not counted ('!' lines there). Prints each offending line as
# FILE:LINE: TEXT.
#   scan_log.sh FILE...      exit 0: clean, 1: problems found, 2: usage/IO error
#   scan_log.sh -            read standard input (e.g. dmesg | scan_log.sh -)
#   scan_log.sh --patterns   print the patterns, comments and exceptions stripped

set -euo pipefail
# shellcheck source=vm_common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/vm_common.sh"

PATTERNS_FILE=$VM_DIR/log_patterns

patterns() {
	[ -r "$PATTERNS_FILE" ] || {
		printf '%s: error: cannot read %s\n' "$VM_PROG" "$PATTERNS_FILE" >&2
		exit 2
	}
	grep -v -e '^#' -e '^!' -e '^[[:space:]]*$' "$PATTERNS_FILE"
}

# The exceptions, without their '!'; a pattern that matches nothing if none.
exceptions() {
	sed -n 's/^!//p' "$PATTERNS_FILE" | grep . || echo '^$.'
}

usage() {
	printf 'usage: %s FILE...|-  or  %s --patterns\n' "$VM_PROG" "$VM_PROG" >&2
	exit 2
}

[ $# -ge 1 ] || usage
case $1 in
--patterns)
	patterns
	exit 0
	;;
-h | --help) usage ;;
esac

pats=$(patterns)
excs=$(exceptions)
found=0
for f in "$@"; do
	if [ "$f" != - ] && [ ! -r "$f" ]; then
		printf '%s: error: cannot read log %s\n' "$VM_PROG" "$f" >&2
		exit 2
	fi
	name=$f src=$f
	if [ "$f" = - ]; then
		name=stdin src=/dev/stdin
	fi
	# Serial consoles end lines with \r\n; drop the \r before matching.
	if hits=$(tr -d '\r' <"$src" | grep -n -E -e "$pats" |
		grep -v -E -e "$excs"); then
		found=1
		while IFS= read -r line; do
			printf '%s:%s\n' "$name" "$line"
		done <<<"$hits"
	fi
done
exit "$found"
