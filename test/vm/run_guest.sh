#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run one command inside a throw-away QEMU guest booting a Debian kernel
# (6.1, 6.12 or an exact release), with the host's root filesystem as the
# guest's read-only root (9p) and a host result directory at /mnt/out.
# The guest's console goes to stdout and to OUT/console.log. Exits with the
# command's exit status; 124 on timeout, 125 when the guest gave no status,
# else 1 when the kernel log shows trouble (see log_patterns).
# Usage: run_guest.sh --kernel 6.1|6.12|KREL [options] -- CMD [ARG...]
#        run_guest.sh --kernel-image BZIMAGE [options] -- CMD [ARG...]

set -euo pipefail
# shellcheck source=vm_common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/vm_common.sh"

usage() {
	cat >&2 <<EOF
usage: $VM_PROG --kernel 6.1|6.12|KREL [options] -- CMD [ARG...]
       $VM_PROG --kernel-image BZIMAGE [options] -- CMD [ARG...]
Boots a QEMU guest (TCG, no KVM needed) with the given Debian kernel, runs
CMD in it as root and powers it off. The guest sees the host's files
read-only at the same paths; /tmp, /run, /var/tmp, /root and /mnt are empty
tmpfs; the result directory is /mnt/out (\$XPMEM_VM_OUT) in the guest.
options:
  --kernel K        6.1, 6.12 (newest installed of that series) or a release
  --kernel-image F  boot this kernel image instead (e.g. the debug kernel of
                    test/vm/debug_kernel.sh); it must have virtio-pci and 9p
                    built in: the initramfs then carries no modules
  --timeout SEC     limit for CMD, counted in the guest from its start
                    (default 600); the host also kills QEMU after
                    SEC + \$XPMEM_VM_BOOT_GRACE (default 120) seconds
  --mem SIZE        guest memory (default 2G)
  --smp N           guest CPUs (default 2)
  --out DIR         host result directory (default: a new /tmp/xpmem-vm.*);
                    gets console.log, dmesg.log, dmesg_warn.log, exit_status
  --cwd DIR         directory CMD runs in (default: the current directory)
  --append ARGS     extra kernel command line arguments
  --no-log-scan     do not fail on kernel warnings found in the logs
exit status: 124 timeout; 125 no status from the guest (crash, panic, setup
error); else 1 if the kernel log shows problems (oops, WARNING, lockups...,
see log_patterns), else CMD's exit status.
EOF
	exit 2
}

kernel=
kernel_image=
limit=600
mem=2G
smp=2
out=
cwd=
extra_append=
log_scan=1
boot_grace=${XPMEM_VM_BOOT_GRACE:-120}

need_arg() {
	if [ $# -lt 2 ] || [ -z "$2" ]; then
		die "option $1 needs a value" "it was the last argument, or empty" "see: $VM_PROG --help"
	fi
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) need_arg "$@"; kernel=$2; shift 2 ;;
	--kernel-image) need_arg "$@"; kernel_image=$2; shift 2 ;;
	--timeout) need_arg "$@"; limit=$2; shift 2 ;;
	--mem) need_arg "$@"; mem=$2; shift 2 ;;
	--smp) need_arg "$@"; smp=$2; shift 2 ;;
	--out) need_arg "$@"; out=$2; shift 2 ;;
	--cwd) need_arg "$@"; cwd=$2; shift 2 ;;
	--append) need_arg "$@"; extra_append=$2; shift 2 ;;
	--no-log-scan) log_scan=0; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) die "unknown argument '$1'" "options come first, then -- and the command" "see: $VM_PROG --help" ;;
	esac
done
if [ -n "$kernel" ] && [ -n "$kernel_image" ]; then
	die "both --kernel and --kernel-image given" "the guest boots one kernel" "pass only one of them"
