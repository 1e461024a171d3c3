#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run_bench.sh - run xpmem_bench in throw-away QEMU guests and collect the
# results, so that docs/performance.md can be regenerated with one command.
# For each kernel: boot a guest (test/vm/run_guest.sh), load the module
# built for it, run build/bench/xpmem_bench, unload. Builds nothing: run
# 'make lib module' and 'make -C bench' first (or pass --build).
#
#   run_bench.sh [options] [6.1|6.12|all] [-- XPMEM_BENCH_OPTION...]
#   run_bench.sh --guest MODULE_KO [XPMEM_BENCH_OPTION...]   (in the guest)
#
# Options:
#   --out DIR      results directory (default build/bench/results/DATE)
#   --ko-dir DIR   module builds to test, DIR/RELEASE/xpmem.ko
#                  (default build/kernel)
#   --mem SIZE     guest memory (default 2G, as 'make run')
#   --timeout SEC  limit per guest (default 900)
#   --build        run 'make lib module KERNELS=...' and 'make -C bench' first
#   --commit REV   test the module of commit REV instead: export it (git
#                  archive) to build/bench/src/REV, build its library and
#                  module there, use that module (the benchmark binary is
#                  still build/bench/xpmem_bench)
# Results: DIR/RELEASE/{bench.md,bench.json,console.log,dmesg.log},
# DIR/results.md (every kernel's tables, then the targets side by side;
# the side-by-side table needs jq). Exit status: non-zero if a guest run or
# a benchmark failed (missed targets do not count unless --strict is given
# to the benchmark).

set -u

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
BENCH=$ROOT/build/bench/xpmem_bench

# QEMU TCG runs user-space 'rep movsb' (and 'rep stosb') byte by byte, about
# 50x slower than the vector loops glibc uses otherwise, and glibc's memcpy
# uses it from 2-4 KiB up to about its non-temporal threshold: memcpy in
# that range would measure the emulator. On real CPUs (ERMS) both paths run
# at about the same speed, so turn the string instructions off in glibc.
BENCH_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1000000000:glibc.cpu.x86_rep_stosb_threshold=1000000000

# ---- inside the guest -------------------------------------------------------------

in_guest() {
	local ko=$1 out=${XPMEM_VM_OUT:-/tmp} rc
	shift

	export PATH=$PATH:/usr/sbin:/sbin
	if ! insmod "$ko"; then
		echo "run_bench: insmod $ko failed"
		return 1
	fi
	GLIBC_TUNABLES=$BENCH_TUNABLES "$BENCH" --json "$out/bench.json" "$@" |
		tee "$out/bench.md"
	rc=${PIPESTATUS[0]}
	if ! rmmod xpmem; then
		echo "run_bench: rmmod xpmem failed"
		rc=1
	fi
	return "$rc"
}

if [ "${1:-}" = --guest ]; then
	[ $# -ge 2 ] || { echo "usage: $0 --guest MODULE_KO [OPTION...]" >&2; exit 2; }
	shift
	in_guest "$@"
	exit
fi

# ---- on the host ------------------------------------------------------------------

usage() {
	sed -n '/^#   run_bench.sh \[/,/^# to the benchmark)/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

out=
ko_dir=$ROOT/build/kernel
mem=2G
timeout=900
build=0
commit_rev=
kernels=()
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	--ko-dir) [ $# -ge 2 ] || usage; ko_dir=$2; shift 2 ;;
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
	--build) build=1; shift ;;
	--commit) [ $# -ge 2 ] || usage; commit_rev=$2; shift 2 ;;
	6.1 | 6.12) kernels+=("$1"); shift ;;
	all) kernels+=(6.1 6.12); shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) echo "run_bench: unknown argument '$1'" >&2; usage ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
bench_args=("$@")

if [ "$build" = 1 ]; then
	make -C "$ROOT" lib module KERNELS="${kernels[*]}" || exit 1
	make -C "$HERE" || exit 1
fi
tree=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
what="module and benchmark of the working tree at $tree"
if [ -n "$commit_rev" ]; then
	if ! commit=$(git -C "$ROOT" rev-parse --short "$commit_rev^{commit}"); then
		echo "run_bench: no commit '$commit_rev'" >&2
		exit 1
	fi
	src=$ROOT/build/bench/src/$commit
	rm -rf "$src" && mkdir -p "$src" || exit 1
	git -C "$ROOT" archive "$commit" | tar -x -C "$src" || exit 1
	make -C "$src" lib module KERNELS="${kernels[*]}" || exit 1
	ko_dir=$src/build/kernel
	what="module of commit $commit, benchmark of the working tree at $tree"
fi
if [ ! -x "$BENCH" ]; then
	echo "run_bench: $BENCH is missing: run 'make lib' and 'make -C bench' (or pass --build)" >&2
	exit 1
fi

stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
[ -n "$out" ] || out=$ROOT/build/bench/results/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd -P)
case $out in
/tmp/* | /run/* | /var/tmp/* | /root/* | /mnt/*)
	echo "run_bench: note: $out is not visible in the guest, only the results are copied there" ;;
esac

status=0
releases=()
for k in "${kernels[@]}"; do
	if ! rel=$(bash "$ROOT/test/vm/kernel_release.sh" "$k"); then
		echo "run_bench: kernel $k is not installed: run 'make setup'" >&2
		status=1
		continue
	fi
	ko=$ko_dir/$rel/xpmem.ko
	if [ ! -f "$ko" ]; then
		echo "run_bench: $ko is missing: run 'make module' (or pass --build)" >&2
		status=1
		continue
	fi
	echo "==== kernel $rel: $what; results in $out/$rel"
	mkdir -p "$out/$rel"
	bash "$ROOT/test/vm/run_guest.sh" --kernel "$k" --mem "$mem" \
		--timeout "$timeout" --out "$out/$rel" -- \
		bash "$HERE/run_bench.sh" --guest "$ko" \
		--label "$what; $stamp" \
		"${bench_args[@]}"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "run_bench: kernel $rel: guest run failed (exit status $rc)"
		status=1
	fi
	releases+=("$rel")
done

# ---- results.md: every kernel's tables, then the targets side by side --------------

{
	echo "Results of \`bench/run_bench.sh ${kernels[*]}\`: $what; $stamp."
	for rel in "${releases[@]}"; do
		[ -s "$out/$rel/bench.md" ] || continue
		echo
		echo "## Linux $rel"
		echo
		tr -d '\r' <"$out/$rel/bench.md"
	done
	if command -v jq >/dev/null && [ ${#releases[@]} -gt 0 ]; then
		jsons=()
		for rel in "${releases[@]}"; do
			[ -s "$out/$rel/bench.json" ] && jsons+=("$out/$rel/bench.json")
		done
		if [ ${#jsons[@]} -gt 0 ]; then
			echo
			echo "## Targets on every kernel"
			echo
			jq -rs '
				def v: if .value == null then "n/a"
				       else (.value * 1000 | round / 1000 | tostring) end;
				"| target | bound | " + (map(.kernel) | join(" | ")) + " |",
				"|:--|--:|" + (map("--:|") | join("")),
				(.[0].targets | keys[]) as $i |
				"| \(.[0].targets[$i].description) | \(.[0].targets[$i].op) \(.[0].targets[$i].bound) | " +
				(map(.targets[$i] | "\(v) \(.status)") | join(" | ")) + " |"
			' "${jsons[@]}"
		fi
	fi
} >"$out/results.md"
echo
echo "run_bench: results in $out/results.md"
exit "$status"
