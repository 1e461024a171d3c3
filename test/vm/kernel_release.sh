#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the release string (uname -r) of an installed Debian kernel that the
# xpmem QEMU guests can boot and the module can be built against.
#   kernel_release.sh 6.1|6.12   newest installed generic amd64 kernel of that
#                                series, e.g. 6.1.0-56-amd64
#   kernel_release.sh KREL       KREL itself, if that kernel is installed
# "Installed" means /boot/vmlinuz-KREL, /lib/modules/KREL and the headers
# (/lib/modules/KREL/build) all exist. Nothing here hard-codes a version.

set -euo pipefail
# shellcheck source=vm_common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/vm_common.sh"

usage() {
	cat >&2 <<EOF
usage: $VM_PROG 6.1|6.12|KERNEL_RELEASE
Prints the installed kernel release for a kernel series (newest if several),
or checks that a full release string (as printed by uname -r) is installed.
EOF
	exit 2
}

# What is missing for KREL to be usable (empty output: nothing).
missing_parts() {
	local krel=$1
	[ -f "/boot/vmlinuz-$krel" ] || printf ' /boot/vmlinuz-%s' "$krel"
	[ -d "/lib/modules/$krel/kernel" ] || printf ' /lib/modules/%s/kernel' "$krel"
	[ -e "/lib/modules/$krel/build/Makefile" ] || printf ' /lib/modules/%s/build (headers)' "$krel"
}

installed_list() {
	local img
	for img in /boot/vmlinuz-*; do
		[ -f "$img" ] && printf ' %s' "${img#/boot/vmlinuz-}"
	done
	return 0
}

# How to get a kernel of SERIES installed.
install_hint() {
	case $1 in
	6.1 | 6.12) printf 'run: bash %s/setup_host.sh %s' "$VM_DIR" "$1" ;;
	*) printf 'setup_host.sh installs only the 6.1 and 6.12 series; installed now:%s' "$(installed_list)" ;;
	esac
}

[ $# -eq 1 ] || usage
arg=$1
case $arg in
-h | --help) usage ;;
"") usage ;;
esac

if [[ $arg =~ ^[0-9]+\.[0-9]+$ ]]; then
	series=$arg
	releases=()
	for img in "/boot/vmlinuz-$series".*; do
		[ -f "$img" ] || continue
		krel=${img#/boot/vmlinuz-}
		# Only the generic flavour: not -rt-amd64, -cloud-amd64, ...
		case $krel in
		*-rt-amd64 | *-cloud-amd64) continue ;;
		*-amd64) ;;
		*) continue ;;
		esac
		releases+=("$krel")
	done
	if [ ${#releases[@]} -eq 0 ]; then
		die "no $series kernel is installed" \
			"found no /boot/vmlinuz-$series.*-amd64" \
			"$(install_hint "$series")"
	fi
	best=
	incomplete=
	while read -r krel; do
		if [ -z "$(missing_parts "$krel")" ]; then
			best=$krel
			break
		fi
		incomplete+=" $krel (missing:$(missing_parts "$krel"))"
	done < <(printf '%s\n' "${releases[@]}" | sort -rV)
	if [ -z "$best" ]; then
		die "no complete $series kernel is installed" \
			"found only:$incomplete" \
			"$(install_hint "$series")"
	fi
	printf '%s\n' "$best"
	exit 0
fi

if [[ ! $arg =~ ^[0-9]+\.[0-9]+[.+~A-Za-z0-9_-]*$ ]]; then
	die "'$arg' is neither a kernel series (6.1, 6.12) nor a kernel release string" \
		"a release looks like 6.1.0-56-amd64 (see ls /boot/vmlinuz-*)" \
		"pass 6.1, 6.12 or one of the installed releases:$(installed_list)"
fi
missing=$(missing_parts "$arg")
if [ -n "$missing" ]; then
	die "kernel $arg is not (fully) installed" \
		"missing:$missing" \
		"install linux-image-$arg and linux-headers-$arg (apt-get install), or run: bash $VM_DIR/setup_host.sh all"
fi
printf '%s\n' "$arg"
