#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`: boot a throw-away guest on one kernel (6.1 by default), load
# the xpmem module built for it and run the demo (test/demo.c): one process
# exports a buffer, another attaches and changes it, the first sees the
# change. Prints the demo's report; exits non-zero if anything failed.
#   run_demo.sh [6.1|6.12]              on the host (builds nothing)
#   run_demo.sh --guest MODULE_KO       inside the guest (what the host runs)

set -u

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
DEMO=$ROOT/build/test/demo

# ---- inside the guest -------------------------------------------------------------

in_guest() {
	local ko=$1 rc

	export PATH=$PATH:/usr/sbin:/sbin
	echo "== loading $ko"
	if ! insmod "$ko"; then
		echo "FAIL: insmod $ko failed"
		return 1
	fi
	echo "== demo"
	"$DEMO"
	rc=$?

	# The benchmark (bench/xpmem_bench, about 3 minutes here): every figure
	# a ratio to a baseline measured side by side, PASS/MISS per target.
	# Missed targets do not fail the run; a benchmark error does. The
	# tunables keep glibc's memcpy off 'rep movsb', which QEMU TCG runs
	# byte by byte (see bench/run_bench.sh).
	echo "== benchmark"
	if [ -x "$ROOT/build/bench/xpmem_bench" ]; then
		GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1000000000:glibc.cpu.x86_rep_stosb_threshold=1000000000 \
			"$ROOT/build/bench/xpmem_bench" \
			--json "${XPMEM_VM_OUT:-/tmp}/bench.json" || rc=1
	else
		echo "FAIL: $ROOT/build/bench/xpmem_bench is missing (make bench)"
		rc=1
	fi

	echo "== unloading the module"
	if ! rmmod xpmem; then
		echo "FAIL: rmmod xpmem failed"
		rc=1
	fi
	return "$rc"
}

if [ "${1:-}" = --guest ]; then
	[ $# -eq 2 ] || { echo "usage: $0 --guest MODULE_KO" >&2; exit 2; }
	in_guest "$2"
	exit
fi

# ---- on the host ------------------------------------------------------------------

kernel=${1:-6.1}
if ! rel=$(bash "$ROOT/test/vm/kernel_release.sh" "$kernel"); then
	echo "error: kernel $kernel is not installed: run 'make setup'" >&2
	exit 1
fi
ko=$ROOT/build/kernel/$rel/xpmem.ko
for f in "$ko" "$DEMO"; do
	if [ ! -e "$f" ]; then
		echo "error: $f is missing: run 'make all KERNELS=$kernel' first" >&2
		exit 1
	fi
done
echo "Booting a $rel guest to run the xpmem demo (this takes a minute)..."
bash "$ROOT/test/vm/run_guest.sh" --kernel "$kernel" --timeout 600 -- \
	bash "$HERE/run_demo.sh" --guest "$ko"
rc=$?
if [ "$rc" -eq 0 ]; then
	echo "run_demo: PASS (kernel $rel)"
else
	echo "run_demo: FAIL (kernel $rel, exit status $rc)"
fi
exit "$rc"
