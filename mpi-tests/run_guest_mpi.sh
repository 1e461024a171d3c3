#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of make mpi-check (mpi-tests/mpi_check.sh boots the guest):
# runs Debian's MPICH and Open MPI over xpmem with what mpi-tests/build.sh
# built under build/mpi/, as root in a throw-away test guest:
#
#   1. fallback    module NOT loaded: libxpmem fails cleanly, UCX drops its
#                  xpmem transport and vader falls back to CMA; all three
#                  paths still pass p2p_conformance --quick
#   2. conformance module loaded: p2p_conformance (8 ranks) over
#                  MPICH -> UCX -> xpmem, Open MPI vader (single copy
#                  xpmem) and Open MPI -> pml ucx -> xpmem, with the
#                  module's counters proving xpmem carried it, and the same
#                  over CMA with the counters flat
#   3. suite       MPICH's test/mpi pt2pt suite over both MPIs (xpmem)
#   4. pingpong    1 KiB .. 64 MiB, xpmem vs CMA vs the stock Debian stack,
#                  for each MPI, as ratios
#
#   run_guest_mpi.sh MODULE_KO [STEP...]   STEP: fallback conformance suite
#                                          pingpong (default: all)
# Environment: MPI_CHECK_NP (ranks, default 8), MPI_SUITE_MPIS (default
# "mpich openmpi"), MPI_SUITE_TIMEOUT (per suite test, s, default 180).
# Results go to $XPMEM_VM_OUT/mpi (or /tmp/xpmem-mpi): one log per run,
# suite-*.tap, pingpong.txt and summary.txt. Exit 0 only if nothing failed.

set -u

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$HERE")
B=$ROOT/build/mpi
OUT=${XPMEM_VM_OUT:-/tmp/xpmem-mpi}/mpi
STATS=/sys/kernel/debug/xpmem/stats
SAMPLE=${TMPDIR:-/tmp}/xpmem-mpi-sample.$$
NP=${MPI_CHECK_NP:-8}
OMPI_MCA_DIR=/usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3
KNOWN=$HERE/known_failures
export PATH=$PATH:/usr/sbin:/sbin

passed=0
failed=0

pass() {
	passed=$((passed + 1))
	echo "PASS  $*" | tee -a "$OUT/summary.txt"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL  $*" | tee -a "$OUT/summary.txt"
}

note() {
	echo "      $*" | tee -a "$OUT/summary.txt"
}

