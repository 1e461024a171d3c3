#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of an xpmem test guest, started by the initramfs (initramfs_init.sh)
# after switch_root onto the host's read-only root filesystem. Finishes the
# setup (/dev/pts, /dev/shm, hugetlbfs, debugfs, loopback), runs the command
# that run_guest.sh left in the result share (/mnt/out/.xpmem-vm/cmd.sh) in the
# directory named in .xpmem-vm/cwd, bounded by .xpmem-vm/timeout seconds,
# saves dmesg and the exit status to /mnt/out, prints an "XPMEM-VM: exit
# status N" marker on the console and powers the guest off.

OUT=/mnt/out
CTL=$OUT/.xpmem-vm
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
TERM=dumb
LC_ALL=C.UTF-8
XPMEM_VM=1
XPMEM_VM_OUT=$OUT
export PATH HOME TERM LC_ALL XPMEM_VM XPMEM_VM_OUT
# The kernel passes unknown command line parameters to init as variables.
unset LANG LANGUAGE xpmem_vm_init

say() {
	printf 'XPMEM-VM: %s\n' "$*"
}

uptime_s() {
	local up rest
	read -r up rest </proc/uptime
	printf '%s' "$up"
}

# Exec is slow in the guest (TCG, libraries read over 9p): prefer builtins
# and the static busybox (busybox-static, no shared libraries to load).
if [ -x /bin/busybox ]; then
	bb() { /bin/busybox "$@"; }
else
	bb() { "$@"; }
fi

power_off() {
	sync
	# /sbin/poweroff is systemctl on the host, which needs systemd; busybox
	# does the reboot(2) call itself.
	[ -x /bin/busybox ] && /bin/busybox poweroff -f
	echo o >/proc/sysrq-trigger
	# PID 1 must never exit (that panics the kernel); wait for the power-off.
	while :; do sleep 60; done
}

# Report a setup failure the same way as a command failure, then stop.
fail() {
	say "guest setup error: $*"
	if [ -d "$OUT" ] && [ -w "$OUT" ]; then
		printf '%s\n' "$*" >"$OUT/guest_error" 2>/dev/null
	fi
	say "no exit status (setup failed)"
	power_off
}

is_mounted() {
	local _dev mnt _rest
	while read -r _dev mnt _rest; do
		[ "$mnt" = "$1" ] && return 0
	done </proc/mounts
	return 1
}

try_mount() {
	local type=$1 opts=$2 dir=$3
	is_mounted "$dir" && return 0
	[ -d "$dir" ] || bb mkdir -p "$dir" 2>/dev/null
	bb mount -t "$type" -o "$opts" "$type" "$dir" 2>/dev/null
}

# ---- setup -------------------------------------------------------------------

try_mount devpts gid=5,mode=0620,ptmxmode=0666 /dev/pts || say "warning: cannot mount /dev/pts"
try_mount tmpfs mode=1777 /dev/shm || say "warning: cannot mount /dev/shm"
try_mount hugetlbfs mode=1777 /dev/hugepages || say "note: no hugetlbfs at /dev/hugepages"
try_mount debugfs mode=0700 /sys/kernel/debug || true
# devtmpfs has no /dev/fd links; bash process substitution needs them.
[ -e /dev/fd ] || bb ln -s /proc/self/fd /dev/fd
for fd in 0:stdin 1:stdout 2:stderr; do
	[ -e "/dev/${fd#*:}" ] || bb ln -s "/proc/self/fd/${fd%%:*}" "/dev/${fd#*:}"
done
echo xpmem-vm >/proc/sys/kernel/hostname
# All sysrq functions (blocked-task dumps on timeout).
echo 1 >/proc/sys/kernel/sysrq
bb ip link set lo up 2>/dev/null || true

is_mounted "$OUT" || fail "the result share (9p tag hostout) is not mounted at $OUT"
[ -f "$CTL/cmd.sh" ] || fail "$CTL/cmd.sh not found (run the guest with run_guest.sh)"
cwd=/
limit=600
[ -r "$CTL/cwd" ] && read -r cwd <"$CTL/cwd"
[ -r "$CTL/timeout" ] && read -r limit <"$CTL/timeout"
[[ $limit =~ ^[0-9]+$ ]] || fail "bad timeout '$limit' in $CTL/timeout"
cd -- "$cwd" 2>/dev/null ||
	fail "cannot cd to $cwd in the guest (is it under /tmp, /run, /var/tmp, /root or /mnt? those are empty tmpfs in the guest)"
read -r krel </proc/sys/kernel/osrelease

# ---- run the command ---------------------------------------------------------

# Save dmesg and the exit status, print the marker, power off. Called once:
# by this shell when the command ends, or by the watchdog when a timed-out
# command cannot be killed (stuck in the kernel).
report() {
	local status=$1
	mkdir /run/xpmem-vm-reported 2>/dev/null || return 0
	# Raw, with <priority> prefixes: run_guest.sh turns it into dmesg.log
	# and dmesg_warn.log (warnings and worse, which it scans).
	bb dmesg -r >"$OUT/dmesg.raw" 2>&1
	[ "$status" -eq 124 ] && [ -e /run/xpmem-vm-timed-out ] && : >"$OUT/timed_out"
	printf '%s\n' "$status" >"$OUT/exit_status"
	sync
	say "command finished after $(uptime_s) s of guest uptime"
	say "exit status $status"
	power_off
}

say "kernel $krel, up $(uptime_s) s; running the command in $cwd (timeout ${limit} s)"
# Own session and process group (setsid runs in place: a background child
# of this shell is no group leader), so that a timeout can kill all of it.
if [ -x /bin/busybox ]; then
	/bin/busybox setsid bash "$CTL/cmd.sh" </dev/null &
else
	setsid bash "$CTL/cmd.sh" </dev/null &
fi
cmd_pid=$!

(
	sleep "$limit"
	: >/run/xpmem-vm-timed-out
	say "TIMEOUT: the command did not finish within ${limit} s; dumping blocked tasks and killing it"
	# Show the sysrq dump on the console too (it is printed at KERN_INFO).
	read -r level _ </proc/sys/kernel/printk
	echo 8 >/proc/sys/kernel/printk
	echo w >/proc/sysrq-trigger
	sleep 2
	echo "$level" >/proc/sys/kernel/printk
	kill -TERM -- "-$cmd_pid" "$cmd_pid" 2>/dev/null
	sleep 5
	kill -KILL -- "-$cmd_pid" "$cmd_pid" 2>/dev/null
	sleep 10
	say "TIMEOUT: the command is still there 10 s after SIGKILL (stuck in the kernel?)"
	report 124
) &
watchdog_pid=$!

wait "$cmd_pid"
status=$?
kill "$watchdog_pid" 2>/dev/null
[ -e /run/xpmem-vm-timed-out ] && status=124
report "$status"
# Only if the watchdog is reporting already.
while :; do sleep 60; done
