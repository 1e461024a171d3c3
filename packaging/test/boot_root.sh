#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a package-check root filesystem (a host directory, see mkroot.sh) in
# QEMU (TCG, no KVM needed) with its own kernel and its real init, systemd:
# the directory is the guest's read-write root over 9p. The initramfs is
# test/vm's (mkinitramfs.sh, cached in build/vm/, shared with run_guest.sh),
# whose /init enters the directory with switch_root to /sbin/init when the
# command line says xpmem_vm_sysroot=1. Its 9p modules are the host's of the
# same release: a Debian kernel's release names its module ABI. The guest
# powers itself off (package_check.sh installs a unit that does it when its
# checks are done). The serial console goes to stdout and OUT/console.log.
#   boot_root.sh --root DIR --kernel KREL --out OUT [--timeout SEC]
#                [--mem SIZE] [--smp N]
# Exit status: 0 when the guest powered off, 124 when it did not within
# --timeout seconds (QEMU is killed), else QEMU's exit status.

set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"

usage() {
	printf 'usage: %s --root DIR --kernel KREL --out OUT [--timeout SEC] [--mem SIZE] [--smp N]\n' "$VM_PROG" >&2
	exit 2
}

root=
krel=
out=
limit=600
mem=2G
smp=2
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--root) root=$2 ;;
	--kernel) krel=$2 ;;
	--out) out=$2 ;;
	--timeout) limit=$2 ;;
	--mem) mem=$2 ;;
	--smp) smp=$2 ;;
	*) usage ;;
	esac
	shift 2
done
if [ -z "$root" ] || [ -z "$krel" ] || [ -z "$out" ]; then
	usage
fi
[[ $limit =~ ^[1-9][0-9]*$ ]] || die "bad --timeout '$limit'" "it must be a number of seconds > 0" "e.g. --timeout 600"
require_root "$VM_PROG"
require_cmd qemu-system-x86_64 qemu-system-x86
require_cmd timeout coreutils
root=$(cd -- "$root" && pwd -P)
kernel=$root/boot/vmlinuz-$krel
if [ ! -f "$kernel" ] || [ ! -d "$root/lib/modules/$krel/kernel" ]; then
	die "the root $root has no kernel $krel" "$kernel or $root/lib/modules/$krel is missing" \
		"build the root with packaging/test/mkroot.sh $krel DIR"
fi
mkdir -p -- "$out"
out=$(cd -- "$out" && pwd -P)
initrd=$VM_BUILD_DIR/$krel/initramfs.cpio.gz
bash "$VM_DIR/mkinitramfs.sh" "$krel" "$initrd" ||
	die "cannot make the initramfs for $krel" "test/vm/mkinitramfs.sh failed (see above)" \
		"run: bash $VM_DIR/setup_host.sh all"

# ---- kernel command line -------------------------------------------------------

# As test/vm/run_guest.sh: warnings and worse on the console, no panic on
# oops or lockups (the log scan reports them). Unlike make check, no slab
# and page poisoning: this boots a whole distribution twice per kernel
# under TCG, and the module's memory safety is make check's business.
append="console=ttyS0,115200 loglevel=5 printk.devkmsg=on panic=-1"
append+=" hung_task_panic=0 softlockup_panic=0 rdinit=/init xpmem_vm_sysroot=1"
# systemd shows only failures. Units that cost seconds under TCG and do
# nothing for the test are masked: no logins (the console is the test's
# output), no ext4 scrubbing, the journal stays in /run (no flush to the
# 9p root), no utmp records.
append+=" systemd.show_status=error"
for unit in serial-getty@ttyS0.service getty-static.service e2scrub_reap.service \
	systemd-journal-flush.service systemd-update-utmp.service \
	systemd-update-utmp-runlevel.service; do
	append+=" systemd.mask=$unit"
done

# ---- boot ----------------------------------------------------------------------

rm -f -- "$out/console.log"
qemu_cmd "$smp" "$mem" "$out/console.log" "$kernel" "$initrd" "$append"
QEMU+=(-virtfs "local,path=$root,mount_tag=hostroot,security_model=passthrough,multidevs=remap")
info "booting $root with kernel $krel (timeout $limit s, console log $out/console.log)"
start=$(date +%s)
set +e
timeout --foreground -k 10 "$limit" "${QEMU[@]}" </dev/null
rc=$?
set -e
info "guest ran $(($(date +%s) - start)) s, QEMU exit status $rc"
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	warn "the guest did not power off within $limit s; QEMU was killed (see $out/console.log)"
	exit 124
fi
exit "$rc"
