#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of make mpi-check: build everything the MPI tests need under
# build/mpi/, from Debian's own source packages (apt-get source), against OUR
# libxpmem installed into build/mpi/prefix. Nothing third-party is kept in
# the repository; each step is cached and redone only when its inputs change.
#
#   prefix/            libxpmem (make install PREFIX=...), with xpmem.pc and
#                      cray-xpmem.pc in prefix/lib/pkgconfig
#   src/               apt-get source ucx, openmpi, mpich (unpacked)
#   ucx/               UCX 1.13.1 rebuilt --with-xpmem (ucs, ucm, uct with the
#                      xpmem and cma modules, ucp, ucx_info); MPICH (ch4:ucx)
#                      and Open MPI (pml ucx) use it via LD_LIBRARY_PATH
#   ompi-mca/          Open MPI 4.1's btl/vader built with xpmem, a drop-in
#                      mca_btl_vader.so for Debian's Open MPI
#   {mpich,openmpi}/   our test programs and MPICH's test/mpi pt2pt suite,
#                      built with each MPI's compiler wrapper
#
# Usage: build.sh [ucx|vader|programs|suite|base|all]   (default: all; base
# is all but MPICH's suite, whose configure is the slow part). Needs root
# once for test/vm/setup_host.sh mpi (packages and the deb-src entry).

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
B=$ROOT/build/mpi
PREFIX=$B/prefix
PROG="mpi-tests/build.sh"
NICE=(nice -n 10)
JOBS=${MPI_BUILD_JOBS:-2}

UCX_VERSION=1.13.1
OMPI_VERSION=4.1.4
MPICH_VERSION=4.0.2

die() {
	printf '%s: error: %s\n' "$PROG" "$1" >&2
	[ -n "${2:-}" ] && printf '%s:   why: %s\n' "$PROG" "$2" >&2
	[ -n "${3:-}" ] && printf '%s:   fix: %s\n' "$PROG" "$3" >&2
	exit 1
}

info() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

# stamp_ok NAME KEY: true if step NAME was last done with inputs KEY.
stamp_ok() {
	[ -f "$B/stamps/$1" ] && [ "$(cat "$B/stamps/$1")" = "$2" ]
}

stamp_set() {
	mkdir -p "$B/stamps"
	printf '%s\n' "$2" >"$B/stamps/$1"
}

# Run a long step with its output in a log; show the tail if it fails.
logged() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "'$*' failed" "see the output above and the whole log in $log" \
			"fix the cause and re-run make mpi-check"
	fi
}

# ---- our library -----------------------------------------------------------------

# Installed into build/mpi/prefix; built in its own directory (B=) so that
# the .pc files (which carry PREFIX) do not clash with build/lib.
install_lib() {
	logged "$B/lib-install.log" make -C "$ROOT" --no-print-directory \
		B="$B/xpmem-build" PREFIX="$PREFIX" install
	[ -f "$PREFIX/lib/pkgconfig/cray-xpmem.pc" ] ||
		die "make install did not produce $PREFIX/lib/pkgconfig/cray-xpmem.pc" \
			"the top-level install target changed" "check make install"
}

# ---- Debian sources ----------------------------------------------------------------

