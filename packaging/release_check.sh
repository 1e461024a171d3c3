#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make release-check: every version that ships must be the one in VERSION.
# Looks inside the built packages (build/packages/, from make packages) at
# the Debian and RPM package versions, debian/changelog, the spec, the
# DKMS tree's dkms.conf and VERSION (which the module's MODULE_VERSION and
# xpmem_version() are compiled from), the pkg-config files, the modules
# built by `make module` if any, and checks that the Debian symbols file
# lists exactly the symbols of lib/libxpmem.map. Prints one line per item
# and fails if anything disagrees. (xpmem_version() of a loaded module is
# compared with VERSION at run time by make package-check.)

set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 0 ] || {
	printf 'usage: %s   (no arguments; run make packages first)\n' "$VM_PROG" >&2
	exit 2
}
for c in dpkg-deb rpm rpm2cpio cpio; do
	command -v "$c" >/dev/null 2>&1 ||
		die "command '$c' not found" "release-check reads the built packages with it" \
			"run: make packages (it installs the packaging tools)"
done

version=$(read_version)
bad=0
checked=0

# expect WHAT SEEN: one result line.
expect() {
	checked=$((checked + 1))
	if [ "$2" = "$version" ]; then
		printf '  ok        %-62s %s\n' "$1" "$2"
	else
		printf '  MISMATCH  %-62s %s (VERSION says %s)\n' "$1" "${2:-(nothing)}" "$version"
		bad=$((bad + 1))
	fi
}

problem() {
	printf '  PROBLEM   %s\n' "$*"
	bad=$((bad + 1))
}

# deb_file DEB PATH / rpm_file RPM PATH: a file's contents.
deb_file() {
	dpkg-deb --fsys-tarfile "$1" | tar -xO "./${2#/}" 2>/dev/null
}
rpm_file() {
	# Binary RPMs store ./usr/..., source RPMs bare names.
	rpm2cpio "$1" | cpio --quiet -i --to-stdout "./${2#/}" "${2#/}" 2>/dev/null
}
# deb_list PKG / rpm_list PKG: the package's paths, each starting with /.
deb_list() {
	dpkg-deb -c "$1" | awk '{ print substr($6, 2) }'
}
rpm_list() {
	rpm -qlp "$1"
}
conf_value() {
	sed -n "s/^$1=\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}\$/\\1/p" | head -n 1
}
pc_version() {
	sed -n 's/^Version: *//p' | head -n 1
}

# dkms_tree_versions deb|rpm PKG: the versions in the DKMS tree of the
# xpmem-dkms package PKG (its directory name, dkms.conf, VERSION).
dkms_tree_versions() {
	local kind=$1 pkg=$2 conf srcdir
	conf=$("${kind}_list" "$pkg" | grep -E '^/usr/src/xpmem-[^/]*/dkms\.conf$' | head -n 1)
	srcdir=$(dirname -- "${conf:-/usr/src/(none)/dkms.conf}")
	expect "xpmem-dkms: DKMS tree $srcdir (name)" "${srcdir#/usr/src/xpmem-}"
	expect "xpmem-dkms: dkms.conf PACKAGE_VERSION" \
		"$("${kind}_file" "$pkg" "$srcdir/dkms.conf" | conf_value PACKAGE_VERSION)"
	expect "xpmem-dkms: VERSION in the DKMS tree (module version)" \
		"$("${kind}_file" "$pkg" "$srcdir/VERSION" | tr -d '\n')"
}

# pc_versions deb|rpm PKG NAME: the Version of both .pc files in the
# development package PKG.
pc_versions() {
	local kind=$1 pkg=$2 name=$3 pc path
	for pc in xpmem.pc cray-xpmem.pc; do
		path=$("${kind}_list" "$pkg" | grep "/pkgconfig/$pc\$" | head -n 1)
		expect "$name: $pc Version" "$("${kind}_file" "$pkg" "$path" | pc_version)"
	done
}

printf 'release-check: VERSION is %s\n' "$version"

# ---- symbols file against the symbol map ------------------------------------