usage() {
	echo "usage: $0 MODULE_KO [fallback|conformance|suite|pingpong ...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
KO=$1
shift
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(fallback conformance suite pingpong)
[ -f "$KO" ] || { echo "$0: module $KO not found (run make module)" >&2; exit 2; }
for f in "$B/ucx/lib/libucp.so.0" "$B/ompi-mca/mca_btl_vader.so" \
	"$B/mpich/p2p_conformance" "$B/openmpi/p2p_conformance"; do
	[ -e "$f" ] || { echo "$0: $f missing: run bash mpi-tests/build.sh first" >&2; exit 2; }
done
mkdir -p "$OUT" || exit 2
: >"$OUT/summary.txt"

# ---- transport configurations ------------------------------------------------
#
# cfg_env NAME: the environment (VAR=value words) of one configuration.
#   mpich-xpmem    Debian's MPICH on our UCX, default transports (xpmem wins)
#   mpich-cma      the same, UCX_TLS without xpmem (sysv/posix FIFOs + CMA)
#   mpich-stock    Debian's MPICH on Debian's own UCX (no xpmem in it)
#   openmpi-xpmem  Debian's Open MPI, ob1 + our vader, single copy = xpmem
#   openmpi-ucx    Debian's Open MPI, pml ucx on our UCX (xpmem wins);
#                  Open MPI 4.1 only picks pml ucx by itself where there is
#                  an InfiniBand/GPU transport (pml_ucx_tls, pml_ucx_devices),
#                  so both are set to "any"
#   openmpi-cma    the same, single copy = CMA
#   openmpi-stock  Debian's Open MPI with Debian's own vader (CMA)
cfg_env() {
	local ompi=(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
		OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_pml=ob1
		"OMPI_MCA_btl=self,vader")
	case $1 in
	mpich-xpmem) echo "LD_LIBRARY_PATH=$B/ucx/lib:$B/prefix/lib" ;;
	mpich-cma) echo "LD_LIBRARY_PATH=$B/ucx/lib:$B/prefix/lib UCX_TLS=self,sysv,posix,cma" ;;
	mpich-stock) echo "MPI_CHECK_STOCK=1" ;;
	openmpi-xpmem)
		echo "${ompi[*]} LD_LIBRARY_PATH=$B/prefix/lib" \
			"OMPI_MCA_mca_base_component_path=$B/ompi-mca:$OMPI_MCA_DIR" \
			"OMPI_MCA_btl_vader_single_copy_mechanism=xpmem"
		;;
	openmpi-cma)
		echo "${ompi[*]} LD_LIBRARY_PATH=$B/prefix/lib" \
			"OMPI_MCA_mca_base_component_path=$B/ompi-mca:$OMPI_MCA_DIR" \
			"OMPI_MCA_btl_vader_single_copy_mechanism=cma"
		;;
	openmpi-ucx)
		echo "${ompi[*]/OMPI_MCA_pml=ob1/OMPI_MCA_pml=ucx}" \
			"OMPI_MCA_pml_ucx_tls=any OMPI_MCA_pml_ucx_devices=any" \
			"LD_LIBRARY_PATH=$B/ucx/lib:$B/prefix/lib"
		;;
	openmpi-stock) echo "${ompi[*]}" ;;
	esac
}

launcher() {
	case $1 in
	mpich-*) echo mpiexec.mpich ;;
	openmpi-*) echo mpirun.openmpi ;;
	esac
}

# run_mpi CFG LOG LIMIT NP PROGRAM [ARG...]: run under CFG, output to LOG.
run_mpi() {
	local cfg=$1 log=$2 limit=$3 np=$4 env
	shift 4
	read -r -a env <<<"$(cfg_env "$cfg")"
	env "${env[@]}" timeout -k 10 "$limit" "$(launcher "$cfg")" -n "$np" "$@" >"$log" 2>&1
}

# ---- module counters -----------------------------------------------------------

stat_get() {
	awk -v k="$1" '$1 == k { print $2 }' "$STATS" 2>/dev/null
}

# While a run goes on, keep the highest number of live segments and
# attachments (they drop back to 0 when the ranks exit).
sampler_start() {
	(
		ms=0 ma=0
		while :; do
			s=$(stat_get segments) a=$(stat_get attachments)
			[ "${s:-0}" -gt "$ms" ] && ms=$s
			[ "${a:-0}" -gt "$ma" ] && ma=$a
			# Atomic: the reader must never see a half-written file.
			echo "$ms $ma" >"$SAMPLE.new"
			mv -f "$SAMPLE.new" "$SAMPLE"
			sleep 0.2
		done
	) &
	sampler=$!
}

sampler_stop() {
	kill "$sampler" 2>/dev/null
	wait "$sampler" 2>/dev/null
}

