#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the xpmem test suite on the running kernel, as root, normally inside a
# throw-away guest (test/check.sh boots one): load MODULE_KO, run each test
# program under a timeout and count its kselftest cases, fail a program
# after which the kernel log shows damage (even if it passed), then unload
# the module. Ends with "N passed, N failed, N skipped"; exit 0 only if
# nothing failed.
#   run_tests.sh MODULE_KO [TEST...]    TEST: abi seg perm ... (default: all)
# Environment: XT_BIN_DIR (test programs, default <repo>/build/test),
# XT_TIMEOUT (seconds per program, default 300), XT_LOG_DIR (program output,
# default $XPMEM_VM_OUT/test-logs in a run_guest.sh guest, else
# /tmp/xpmem-test-logs).

set -u

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
BIN_DIR=${XT_BIN_DIR:-$ROOT/build/test}
TIMEOUT=${XT_TIMEOUT:-300}
# In a run_guest.sh guest, keep the logs in its result directory.
if [ -n "${XPMEM_VM_OUT:-}" ]; then
	LOG_DIR=${XT_LOG_DIR:-$XPMEM_VM_OUT/test-logs}
else
	LOG_DIR=${XT_LOG_DIR:-/tmp/xpmem-test-logs}
fi
ALL_TESTS=(abi seg perm attach coherence sources lifetime fork lib hpc_abi
	fault mm_events limits fuzz)
# The kernel log patterns (and their known exceptions) are shared with the
# guest harness (test/vm/).
PATTERNS=$HERE/vm/log_patterns
SCAN_LOG=$HERE/vm/scan_log.sh
export PATH=$PATH:/usr/sbin:/sbin

passed=0
failed=0
skipped=0

usage() {
	echo "usage: $0 MODULE_KO [TEST...]   (TEST: ${ALL_TESTS[*]})" >&2
	exit 2
}

pass() {
	passed=$((passed + 1))
	echo "PASS  $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL  $1"
}

summary() {
	echo
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}

# Kernel log since marker $1 (all of it if the marker scrolled away).
kernel_log_since() {
	local log

	log=$(dmesg) || return 1
	if printf '%s\n' "$log" | grep -q -F -e "$1"; then
		printf '%s\n' "$log" |
			awk -v m="$1" 'seen { print } index($0, m) { seen = 1 }'
	else
		printf '%s\n' "$log"
	fi
}

# Write a unique marker to the kernel log and print it.
kmsg_marker() {
	local marker="xpmem-test: $1 $$-$RANDOM$RANDOM"

	echo "<6>$marker" >/dev/kmsg
	echo "$marker"
}

# Check the kernel log since marker $1; $2 names what ran.
check_kernel_log() {
	local log hits rc

	if ! log=$(kernel_log_since "$1"); then
		fail "kernel_log after $2: cannot read the kernel log"
		return
	fi
	hits=$(printf '%s\n' "$log" | bash "$SCAN_LOG" -)
	rc=$?
	if [ "$rc" -eq 1 ]; then
		fail "kernel_log after $2: the kernel log shows damage:"
		printf '%s\n' "$hits" | head -n 20 |
			sed -E 's/^stdin:[0-9]+:/      /'
	elif [ "$rc" -ne 0 ]; then
		fail "kernel_log after $2: cannot scan the kernel log (scan_log.sh: $rc)"
	fi
}

