#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the xpmem packages from a clean copy of the source tree (never from
# the working directory itself, so that build/ and other local files cannot
# leak in): the release tarball, the Debian packages (xpmem-dkms, libxpmem0,
# libxpmem-dev, with dpkg-buildpackage) and the RPMs (xpmem-dkms, libxpmem,
# libxpmem-devel, with rpmbuild), each checked with lintian / rpmlint.
# debian/changelog and the spec's Version are generated from VERSION here.
# Results go to build/packages/{deb,rpm}/. `make packages`, `make deb` and
# `make rpm` run this script.

set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat >&2 <<EOF
usage: $VM_PROG [--deb] [--rpm] [--source worktree|head] [--no-lint]
Builds the Debian and/or RPM packages (default: both) into $PKG_OUT.
  --source worktree   package the working tree as it is: tracked and new
                      files, without ignored ones such as build/ (default)
  --source head       package the last commit (git archive HEAD)
  --no-lint           skip lintian and rpmlint
EOF
	exit 2
}

do_deb=0
do_rpm=0
source_kind=worktree
lint=1
while [ $# -gt 0 ]; do
	case $1 in
	--deb) do_deb=1 ;;
	--rpm) do_rpm=1 ;;
	--source)
		[ $# -ge 2 ] || usage
		source_kind=$2
		shift
		;;
	--no-lint) lint=0 ;;
	-h | --help) usage ;;
	*) die "unknown argument '$1'" "see the usage below" "run: $VM_PROG --help" ;;
	esac
	shift
done
if [ $do_deb -eq 0 ] && [ $do_rpm -eq 0 ]; then
	do_deb=1
	do_rpm=1
fi
case $source_kind in
worktree | head) ;;
*) die "--source must be 'worktree' or 'head', not '$source_kind'" "" "run: $VM_PROG --help" ;;
esac

need_packaging_tools
version=$(read_version)
epoch=$(source_date_epoch)
export SOURCE_DATE_EPOCH=$epoch
name=xpmem-$version

# ---- clean source tree and release tarball ----------------------------------

stage=$PKG_BUILD/src
rm -rf -- "$stage"
mkdir -p -- "$stage/$name"
if git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	if [ "$source_kind" = head ]; then
		git -C "$REPO_ROOT" archive --format=tar HEAD | tar -x -C "$stage/$name"
	else
		# Tracked and untracked files, minus ignored ones and files
		# deleted in the working tree.
		(cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[ -f "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
			done | tar --null -T - -c) | tar -x -C "$stage/$name"
	fi
else
	[ "$source_kind" = worktree ] ||
		die "--source head needs a git checkout" "$REPO_ROOT is not one" "use --source worktree"
	(cd "$REPO_ROOT" && tar --exclude=./build -c .) | tar -x -C "$stage/$name"
fi
[ -f "$stage/$name/packaging/debian/control" ] ||
	die "the packaged tree has no packaging/debian/control" \
		"with --source head only committed files are packaged" \
		"commit packaging/ first, or use --source worktree"
# The release tarball carries the spec with its version filled in, so that
# rpmbuild -ta works on it.
write_spec "$version" "$epoch" "$stage/$name/packaging/rpm/xpmem.spec"
tarball=$PKG_BUILD/$name.tar.gz
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$epoch" -c "$name" | gzip -n -9 >"$tarball"
info "release tarball $tarball ($source_kind)"

mkdir -p -- "$PKG_OUT"
fails=()

# ---- Debian -----------------------------------------------------------------

build_deb() {
	local dir=$PKG_BUILD/deb out=$PKG_OUT/deb log changes
	rm -rf -- "$dir" "$out"
	mkdir -p -- "$dir" "$out"
	cp -- "$tarball" "$dir/xpmem_$version.orig.tar.gz"
	tar -xzf "$tarball" -C "$dir"
	cp -a -- "$dir/$name/packaging/debian" "$dir/$name/debian"
	write_changelog "$version" "$epoch" "$dir/$name/debian/changelog"
	log=$dir/build.log
	info "building Debian packages in $dir (log: $log)"
	if ! (cd "$dir/$name" && dpkg-buildpackage -us -uc) >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "dpkg-buildpackage failed" "see the end of the log above, and $log" \
			"fix the error; missing build dependencies are listed in packaging/debian/control"
	fi
	changes=$dir/xpmem_${version}-${DEB_REVISION}_$(dpkg --print-architecture).changes
	cp -- "$dir"/*.deb "$dir"/*.dsc "$dir"/*.debian.tar.* "$dir"/*.orig.tar.gz \
		"$changes" "$out/"
	if [ "$lint" -eq 1 ]; then
		info "lintian $(basename -- "$changes")"
		# Errors and warnings fail; info and pedantic tags are shown.
		if ! lintian --info --pedantic --fail-on error,warning "$changes" 2>&1 |
			tee "$dir/lintian.log" >&2; then
			fails+=("lintian reported errors or warnings (see $dir/lintian.log)")
		fi
	fi
	ls -1 "$out"/*.deb >&2
}

# ---- RPM ----------------------------------------------------------------------

build_rpm() {
	local top=$PKG_BUILD/rpm out=$PKG_OUT/rpm log defines=()
	rm -rf -- "$top" "$out"
	mkdir -p -- "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS} "$out"
	cp -- "$tarball" "$top/SOURCES/"
	cp -- "$stage/$name/packaging/rpm/xpmem.spec" "$top/SPECS/xpmem.spec"
	log=$top/build.log
	info "building RPMs in $top (log: $log)"
	defines=(--define "_topdir $top")
	# rpmbuild on Debian: the BuildRequires are Debian packages that the
	# (empty) rpm database does not know, hence --nodeps; they are
	# installed by need_packaging_tools above.
	if ! rpmbuild "${defines[@]}" --nodeps -ba "$top/SPECS/xpmem.spec" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "rpmbuild failed" "see the end of the log above, and $log" "fix the error in packaging/rpm/xpmem.spec"
	fi
	find "$top/RPMS" "$top/SRPMS" -name '*.rpm' -exec cp -t "$out/" {} +
	if [ "$lint" -eq 1 ]; then
		info "rpmlint"
		if ! rpmlint -r "$PKG_DIR/rpm/xpmem.rpmlintrc" "$top/SPECS/xpmem.spec" "$out"/*.rpm 2>&1 |
			tee "$top/rpmlint.log" >&2; then
			fails+=("rpmlint reported errors or unfiltered warnings (see $top/rpmlint.log)")
		fi
	fi
	ls -1 "$out"/*.rpm >&2
}

[ $do_deb -eq 1 ] && build_deb
[ $do_rpm -eq 1 ] && build_rpm

if [ ${#fails[@]} -gt 0 ]; then
	for f in "${fails[@]}"; do
		warn "$f"
	done
	die "the packages were built, but the package linters are not clean" \
		"every tag must be fixed or overridden with a comment that justifies it" \
		"fix the tags above (overrides: packaging/debian/*lintian-overrides, packaging/rpm/xpmem.rpmlintrc)"
fi
info "packages of xpmem $version are in $PKG_OUT"