fi
[ -n "$kernel$kernel_image" ] || die "no --kernel given" "the guest kernel must be chosen" "pass --kernel 6.1, --kernel 6.12 or --kernel RELEASE"
[ $# -gt 0 ] || die "no command given" "the command follows --" "e.g.: $VM_PROG --kernel 6.1 -- uname -r"
[[ $limit =~ ^[1-9][0-9]*$ ]] || die "bad --timeout '$limit'" "it must be a whole number of seconds > 0" "e.g. --timeout 300"
[[ $boot_grace =~ ^[0-9]+$ ]] || die "bad XPMEM_VM_BOOT_GRACE '$boot_grace'" "it must be a number of seconds" "e.g. XPMEM_VM_BOOT_GRACE=300"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "bad --smp '$smp'" "it must be a CPU count > 0" "e.g. --smp 2"
[[ $mem =~ ^[1-9][0-9]*[MG]?$ ]] || die "bad --mem '$mem'" "it must be a size QEMU understands" "e.g. --mem 2G or --mem 1536M"

require_cmd qemu-system-x86_64 qemu-system-x86
require_cmd timeout coreutils
if [ -n "$kernel_image" ]; then
	if [ ! -f "$kernel_image" ] || [ ! -r "$kernel_image" ]; then
		die "--kernel-image $kernel_image is not a readable file" "QEMU boots it with -kernel" "pass the path of a bzImage"
	fi
	kernel_image=$(cd -- "$(dirname -- "$kernel_image")" && pwd -P)/$(basename -- "$kernel_image")
	krel=$kernel_image
else
	krel=$(bash "$VM_DIR/kernel_release.sh" "$kernel") || exit 1
	kernel_image=/boot/vmlinuz-$krel
fi
case $VM_DIR in
*[[:space:]]*)
	die "the harness path '$VM_DIR' contains white space" \
		"its guest_init.sh path is passed on the kernel command line" \
		"move the repository to a path without spaces"
	;;
esac

# ---- initramfs -----------------------------------------------------------------

if [ "$krel" = "$kernel_image" ]; then
	initrd=$VM_BUILD_DIR/no-modules/initramfs.cpio.gz
	bash "$VM_DIR/mkinitramfs.sh" --no-modules "$initrd" || exit 1
else
	initrd=$VM_BUILD_DIR/$krel/initramfs.cpio.gz
	bash "$VM_DIR/mkinitramfs.sh" "$krel" "$initrd" || exit 1
fi

# ---- result directory, command, working directory -------------------------------

if [ -z "$out" ]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/xpmem-vm.XXXXXX")
fi
mkdir -p -- "$out" || die "cannot create result directory $out" "mkdir failed" "pass a writable --out DIR"
out=$(cd -- "$out" && pwd -P)
[ "$out" != / ] || die "--out / is not allowed" "the guest writes into the result directory" "pass a dedicated directory"
rm -rf -- "$out/.xpmem-vm"
rm -f -- "$out"/{console.log,dmesg.raw,dmesg.log,dmesg_warn.log,exit_status,timed_out,guest_error}
mkdir -p -- "$out/.xpmem-vm"