# counted CFG EXPECT NAME LIMIT NP PROGRAM [ARG...]: run and check the
# counters: EXPECT=rise (xpmem must have carried traffic) or flat (no
# xpmem use at all).
counted() {
	local cfg=$1 expect=$2 name=$3 limit=$4 np=$5 f0 p0 df dp ms ma rc log
	shift 5
	log=$OUT/$name.log
	f0=$(stat_get faults) p0=$(stat_get fault_pages)
	echo "0 0" >"$SAMPLE"
	sampler_start
	run_mpi "$cfg" "$log" "$limit" "$np" "$@"
	rc=$?
	sampler_stop
	df=$(($(stat_get faults) - f0)) dp=$(($(stat_get fault_pages) - p0))
	read -r ms ma <"$SAMPLE"
	ms=${ms:-0} ma=${ma:-0}
	if [ "$rc" -eq 0 ]; then
		pass "$name: exit 0 ($(grep -c '^PASS' "$log") checks passed)"
	else
		fail "$name: exit $rc$([ "$rc" -eq 124 ] && echo ' (timeout)'), see $log"
		grep '^FAIL' "$log" | head -n 5 | while read -r l; do note "$l"; done
		tail -n 5 "$log" | while read -r l; do note "$l"; done
	fi
	local what="faults +$df, fault_pages +$dp, live segments up to $ms, attachments up to $ma"
	if [ "$expect" = rise ]; then
		if [ "$df" -gt 0 ] && [ "$ms" -gt 0 ] && [ "$ma" -gt 0 ]; then
			pass "$name: xpmem carried the traffic ($what)"
		else
			fail "$name: xpmem counters did not rise ($what)"
		fi
	else
		if [ "$df" -eq 0 ] && [ "$ms" -eq 0 ] && [ "$ma" -eq 0 ]; then
			pass "$name: xpmem not used, counters flat ($what)"
		else
			fail "$name: xpmem counters moved without xpmem ($what)"
		fi
	fi
}

load_module() {
	[ -e /sys/module/xpmem ] && return 0
	insmod "$KO" || { fail "insmod $KO"; return 1; }
	[ -c /dev/xpmem ] || { fail "no /dev/xpmem after insmod"; return 1; }
	[ -r "$STATS" ] || { fail "no $STATS (debugfs not mounted?)"; return 1; }
}

unload_module() {
	[ -e /sys/module/xpmem ] || return 0
	rmmod xpmem || fail "rmmod xpmem"
}

# ---- 1. fallback: module not loaded ---------------------------------------------

step_fallback() {
	local log
	echo "== fallback: module not loaded" | tee -a "$OUT/summary.txt"
	unload_module
	if [ -e /dev/xpmem ]; then
		fail "fallback: /dev/xpmem exists without the module"
		return
	fi
	log=$OUT/fallback-ucx_info.log
	LD_LIBRARY_PATH=$B/ucx/lib:$B/prefix/lib "$B/ucx/bin/ucx_info" -d >"$log" 2>&1
	if grep -q 'Transport: xpmem' "$log"; then
		fail "fallback: ucx_info -d lists xpmem without the module"
	elif grep -q 'Transport: cma' "$log"; then
		pass "fallback: UCX drops xpmem cleanly (ucx_info -d: no xpmem, cma present)"
	else
		fail "fallback: ucx_info -d failed, see $log"
	fi
	log=$OUT/fallback-mpich.log
	if run_mpi mpich-xpmem "$log" 600 4 "$B/mpich/p2p_conformance" --quick; then
		pass "fallback: MPICH -> UCX without the module: p2p_conformance --quick passes"
	else
		fail "fallback: MPICH -> UCX without the module, see $log"
	fi
	log=$OUT/fallback-openmpi-ucx.log
	if run_mpi openmpi-ucx "$log" 600 4 "$B/openmpi/p2p_conformance" --quick; then
		pass "fallback: Open MPI -> pml ucx without the module: p2p_conformance --quick passes"
	else
		fail "fallback: Open MPI -> pml ucx without the module, see $log"
	fi
	log=$OUT/fallback-openmpi.log
	if run_mpi openmpi-xpmem "$log" 600 4 "$B/openmpi/p2p_conformance" --quick; then
		if grep -q 'Could not generate an xpmem segment id' "$log"; then
			pass "fallback: Open MPI vader asked for xpmem falls back to CMA (warning printed) and passes"
		else
			fail "fallback: Open MPI passed but printed no xpmem warning (did it load our vader?), see $log"
		fi
	else
		fail "fallback: Open MPI vader without the module, see $log"
	fi
}

