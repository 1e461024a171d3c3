#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug-kernel lane (`make check-debug`): a small guest kernel built from
# Debian's linux-source-6.1 with KASAN, lockdep (PROVE_LOCKING), DEBUG_VM,
# kmemleak and DEBUG_ATOMIC_SLEEP, the whole suite (and the stress test, if
# there is one) run on it, and any report of those checkers fails the run.
#
#   debug_kernel.sh build              build the kernel, or reuse the cached
#                                      one; prints its build directory (KDIR)
#   debug_kernel.sh check [TEST...]    build the kernel, xpmem.ko against it
#                                      and the tests, boot it, run the suite
#                                      (all tests, or TEST...), the stress
#                                      test (whole suite only) and a
#                                      kmemleak scan
#   debug_kernel.sh in-guest KO [TEST...]   the guest side of `check`
#
# The kernel lives under build/debug-kernel/ (src/: the unpacked tarball,
# obj/: the O= build tree, kept for incremental rebuilds). Its configuration
# is `make tinyconfig` plus debug_kernel.config; it is rebuilt only when that
# fragment, the tarball or the compiler change (obj/.xpmem-stamp). The build
# runs under `nice -n 10` with XPMEM_DEBUG_JOBS (default 2) jobs.
# Environment: XPMEM_DEBUG_TIMEOUT (guest timeout, s, default 7200),
# XPMEM_VM_BOOT_GRACE (see run_guest.sh; default 600 here), STRESS_SECONDS
# (default 180 here) and STRESS_SEED (see test/run_stress.sh),
# XPMEM_DEBUG_MEM (guest memory, default 3G), XT_TIMEOUT (per test program,
# default 2400 here: the checkers make everything several times slower).

set -euo pipefail
# shellcheck source=vm_common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/vm_common.sh"

