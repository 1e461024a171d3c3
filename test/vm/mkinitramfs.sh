#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the small initramfs the xpmem QEMU test guests boot with:
# busybox-static with its applet links, the 9p/virtio modules of kernel KREL
# (in load order, decompressed: busybox insmod cannot read .ko.xz) and
# initramfs_init.sh as /init. The guest then runs from the host's own root
# filesystem over 9p. Skips the build when OUT is up to date (same scripts,
# busybox and modules); see OUT.stamp.
#   mkinitramfs.sh KREL OUT.cpio.gz
#   mkinitramfs.sh --no-modules OUT.cpio.gz   for a kernel with 9p and
#                                             virtio-pci built in

set -euo pipefail
# shellcheck source=vm_common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/vm_common.sh"

# What the initramfs must be able to load before mounting the host root.
MODULES=(virtio_pci 9pnet_virtio 9p)
BUSYBOX=/bin/busybox

usage() {
	printf 'usage: %s KERNEL_RELEASE|--no-modules OUT.cpio.gz\n' "$VM_PROG" >&2
	exit 2
}

[ $# -eq 2 ] || usage
krel=$1
out=$2
if [ "$krel" = --no-modules ]; then
	krel=
	MODULES=()
elif [ ! -d "/lib/modules/$krel/kernel" ]; then
	die "no modules for kernel $krel" "/lib/modules/$krel/kernel does not exist" \
		"install linux-image-$krel, or run: bash $VM_DIR/setup_host.sh all"
fi
require_cmd cpio cpio
require_cmd gzip gzip
[ -z "$krel" ] || require_cmd modprobe kmod
if [ ! -x "$BUSYBOX" ] || ! "$BUSYBOX" true 2>/dev/null; then
	die "$BUSYBOX not found or not working" "package busybox-static is not installed" \
		"run: bash $VM_DIR/setup_host.sh all"
fi
# The initramfs has no C library: busybox must be the static build.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked" "the initramfs has no shared libraries" \
		"install the static build: apt-get install busybox-static"
fi

# Module files in load order, each once.
mod_files=()
if [ -n "$krel" ]; then
	deps=$(modprobe -a --show-depends -S "$krel" "${MODULES[@]}" 2>&1) ||
		die "cannot resolve modules ${MODULES[*]} for $krel" "modprobe said: $deps" \
			"check that linux-image-$krel is fully installed (depmod -a $krel)"
	mapfile -t mod_files < <(awk '$1 == "insmod" && !seen[$2]++ { print $2 }' <<<"$deps")
fi

# Up to date? The stamp names everything the image is made from.
stamp=$(
	printf 'krel %s\n' "$krel"
	sha256sum "$VM_DIR/mkinitramfs.sh" "$VM_DIR/initramfs_init.sh" "$BUSYBOX"
	for f in "${mod_files[@]}"; do
		stat -c 'module %n %s %Y' "$f"
	done
)
if [ -f "$out" ] && [ -f "$out.stamp" ] && [ "$(cat "$out.stamp")" = "$stamp" ]; then
	exit 0
fi

mkdir -p "$(dirname -- "$out")" ||
	die "cannot create the directory for $out" "mkdir failed" "check permissions, or set XPMEM_VM_BUILD_DIR"
stage=$(mktemp -d "${TMPDIR:-/tmp}/xpmem-initramfs.XXXXXX")
trap 'rm -rf -- "$stage" "$out.tmp.$$"' EXIT

mkdir -p "$stage"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$BUSYBOX" "$stage/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
install -m 0755 "$VM_DIR/initramfs_init.sh" "$stage/init"
# The kernel opens /dev/console for /init before devtmpfs is mounted.
mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null ||
	warn "cannot create dev/console (not root?); early /init output may be lost"

n=10
for f in "${mod_files[@]}"; do
	base=$(basename -- "$f")
	dest="$stage/lib/modules/$n-${base%%.ko*}.ko"
	case $f in
	*.ko) cp "$f" "$dest" ;;
	*.ko.xz) xz -dc -- "$f" >"$dest" ;;
	*.ko.zst) zstd -qdc -- "$f" >"$dest" ;;
	*.ko.gz) gzip -dc -- "$f" >"$dest" ;;
	*) die "unsupported module file $f" "unknown compression" "extend mkinitramfs.sh" ;;
	esac || die "cannot copy/decompress $f" "see the message above" \
		"install xz-utils (or zstd) and re-run: bash $VM_DIR/setup_host.sh all"
	n=$((n + 1))
done

(cd "$stage" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 | gzip -6 >"$out.tmp.$$") ||
	die "cannot write $out" "cpio/gzip failed" "check free space and permissions in $(dirname -- "$out")"
mv -f "$out.tmp.$$" "$out"
printf '%s\n' "$stamp" >"$out.stamp"
info "built $out (kernel ${krel:-with built-in drivers}, modules: $(printf '%s ' "${mod_files[@]##*/}"))"
