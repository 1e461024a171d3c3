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
bash "$HERE/build.sh" all
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
for k in "${kernels[@]}"; do
	rel=$(bash "$VM/kernel_release.sh" "$k")
	f=$ROOT/build/mpi/results/$rel/mpi/summary.txt
	echo "== $rel"
	if [ -f "$f" ]; then
		grep -E '^(FAIL|mpi-check on)' "$f" || true
	else
		echo "no summary (the guest did not get that far; see build/mpi/results/$rel/console.log)"
	fi
done
echo "$PROG: build $((built - start)) s, guests $((end - built)) s, total $((end - start)) s wall"
exit "$rc"
