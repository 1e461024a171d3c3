#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay out the DKMS source tree of xpmem.ko, for debian/rules and the RPM
# spec alike. Run from the top of an xpmem source tree.
#   install_source.sh conf FILE    write dkms.conf (dkms.conf.in + VERSION)
#   install_source.sh tree DIR     copy into DIR (/usr/src/xpmem-VERSION in
#                                  the package) what `make -C kernel` needs:
#                                  kernel/, include/uapi/, VERSION, dkms.conf
set -euo pipefail

prog=install_source.sh
die() {
	printf '%s: error: %s\n' "$prog" "$1" >&2
	[ -n "${2:-}" ] && printf '%s:   fix: %s\n' "$prog" "$2" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: $prog conf FILE | tree DIR" "see the comment at the top of packaging/dkms/install_source.sh"
if [ ! -f VERSION ] || [ ! -f kernel/Kbuild ] || [ ! -f packaging/dkms/dkms.conf.in ]; then
	die "run from the top of the xpmem source tree (VERSION, kernel/Kbuild and packaging/dkms/dkms.conf.in not found in $PWD)" \
		"cd to the source tree first"
fi
version=$(tr -d ' \t\r\n' <VERSION)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
	die "VERSION contains '$version', not MAJOR.MINOR.PATCH" "write e.g. 3.0.0 into VERSION"

write_conf() {
	sed "s/@VERSION@/$version/g" packaging/dkms/dkms.conf.in >"$1"
}

case $1 in
conf)
	write_conf "$2"
	;;
tree)
	dest=$2
	install -d -m 0755 "$dest/kernel" "$dest/include/uapi"
	# Sources only: leftovers of an in-place build are not shipped.
	(cd kernel && find . -type f ! -name '*.o' ! -name '*.ko' ! -name '*.cmd' \
		! -name '*.mod' ! -name '*.mod.c' ! -name 'modules.order' \
		! -name 'Module.symvers' ! -name 'xpmem_config.h' -print0) |
		while IFS= read -r -d '' f; do
			mode=0644
			# Scripts keep the executable bit (probe.sh has a #! line).
			[ "$(head -c 2 "kernel/$f")" = '#!' ] && mode=0755
			install -D -m "$mode" "kernel/$f" "$dest/kernel/$f"
		done
	install -m 0644 include/uapi/xpmem_ioctl.h "$dest/include/uapi/"
	install -m 0644 VERSION "$dest/VERSION"
	write_conf "$dest/dkms.conf"
	chmod 0644 "$dest/dkms.conf"
	;;
*)
	die "unknown command '$1'" "use: $prog conf FILE | tree DIR"
	;;
esac
