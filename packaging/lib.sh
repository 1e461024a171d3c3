# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers shared by the packaging scripts (build_packages.sh,
# release_check.sh, test/*.sh). Sourced, never run. Reuses the error printers
# of test/vm/vm_common.sh and adds: where packaging builds go, the release
# version read from VERSION (the only place it is written), the generated
# debian/changelog and RPM spec, and the installation of the packaging tools.

# shellcheck source=../test/vm/vm_common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../test/vm/vm_common.sh"

PKG_DIR=$REPO_ROOT/packaging
# Scratch trees, package builds and guest roots; packages end up in PKG_OUT.
PKG_BUILD=${XPMEM_PKG_BUILD_DIR:-$REPO_ROOT/build/packaging}
PKG_OUT=${XPMEM_PKG_OUT:-$REPO_ROOT/build/packages}
# Packaging revisions: bump them to rebuild the same upstream VERSION with
# changed packaging (Debian "3.0.0-2", RPM "Release: 2").
DEB_REVISION=${XPMEM_DEB_REVISION:-1}
RPM_RELEASE=${XPMEM_RPM_RELEASE:-1}
# Who signs debian/changelog; the same identity as debian/control's Maintainer.
DEB_MAINTAINER=$(sed -n 's/^Maintainer: //p' "$PKG_DIR/debian/control")
export PKG_DIR PKG_BUILD PKG_OUT DEB_REVISION RPM_RELEASE

export DEBIAN_FRONTEND=noninteractive

# read_version: print the release in VERSION after checking that it is
# MAJOR.MINOR.PATCH.
read_version() {
	local root=$REPO_ROOT v
	[ -r "$root/VERSION" ] ||
		die "cannot read $root/VERSION" "every package version is derived from it" \
			"run from an xpmem source tree (it has a VERSION file at the top)"
	v=$(tr -d ' \t\r\n' <"$root/VERSION")
	[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
		die "VERSION contains '$v', not MAJOR.MINOR.PATCH" \
			"the module (xpmem_version() = MAJOR<<16 | MINOR<<12 | PATCH), the library and all packages are versioned from it" \
			"write a version such as 3.0.0 into $root/VERSION"
	printf '%s\n' "$v"
}

# source_date_epoch: the time stamp written into generated files, so that
# a rebuild of the same commit gives the same changelog: SOURCE_DATE_EPOCH
# if set, else the last commit's date, else now.
source_date_epoch() {
	if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
		printf '%s\n' "$SOURCE_DATE_EPOCH"
	elif git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$REPO_ROOT" log -1 --format=%ct
	else
		date +%s
	fi
}

# write_changelog VERSION EPOCH FILE: debian/changelog, generated (there is
# no changelog in packaging/debian/ on purpose: its version cannot go stale).
write_changelog() {
	local v=$1 epoch=$2 file=$3
	cat >"$file" <<EOF
xpmem ($v-$DEB_REVISION) unstable; urgency=medium

  * Release $v. This file is generated from the VERSION file by
    packaging/build_packages.sh; the changes are in the git history.

 -- $DEB_MAINTAINER  $(LC_ALL=C date -u -R -d "@$epoch")
EOF
}

# write_spec VERSION EPOCH FILE: packaging/rpm/xpmem.spec with its
# Version, Release and %changelog entry filled in.
write_spec() {
	local v=$1 epoch=$2 file=$3 entry
	grep -q '^Version:[[:space:]]*@VERSION@$' "$PKG_DIR/rpm/xpmem.spec" ||
		die "packaging/rpm/xpmem.spec has no 'Version: @VERSION@' line" \
			"the spec's version must come from the VERSION file, never be written by hand" \
			"restore the line 'Version:        @VERSION@' in packaging/rpm/xpmem.spec"
	entry="* $(LC_ALL=C date -u -d "@$epoch" '+%a %b %d %Y') $DEB_MAINTAINER - $v-$RPM_RELEASE"
	# awk -v turns the \n into a newline.
	entry+='\n'"- Release $v (generated from the VERSION file; the changes are in git)"
	awk -v v="$v" -v r="$RPM_RELEASE" -v entry="$entry" '
		{ gsub(/@VERSION@/, v); gsub(/@RELEASE@/, r) }
		$0 == "@CHANGELOG@" { print entry; next }
		{ print }
	' "$PKG_DIR/rpm/xpmem.spec" >"$file"
}

# need_packaging_tools: make sure the tools that build, lint and test the
# packages are there; when one is missing, test/vm/setup_host.sh packaging
# installs them with apt (as root), as make setup does for the guests.
need_packaging_tools() {
	local c
	for c in gcc make git dpkg-buildpackage dh dh_dkms fakeroot lintian rpmbuild \
		rpm2cpio rpmlint cpio mmdebstrap; do
		command -v "$c" >/dev/null 2>&1 && continue
		info "'$c' is missing: running test/vm/setup_host.sh packaging"
		bash "$VM_DIR/setup_host.sh" packaging >&2 ||
			die "test/vm/setup_host.sh packaging failed" "see its messages above" \
				"fix what it names (apt sources, network, root), then re-run"
		return 0
	done
}