# Run one test program and count its cases from its kselftest TAP output.
run_program() {
	local name=$1 bin=$BIN_DIR/$1 log=$LOG_DIR/$1.log marker rc counts
	local awk_rc np nf ns plan

	echo
	echo "== $name"
	if [ ! -x "$bin" ]; then
		fail "$name: $bin is missing (run 'make test' first)"
		return
	fi
	marker=$(kmsg_marker "begin $name")
	(cd /tmp && exec timeout -k 10 "$TIMEOUT" "$bin") >"$log" 2>&1
	rc=$?
	# One line per case: PASS/FAIL/SKIP, a failure's log lines under it;
	# then "COUNTS passed failed skipped plan".
	counts=$(awk -v prog="$name" '
		/^# +RUN +/ { name = $3; out = ""; next }
		/^ok [0-9]+ # SKIP/ {
			why = $0; sub(/^ok [0-9]+ # SKIP */, "", why)
			printf "SKIP  %s: %s (%s)\n", prog, name, why; ns++; next
		}
		/^ok [0-9]+ / { printf "PASS  %s: %s\n", prog, name; np++; next }
		/^not ok [0-9]+ / {
			printf "FAIL  %s: %s\n%s", prog, name, out; nf++; next
		}
		/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; next }
		{ if (name != "") out = out "      " $0 "\n" }
		END { printf "COUNTS %d %d %d %d\n", np, nf, ns, plan }
	' "$log")
	awk_rc=$?
	printf '%s\n' "$counts" | grep -v '^COUNTS '
	counts=$(printf '%s\n' "$counts" | tail -n 1)
	if [ "$awk_rc" -ne 0 ] ||
		! [[ $counts =~ ^COUNTS\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]]; then
		fail "$name: cannot parse its output $log (exit code $rc)"
		check_kernel_log "$marker" "$name"
		return
	fi
	read -r _ np nf ns plan <<<"$counts"
	passed=$((passed + np))
	failed=$((failed + nf))
	skipped=$((skipped + ns))

	if [ "$rc" -eq 4 ] && [ "$plan" -eq 0 ]; then
		skipped=$((skipped + 1))
		echo "SKIP  $name: $(grep -m1 '^1\.\.0' "$log")"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "$name: killed after the ${TIMEOUT} s timeout"
	elif [ "$np" -eq 0 ] && [ "$nf" -eq 0 ] && [ "$ns" -eq 0 ]; then
		fail "$name: exit code $rc and no test results"
	elif [ $((np + nf + ns)) -lt "$plan" ]; then
		fail "$name: only $((np + nf + ns)) of $plan cases reported (exit code $rc)"
	elif [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then
		fail "$name: exit code $rc although no case failed"
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
		echo "      (last lines of $log:)"
		tail -n 15 "$log" | sed 's/^/      /'
	fi
	check_kernel_log "$marker" "$name"
}

[ $# -ge 1 ] || usage
KO=$1
shift
if [ $# -gt 0 ]; then
	TESTS=("$@")
else
	TESTS=("${ALL_TESTS[@]}")
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "error: $0 must run as root (it loads a module): run it in a guest," \
		"e.g. through test/check.sh" >&2
	exit 2
fi
if [ ! -r "$PATTERNS" ]; then
	echo "error: $PATTERNS is missing: cannot check the kernel log" >&2
	exit 2
fi
if ! dmesg >/dev/null; then
	echo "error: cannot read the kernel log (dmesg)" >&2
	exit 2
fi
mkdir -p "$LOG_DIR" || exit 2
echo "xpmem tests on $(uname -r), module $KO, programs in $BIN_DIR"

# ---- load the module -----------------------------------------------------------

marker=$(kmsg_marker "load")
if [ -e /sys/module/xpmem ] && ! rmmod xpmem; then
	fail "module_load: an xpmem module is already loaded and cannot be unloaded"
	summary
fi
if [ ! -r "$KO" ]; then
	fail "module_load: $KO not found (build it with 'make module')"
	summary
fi
if ! insmod "$KO"; then
	fail "module_load: insmod $KO failed"
	dmesg | tail -n 20 | sed 's/^/      /'
	summary
fi
pass "module_load"
mode=$(stat -c %a /dev/xpmem 2>/dev/null)
if [ ! -c /dev/xpmem ]; then
	fail "device_node: /dev/xpmem is not a character device after insmod"
	rmmod xpmem
	summary
elif [ "$mode" != 666 ]; then
	fail "device_node: /dev/xpmem has mode $mode, not 666"
else
	pass "device_node"
fi
check_kernel_log "$marker" "insmod"

# ---- the tests -----------------------------------------------------------------

for t in "${TESTS[@]}"; do
	run_program "$t"
done

# ---- unload the module ---------------------------------------------------------

echo
echo "== module_unload"
marker=$(kmsg_marker "unload")
if rmmod xpmem; then
	if [ -e /dev/xpmem ]; then
		fail "module_unload: /dev/xpmem still exists after rmmod"
	else
		pass "module_unload"
	fi
else
	fail "module_unload: rmmod xpmem failed ($(cat /sys/module/xpmem/refcnt 2>/dev/null) references)"
fi
check_kernel_log "$marker" "rmmod"
summary
