#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mutants.sh - do the coherence tests catch a broken module? For each
# mutant: copy kernel/ to build/mutants/NAME/src, break one thing (replace
# one exact source line; fails loudly if the line is gone), build it like
# `make module` does, boot a guest per kernel, run the coherence-related
# test programs against it and list the tests that failed.
# A mutant is caught when at least one test fails on every kernel tried.
#
#   tools/mutants.sh [--kernel 6.1|6.12]... [--rev REV] [--timeout SEC]
#                    [--tests "PROG..."] [MUTANT...]
#
# Mutants (default: nozap noseq):
#   nozap        the invalidation callback does not zap importer PTEs
#   noseq        the fault installs PTEs without mmu_interval_read_retry()
#   noaccount    nothing the driver allocates is charged to a memory cgroup
#                (caught by the limits tests: --tests limits)
#   nowrprotect  importer PTEs are writable even where the exporter's is not
#                (importers then write the shared zero page: the guest falls
#                apart and runs into --timeout, so it is not run by default)
#   none         no change: the tests must all pass (a baseline)
# --rev REV takes kernel/ from git revision REV instead of the work tree.
# Kernel log damage is expected from a mutant: guests run with --no-log-scan
# (and with two emulated NUMA nodes, numa=fake=2, for move_pages, without
# NUMA balancing, as test/check.sh).
# Results: build/mutants/NAME/out-KREL/ (console.log, test-logs/).
# Exit: 0 if every mutant was caught (and none passed), 1 if not, 2 on error.

set -u

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
MUT_DIR=$ROOT/build/mutants
ALL_MUTANTS=(nozap noseq noaccount nowrprotect none)
DEFAULT_MUTANTS=(nozap noseq)
kernels=()
rev=
limit=2400
tests="coherence sources fork perm lifetime fault mm_events"

die() {
	echo "mutants.sh: error: $*" >&2
	exit 2
}

usage() {
	sed -n '4,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage; kernels+=("$2"); shift 2 ;;
	--rev) [ $# -ge 2 ] || usage; rev=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; limit=$2; shift 2 ;;
	--tests) [ $# -ge 2 ] || usage; tests=$2; shift 2 ;;
	-h | --help) usage ;;
	-*) echo "mutants.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