# ---- 2. conformance with counters -------------------------------------------------

step_conformance() {
	local log
	echo "== conformance: p2p_conformance, $NP ranks, module loaded" | tee -a "$OUT/summary.txt"
	load_module || return
	log=$OUT/ucx_info.log
	LD_LIBRARY_PATH=$B/ucx/lib:$B/prefix/lib "$B/ucx/bin/ucx_info" -d >"$log" 2>&1
	if grep -q 'Transport: xpmem' "$log"; then
		pass "ucx_info -d lists the xpmem transport"
	else
		fail "ucx_info -d has no xpmem transport with the module loaded, see $log"
	fi
	# Which lanes UCX picked (UCX_LOG_LEVEL=info prints them per endpoint).
	log=$OUT/ucx-lanes.log
	env UCX_LOG_LEVEL=info LD_LIBRARY_PATH="$B/ucx/lib:$B/prefix/lib" \
		timeout 300 mpiexec.mpich -n 2 "$B/mpich/pingpong" 4096 >"$log" 2>&1
	if grep -q 'ep_cfg.*tag(xpmem/memory' "$log"; then
		pass "MPICH -> UCX picks xpmem for the tag lanes: $(grep -o 'tag([^)]*)' "$log" | head -n 1)"
	else
		fail "MPICH -> UCX did not pick xpmem for tag matching, see $log"
	fi
	counted mpich-xpmem rise conformance-mpich-xpmem 1500 "$NP" "$B/mpich/p2p_conformance"
	counted openmpi-xpmem rise conformance-openmpi-xpmem 1500 "$NP" "$B/openmpi/p2p_conformance"
	counted openmpi-ucx rise conformance-openmpi-ucx 1500 "$NP" "$B/openmpi/p2p_conformance"
	counted mpich-cma flat conformance-mpich-cma 1500 "$NP" "$B/mpich/p2p_conformance" --quick
	counted openmpi-cma flat conformance-openmpi-cma 1500 "$NP" "$B/openmpi/p2p_conformance" --quick
}

# ---- 3. MPICH test suite, pt2pt -----------------------------------------------------

# known_reason MPI TEST: the reason TEST is known to fail under MPI, or
# nothing. mpi-tests/known_failures: "MPI TEST reason...", # comments.
known_reason() {
	[ -f "$KNOWN" ] || return 0
	awk -v m="$1" -v t="$2" '$1 !~ /^#/ && ($1 == m || $1 == "*") && $2 == t {
		$1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$KNOWN"
}