printf 'symbols (lib/libxpmem.map vs packaging/debian/libxpmem0.symbols):\n'
map_syms=$(awk '
	/^[A-Za-z_][A-Za-z0-9_.]*[ \t]*\{/ { node = $1; sub(/\{.*/, "", node); global = 0; next }
	/global:/ { global = 1; next }
	/local:/ { global = 0; next }
	/^\}/ { node = ""; next }
	node != "" && global { gsub(/[ \t;]/, ""); if ($0 != "") print $0 "@" node }
' "$REPO_ROOT/lib/libxpmem.map" | sort)
sym_syms=$(awk '/^ [^ ]+@[^ ]+ / { print $1 }' "$PKG_DIR/debian/libxpmem0.symbols" |
	grep -v -E '^([A-Z0-9_.]+)@\1$' | sort)
if [ "$map_syms" = "$sym_syms" ]; then
	printf '  ok        %d symbols, the same in both\n' "$(wc -l <<<"$map_syms")"
else
	problem "the symbols file does not list exactly the map's symbols:"
	diff <(printf '%s\n' "$map_syms") <(printf '%s\n' "$sym_syms") |
		sed -n 's/^< /    only in lib\/libxpmem.map: /p; s/^> /    only in libxpmem0.symbols: /p'
	printf '    fix: add new symbols to packaging/debian/libxpmem0.symbols with the VERSION that introduces them\n'
fi
checked=$((checked + 1))

# ---- Debian packages ---------------------------------------------------------

debdir=$PKG_OUT/deb
printf 'Debian packages (%s):\n' "$debdir"
mapfile -t debs < <(find "$debdir" -maxdepth 1 -name '*.deb' 2>/dev/null | sort)
if [ ${#debs[@]} -eq 0 ]; then
	problem "no .deb in $debdir; run: make packages"
else
	for p in xpmem-dkms libxpmem0 libxpmem-dev; do
		deb=$(printf '%s\n' "${debs[@]}" | grep "/${p}_[^/]*\.deb$" | head -n 1 || true)
		if [ -z "$deb" ]; then
			problem "$p: no package in $debdir"
			continue
		fi
		v=$(dpkg-deb -f "$deb" Version)
		expect "$p: package version (upstream part of $v)" "${v%-*}"
	done
	deb=$(printf '%s\n' "${debs[@]}" | grep '/libxpmem0_' | head -n 1 || true)
	if [ -n "$deb" ]; then
		v=$(deb_file "$deb" usr/share/doc/libxpmem0/changelog.Debian.gz | gzip -dc |
			sed -n '1s/^xpmem (\([^)]*\)).*/\1/p')
		expect "debian/changelog (in libxpmem0)" "${v%-*}"
	fi
	dsc=$(find "$debdir" -maxdepth 1 -name '*.dsc' | head -n 1)
	if [ -n "$dsc" ]; then
		v=$(sed -n 's/^Version: //p' "$dsc")
		expect "source package $(basename -- "$dsc")" "${v%-*}"
	fi
	deb=$(printf '%s\n' "${debs[@]}" | grep '/xpmem-dkms_' | head -n 1 || true)
	[ -z "$deb" ] || dkms_tree_versions deb "$deb"
	deb=$(printf '%s\n' "${debs[@]}" | grep '/libxpmem-dev_' | head -n 1 || true)
	[ -z "$deb" ] || pc_versions deb "$deb" libxpmem-dev
fi

# ---- RPMs ---------------------------------------------------------------------

rpmdir=$PKG_OUT/rpm
printf 'RPMs (%s):\n' "$rpmdir"
mapfile -t rpms < <(find "$rpmdir" -maxdepth 1 -name '*.rpm' 2>/dev/null | sort)
if [ ${#rpms[@]} -eq 0 ]; then
	problem "no .rpm in $rpmdir; run: make packages"
else
	for p in xpmem-dkms libxpmem libxpmem-devel xpmem; do
		r=$(printf '%s\n' "${rpms[@]}" | grep -E "/$p-[0-9][^/]*\.rpm$" | head -n 1 || true)
		if [ -z "$r" ]; then
			problem "$p: no RPM in $rpmdir"
			continue
		fi
		expect "$(basename -- "$r"): Version" "$(rpm -qp --qf '%{VERSION}' "$r" 2>/dev/null)"
	done
	r=$(printf '%s\n' "${rpms[@]}" | grep '\.src\.rpm$' | head -n 1 || true)
	if [ -n "$r" ]; then
		expect "xpmem.spec (in the source RPM): Version:" \
			"$(rpm_file "$r" xpmem.spec | sed -n 's/^Version:[[:space:]]*//p' | head -n 1)"
	fi
	r=$(printf '%s\n' "${rpms[@]}" | grep '/xpmem-dkms-' | head -n 1 || true)
	[ -z "$r" ] || dkms_tree_versions rpm "$r"
	r=$(printf '%s\n' "${rpms[@]}" | grep '/libxpmem-devel-' | head -n 1 || true)
	[ -z "$r" ] || pc_versions rpm "$r" libxpmem-devel
fi

# ---- modules built by make module ---------------------------------------------

printf 'modules built in this tree (build/kernel/*/xpmem.ko):\n'
found=0
for ko in "$REPO_ROOT"/build/kernel/*/xpmem.ko; do
	[ -f "$ko" ] || continue
	found=1
	expect "MODULE_VERSION of ${ko#"$REPO_ROOT"/}" "$(modinfo -F version "$ko" 2>/dev/null)"
done
[ $found -eq 1 ] || printf '  (none built; make module builds them)\n'

printf 'release-check: %d checked, %d problem(s)\n' "$checked" "$bad"
if [ $bad -ne 0 ]; then
	die "versions disagree with VERSION ($version)" \
		"each item above marked MISMATCH or PROBLEM ships a different version" \
		"never write versions by hand: rebuild with 'make packages' (generated from VERSION) and fix any hard-coded version"
fi
