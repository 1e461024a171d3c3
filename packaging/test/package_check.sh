#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make package-check: the packages, tested the way an admin uses them.
#  1. Build the .deb and .rpm packages from a clean copy of the tree
#     (build_packages.sh, with lintian and rpmlint), run release_check.sh.
#  2. RPM: no RPM-based guest here, so check the built RPMs' file lists,
#     dependencies and scriptlets.
#  3. For each kernel (6.1, 6.12): install the debs with apt into a minimal
#     Debian root that has that kernel's image and headers (mkroot.sh,
#     cached), where DKMS builds the module during the install; boot that
#     root in QEMU with systemd (boot_root.sh) and run guest_check.sh in it:
#     module loaded at boot, /dev/xpmem root:root 0666, pkg-config, a round
#     trip as an unprivileged user. Then purge the packages (in the root, on
#     the host) and boot again: nothing loaded, no module, no file left.
#     The guests' kernel logs must be clean (test/vm/log_patterns).
#  4. Install xpmem-dkms into a root WITHOUT kernel headers: dpkg must end
#     configured and say clearly why no module was built; installing the
#     headers afterwards must build it (DKMS's kernel hook).
# Ends with "N passed, N failed"; exit status 1 if anything failed.
#   package_check.sh [--keep] [6.1|6.12 ...]   (default: 6.1 6.12)

set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"

TEST_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
GUEST_TIMEOUT=${XPMEM_PKGCHECK_GUEST_TIMEOUT:-900}

usage() {
	cat >&2 <<EOF
usage: $VM_PROG [--keep] [6.1|6.12 ...]
Builds the packages, installs them into a Debian root per kernel (DKMS
builds the module), boots each root in QEMU and checks the installation,
then removal; also installs into a root without kernel headers.
  --keep   keep the per-run roots under $PKG_BUILD/check even when all passed
EOF
	exit 2
}

keep=0
kernels=()
while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1 ;;
	6.1 | 6.12) kernels+=("$1") ;;
	-h | --help) usage ;;
	*) die "unknown argument '$1'" "the supported kernels are 6.1 and 6.12" "see: $VM_PROG --help" ;;
	esac
	shift
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
require_root "$VM_PROG"

t_start=$(date +%s)
passed=0
failed=0
failures=()

elapsed() {
	printf '%ds' $(($(date +%s) - t_start))
}

phase() {
	printf '\n==== %s [%s]\n' "$*" "$(elapsed)"
}

ok() {
	passed=$((passed + 1))
	printf 'ok - %s\n' "$*"
}

not_ok() {
	failed=$((failed + 1))
	failures+=("$1")
	printf 'not ok - %s\n' "$1"
	shift
	local line
	for line in "$@"; do
		printf '    %s\n' "$line"
	done
}

# expect_ok DESC CMD...: ok when CMD succeeds; its output is shown on failure.
expect_ok() {
	local desc=$1 output
	shift
	if output=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "command: $*"
		printf '%s\n' "$output" | tail -n 30 | sed 's/^/    | /'
	fi
}

# in_root ROOT CMD...: run CMD chrooted into ROOT with /dev, /proc and /sys,
# in a private mount namespace (the mounts vanish with it).
in_root() {
	local root=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private -- /bin/bash -c '
		r=$1
		shift
		mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" &&
			mount --rbind /sys "$r/sys" || exit 125
		exec chroot "$r" /usr/bin/env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' in_root "$root" "$@"
}

# fresh_root BASE DIR: DIR becomes a writable copy of the cached root BASE.
fresh_root() {
	rm -rf -- "$2"
	mkdir -p -- "$(dirname -- "$2")"
	cp -a --reflink=auto -- "$1" "$2"
}

