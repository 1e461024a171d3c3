#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make mpi-check: build what the MPI tests need (mpi-tests/build.sh: our
# library installed under build/mpi/prefix, UCX rebuilt with xpmem, Open MPI's
# vader with xpmem, our MPI programs, MPICH's pt2pt suite), then boot a
# guest per kernel and run mpi-tests/run_guest_mpi.sh in it. Results in
# build/mpi/results/<release>/mpi/ (summary.txt, logs, suite TAP files,
# pingpong.txt).
#
#   mpi_check.sh [6.1|6.12 ...] [-- STEP...]   (default: both kernels, all steps)
# STEP: fallback conformance suite pingpong (mpi-tests/run_guest_mpi.sh).
# MPICH's suite is built only when the suite step runs. Ends with one
# "N passed, N failed" line over all kernels (make check's mpi lane runs
# "-- fallback conformance").
# Environment: MPI_CHECK_KO_DIR (module directory per release, default
# build/kernel), MPI_CHECK_TIMEOUT (guest timeout, s, default 5400).

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
VM=$ROOT/test/vm
PROG="mpi-tests/mpi_check.sh"
KO_DIR=${MPI_CHECK_KO_DIR:-$ROOT/build/kernel}
LIMIT=${MPI_CHECK_TIMEOUT:-5400}

die() {
	printf '%s: error: %s\n' "$PROG" "$1" >&2
	[ -n "${2:-}" ] && printf '%s:   why: %s\n' "$PROG" "$2" >&2
	[ -n "${3:-}" ] && printf '%s:   fix: %s\n' "$PROG" "$3" >&2
	exit 1
}

kernels=()
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; break ;;
	6.1 | 6.12) kernels+=("$1"); shift ;;
	*) die "unknown argument '$1'" "arguments are kernels (6.1, 6.12), then -- and steps" \
		"e.g. bash $PROG 6.1 -- fallback conformance" ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
steps=("$@")

start=$(date +%s)
[ "$(id -u)" -eq 0 ] ||
	die "$PROG must run as root" "it installs Debian's MPI packages and boots QEMU guests" \
		"re-run it as root"
# Debian's MPIs, build tools and the deb-src entry (idempotent, quick).
bash "$VM/setup_host.sh" mpi ||
	die "test/vm/setup_host.sh mpi failed" "see its messages above" "fix the cause and re-run"
# MPICH's suite (slow to configure) only when the suite step runs.
what=base
if [ ${#steps[@]} -eq 0 ] || printf '%s\n' "${steps[@]}" | grep -qx suite; then
	what=all
fi
bash "$HERE/build.sh" "$what"
built=$(date +%s)

rc=0
for k in "${kernels[@]}"; do
	rel=$(bash "$VM/kernel_release.sh" "$k") || exit 1
	ko=$KO_DIR/$rel/xpmem.ko
	[ -f "$ko" ] || die "no module $ko" "it has not been built for $rel" "run: make module"
	out=$ROOT/build/mpi/results/$rel
	k0=$(date +%s)
	set +e
	bash "$VM/run_guest.sh" --kernel "$k" --mem 3G --timeout "$LIMIT" --out "$out" -- \
		bash "$HERE/run_guest_mpi.sh" "$ko" "${steps[@]}"
	r=$?
	set -e
	echo "$PROG: $rel: exit $r in $(($(date +%s) - k0)) s; results in $out/mpi/summary.txt"
	[ "$r" -eq 0 ] || rc=1
done
end=$(date +%s)
echo
total_pass=0 total_fail=0
for k in "${kernels[@]}"; do
	rel=$(bash "$VM/kernel_release.sh" "$k")
	f=$ROOT/build/mpi/results/$rel/mpi/summary.txt
	echo "== $rel"
	line=
	[ -f "$f" ] && line=$(grep -E '^mpi-check on ' "$f" | tail -n 1)
	if [ -n "$line" ]; then
		grep -E '^FAIL' "$f" || true
		echo "$line"
		read -r np _ nf _ <<<"$(grep -oE '[0-9]+ passed, [0-9]+ failed' <<<"$line" | tr -d ,)"
		total_pass=$((total_pass + np))
		total_fail=$((total_fail + nf))
	else
		echo "no summary (the guest did not get that far; see build/mpi/results/$rel/console.log)"
		total_fail=$((total_fail + 1))
	fi
done
echo "$PROG: build $((built - start)) s, guests $((end - built)) s, total $((end - start)) s wall"
# A guest that failed without a failed test (crash, kernel log) counts too.
[ "$rc" -ne 0 ] && [ "$total_fail" -eq 0 ] && total_fail=1
echo "$total_pass passed, $total_fail failed"
exit "$rc"
