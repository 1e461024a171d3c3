#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`, host side: for each kernel series given (6.1, 6.12), boot a
# guest on that kernel (test/vm/run_guest.sh) and run the whole suite there
# (test/run_tests.sh) against the module built for it. Prints each kernel's
# result, then one combined "N passed, N failed, N skipped" line; exits
# non-zero if any kernel had a failure or its guest run failed (crash,
# timeout, kernel log damage).
#   check.sh KERNEL...      e.g. check.sh 6.1 6.12
# Run 'make all' first: this script builds nothing.
# The guests boot with two emulated NUMA nodes (numa=fake=2) so that the
# page-migration test (mm_events: move_pages) has somewhere to move pages,
# and without automatic NUMA balancing, which two nodes would switch on:
# its periodic PROT_NONE scans invalidate the exporter's ranges and add
# importer faults to tests that count them exactly.

set -u

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
GUEST_TIMEOUT=1500
# The 1 GiB tests of fault.c need a 1 GiB hugetlb page, which only a boot
# reservation reliably gives; that leaves the rest of the suite 3 GiB.
GUEST_MEM=4G
GUEST_APPEND="numa=fake=2 numa_balancing=disable hugepagesz=1G hugepages=1"

if [ $# -eq 0 ]; then
	echo "usage: $0 KERNEL...   (e.g. $0 6.1 6.12)" >&2
	exit 2
fi

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
	ko=$ROOT/build/kernel/$rel/xpmem.ko
	if [ ! -f "$ko" ]; then
		results+=("$k ($rel): $ko is missing (run 'make all')")
		total_fail=$((total_fail + 1))
		continue
	fi
	log=$(mktemp "${TMPDIR:-/tmp}/xpmem-check-$k.XXXXXX")
	bash "$ROOT/test/vm/run_guest.sh" --kernel "$k" \
		--timeout "$GUEST_TIMEOUT" --mem "$GUEST_MEM" \
		--append "$GUEST_APPEND" -- \
		bash "$ROOT/test/run_tests.sh" "$ko" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# The suite's own summary line (the serial console adds \r).
	line=$(tr -d '\r' <"$log" |
		grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' |
		tail -n 1)
	rm -f -- "$log"
	if [ -z "$line" ]; then
		results+=("$k ($rel): no test summary (guest exit status $rc)")
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
		results+=("$k ($rel): $line; but the guest run failed (exit status $rc)")
	else
		results+=("$k ($rel): $line")
	fi
done

echo
echo "==== summary"
printf '%s\n' "${results[@]}"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