# Paths that the guest replaces with empty tmpfs, or that are not files.
# The checkout itself stays visible even under /tmp (xpmem_vm_keep below).
guest_hidden() {
	case $1/ in
	"$REPO_ROOT"/*) return 1 ;;
	/tmp/* | /run/* | /var/tmp/* | /root/* | /mnt/* | /proc/* | /sys/* | /dev/*) return 0 ;;
	esac
	return 1
}

if [ -n "$cwd" ]; then
	[ -d "$cwd" ] || die "--cwd $cwd is not a directory" "the command must run in an existing directory" "pass an existing directory"
	cwd=$(cd -- "$cwd" && pwd -P)
	if guest_hidden "$cwd"; then
		die "--cwd $cwd does not exist in the guest" \
			"/tmp, /run, /var/tmp, /root and /mnt are empty tmpfs in the guest" \
			"use a directory elsewhere (e.g. under $REPO_ROOT)"
	fi
else
	cwd=$(pwd -P)
	if guest_hidden "$cwd"; then
		warn "the current directory $cwd is hidden in the guest (tmpfs); the command runs in /"
		cwd=/
	fi
fi

# Single-quote every word so that any argument survives unchanged.
quote() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}
{
	printf '# Written by run_guest.sh; run by guest_init.sh.\nexec'
	for a in "$@"; do
		printf ' %s' "$(quote "$a")"
	done
	printf '\n'
} >"$out/.xpmem-vm/cmd.sh"
printf '%s\n' "$cwd" >"$out/.xpmem-vm/cwd"
printf '%s\n' "$limit" >"$out/.xpmem-vm/timeout"

# ---- kernel command line ---------------------------------------------------------

# A --kernel-image has no known config: none of the options below.
config=/boot/config-$krel
[ "$krel" != "$kernel_image" ] || config=
kconfig_has() {
	[ -r "$config" ] && grep -q "^$1=y" "$config"
}
# Console on the serial port; loglevel=5 puts KERN_WARNING (4) and worse on
# it. Do not panic on oops/lockups/hung tasks: the log scan reports them;
# a real panic reboots at once, which ends QEMU (-no-reboot).
append="console=ttyS0,115200 loglevel=5 printk.devkmsg=on panic=-1"
append+=" hung_task_panic=0 softlockup_panic=0"
# The memory debugging a distribution kernel has (off by default).
kconfig_has CONFIG_SLUB_DEBUG && append+=" slub_debug=FZPU"
kconfig_has CONFIG_PAGE_POISONING && append+=" page_poison=1"
append+=" init_on_free=1"
kconfig_has CONFIG_KFENCE && append+=" kfence.sample_interval=100"
append+=" rdinit=/init xpmem_vm_init=$VM_DIR/guest_init.sh"
case $REPO_ROOT in
*[[:space:]]*) die "the checkout path '$REPO_ROOT' contains blanks" \
	"it is passed on the guest kernel command line" \
	"clone the repository to a path without blanks" ;;
/tmp/* | /run/* | /var/tmp/* | /root/* | /mnt/*)
	append+=" xpmem_vm_keep=$REPO_ROOT" ;;
esac
[ -n "$extra_append" ] && append+=" $extra_append"

# ---- boot ------------------------------------------------------------------------

qemu_cmd "$smp" "$mem" "$out/console.log" "$kernel_image" "$initrd" "$append"
QEMU+=(
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$out,mount_tag=hostout,security_model=none,multidevs=remap"
)
host_limit=$((limit + boot_grace))
info "kernel $krel, timeout ${limit} s, results in $out"
start=$(date +%s.%N)
set +e
timeout --foreground -k 10 "$host_limit" "${QEMU[@]}" </dev/null
qemu_rc=$?
set -e
wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

# ---- verdict ---------------------------------------------------------------------

# dmesg.raw lines start with <facility * 8 + level>; lines without one
# continue the record above.
if [ -f "$out/dmesg.raw" ]; then
	sed -E 's/^<[0-9]+>//' "$out/dmesg.raw" >"$out/dmesg.log"
	awk '
		match($0, /^<[0-9]+>/) { keep = (substr($0, 2, RLENGTH - 2) % 8) <= 4; sub(/^<[0-9]+>/, "") }
		keep
	' "$out/dmesg.raw" >"$out/dmesg_warn.log"
fi

status=
if [ -f "$out/exit_status" ]; then
	status=$(tr -dc '0-9' <"$out/exit_status")
fi
echo >&2
if [ -z "$status" ]; then
	if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
		warn "TIMEOUT: the guest did not finish within ${host_limit} s (--timeout $limit + $boot_grace s for boot); QEMU was killed"
		if grep -q 'XPMEM-VM: kernel .* running the command' "$out/console.log" 2>/dev/null; then
			warn "the command started but the in-guest timeout did not end it: the guest kernel probably hung; see $out/console.log"
		else
			warn "the guest never started the command: boot hung or was very slow (raise XPMEM_VM_BOOT_GRACE); see $out/console.log"
		fi
		final=124
	else
		warn "the guest stopped without reporting an exit status (QEMU exit code $qemu_rc)"
		if [ -s "$out/guest_error" ]; then
			warn "guest setup error: $(cat "$out/guest_error")"
		elif grep -q 'XPMEM-VM: initramfs: error' "$out/console.log" 2>/dev/null; then
			warn "$(grep -a 'XPMEM-VM: initramfs: error' "$out/console.log" | tr -d '\r' | head -n 1)"
		else
			warn "likely a kernel panic or crash, or QEMU failed to start; see the output above and $out/console.log"
		fi
		final=125
	fi
elif [ -e "$out/timed_out" ]; then
	warn "TIMEOUT: the command did not finish within --timeout $limit s and was killed in the guest"
	final=124
else
	final=$status
fi

if [ "$log_scan" -eq 1 ]; then
	logs=()
	for f in console.log dmesg_warn.log; do
		[ -f "$out/$f" ] && logs+=("$out/$f")
	done
	if [ ${#logs[@]} -gt 0 ]; then
		set +e
		hits=$(bash "$VM_DIR/scan_log.sh" "${logs[@]}")
		scan_rc=$?
		set -e
		if [ "$scan_rc" -eq 1 ]; then
			warn "the kernel log shows problems (patterns in $VM_DIR/log_patterns):"
			printf '%s\n' "$hits" | head -n 50 >&2
			# A timeout or a missing status says more; keep those.
			[ "$final" -eq 124 ] || [ "$final" -eq 125 ] || final=1
		elif [ "$scan_rc" -ne 0 ]; then
			warn "could not scan the logs (scan_log.sh exit code $scan_rc)"
			final=1
		fi
	fi
fi

boot=$(tr -d '\r' <"$out/console.log" 2>/dev/null | sed -n 's/^XPMEM-VM: kernel .*, up \([0-9.]*\) s; running the command.*/\1/p' | head -n 1)
info "kernel $krel: guest exit status ${status:-none}, result $final; command started ${boot:-?} s after boot, ${wall} s wall time; logs in $out"
exit "$final"