step_suite() {
	local mpi cfg dir tap env line name ok=0 bad=0 xf=0
	echo "== suite: MPICH test/mpi pt2pt" | tee -a "$OUT/summary.txt"
	load_module || return
	for mpi in ${MPI_SUITE_MPIS:-mpich openmpi}; do
		cfg=$mpi-xpmem ok=0 bad=0 xf=0
		# runtests writes next to the programs: run a tmpfs copy.
		dir=/tmp/suite-$mpi
		rm -rf "$dir"
		mkdir -p "$dir"
		cp -a "$B/$mpi/testsuite/pt2pt" "$B/$mpi/testsuite/runtests" "$dir/" || {
			fail "suite-$mpi: cannot copy the suite (build it with mpi-tests/build.sh)"
			continue
		}
		# runtests runs "make PROGRAM" before each test; the programs
		# are prebuilt on the host, so make only checks they exist.
		printf '%%:\n\t@test -x $@\n' >"$dir/pt2pt/Makefile"
		tap=$OUT/suite-$mpi.tap
		read -r -a env <<<"$(cfg_env "$cfg")"
		(
			cd "$dir/pt2pt" || exit 1
			env "${env[@]}" MPITEST_CLEANUP=0 MPITEST_MEMORY_TOTAL=2 \
				MPITEST_TIMEOUT="${MPI_SUITE_TIMEOUT:-180}" \
				perl ../runtests -srcdir=. -tests=testlist -maxnp="$NP" \
				-mpiexec="$(launcher "$cfg")" -tapfile="$tap"
		) >"$OUT/suite-$mpi.log" 2>&1
		while IFS= read -r line; do
			name=${line#*ok }
			name=${name#* - }
			name=${name%% *}
			local t=${name##*/} reason
			case $line in
			"ok "*"# SKIP"*)
				# MPICH marks tests it knows to fail (xfail=ticket)
				# and runtests skips them; so do big-memory ones.
				xf=$((xf + 1))
				note "suite-$mpi: $t not run (MPICH's testlist: ${line##*# SKIP })"
				;;
			"ok "*)
				ok=$((ok + 1))
				;;
			"not ok "*)
				reason=$(known_reason "$mpi" "$t")
				case $line in
				*"# TODO "*) reason=${reason:-MPICH marks it xfail: ${line##*# TODO }} ;;
				esac
				if [ -n "$reason" ]; then
					xf=$((xf + 1))
					note "suite-$mpi: $t fails as known: $reason"
				else
					bad=$((bad + 1))
					fail "suite-$mpi: $line"
				fi
				;;
			esac
		done <"$tap"
		echo "suite-$mpi: $ok passed, $bad failed, $xf known failures or not run (per test: $tap)" >>"$OUT/summary.txt"
		if [ $((ok + bad + xf)) -eq 0 ]; then
			fail "suite-$mpi: no results, see $OUT/suite-$mpi.log"
		elif [ "$bad" -eq 0 ]; then
			pass "suite-$mpi over xpmem: $ok tests passed, $xf known failures or not run"
		fi
	done
}

# ---- 4. ping-pong ------------------------------------------------------------------

step_pingpong() {
	local mpi cfg
	echo "== pingpong: 1 KiB .. 64 MiB, one-way time and bandwidth" | tee -a "$OUT/summary.txt"
	load_module || return
	for mpi in mpich openmpi; do
		for cfg in xpmem cma stock; do
			if run_mpi "$mpi-$cfg" "$OUT/pingpong-$mpi-$cfg.log" 900 2 \
				"$B/$mpi/pingpong"; then
				pass "pingpong $mpi-$cfg"
			else
				fail "pingpong $mpi-$cfg, see $OUT/pingpong-$mpi-$cfg.log"
			fi
		done
	done
	# One table per MPI: MB/s per transport and the ratios.
	for mpi in mpich openmpi; do
		echo
		echo "$mpi: bandwidth MB/s (one-way, ping-pong) and ratios"
		printf '%10s %10s %10s %10s %12s %14s\n' size xpmem cma stock xpmem/cma xpmem/stock
		awk '
			FNR == 1 { n++ }
			$1 == "PP" { bw[n, $2] = $4; if (n == 1) sizes[++ns] = $2 }
			END {
				for (i = 1; i <= ns; i++) {
					s = sizes[i]
					x = bw[1, s]; c = bw[2, s]; d = bw[3, s]
					label = s >= 1048576 ? (s / 1048576) " MiB" : (s / 1024) " KiB"
					printf "%10s %10.1f %10.1f %10.1f %12s %14s\n", label, x, c, d,
						(c > 0 ? sprintf("%.2f", x / c) : "-"),
						(d > 0 ? sprintf("%.2f", x / d) : "-")
				}
			}' "$OUT/pingpong-$mpi-xpmem.log" "$OUT/pingpong-$mpi-cma.log" \
			"$OUT/pingpong-$mpi-stock.log"
	done | tee "$OUT/pingpong.txt"
}

for s in "${STEPS[@]}"; do
	case $s in
	fallback) step_fallback ;;
	conformance) step_conformance ;;
	suite) step_suite ;;
	pingpong) step_pingpong ;;
	*) usage ;;
	esac
done
unload_module
echo
echo "mpi-check on $(uname -r): $passed passed, $failed failed" | tee -a "$OUT/summary.txt"
[ "$failed" -eq 0 ]