# copy_debs ROOT: the three packages to ROOT/var/cache/xpmem-debs; prints
# their paths as seen inside ROOT.
copy_debs() {
	local d=$1/var/cache/xpmem-debs p f
	mkdir -p -- "$d"
	for p in xpmem-dkms libxpmem0 libxpmem-dev; do
		f=$(find "$PKG_OUT/deb" -maxdepth 1 -name "${p}_${version}-*.deb" | head -n 1)
		[ -n "$f" ] || die "no ${p}_${version}-*.deb in $PKG_OUT/deb" "the package build did not produce it" "see the build step above"
		cp -- "$f" "$d/"
		printf '/var/cache/xpmem-debs/%s\n' "$(basename -- "$f")"
	done
}

# all_configured ROOT: the three packages are installed and configured.
all_configured() {
	local audit p st rc=0
	audit=$(dpkg --root="$1" --audit)
	[ -z "$audit" ] || {
		echo "dpkg --audit: $audit"
		rc=1
	}
	for p in xpmem-dkms libxpmem0 libxpmem-dev; do
		st=$(dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Status}' "$p")
		echo "$p: $st"
		[ "$st" = "install ok installed" ] || rc=1
	done
	return "$rc"
}

built_during_install() {
	grep "Building initial module for $2" "$3" || return 1
	ls "$1/lib/modules/$2/updates/dkms/"xpmem.ko*
}

no_module() {
	if ls "$1/lib/modules/$2/updates/dkms/"xpmem.ko* 2>/dev/null; then
		return 1
	fi
	echo "no xpmem.ko under $1/lib/modules/$2"
}

all_purged() {
	local p st rc=0
	for p in xpmem-dkms libxpmem0 libxpmem-dev; do
		st=$(dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)
		echo "$p: ${st:-(unknown to dpkg)}"
		case $st in "" | "un "*) ;; *) rc=1 ;; esac
	done
	return "$rc"
}

# guest_run K KREL ROOT OUT MODE: boot ROOT, run guest_check.sh in MODE,
# count its results, scan the guest's kernel log.
guest_run() {
	local k=$1 krel=$2 root=$3 out=$4 mode=$5 res rc line hits logs
	res=$root/var/lib/xpmem-pkgcheck
	rm -f -- "$res/status" "$res/results" "$res/dmesg.log" "$res/dmesg_warn.log"
	printf '%s\n' "$mode" >"$res/mode"
	mkdir -p -- "$out"
	set +e
	bash "$TEST_DIR/boot_root.sh" --root "$root" --kernel "$krel" --out "$out" --timeout "$GUEST_TIMEOUT"
	rc=$?
	set -e
	# The guest's own ok / not ok lines count as results here, also those
	# of a guest that never finished (they say how far it got).
	if [ -f "$res/results" ]; then
		while IFS= read -r line; do
			case $line in
			"ok - "*) ok "$k guest: ${line#ok - }" ;;
			"not ok - "*) not_ok "$k guest: ${line#not ok - }" ;;
			*) printf '%s\n' "$line" ;;
			esac
		done <"$res/results"
	fi
	if [ ! -f "$res/status" ]; then
		not_ok "$k ($mode): the guest booted and finished its checks" \
			"boot_root.sh exit status $rc (124: not done within $GUEST_TIMEOUT s); see $out/console.log" \
			"the checks done so far are listed above; the next one did not finish"
	elif [ "$rc" -ne 0 ]; then
		not_ok "$k ($mode): the guest powered off by itself" "boot_root.sh exit status $rc"
	fi
	logs=("$out/console.log")
	if [ -f "$res/dmesg_warn.log" ]; then
		cp -- "$res/dmesg_warn.log" "$res/dmesg.log" "$out/"
		logs+=("$out/dmesg_warn.log")
	fi
	if hits=$(bash "$VM_DIR/scan_log.sh" "${logs[@]}"); then
		ok "$k ($mode): the guest kernel log is clean (no oops, WARNING, BUG, lockup...)"
	else
		not_ok "$k ($mode): the guest kernel log is clean" "patterns: $VM_DIR/log_patterns"
		printf '%s\n' "$hits" | head -n 30 | sed 's/^/    | /'
	fi
}