# fetch_source PKG VERSION: apt-get source into build/mpi/src/PKG-VERSION.
fetch_source() {
	local pkg=$1 ver=$2 dir=$B/src/$1-$2 dsc=() all
	[ -f "$dir/.unpacked" ] && return 0
	mkdir -p "$B/src"
	shopt -s nullglob
	dsc=("$B/src/${pkg}_${ver}"-*.dsc)
	if [ ${#dsc[@]} -eq 0 ]; then
		info "apt-get source $pkg ($ver)"
		(cd "$B/src" && apt-get source --download-only -q "$pkg" >"$B/src/$pkg.fetch.log" 2>&1) ||
			die "apt-get source $pkg failed (see $B/src/$pkg.fetch.log)" \
				"apt has no deb-src entry for this Debian release, or no network" \
				"run (as root): bash test/vm/setup_host.sh mpi"
	fi
	dsc=("$B/src/${pkg}_${ver}"-*.dsc)
	all=("$B/src/${pkg}_"*.dsc)
	shopt -u nullglob
	[ ${#dsc[@]} -gt 0 ] ||
		die "apt-get source $pkg did not give version $ver" \
			"the archive has another version of $pkg (${all[*]##*/})" \
			"update $PROG to the archive's version"
	rm -rf "$dir"
	logged "$B/src/$pkg.unpack.log" dpkg-source --no-check -x "${dsc[0]}" "$dir"
	: >"$dir/.unpacked"
}

# ---- UCX --------------------------------------------------------------------------

UCX_CONFIGURE=(
	--disable-static --enable-mt --enable-cma --disable-logging
	--disable-debug --disable-assertions --disable-params-check
	--disable-doxygen-doc --disable-backtrace-detail
	--without-verbs --without-rdmacm --without-knem --without-cuda
	--without-rocm --without-java --without-go --without-ugni
	--without-fuse3 --without-gdrcopy --without-mad --without-ze
)
# Only what the MPIs load (and ucx_info to show the transports).
UCX_DIRS=(src/ucm src/ucs src/uct src/ucp src/tools/info)

build_ucx() {
	local src=$B/src/ucx-$UCX_VERSION key
	fetch_source ucx "$UCX_VERSION"
	key="$UCX_VERSION ${UCX_CONFIGURE[*]} ${UCX_DIRS[*]} $(sha256sum <"$ROOT/include/xpmem.h")"
	if stamp_ok ucx "$key" && [ -x "$B/ucx/bin/ucx_info" ]; then
		return 0
	fi
	info "building UCX $UCX_VERSION with xpmem (a few minutes; log in $B/ucx-build.log)"
	rm -rf "$B/ucx" "$B/ucx-obj"
	mkdir -p "$B/ucx-obj"
	{
		[ -x "$src/configure" ] || (cd "$src" && "${NICE[@]}" ./autogen.sh)
		cd "$B/ucx-obj"
		"${NICE[@]}" "$src/configure" --prefix="$B/ucx" \
			--with-xpmem="$PREFIX" "${UCX_CONFIGURE[@]}"
		grep -q 'xpmem' "$B/ucx-obj/config.log" || exit 1
		for d in "${UCX_DIRS[@]}"; do
			"${NICE[@]}" make -C "$d" -j"$JOBS" install
		done
	} >"$B/ucx-build.log" 2>&1 || {
		tail -n 40 "$B/ucx-build.log" >&2
		die "the UCX build failed" "see the output above and $B/ucx-build.log" \
			"fix the cause and re-run make mpi-check"
	}
	[ -f "$B/ucx/lib/ucx/libuct_xpmem.so.0" ] ||
		die "UCX was built without its xpmem module" \
			"configure did not find libxpmem in $PREFIX (see 'xpmem' in $B/ucx-obj/config.log)" \
			"check that make install put xpmem.h and libxpmem.so (exporting xpmem_init) there"
	stamp_set ucx "$key"
}

# ---- Open MPI 4.1 btl/vader with xpmem ------------------------------------------

# Debian's Open MPI has vader without xpmem (cma only). Its 11 sources
# are compiled against Debian's installed Open MPI headers, with a copy of
# opal_config.h that turns xpmem on; the result is a drop-in
# mca_btl_vader.so that the system Open MPI loads when ompi-mca/ is first in
# mca_base_component_path (the first directory wins for a duplicate
# component). No Open MPI configure or rebuild.
OMPI_INC=/usr/lib/x86_64-linux-gnu/openmpi/include/openmpi
OMPI_LIB=/usr/lib/x86_64-linux-gnu/openmpi/lib
PMIX_INC=/usr/lib/x86_64-linux-gnu/pmix2/include

build_vader() {
	local src=$B/src/openmpi-$OMPI_VERSION/opal/mca/btl/vader out=$B/ompi-mca
	local obj=$B/ompi-vader-obj key f objs=()
	[ -f "$OMPI_INC/opal_config.h" ] ||
		die "Open MPI's development headers are missing ($OMPI_INC/opal_config.h)" \
			"package libopenmpi-dev is not installed" "run (as root): bash test/vm/setup_host.sh mpi"
	fetch_source openmpi "$OMPI_VERSION"
	key="$OMPI_VERSION $(sha256sum <"$OMPI_INC/opal_config.h") $(cat "$ROOT/include/xpmem.h" "$PREFIX/lib/libxpmem.so" | sha256sum)"
	if stamp_ok vader "$key" && [ -f "$out/mca_btl_vader.so" ]; then
		return 0
	fi
	info "building Open MPI $OMPI_VERSION btl/vader with xpmem"
	rm -rf "$obj" "$out"
	mkdir -p "$obj/inc/opal/include/opal" "$out"
	sed -e 's|^#define OPAL_BTL_VADER_HAVE_XPMEM 0|#define OPAL_BTL_VADER_HAVE_XPMEM 1|' \
		-e 's|^/\* #undef HAVE_XPMEM_H \*/|#define HAVE_XPMEM_H 1|' \
		"$OMPI_INC/opal_config.h" >"$obj/inc/opal_config.h"
	if ! grep -q '^#define OPAL_BTL_VADER_HAVE_XPMEM 1' "$obj/inc/opal_config.h" ||
		! grep -q '^#define HAVE_XPMEM_H 1' "$obj/inc/opal_config.h"; then
		die "cannot turn xpmem on in a copy of $OMPI_INC/opal_config.h" \
			"it has no OPAL_BTL_VADER_HAVE_XPMEM 0 / HAVE_XPMEM_H lines (another Open MPI version?)" \
			"this step supports Debian's Open MPI $OMPI_VERSION"
	fi
	cp "$OMPI_INC/opal/align.h" "$obj/inc/opal/include/opal/align.h"
	for f in module component frag send sendi get put xpmem knem sc_emu atomic; do
		"${NICE[@]}" gcc -O2 -g -fPIC -mcx16 -DNDEBUG -pthread -w -c \
			-I"$obj/inc" -I"$src" -I"$OMPI_INC" -I"$PMIX_INC" -I"$PREFIX/include" \
			"$src/btl_vader_$f.c" -o "$obj/btl_vader_$f.o" 2>>"$obj/build.log" || {
			tail -n 30 "$obj/build.log" >&2
			die "compiling btl_vader_$f.c failed" "see $obj/build.log" \
				"check that Debian's libopenmpi-dev and openmpi $OMPI_VERSION sources match"
		}
		objs+=("$obj/btl_vader_$f.o")
	done
	gcc -shared -o "$out/mca_btl_vader.so" "${objs[@]}" -L"$OMPI_LIB" -lopen-pal \
		-L"$PREFIX/lib" -lxpmem -Wl,-z,defs -lpthread 2>>"$obj/build.log" || {
		tail -n 30 "$obj/build.log" >&2
		die "linking mca_btl_vader.so failed" "see $obj/build.log" "check libopenmpi-dev"
	}
	stamp_set vader "$key"
}

# ---- test programs ----------------------------------------------------------------

# mpicc and mpiexec of each Debian MPI (not the mpicc alternative, which
# points at one of them).
mpi_cc() {
	case $1 in
	mpich) echo mpicc.mpich ;;
	openmpi) echo mpicc.openmpi ;;
	esac
}

# Our programs, for one MPI, into build/mpi/MPI/.
build_programs() {
	local mpi=$1 cc p
	cc=$(mpi_cc "$mpi")
	command -v "$cc" >/dev/null ||
		die "$cc not found" "Debian's $mpi development package is not installed" \
			"run (as root): bash test/vm/setup_host.sh mpi"
	mkdir -p "$B/$mpi"
	for p in p2p_conformance pingpong; do
		if [ ! -x "$B/$mpi/$p" ] || [ "$HERE/$p.c" -nt "$B/$mpi/$p" ]; then
			"$cc" -O2 -g -Wall -Wextra -Werror "$HERE/$p.c" -o "$B/$mpi/$p" ||
				die "compiling mpi-tests/$p.c with $cc failed" \
					"see the compiler messages above" "fix the program"
		fi
	done
}

# MPICH's test/mpi suite (from apt-get source mpich), configured for one
# MPI; only the pt2pt directory (and the util and dtpools libraries it
# links) is built. Configure is slow (it generates every directory's test
# list), so it is cached too.
build_suite() {
	local mpi=$1 src=$B/src/mpich-$MPICH_VERSION/test/mpi dir=$B/$1/testsuite key cc exe
	fetch_source mpich "$MPICH_VERSION"
	cc=$(mpi_cc "$mpi")
	exe=mpiexec.$mpi
	[ "$mpi" = openmpi ] && exe=mpirun.openmpi
	key="$MPICH_VERSION $mpi $(dpkg-query -W -f='${Version}' "lib$mpi-dev" 2>/dev/null)"
	if stamp_ok "suite-$mpi" "$key" && [ -x "$dir/pt2pt/sendrecv1" ]; then
		return 0
	fi
	info "building MPICH's test/mpi pt2pt suite for $mpi (configure takes minutes; log in $dir/build.log)"
	rm -rf "$dir"
	mkdir -p "$dir"
	# Open MPI 4.1's mpi.h hides the MPI-1 calls removed in MPI-3 (dtpools
	# uses MPI_Type_hindexed); its library still has them.
	local cppflags=
	[ "$mpi" = openmpi ] && cppflags=-DOMPI_OMIT_MPI1_COMPAT_DECLS=0
	(
		cd "$dir"
		"${NICE[@]}" "$src/configure" CC="$cc" MPICC="$cc" MPIEXEC="$exe" \
			CPPFLAGS="$cppflags" \
			--with-mpi=/usr --disable-fortran --disable-cxx --disable-romio \
			--disable-spawn --disable-rma --disable-part --disable-ft-tests \
			--disable-perftest --disable-checkerrors
		"${NICE[@]}" make -C util -j"$JOBS"
		"${NICE[@]}" make -C dtpools -j"$JOBS"
		# -k and no status: a few tests use MPI-4.0 calls that Open MPI
		# 4.1 lacks and do not link (mpi-tests/known_failures).
		"${NICE[@]}" make -C pt2pt -j"$JOBS" -k || true
		[ -x pt2pt/sendrecv1 ]
	) >"$dir/build.log" 2>&1 || {
		tail -n 30 "$dir/build.log" >&2
		die "building MPICH's pt2pt tests for $mpi failed" "see $dir/build.log" \
			"fix the cause and re-run make mpi-check"
	}
	stamp_set "suite-$mpi" "$key"
}

# ---- main -------------------------------------------------------------------------

what=${1:-all}
mkdir -p "$B"
install_lib
case $what in
ucx) build_ucx ;;
vader) build_vader ;;
programs)
	for m in mpich openmpi; do
		build_programs "$m"
	done
	;;
suite)
	for m in mpich openmpi; do
		build_suite "$m"
	done
	;;
base | all)
	build_ucx
	build_vader
	for m in mpich openmpi; do
		build_programs "$m"
		if [ "$what" = all ]; then
			build_suite "$m"
		fi
	done
	;;
*) die "unknown step '$what'" "steps: ucx, vader, programs, suite, base, all" "e.g. bash $PROG all" ;;
esac
