# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers shared by the host-side scripts of the xpmem QEMU test harness
# (setup_host.sh, kernel_release.sh, mkinitramfs.sh, run_guest.sh,
# scan_log.sh; packaging's boot_root.sh). Sourced, never run: it defines
# error/info printers, the QEMU command of a guest, and the paths the
# harness uses (this directory, the repository root, the build directory for
# cached initramfs images).

VM_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$VM_DIR/../.." && pwd -P)
# Cached initramfs images live here; override with XPMEM_VM_BUILD_DIR.
VM_BUILD_DIR=${XPMEM_VM_BUILD_DIR:-$REPO_ROOT/build/vm}
VM_PROG=$(basename -- "$0")
export VM_DIR REPO_ROOT VM_BUILD_DIR

# die WHAT [WHY [WHAT-TO-DO]]: print a three-part error and exit 1.
die() {
	printf '%s: error: %s\n' "$VM_PROG" "$1" >&2
	[ -n "${2:-}" ] && printf '%s:   why: %s\n' "$VM_PROG" "$2" >&2
	[ -n "${3:-}" ] && printf '%s:   fix: %s\n' "$VM_PROG" "$3" >&2
	exit 1
}

warn() {
	printf '%s: warning: %s\n' "$VM_PROG" "$*" >&2
}

info() {
	printf '%s: %s\n' "$VM_PROG" "$*" >&2
}

require_root() {
	[ "$(id -u)" -eq 0 ] ||
		die "$1 must run as root" \
			"it installs packages, builds device nodes or boots QEMU with a 9p export of /" \
			"re-run it as root (e.g. with sudo)"
}

# require_cmd CMD PACKAGE: fail clearly if CMD is missing.
require_cmd() {
	command -v "$1" >/dev/null 2>&1 ||
		die "command '$1' not found" \
			"package '$2' is not installed" \
			"run: bash $VM_DIR/setup_host.sh all"
}

# qemu_cmd CPUS MEM CONSOLE_LOG KERNEL INITRD APPEND: set the array QEMU to
# the command of a TCG guest with no devices but a serial console (on stdio,
# logged to CONSOLE_LOG) that boots KERNEL with INITRD and command line
# APPEND and powers off at the end; the caller adds its -virtfs shares.
qemu_cmd() {
	# shellcheck disable=SC2034 # the caller runs it
	QEMU=(
		qemu-system-x86_64
		-machine q35 -accel "tcg,thread=multi" -cpu max -smp "$1" -m "$2"
		-nodefaults -no-user-config -display none -no-reboot
		-chardev "stdio,id=console,signal=on,logfile=$3"
		-serial chardev:console
		-kernel "$4" -initrd "$5" -append "$6"
	)
}
