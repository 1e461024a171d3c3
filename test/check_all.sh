#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`, after the build: every test lane, one after the other, even
# when an earlier one failed, then one combined "N passed, N failed" line.
#   lint      checkpatch, W=1 + sparse, shellcheck (tools/lint.sh): 1 check
#   suite     the test suite on each kernel (test/check.sh)
#   stress    the concurrency stress test and the ioctl fuzzer on each
#             kernel (test/run_stress.sh; CHECK_STRESS_SECONDS, default 300)
#   mpi       Debian's MPICH and Open MPI over xpmem on each kernel: the
#             fallback and conformance steps of mpi-tests/mpi_check.sh
#             (CHECK_MPI_STEPS; MPICH's suite and the ping-pong table are
#             left to `make mpi-check`, which takes over an hour)
#   packages  build the .deb/.rpm, install, boot and remove them on each
#             kernel (packaging/test/package_check.sh)
#   check_all.sh KERNEL...          e.g. check_all.sh 6.1 6.12
# CHECK_LANES (default "lint suite stress mpi packages") picks lanes.
# Exit status 0 only if every lane passed.

set -u

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
LANES=${CHECK_LANES:-lint suite stress mpi packages}

if [ $# -eq 0 ]; then
	echo "usage: $0 KERNEL...   (e.g. $0 6.1 6.12)" >&2
	exit 2
fi

total_pass=0
total_fail=0
results=()

# Run lane $1 (the command after it); add up its last "N passed, N failed".
lane() {
	local name=$1 log rc line p f start
	shift
	echo
	echo "######## $name"
	log=$(mktemp "${TMPDIR:-/tmp}/xpmem-check-$name.XXXXXX")
	start=$SECONDS
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(tr -d '\r' <"$log" |
		grep -oE '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	rm -f -- "$log"
	if [ -z "$line" ]; then
		# lint, or a lane that died before its summary
		if [ "$rc" -eq 0 ] && [ "$name" = lint ]; then
			p=1 f=0
		else
			p=0 f=1
		fi
	else
		read -r p _ f _ <<<"${line//,/}"
		# a lane that failed without a failed count (crash, guest log)
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
		fi
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	results+=("$(printf '%-9s %4d passed, %3d failed, exit status %d, %d s' \
		"$name" "$p" "$f" "$rc" $((SECONDS - start)))")
}

for l in $LANES; do
	case $l in
	lint) lane lint make -C "$ROOT" --no-print-directory lint ;;
	suite) lane suite bash "$ROOT/test/check.sh" "$@" ;;
	stress)
		lane stress env STRESS_SECONDS="${CHECK_STRESS_SECONDS:-300}" \
			bash "$ROOT/test/run_stress.sh" "$@" ;;
	mpi)
		# shellcheck disable=SC2086 # CHECK_MPI_STEPS is a list of words
		lane mpi bash "$ROOT/mpi-tests/mpi_check.sh" "$@" -- \
			${CHECK_MPI_STEPS:-fallback conformance} ;;
	packages)
		lane packages bash "$ROOT/packaging/test/package_check.sh" "$@" ;;
	*)
		echo "$0: unknown lane '$l' in CHECK_LANES" \
			"(lint suite stress mpi packages)" >&2
		exit 2 ;;
	esac
done

echo
echo "######## summary"
printf '%s\n' "${results[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
