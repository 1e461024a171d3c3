#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`, host side: for each kernel series given (6.1, 6.12), boot a
# guest on that kernel (test/vm/run_guest.sh) and run the whole suite there
# (test/run_tests.sh) against the module built for it. Prints each kernel's
# result and wall time, then one combined "N passed, N failed, N skipped" line; exits
# non-zero if any kernel had a failure or its guest run failed (crash,
# timeout, kernel log damage).
#   check.sh [OPTIONS] KERNEL...      e.g. check.sh 6.1 6.12
# Options (`make check` takes the defaults; run_stress.sh sets them to run
# the stress test and the fuzzer the same way):
#   --tests "NAME..."  run only these programs of run_tests.sh (default: all)
#   --timeout S        limit of each guest run (default 1500)
#   --mem SIZE         guest memory (default 4G)
#   --append ARGS      guest kernel command line additions (default below)
#   --env VAR=VALUE    environment of run_tests.sh in the guest (repeatable)
# Environment: XPMEM_KO_DIR (test <dir>/<kernel release>/xpmem.ko instead of
# the tree's build/kernel/).
# Run 'make all' first: this script builds nothing.
# The guests boot with two emulated NUMA nodes (numa=fake=2) so that the
# page-migration test (mm_events: move_pages) has somewhere to move pages,
# and without automatic NUMA balancing, which two nodes would switch on:
# its periodic PROT_NONE scans invalidate the exporter's ranges and add
# importer faults to tests that count them exactly.

set -u

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
tests=
guest_timeout=1500
# The 1 GiB tests of fault.c need a 1 GiB hugetlb page, which only a boot
# reservation reliably gives; that leaves the rest of the suite 3 GiB.
guest_mem=4G
guest_append="numa=fake=2 numa_balancing=disable hugepagesz=1G hugepages=1"
guest_env=()

usage() {
	echo "usage: $0 [--tests \"NAME...\"] [--timeout S] [--mem SIZE]" \
		"[--append ARGS] [--env VAR=VALUE]... KERNEL...   (e.g. $0 6.1 6.12)" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--tests|--timeout|--mem|--append|--env)
		[ $# -ge 2 ] || usage ;;&
	--tests) tests=$2 ;;
	--timeout) guest_timeout=$2 ;;
	--mem) guest_mem=$2 ;;
	--append) guest_append=$2 ;;
	--env) guest_env+=("$2") ;;
	-*) usage ;;
	*) break ;;
	esac
	shift 2
done
[ $# -gt 0 ] || usage

total_pass=0
total_fail=0
total_skip=0
results=()

for k in "$@"; do
	echo "==== kernel $k"
	if ! rel=$(bash "$ROOT/test/vm/kernel_release.sh" "$k"); then
		results+=("$k: kernel not installed (run 'make setup')")
		total_fail=$((total_fail + 1))
		continue
	fi
	ko=${XPMEM_KO_DIR:-$ROOT/build/kernel}/$rel/xpmem.ko
	if [ ! -f "$ko" ]; then
		results+=("$k ($rel): $ko is missing (run 'make all')")
		total_fail=$((total_fail + 1))
		continue
	fi
	log=$(mktemp "${TMPDIR:-/tmp}/xpmem-check-$k.XXXXXX")
	start=$SECONDS
	# shellcheck disable=SC2086 # $tests is a list of program names
	bash "$ROOT/test/vm/run_guest.sh" --kernel "$k" \
		--timeout "$guest_timeout" --mem "$guest_mem" \
		${guest_append:+--append "$guest_append"} -- \
		env "${guest_env[@]}" \
		bash "$ROOT/test/run_tests.sh" "$ko" $tests 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	wall="$((SECONDS - start)) s"
	# The suite's own summary line (the serial console adds \r).
	line=$(tr -d '\r' <"$log" |
		grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' |
		tail -n 1)
	rm -f -- "$log"
	if [ -z "$line" ]; then
		results+=("$k ($rel): no test summary (guest exit status $rc), $wall")
		total_fail=$((total_fail + 1))
		continue
	fi
	read -r p _ f _ s _ <<<"${line//,/}"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${s:-0}))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# the suite passed but the guest run did not (kernel log, crash)
		total_fail=$((total_fail + 1))
		results+=("$k ($rel): $line; but the guest run failed (exit status $rc), $wall")
	else
		results+=("$k ($rel): $line, $wall")
	fi
done

echo
echo "==== summary"
printf '%s\n' "${results[@]}"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
