#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the minimal Debian root filesystem that make
# package-check installs the xpmem packages into and boots: mmdebstrap
# --variant=minbase of the host's Debian release plus systemd, udev, kmod,
# dkms (with gcc and make), pkg-config, libc6-dev, and the kernel image and
# headers of exactly release KREL (the one the host has, so that guests and
# host agree). The apt sources and their keyrings are those of the machine's
# own Debian archive entries (apt-get indextargets), nothing is hard-coded.
# tiny-initramfs satisfies the kernel's initramfs-tool dependency cheaply;
# the guest boots with its own initramfs (boot_root.sh).
#   mkroot.sh KREL DIR     creates DIR/base (pristine, do not modify) and
#                          DIR/base.stamp; kept when the stamp is current
# Packages are kept in $PKG_BUILD/roots/debcache for the next root (and the
# headers test of package_check.sh); it starts with hard links to the .debs
# in the host's apt cache, which has most of them (setup_host.sh installed
# the same kernels, gcc, ...), so a cold build downloads little.

set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"

usage() {
	printf 'usage: %s KERNEL_RELEASE DIR\n' "$VM_PROG" >&2
	exit 2
}
[ $# -eq 2 ] || usage
krel=$1
dir=$2
require_root "$VM_PROG"
require_cmd mmdebstrap mmdebstrap

# shellcheck source=/dev/null
codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
[ -n "$codename" ] ||
	die "cannot tell the Debian release of this machine" "/etc/os-release has no VERSION_CODENAME" \
		"run on Debian 12 (bookworm)"
arch=$(dpkg --print-architecture)

# signed_by FILE ENTRY: the Signed-By keyring of apt source entry ENTRY
# (deb822: stanza number; one-line format: line number) in FILE; empty if
# none. An inline key block is replaced by the packaged archive keyring.
signed_by() {
	local file=$1 entry=$2 sb
	case $file in
	*.sources)
		sb=$(awk -v want="$entry" '
			BEGIN { RS = ""; FS = "\n" }
			{
				n = 0
				for (i = 1; i <= NF; i++) if ($i !~ /^[ \t]*#/) n++
				if (n == 0) next
				if (++stanza != want) next
				for (i = 1; i <= NF; i++)
					if (tolower($i) ~ /^signed-by:/) {
						v = substr($i, index($i, ":") + 1)
						gsub(/^[ \t]+|[ \t\r]+$/, "", v)
						print (v == "" ? "(embedded)" : v)
					}
				exit
			}' "$file")
		;;
	*)
		sb=$(sed -n "${entry}p" "$file" | sed -n 's/.*\[[^]]*signed-by=\([^] ]*\).*/\1/p')
		;;
	esac
	if [ "$sb" = "(embedded)" ]; then
		sb=
		[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
			sb=/usr/share/keyrings/debian-archive-keyring.gpg
	fi
	printf '%s' "$sb"
}

# One-line apt sources for the root: every binary entry of the host for the
# suites <codename>, <codename>-updates, -security and -backports.
# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
mapfile -t targets < <(apt-get indextargets --format \
	'$(TARGET_OF)|$(REPO_URI)|$(RELEASE)|$(COMPONENT)|$(ARCHITECTURE)|$(SOURCESENTRY)' \
	'Identifier: Packages' | sort -u)
declare -A comps=()
declare -a order=()
for t in "${targets[@]}"; do
	IFS='|' read -r type uri suite comp tarch entry <<<"$t"
	if [ "$type" != deb ] || [ "$tarch" != "$arch" ]; then
		continue
	fi
	[[ $suite =~ ^$codename(-updates|-security|-backports)?$ ]] || continue
	sb=$(signed_by "${entry%:*}" "${entry##*:}")
	key="$uri|$suite|$sb"
	if [ -z "${comps[$key]+x}" ]; then
		order+=("$key")
		comps[$key]=$comp
	else
		case " ${comps[$key]} " in *" $comp "*) ;; *) comps[$key]+=" $comp" ;; esac
	fi
