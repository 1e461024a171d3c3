#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the xpmem test-guest initramfs (mkinitramfs.sh copies it in).
# Runs as PID 1 under busybox sh: loads the 9p/virtio modules, mounts the
# host's root filesystem (9p tag "hostroot", read-only) at /newroot, puts
# tmpfs on /tmp /run /var/tmp /root /mnt so the guest can write, mounts the
# host's result directory (9p tag "hostout", read-write) at /mnt/out, then
# switch_roots to the host's guest_init.sh, whose path is given on the
# kernel command line as xpmem_vm_init=PATH. xpmem_vm_keep=DIR names a host
# directory under one of those tmpfs (a checkout in /tmp) that must stay
# visible: it is bind-mounted back on top.
# xpmem_vm_sysroot=1 boots a whole system instead (packaging/test/boot_root.sh):
# the 9p export "hostroot" is a Debian root directory, mounted read-write
# and entered with its own init (systemd), with no tmpfs and no result share.
# shellcheck shell=sh

PATH=/bin
export PATH

# Report why the guest cannot start, then power off (the host sees no status).
fail() {
	echo "XPMEM-VM: initramfs: error: $*"
	echo "XPMEM-VM: initramfs: cannot start the guest; powering off"
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 60
}

mkdir -p /dev /proc /sys /newroot
mount -t devtmpfs -o mode=0755 devtmpfs /dev || fail "cannot mount devtmpfs on /dev"
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc || fail "cannot mount /proc"
mount -t sysfs sysfs /sys || fail "cannot mount /sys"

guest_init=
keep=
sysroot=
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case $arg in
	xpmem_vm_init=*) guest_init=${arg#xpmem_vm_init=} ;;
	xpmem_vm_keep=*) keep=${arg#xpmem_vm_keep=} ;;
	xpmem_vm_sysroot=1) sysroot=1 ;;
	esac
done
[ -n "$guest_init" ] || [ -n "$sysroot" ] ||
	fail "no xpmem_vm_init=PATH (or xpmem_vm_sysroot=1) on the kernel command line"

# Modules are numbered in load order (dependencies first) by mkinitramfs.sh.
for mod in /lib/modules/*.ko; do
	[ -e "$mod" ] || continue
	insmod "$mod" || fail "cannot load $mod ($(uname -r))"
done

opts=trans=virtio,version=9p2000.L,msize=512000
if [ -n "$sysroot" ]; then
	# Only this guest writes the directory while it runs, so the page
	# cache may be kept (cache=loose); systemd syncs at power-off.
	mount -t 9p -o "rw,$opts,cache=loose,access=client" hostroot /newroot ||
		fail "cannot mount the root directory (9p tag hostroot) read-write"
	# /sbin/init is an absolute symlink (to /lib/systemd/systemd), dangling here.
	[ -L /newroot/sbin/init ] || [ -x /newroot/sbin/init ] ||
		fail "/sbin/init not found in the root directory (is systemd-sysv installed?)"
	mount --move /dev /newroot/dev || fail "cannot move /dev"
	mount --move /sys /newroot/sys || fail "cannot move /sys"
	mount --move /proc /newroot/proc || fail "cannot move /proc"
	exec switch_root /newroot /sbin/init
fi

# Read-only root: page cache may be kept (cache=loose), nothing is written.
mount -t 9p -o "ro,$opts,cache=loose" hostroot /newroot ||
	fail "cannot mount the host root (9p tag hostroot); was QEMU started with -virtfs ...,mount_tag=hostroot?"

if [ -n "$keep" ]; then
	mkdir -p /keep
	mount --bind "/newroot$keep" /keep || fail "cannot bind-mount $keep"
fi
for spec in tmp:1777 var/tmp:1777 run:0755 root:0700 mnt:0755; do
	dir=/newroot/${spec%%:*}
	[ -d "$dir" ] || fail "$dir does not exist on the host root"
	mount -t tmpfs -o "mode=${spec#*:}" tmpfs "$dir" || fail "cannot mount tmpfs on $dir"
done
if [ -n "$keep" ]; then
	mkdir -p "/newroot$keep" || fail "cannot create $keep in the tmpfs"
	mount --move /keep "/newroot$keep" ||
		fail "cannot put $keep back on top of the tmpfs"
fi
mkdir -p /newroot/run/lock /newroot/mnt/out

# The result share is optional; it is there when the host exported it.
if grep -qx hostout /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag 2>/dev/null; then
	# cache=mmap: no caching (the host reads the files after the run) but
	# shared writable mmap works.
	mount -t 9p -o "rw,$opts,cache=mmap" hostout /newroot/mnt/out ||
		fail "cannot mount the result directory (9p tag hostout)"
fi

[ -f "/newroot$guest_init" ] || fail "guest init $guest_init not found on the host root"
[ -x /newroot/bin/bash ] || fail "/bin/bash not found on the host root"

mount --move /dev /newroot/dev || fail "cannot move /dev"
mount --move /sys /newroot/sys || fail "cannot move /sys"
mount --move /proc /newroot/proc || fail "cannot move /proc"
exec switch_root /newroot /bin/bash "$guest_init"
