#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make stress`, host side: for each kernel series given (6.1, 6.12), boot a
# guest (test/vm/run_guest.sh) and run there, through test/run_tests.sh
# (which loads the module, scans the kernel log after each program and
# unloads the module, so a leaked reference fails the run):
#   stress  the concurrency stress test (test/stress.c) for STRESS_SECONDS
#   fuzz    the ioctl fuzzer (test/fuzz.c) for FUZZ_SECONDS
# Runs them through test/check.sh, which prints each kernel's result and its
# wall time, then one combined "N passed, N failed, N skipped" line; exits
# non-zero if anything failed.
#   run_stress.sh KERNEL...      e.g. run_stress.sh 6.1 6.12
# Environment: STRESS_SECONDS (default 300), STRESS_SEED (default random;
# printed, and the same seed is used on every kernel: repeat a run with
# STRESS_SEED=<seed>), STRESS_PROCS (workers, default 4), FUZZ_SECONDS
# (default 60), FUZZ_SEED (default STRESS_SEED), XPMEM_KO_DIR (test
# <dir>/<kernel release>/xpmem.ko instead of the tree's build/kernel/).
# Run 'make all' first: this script builds nothing.

set -u

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
# A hang is reported after this long without progress (stress.c, fuzz.c).
HANG_SECONDS=120

die() {
	echo "error: $*" >&2
	exit 2
}

number() {
	[[ $2 =~ ^[0-9]+$ ]] ||
		die "$1='$2' is not a whole number (e.g. $1=300)"
}

if [ $# -eq 0 ]; then
	echo "usage: $0 KERNEL...   (e.g. $0 6.1 6.12)" >&2
	exit 2
fi
seconds=${STRESS_SECONDS:-300}
fuzz_seconds=${FUZZ_SECONDS:-60}
seed=${STRESS_SEED:-}
if [ -z "$seed" ]; then
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ') ||
		die "cannot read /dev/urandom for a seed; set STRESS_SEED"
fi
fuzz_seed=${FUZZ_SEED:-$seed}
number STRESS_SECONDS "$seconds"
number FUZZ_SECONDS "$fuzz_seconds"
number STRESS_SEED "$seed"
number FUZZ_SEED "$fuzz_seed"
if [ "$seconds" -eq 0 ] || [ "$fuzz_seconds" -eq 0 ]; then
	die "STRESS_SECONDS and FUZZ_SECONDS must be > 0"
fi
vars=(STRESS_SECONDS="$seconds" STRESS_SEED="$seed"
	FUZZ_SECONDS="$fuzz_seconds" FUZZ_SEED="$fuzz_seed")
if [ -n "${STRESS_PROCS:-}" ]; then
	number STRESS_PROCS "$STRESS_PROCS"
	vars+=(STRESS_PROCS="$STRESS_PROCS")
fi
for prog in stress fuzz; do
	[ -x "$ROOT/build/test/$prog" ] ||
		die "$ROOT/build/test/$prog is missing: run 'make test' first"
done
# Per program: its run, the end-of-run wait for every process (up to two
# hang periods) and slack for a slow, shared host.
prog_timeout=$((seconds + 2 * HANG_SECONDS + 300))
guest_timeout=$((prog_timeout + fuzz_seconds + 2 * HANG_SECONDS + 300))

echo "stress: seed $seed (repeat with STRESS_SEED=$seed), ${seconds} s" \
	"stress + ${fuzz_seconds} s fuzz per kernel"
env_opts=()
for v in "${vars[@]}" XT_TIMEOUT="$prog_timeout"; do
	env_opts+=(--env "$v")
done
# The guests of the stress lane keep run_guest.sh's defaults: 2 GiB and no
# extra kernel command line.
exec bash "$HERE/check.sh" --tests "stress fuzz" --timeout "$guest_timeout" \
	--mem 2G --append "" "${env_opts[@]}" "$@"