mutants=("$@")
[ ${#mutants[@]} -gt 0 ] || mutants=("${DEFAULT_MUTANTS[@]}")
[[ $limit =~ ^[1-9][0-9]*$ ]] || die "bad --timeout '$limit': a number of seconds"

# In file $1, replace the line equal to $2 with $3; or, if there is no
# such line, the line equal to $4 with $5, and so on (one pair per version
# of the source). Fails loudly when no line matches exactly once: the
# source changed and the mutant must be updated.
mutate() {
	local file=$1 n tried=

	shift
	while [ $# -ge 2 ]; do
		n=$(grep -c -F -x -e "$1" "$file")
		if [ "$n" = 1 ]; then
			awk -v old="$1" -v new="$2" \
				'$0 == old { print new; next } { print }' \
				"$file" >"$file.new" && mv "$file.new" "$file"
			return
		fi
		tried+=" '$1' ($n times)"
		shift 2
	done
	echo "mutants.sh: error: mutant $name: no line of ${file##*/} to" \
		"change; looked for exactly one of:$tried. The source changed:" \
		"update this mutant in $0." >&2
	return 1
}

# Apply mutant $1 to the copy of kernel/ in $2.
apply_mutant() {
	local name=$1 src=$2

	case $name in
	none) ;;
	nozap)
		mutate "$src/xpmem_notifier.c" \
			$'\txpmem_att_zap(att, range->start, range->end);' \
			$'\t(void)0;\t/* mutant nozap: no zap */'
		;;
	noseq)
		mutate "$src/xpmem_fault.c" \
			$'\t\tif (!mmu_interval_read_retry(range->notifier,' \
			$'\t\tif (1 || !mmu_interval_read_retry(range->notifier,'
		;;
	noaccount)
		grep -q GFP_KERNEL_ACCOUNT "$src"/*.c || {
			echo "mutants.sh: error: mutant $name: no GFP_KERNEL_ACCOUNT" \
				"left in kernel/: update this mutant in $0." >&2
			return 1
		}
		sed -i 's/GFP_KERNEL_ACCOUNT/GFP_KERNEL/g' "$src"/*.c
		;;
	nowrprotect)
		mutate "$src/xpmem_fault.c" \
			$'\t\tbool write = (hpfn & HMM_PFN_WRITE) &&' \
			$'\t\tbool write = (hpfn & HMM_PFN_VALID) &&' \
			$'\treturn (hpfn & HMM_PFN_WRITE) && (in->vma->vm_flags & VM_WRITE);' \
			$'\treturn (hpfn & HMM_PFN_VALID) && (in->vma->vm_flags & VM_WRITE);'
		;;
	*)
		echo "mutants.sh: error: unknown mutant '$name'" \
			"(known: ${ALL_MUTANTS[*]})" >&2
		return 1
		;;
	esac
}

# Copy kernel/ (of the work tree, or of --rev) to $1.
copy_source() {
	local dst=$1

	rm -rf -- "$dst"
	mkdir -p -- "$dst" || return 1
	if [ -n "$rev" ]; then
		(cd "$ROOT" && git archive --format=tar "$rev" kernel) |
			tar -x -C "$dst" --strip-components=1
	else
		cp -a "$ROOT/kernel/." "$dst/"
	fi
}

# Build $1 (a mutated copy) for release $2 into $3, as `make module` does.
build_module() {
	nice -n 10 make -s -C "$1" KDIR="/lib/modules/$2/build" OUT="$3" \
		XPMEM_UAPI="$ROOT/include/uapi" \
		XPMEM_VERSION="$(cat "$ROOT/VERSION")" >"$3.build.log" 2>&1
}

[ -x "$ROOT/build/test/mm_events" ] ||
	die "the tests are not built: run 'make test' first"
for t in $tests; do
	[ -x "$ROOT/build/test/$t" ] || die "test program build/test/$t is missing: run 'make test'"
done

declare -A verdict
missed=0
for name in "${mutants[@]}"; do
	src=$MUT_DIR/$name/src
	copy_source "$src" || die "cannot copy kernel/ to $src"
	apply_mutant "$name" "$src" || exit 2
	for k in "${kernels[@]}"; do
		rel=$(bash "$ROOT/test/vm/kernel_release.sh" "$k") || exit 2
		out=$MUT_DIR/$name/$rel
		rm -rf -- "$out" "$out.build.log"
		mkdir -p -- "$out"
		echo "== mutant $name on $rel: building"
		if ! build_module "$src" "$rel" "$out"; then
			tail -n 20 "$out.build.log" >&2
			die "mutant $name does not build for $rel (log: $out.build.log)"
		fi
		echo "== mutant $name on $rel: running: $tests"
		log=$MUT_DIR/$name/out-$rel.log
		# shellcheck disable=SC2086 # $tests is a list of words
		bash "$ROOT/test/vm/run_guest.sh" --kernel "$rel" \
			--timeout "$limit" --no-log-scan \
			--append 'numa=fake=2 numa_balancing=disable' \
		--out "$MUT_DIR/$name/out-$rel" \
			-- bash test/run_tests.sh "$out/xpmem.ko" $tests \
			>"$log" 2>&1
		rc=$?
		# Failed test cases and programs; not the kernel log or rmmod.
		fails=$(tr -d '\r' <"$log" | grep -E '^FAIL  ' |
			grep -v -E '^FAIL  (kernel_log after|module_)' |
			sed -E 's/^FAIL  //')
		nfail=$(printf '%s' "$fails" | grep -c '^')
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 125 ]; then
			fails+=$'\n'"(the guest did not finish: exit $rc, see $log)"
		fi
		if [ "$name" = none ]; then
			if [ "$nfail" -eq 0 ] && [ "$rc" -eq 0 ]; then
				v="passes (baseline)"
			else
				v="FAILS: the baseline must pass"
				missed=$((missed + 1))
			fi
		elif [ "$nfail" -gt 0 ]; then
			v="caught by $nfail"
		else
			v="NOT CAUGHT"
			missed=$((missed + 1))
		fi
		verdict[$name/$rel]=$v
		echo "-- mutant $name on $rel: $v (guest exit $rc, log $log)"
		printf '%s\n' "$fails" | sed '/^$/d; s/^/     /'
	done
done

echo
echo "== summary"
for name in "${mutants[@]}"; do
	for k in "${kernels[@]}"; do
		rel=$(bash "$ROOT/test/vm/kernel_release.sh" "$k")
		printf '%-12s %-28s %s\n' "$name" "$rel" "${verdict[$name/$rel]}"
	done
done
[ "$missed" -eq 0 ] || exit 1