done
[ ${#order[@]} -gt 0 ] ||
	die "found no apt source for Debian '$codename' on this machine" \
		"the guest root is built from the same archive as the host (apt-get indextargets lists none)" \
		"add the Debian archive to /etc/apt/sources.list.d/ and run apt-get update"
mirrors=()
for key in "${order[@]}"; do
	IFS='|' read -r uri suite sb <<<"$key"
	mirrors+=("deb ${sb:+[signed-by=$sb] }$uri $suite ${comps[$key]}")
done

pkgs=(systemd systemd-sysv udev kmod dkms pkgconf libc6-dev tiny-initramfs
	"linux-image-$krel" "linux-headers-$krel")

stamp=$(
	printf 'krel %s\nsuite %s\n' "$krel" "$codename"
	printf 'package %s\n' "${pkgs[@]}"
	printf 'source %s\n' "${mirrors[@]}"
	printf 'mkroot.sh %s\n' "$(sha256sum <"${BASH_SOURCE[0]}" | cut -d" " -f1)"
	dpkg-query -W -f='mmdebstrap ${Version}\n' mmdebstrap
)
if [ -d "$dir/base" ] && [ -f "$dir/base.stamp" ] && [ "$(cat "$dir/base.stamp")" = "$stamp" ]; then
	info "reusing the cached root $dir/base (kernel $krel)"
	exit 0
fi

cache=$PKG_BUILD/roots/debcache
tmp=$dir/base.tmp
# mmdebstrap mounts /proc, /sys, /dev and (our hook) the package cache into
# the root being built. Never delete through a mount that is still there
# (an interrupted earlier run): unmount, and refuse if that fails.
unmount_all() {
	local m
	[ -d "$tmp" ] || return 0
	local tmp_real
	tmp_real=$(cd -- "$tmp" && pwd -P)
	while read -r m; do
		umount -l "$m" 2>/dev/null
	done < <(awk -v t="$tmp_real/" 'index($2 "/", t) == 1 { print $2 }' /proc/self/mounts | sort -r)
	if awk -v t="$tmp_real/" 'index($2 "/", t) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
		die "something is still mounted under $tmp" "an interrupted mmdebstrap left mounts behind" \
			"unmount them (grep $tmp /proc/mounts), then re-run"
	fi
}
mmdebstrap_pid=
on_signal() {
	[ -n "$mmdebstrap_pid" ] && kill "$mmdebstrap_pid" 2>/dev/null && wait "$mmdebstrap_pid"
	exit 143
}
trap unmount_all EXIT
trap on_signal TERM INT
unmount_all
mkdir -p -- "$dir" "$cache"
rm -rf --one-file-system -- "$dir/base" "$dir/base.stamp" "$tmp"
for f in /var/cache/apt/archives/*.deb; do
	[ -f "$f" ] && [ ! -e "$cache/${f##*/}" ] && { ln "$f" "$cache/" 2>/dev/null || break; }
done
log=$dir/mmdebstrap.log
info "building the guest root for kernel $krel with mmdebstrap (log: $log)"
for m in "${mirrors[@]}"; do
	info "  apt source: $m"
done
# The hooks mount $cache as the root's apt cache while it is built (apt
# takes what it finds there and adds what it downloads), and unmount it
# before mmdebstrap cleans the cache; "$1" in them is mmdebstrap's, the root.
# shellcheck disable=SC2016
mmdebstrap --variant=minbase --include="$(
	IFS=,
	printf '%s' "${pkgs[*]}"
)" \
	--skip=essential/unlink --skip=download/empty \
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
	--setup-hook="mount --bind $(printf %q "$cache") \"\$1/var/cache/apt/archives\"" \
	--customize-hook='umount "$1/var/cache/apt/archives"' \
	--customize-hook='echo xpmem-pkgcheck >"$1/etc/hostname"' \
	"$codename" "$tmp" "${mirrors[@]}" >"$log" 2>&1 &
mmdebstrap_pid=$!
if ! wait "$mmdebstrap_pid"; then
	mmdebstrap_pid=
	tail -n 30 "$log" >&2
	if grep -q -E "Unable to locate package linux-(image|headers)-$krel|has no installation candidate" "$log"; then
		die "mmdebstrap failed: linux-image-$krel or linux-headers-$krel is not in the archive" \
			"the guest root must get the same kernel release as this host, and the archive no longer has it" \
			"update the host's kernels (bash test/vm/setup_host.sh all after apt-get update && apt-get upgrade), then re-run"
	fi
	die "mmdebstrap failed to build the guest root for kernel $krel" \
		"see the end of the log above, and $log" \
		"check the network access to the Debian archive and free space under $dir, then re-run"
fi
mmdebstrap_pid=
mv -- "$tmp" "$dir/base"
printf '%s\n' "$stamp" >"$dir/base.stamp"
info "built $dir/base ($(du -sh "$dir/base" | cut -f1))"