# ---- 0. host tools, kernels -----------------------------------------------------

phase "host setup"
setup_arg=all
[ ${#kernels[@]} -eq 1 ] && setup_arg=${kernels[0]}
bash "$VM_DIR/setup_host.sh" "$setup_arg" >/dev/null ||
	die "test/vm/setup_host.sh failed" "see its messages above" "fix the problem it names and re-run"
need_packaging_tools
version=$(read_version)
declare -A krels=()
for k in "${kernels[@]}"; do
	krels[$k]=$(bash "$VM_DIR/kernel_release.sh" "$k") ||
		die "no usable $k kernel on the host" "see the message above" "run: bash $VM_DIR/setup_host.sh $k"
done
info "VERSION $version, kernels ${kernels[*]}"

# The guest roots (mmdebstrap, minutes when not cached) are made in the
# background meanwhile, one after the other (they share the package
# cache), each reporting to $PKG_BUILD/check/mkroot-KREL.{log,rc}.
mkdir -p -- "$PKG_BUILD/check"
for k in "${kernels[@]}"; do
	rm -f -- "$PKG_BUILD/check/mkroot-${krels[$k]}".{log,rc}
done
# shellcheck disable=SC2016 # expanded by the inner shell
setsid bash -c '
	for krel in "${@:2}"; do
		bash "$1/mkroot.sh" "$krel" "$PKG_BUILD/roots/$krel" \
			>"$PKG_BUILD/check/mkroot-$krel.log" 2>&1
		echo $? >"$PKG_BUILD/check/mkroot-$krel.rc"
	done' mkroots "$TEST_DIR" "${krels[@]}" </dev/null &
roots_pid=$!
stop_roots() {
	kill -TERM -- "-$roots_pid" 2>/dev/null || true
}
trap stop_roots EXIT

# wait_root KREL: wait for the background mkroot.sh of KREL; show its output.
wait_root() {
	local rcfile=$PKG_BUILD/check/mkroot-$1.rc t0=$SECONDS rc
	while [ ! -s "$rcfile" ]; do
		if ! kill -0 "$roots_pid" 2>/dev/null && [ ! -s "$rcfile" ]; then
			echo 1 >"$rcfile"
			break
		fi
		sleep 2
	done
	sed 's/^/    | /' "$PKG_BUILD/check/mkroot-$1.log"
	rc=$(cat "$rcfile")
	info "guest root for $1 ready (waited $((SECONDS - t0)) s)"
	return "$rc"
}

# ---- 1. build -------------------------------------------------------------------

phase "1. build the packages from a clean tree (lintian, rpmlint)"
if bash "$PKG_DIR/build_packages.sh"; then
	ok "the .deb and .rpm packages build from a clean copy of the tree, lintian and rpmlint clean"
else
	not_ok "the packages build from a clean copy of the tree, lintian and rpmlint clean"
	die "the packages did not build" "see the messages above" "fix the build, then re-run make package-check"
fi
expect_ok "make release-check: every shipped version is VERSION ($version)" bash "$PKG_DIR/release_check.sh"

# ---- 2. RPMs: file lists, dependencies, scriptlets --------------------------------

phase "2. inspect the RPMs (no RPM-based guest is available)"
rpm_of() {
	find "$PKG_OUT/rpm" -maxdepth 1 -name "$1-$version-*.$2.rpm" | head -n 1
}
# rpm_files_are RPM EXPECTED...: the package's files (not directories) are
# exactly EXPECTED (glob patterns, each matching at least one file).
rpm_files_are() {
	local rpm=$1 pat f rc=0 matched list
	shift
	[ -n "$rpm" ] || {
		echo "RPM not built"
		return 1
	}
	mapfile -t list < <(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" | awk '$1 !~ /^d/ { print $2 }')
	for f in "${list[@]}"; do
		matched=0
		for pat in "$@"; do
			# shellcheck disable=SC2053 # glob match on purpose
			[[ $f == $pat ]] && matched=1 && break
		done
		[ $matched -eq 1 ] || {
			echo "unexpected file: $f"
			rc=1
		}
	done
	for pat in "$@"; do
		matched=0
		for f in "${list[@]}"; do
			# shellcheck disable=SC2053
			[[ $f == $pat ]] && matched=1 && break
		done
		[ $matched -eq 1 ] || {
			echo "missing: $pat"
			rc=1
		}
	done
	[ ${#list[@]} -gt 0 ] || rc=1
	return $rc
}
rpm_has() {
	local rpm=$1 query=$2 pattern=$3
	rpm -qp "$query" "$rpm" 2>/dev/null | grep -E -q -e "$pattern" || {
		echo "rpm -qp $query $(basename -- "$rpm") has no line matching '$pattern':"
		rpm -qp "$query" "$rpm" 2>&1
		return 1
	}
}
# The package's scriptlets, as rpm -q --scripts shows them.
rpm_scripts_have() {
	local rpm=$1 s w
	shift
	s=$(rpm -qp --scripts "$rpm")
	for w in "$@"; do
		grep -qF -e "$w" <<<"$s" || {
			printf 'no "%s" in the scriptlets:\n%s\n' "$w" "$s"
			return 1
		}
	done
}
rpm_modes_are() {
	local rpm=$1 want=$2 f seen
	shift 2
	for f in "$@"; do
		seen=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$rpm" |
			awk -v f="$f" '$3 == f { print $1, $2 }')
		echo "$f: $seen (want $want)"
		[ "$seen" = "$want" ] || return 1
	done
}
rpm_scriptlets_parse() {
	rpm -qp --qf '%{POSTIN}\n' "$1" | sh -n && rpm -qp --qf '%{PREUN}\n' "$1" | sh -n
}
rpm_dkms_conf() {
	local c line
	c=$(rpm2cpio "$1" | cpio --quiet -i --to-stdout "./${2#/}/dkms.conf")
	grep -v -e '^#' -e '^$' <<<"$c"
	# shellcheck disable=SC2016 # dkms.conf's own variable, literally
	for line in 'MAKE[0]="make -C kernel KDIR=${kernel_source_dir}"' \
		'BUILT_MODULE_LOCATION[0]="kernel"' 'DEST_MODULE_LOCATION[0]="/updates/dkms"' \
		'AUTOINSTALL="yes"'; do
		grep -qxF -e "$line" <<<"$c" || {
			echo "dkms.conf lacks: $line"
			return 1
		}
	done
}

r_lib=$(rpm_of libxpmem x86_64)
r_dev=$(rpm_of libxpmem-devel x86_64)
r_dkms=$(rpm_of xpmem-dkms noarch)
libdir=$(rpm --eval '%{_libdir}')
src=/usr/src/xpmem-$version
expect_ok "libxpmem RPM: exactly the shared library (+ docs, licenses, build-id links)" \
	rpm_files_are "$r_lib" "$libdir/libxpmem.so.0" "$libdir/libxpmem.so.0.0.0" \
	"/usr/lib/.build-id/*" "/usr/share/doc/libxpmem-$version/*" "/usr/share/licenses/libxpmem-$version/*"
expect_ok "libxpmem RPM provides libxpmem.so.0 and its XPMEM_3.0 symbol version" \
	rpm_has "$r_lib" --provides '^libxpmem\.so\.0\(XPMEM_3\.0\)'
expect_ok "libxpmem RPM runs ldconfig after install and removal" \
	rpm_scripts_have "$r_lib" "postinstall program: /sbin/ldconfig" "postuninstall program: /sbin/ldconfig"
expect_ok "libxpmem-devel RPM: header, .so, .a, xpmem.pc, cray-xpmem.pc" \
	rpm_files_are "$r_dev" /usr/include/xpmem.h "$libdir/libxpmem.so" "$libdir/libxpmem.a" \
	"$libdir/pkgconfig/xpmem.pc" "$libdir/pkgconfig/cray-xpmem.pc"
expect_ok "libxpmem-devel RPM requires the libxpmem of the same build" \
	rpm_has "$r_dev" --requires "^libxpmem\\(x86-64\\) = $version-"
expect_ok "libxpmem-devel RPM provides pkgconfig(cray-xpmem)" \
	rpm_has "$r_dev" --provides "^pkgconfig\\(cray-xpmem\\) = $version\$"
expect_ok "xpmem-dkms RPM: module source tree, dkms.conf, udev rule, modules-load.d entry" \
	rpm_files_are "$r_dkms" "$src/dkms.conf" "$src/VERSION" "$src/include/uapi/xpmem_ioctl.h" \
	"$src/kernel/Kbuild" "$src/kernel/Makefile" "$src/kernel/probe.sh" "$src/kernel/*.c" \
	"$src/kernel/*.h" "$src/kernel/probes/*.c" /usr/lib/udev/rules.d/60-xpmem.rules \
	/usr/lib/modules-load.d/xpmem.conf "/usr/share/doc/xpmem-dkms-$version/*" \
	"/usr/share/licenses/xpmem-dkms-$version/*"
expect_ok "xpmem-dkms RPM: udev rule and modules-load.d entry are root:root 0644" \
	rpm_modes_are "$r_dkms" "-rw-r--r-- root:root" /usr/lib/udev/rules.d/60-xpmem.rules \
	/usr/lib/modules-load.d/xpmem.conf
expect_ok "xpmem-dkms RPM requires dkms (also for its scriptlets)" \
	rpm_has "$r_dkms" --requires '^dkms$'
expect_ok "xpmem-dkms RPM %post adds, builds and installs the module with DKMS per kernel" \
	rpm_scripts_have "$r_dkms" "dkms add -m xpmem -v $version" "dkms build -m xpmem -v $version" \
	"dkms install -m xpmem -v $version" "headers are not installed"
expect_ok "xpmem-dkms RPM %preun removes the module from DKMS for all kernels" \
	rpm_scripts_have "$r_dkms" "dkms remove -m xpmem -v $version -q --all"
expect_ok "xpmem-dkms RPM: the scriptlets are valid sh" rpm_scriptlets_parse "$r_dkms"
expect_ok "xpmem-dkms RPM: dkms.conf builds kernel/ only, into updates/, autoinstall" \
	rpm_dkms_conf "$r_dkms" "$src"

# ---- 3. install, boot, check, remove: one root per kernel --------------------------

for k in "${kernels[@]}"; do
	krel=${krels[$k]}
	phase "3. kernel $k ($krel): install the debs, boot, check, remove"
	rootdir=$PKG_BUILD/roots/$krel
	wait_root "$krel" || {
		not_ok "$k: guest root for $krel (mkroot.sh, mmdebstrap)" "log: $PKG_BUILD/check/mkroot-$krel.log"
		continue
	}
	work=$PKG_BUILD/check/$krel
	root=$work/root
	rm -rf -- "$work"
	fresh_root "$rootdir/base" "$root"
	mapfile -t debs < <(copy_debs "$root")

	# DKMS builds the module in the package's postinst, during the install.
	log=$work/install.log
	t0=$SECONDS
	if in_root "$root" apt-get install -y -q --no-install-recommends "${debs[@]}" >"$log" 2>&1; then
		info "apt-get install (with the DKMS build) took $((SECONDS - t0)) s"
		ok "$k: apt-get install of xpmem-dkms, libxpmem0, libxpmem-dev into a root with $krel and its headers"
	else
		not_ok "$k: apt-get install of the packages" "log: $log"
		tail -n 30 "$log" | sed 's/^/    | /'
		continue
	fi
	sed -n '/^Setting up xpmem-dkms/,/^Setting up\|^Processing/p' "$log" | sed 's/^/    | /'
	expect_ok "$k: all three packages are configured (dpkg --audit is empty)" all_configured "$root"
	expect_ok "$k: DKMS built and installed xpmem.ko for $krel during the install" \
		built_during_install "$root" "$krel" "$log"

	# The guest: a user for the unprivileged test and its program, built
	# as that user against the installed header and library, the checks
	# and their unit.
	in_root "$root" useradd --create-home --shell /bin/bash xpmemtest
	install -D -m 0755 "$TEST_DIR/guest_check.sh" "$root/usr/local/lib/xpmem-pkgcheck/guest_check.sh"
	install -D -m 0644 "$TEST_DIR/roundtrip.c" "$root/usr/local/share/xpmem-pkgcheck/roundtrip.c"
	# shellcheck disable=SC2016 # expanded by the user's shell in the root
	expect_ok "$k: test/roundtrip.c builds as user xpmemtest with cc \$(pkg-config --cflags --libs cray-xpmem)" \
		in_root "$root" runuser -u xpmemtest -- /bin/sh -c \
		'cd /home/xpmemtest && set -x && cc -Wall -Wextra -Werror -o roundtrip /usr/local/share/xpmem-pkgcheck/roundtrip.c $(pkg-config --cflags --libs cray-xpmem)'
	install -D -m 0644 "$TEST_DIR/xpmem-pkgcheck.service" "$root/etc/systemd/system/xpmem-pkgcheck.service"
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants" "$root/var/lib/xpmem-pkgcheck"
	ln -sf /etc/systemd/system/xpmem-pkgcheck.service "$root/etc/systemd/system/multi-user.target.wants/"
	printf 'version=%s\nkrel=%s\n' "$version" "$krel" >"$root/var/lib/xpmem-pkgcheck/expected"

	guest_run "$k" "$krel" "$root" "$work/boot-installed" installed

	# Removal on the host, in the root: dkms remove runs depmod, which
	# takes minutes under TCG (6.12 decompresses every .ko.xz) and seconds
	# here. The second boot then checks that nothing is left.
	in_root "$root" dpkg-query -L xpmem-dkms libxpmem0 libxpmem-dev \
		>"$root/var/lib/xpmem-pkgcheck/packaged-files"
	log=$work/purge.log
	t0=$SECONDS
	if in_root "$root" apt-get purge -y -q xpmem-dkms libxpmem0 libxpmem-dev >"$log" 2>&1; then
		info "apt-get purge took $((SECONDS - t0)) s"
		ok "$k: apt-get purge xpmem-dkms libxpmem0 libxpmem-dev"
	else
		not_ok "$k: apt-get purge xpmem-dkms libxpmem0 libxpmem-dev" "log: $log"
		tail -n 20 "$log" | sed 's/^/    | /'
	fi
	sed -n '/^Removing xpmem-dkms/,/^Removing\|^Processing/p' "$log" | sed 's/^/    | /'
	expect_ok "$k: dpkg no longer knows the packages" all_purged "$root"
	guest_run "$k" "$krel" "$root" "$work/boot-removed" removed

	if [ "$keep" -eq 0 ] && [ ${#failures[@]} -eq 0 ]; then
		rm -rf -- "$root"
	fi
done

# ---- 4. no kernel headers -----------------------------------------------------------

k=${kernels[0]}
krel=${krels[$k]}
phase "4. kernel $k ($krel) WITHOUT headers: install xpmem-dkms, then the headers"
rootdir=$PKG_BUILD/roots/$krel
work=$PKG_BUILD/check/$krel-noheaders
root=$work/root
rm -rf -- "$work"
if [ ! -d "$rootdir/base" ] || [ "$(cat "$PKG_BUILD/check/mkroot-$krel.rc" 2>/dev/null)" != 0 ]; then
	not_ok "no-headers test: no guest root for $krel (see step 3)"
else
	fresh_root "$rootdir/base" "$root"
	# The installed header packages (dpkg also lists names it merely knows
	# of, in state "un") and their versions, to install the same ones later.
	mapfile -t hdr_ids < <(dpkg-query --admindir="$root/var/lib/dpkg" -W \
		-f='${db:Status-Abbrev}|${Package}_${Version}\n' 'linux-headers-*' 2>/dev/null |
		awk -F'|' '$1 ~ /^ii/ { print $2 }')
	hdr_pkgs=("${hdr_ids[@]%%_*}")
	in_root "$root" dpkg --purge "${hdr_pkgs[@]}" >"$work/purge-headers.log" 2>&1 ||
		die "cannot remove the kernel headers from $root" "dpkg --purge ${hdr_pkgs[*]} failed; see $work/purge-headers.log" \
			"remove $rootdir to rebuild the cached root"
	mapfile -t debs < <(copy_debs "$root")
	log=$work/install.log
	set +e
	in_root "$root" apt-get install -y -q --no-install-recommends "${debs[@]}" >"$log" 2>&1
	rc=$?
	set -e
	sed -n '/^Setting up xpmem-dkms/,$p' "$log" | sed 's/^/    | /'
	if [ $rc -eq 0 ]; then
		ok "no headers: apt-get install of the packages succeeds"
	else
		not_ok "no headers: apt-get install of the packages succeeds" "exit status $rc; log: $log"
	fi
	expect_ok "no headers: dpkg ends with all packages configured (dpkg --audit is empty)" \
		all_configured "$root"
	expect_ok "no headers: the install says clearly that the module was not built and why" \
		grep -F "xpmem-dkms: NOTE: xpmem.ko was not built for kernel $krel: its headers are not installed." "$log"
	expect_ok "no headers: no xpmem.ko was installed" no_module "$root" "$krel"

	# The headers arrive later (as with a kernel update): DKMS's hook in
	# /etc/kernel/header_postinst.d must build the module by itself.
	# mkroot.sh downloaded them into the package cache (epochs' ':' is %3a).
	hdr_debs=()
	for id in "${hdr_ids[@]}"; do
		f=$(find "$PKG_BUILD/roots/debcache" -maxdepth 1 -name "${id//:/%3a}_*.deb" | head -n 1)
		[ -n "$f" ] || die "no $id .deb in $PKG_BUILD/roots/debcache" \
			"mmdebstrap put the root's packages there, this one is gone" \
			"remove $rootdir to rebuild the cached root"
		hdr_debs+=("$f")
	done
	mkdir -p "$root/var/cache/xpmem-debs/headers"
	cp -- "${hdr_debs[@]}" "$root/var/cache/xpmem-debs/headers/"
	log=$work/install-headers.log
	set +e
	in_root "$root" /bin/sh -c 'apt-get install -y -q --no-install-recommends /var/cache/xpmem-debs/headers/*.deb' >"$log" 2>&1
	rc=$?
	set -e
	if [ $rc -eq 0 ]; then
		ok "no headers: installing linux-headers-$krel afterwards succeeds"
	else
		not_ok "no headers: installing linux-headers-$krel afterwards succeeds" "exit status $rc; log: $log"
		tail -n 20 "$log" | sed 's/^/    | /'
	fi
	dkms_installed() {
		ls "$root/lib/modules/$krel/updates/dkms/"xpmem.ko* || return 1
		in_root "$root" dkms status -m xpmem | grep -E "^xpmem/$version, $krel, [^:]*: installed"
	}
	expect_ok "no headers: the headers' install built and installed xpmem.ko by itself (DKMS hook)" \
		dkms_installed
	if [ "$keep" -eq 0 ] && [ ${#failures[@]} -eq 0 ]; then
		rm -rf -- "$root"
	fi
fi

# ---- summary ----------------------------------------------------------------------

phase "summary"
if [ ${#failures[@]} -gt 0 ]; then
	printf 'failed:\n'
	printf '  - %s\n' "${failures[@]}"
fi
printf 'package-check: took %s; logs under %s/check\n' "$(elapsed)" "$PKG_BUILD"
# The closing line, alone: what CI reads.
printf 'package-check: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