TARBALL=${XPMEM_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
FRAGMENT=$VM_DIR/debug_kernel.config
DK_DIR=$REPO_ROOT/build/debug-kernel
SRC=$DK_DIR/src/linux-source-6.1
OBJ=$DK_DIR/obj
IMAGE=$OBJ/arch/x86/boot/bzImage
KO_DIR=$DK_DIR/xpmem
JOBS=${XPMEM_DEBUG_JOBS:-2}

usage() {
	cat >&2 <<EOF
usage: $VM_PROG build | check [TEST...] | in-guest MODULE_KO [TEST...]
  build   build the debug kernel into $OBJ (cached)
  check   build everything, boot the debug kernel, run the suite, the stress
          test and a kmemleak scan; fail on any KASAN, lockdep, DEBUG_VM,
          kmemleak or sleeping-in-atomic report
EOF
	exit 2
}

# ---- host: the kernel ------------------------------------------------------------

# What the cached kernel was made from; a change means a rebuild.
kernel_stamp() {
	printf 'tarball %s\n' "$(stat -c '%s %Y' -- "$TARBALL")"
	printf 'fragment %s\n' "$(sha256sum <"$FRAGMENT" | cut -d' ' -f1)"
	printf 'compiler %s\n' "$(gcc --version | head -n 1)"
}

# Unpack the tarball once (again if it changed).
extract() {
	local want have=
	want=$(stat -c '%s %Y' -- "$TARBALL")
	[ -r "$DK_DIR/src/.xpmem-tarball" ] && have=$(cat "$DK_DIR/src/.xpmem-tarball")
	if [ -f "$SRC/Makefile" ] && [ "$have" = "$want" ]; then
		return 0
	fi
	info "unpacking $TARBALL into $DK_DIR/src"
	rm -rf -- "$DK_DIR/src" "$OBJ"
	mkdir -p -- "$DK_DIR/src"
	nice -n 10 tar -xJf "$TARBALL" -C "$DK_DIR/src" ||
		die "cannot unpack $TARBALL" "tar failed (see above)" "check free space in $DK_DIR"
	[ -f "$SRC/Makefile" ] ||
		die "$TARBALL has no linux-source-6.1/ directory" "it is not the expected linux-source-6.1 package" \
			"reinstall it: apt-get install --reinstall linux-source-6.1"
	printf '%s\n' "$want" >"$DK_DIR/src/.xpmem-tarball"
}

# tinyconfig + the fragment; fail if any line of the fragment did not stick.
configure() {
	local frag line name missing=
	frag=$OBJ/.xpmem-fragment.config
	mkdir -p -- "$OBJ"
	make -s -C "$SRC" O="$OBJ" tinyconfig >"$OBJ/.xpmem-config.log" 2>&1 ||
		die "make tinyconfig failed" "see $OBJ/.xpmem-config.log" "check the kernel build dependencies (flex, bison, bc, libelf-dev, libssl-dev)"
	grep -E '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set)' "$FRAGMENT" >"$frag"
	(cd "$OBJ" && bash "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "$frag") \
		>>"$OBJ/.xpmem-config.log" 2>&1 ||
		die "merging $FRAGMENT failed" "see $OBJ/.xpmem-config.log" "fix the fragment"
	make -s -C "$SRC" O="$OBJ" olddefconfig >>"$OBJ/.xpmem-config.log" 2>&1 ||
		die "make olddefconfig failed" "see $OBJ/.xpmem-config.log" "fix the fragment"
	while IFS= read -r line; do
		case $line in
		CONFIG_*) grep -qxF -- "$line" "$OBJ/.config" || missing+=" $line" ;;
		*)
			name=${line#\# }
			name=${name%% *}
			! grep -q "^$name=" "$OBJ/.config" || missing+=" $name=n"
			;;
		esac
	done <"$frag"
	[ -z "$missing" ] ||
		die "the kernel configuration lacks:$missing" \
			"a dependency of these options is missing from $FRAGMENT (see its Kconfig 'depends on')" \
			"add the dependency to $FRAGMENT"
}

build_kernel() {
	local stamp start secs cpu TIMEFORMAT=%U+%S
	[ -r "$TARBALL" ] ||
		die "$TARBALL not found" "the debug kernel is built from Debian's kernel source package" \
			"apt-get install linux-source-6.1"
	require_cmd gcc gcc
	require_cmd make make
	require_cmd flex flex
	require_cmd bison bison
	require_cmd bc bc
	require_cmd flock util-linux
	# One build at a time: a second one would reconfigure the tree under
	# the first. The lock goes with this process.
	mkdir -p -- "$DK_DIR"
	exec 9>"$DK_DIR/.lock"
	if ! flock -n 9; then
		info "another debug_kernel.sh is building the kernel; waiting for it"
		flock 9
	fi
	stamp=$(kernel_stamp)
	if [ -f "$IMAGE" ] && [ -f "$OBJ/Module.symvers" ] && [ -f "$OBJ/.xpmem-stamp" ] &&
		[ "$(cat "$OBJ/.xpmem-stamp")" = "$stamp" ]; then
		info "debug kernel up to date: $IMAGE"
		return 0
	fi
	extract
	rm -f -- "$OBJ/.xpmem-stamp"
	configure
	info "building the debug kernel in $OBJ ($JOBS jobs, nice 10); log: $DK_DIR/build.log"
	start=$(date +%s)
	# CPU time (user+sys of all compilers) says more than wall time on a
	# shared machine: on N idle cores the build takes about CPU / N.
	if ! cpu=$({ time nice -n 10 make -C "$SRC" O="$OBJ" -j"$JOBS" bzImage modules \
		>"$DK_DIR/build.log" 2>&1; } 2>&1); then
		tail -n 30 "$DK_DIR/build.log" >&2
		die "the debug kernel build failed" "see the end of $DK_DIR/build.log above" \
			"fix the cause and re-run (the build continues where it stopped)"
	fi
	secs=$(($(date +%s) - start))
	cpu=$(awk -v t="$cpu" 'BEGIN { split(t, a, "+"); printf "%d", a[1] + a[2] }')
	printf '%s\n' "$stamp" >"$OBJ/.xpmem-stamp"
	# The module's feature probes ran against the old tree.
	rm -f -- "$KO_DIR/xpmem_config.h"
	info "debug kernel built in $((secs / 60)) min $((secs % 60)) s wall, $((cpu / 60)) min CPU: $IMAGE ($(make -s -C "$SRC" O="$OBJ" kernelrelease 2>/dev/null))"
}

# ---- host: the whole lane --------------------------------------------------------

check() {
	local ko=$KO_DIR/xpmem.ko out=$DK_DIR/run rc
	build_kernel
	info "building xpmem.ko against the debug kernel into $KO_DIR"
	make -C "$REPO_ROOT/kernel" KDIR="$OBJ" OUT="$KO_DIR" \
		XPMEM_VERSION="$(cat "$REPO_ROOT/VERSION")" >"$DK_DIR/module.log" 2>&1 || {
		tail -n 30 "$DK_DIR/module.log" >&2
		die "building xpmem.ko against the debug kernel failed" "see $DK_DIR/module.log" "fix the module"
	}
	make -C "$REPO_ROOT" --no-print-directory test >/dev/null ||
		die "building the tests failed" "make test failed (see above)" "fix the tests"
	set +e
	# Booting with KASAN and kmemleak under TCG is slow.
	XPMEM_VM_BOOT_GRACE=${XPMEM_VM_BOOT_GRACE:-600} \
		bash "$VM_DIR/run_guest.sh" --kernel-image "$IMAGE" \
		--mem "${XPMEM_DEBUG_MEM:-3G}" --timeout "${XPMEM_DEBUG_TIMEOUT:-7200}" \
		--out "$out" --cwd "$REPO_ROOT" -- \
		env STRESS_SECONDS="${STRESS_SECONDS:-180}" STRESS_SEED="${STRESS_SEED:-}" \
		bash "$VM_DIR/debug_kernel.sh" in-guest "$ko" "$@"
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then
		info "check-debug PASSED (results in $out)"
	else
		warn "check-debug FAILED (exit status $rc; results in $out)"
	fi
	return "$rc"
}

# ---- guest -----------------------------------------------------------------------

KMEMLEAK=/sys/kernel/debug/kmemleak

in_guest() {
	local ko=$1 failed=0 start leaks
	shift
	[ -n "${XPMEM_VM:-}" ] ||
		die "in-guest runs inside a test guest" "it loads modules and reads the checkers' reports" \
			"run: bash $VM_DIR/debug_kernel.sh check"
	printf '== debug kernel %s\n' "$(uname -r)"
	[ -e "$KMEMLEAK" ] ||
		die "$KMEMLEAK is missing" "the kernel lacks kmemleak, or debugfs is not mounted" \
			"boot the kernel debug_kernel.sh builds"
	[ -r /proc/lockdep_stats ] ||
		die "/proc/lockdep_stats is missing" "the kernel lacks lockdep" "boot the kernel debug_kernel.sh builds"
	# Forget what boot left behind: only leaks from now on count.
	{ echo scan >"$KMEMLEAK" && echo clear >"$KMEMLEAK"; } ||
		die "cannot use $KMEMLEAK" "kmemleak refused a scan (it disables itself after an internal error)" \
			"see the kernel log (dmesg)"

	start=$(date +%s)
	XT_TIMEOUT=${XT_TIMEOUT:-2400} bash "$REPO_ROOT/test/run_tests.sh" "$ko" "$@" || failed=1
	printf '== suite took %d s\n' "$(($(date +%s) - start))"

	# The stress test (test/stress.c, as make stress runs it), after a
	# whole-suite run.
	if [ $# -eq 0 ] && [ -x "$REPO_ROOT/build/test/stress" ]; then
		start=$(date +%s)
		printf '\n== stress (%s s)\n' "${STRESS_SECONDS:=180}"
		STRESS_SECONDS=$STRESS_SECONDS XT_TIMEOUT=$((STRESS_SECONDS + 1200)) \
			bash "$REPO_ROOT/test/run_tests.sh" "$ko" stress || failed=1
		printf '== stress took %d s\n' "$(($(date +%s) - start))"
	fi

	# Two scans: an object is reported once it stayed unreferenced (and
	# unchanged) over a whole scan.
	printf '\n== kmemleak\n'
	leaks=
	if ! { echo scan >"$KMEMLEAK" && echo scan >"$KMEMLEAK" && leaks=$(cat "$KMEMLEAK"); }; then
		echo "FAIL  kmemleak: cannot scan (kmemleak disabled itself? see the kernel log)"
		failed=1
	elif [ -n "$leaks" ]; then
		printf 'FAIL  kmemleak: suspected memory leaks:\n%s\n' "$leaks"
		failed=1
	else
		echo "PASS  kmemleak: no suspected leaks"
	fi
	if grep -q '^ *debug_locks: *0' /proc/lockdep_stats; then
		echo "FAIL  lockdep: lockdep turned itself off (after a report, see the kernel log)"
		failed=1
	else
		echo "PASS  lockdep: still on"
	fi
	return "$failed"
}

# ---- main ------------------------------------------------------------------------

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
build)
	[ $# -eq 0 ] || usage
	build_kernel
	printf '%s\n' "$OBJ"
	;;
check) check "$@" ;;
in-guest)
	[ $# -ge 1 ] || usage
	in_guest "$@"
	;;
*) usage ;;
esac
