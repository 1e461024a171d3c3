#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh [KREL...] - the static checks every change must pass:
#  - checkpatch.pl --strict on kernel/ and the uapi header (checkpatch comes
#    from Debian's linux-source-6.1 tarball, extracted into build/tools);
#  - the module built with W=1 and sparse (C=2) against each kernel release
#    given (default: every build/kernel/* tree), with no warning at all;
#  - shellcheck on every shell script in the repository.
# Exits non-zero and names the offending lines when a check fails.
set -euo pipefail

top=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
tools=$top/build/tools
fail=0

tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort -V | tail -n 1)
if [ -z "$tarball" ]; then
	echo "lint.sh: no /usr/src/linux-source-*.tar.xz; run 'make setup' (it installs linux-source-6.1)." >&2
	exit 1
fi
if [ ! -x "$tools/scripts/checkpatch.pl" ]; then
	mkdir -p "$tools"
	tar -xf "$tarball" -C "$tools" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi

echo "lint: checkpatch --strict"
if ! (cd "$top" && perl "$tools/scripts/checkpatch.pl" --strict --no-tree -q \
	--show-types -f kernel/*.c kernel/*.h kernel/probes/*.c \
	include/uapi/xpmem_ioctl.h); then
	fail=1
fi

if [ $# -eq 0 ]; then
	set --
	for d in "$top"/build/kernel/*/; do
		[ -f "$d/xpmem_config.h" ] && set -- "$@" "$(basename "$d")"
	done
fi
for krel in "$@"; do
	echo "lint: W=1 + sparse against $krel"
	out=$top/build/kernel/$krel
	log=$(make -C "/lib/modules/$krel/build" M="$out" \
		XPMEM_UAPI="$top/include/uapi" \
		XPMEM_VERSION="$(cat "$top/VERSION")" W=1 C=2 modules 2>&1) || {
		echo "$log"
		fail=1
		continue
	}
	if grep -E 'warning:|error:' <<<"$log"; then
		fail=1
	fi
done

echo "lint: shellcheck"
mapfile -t scripts < <(cd "$top" && git ls-files -co --exclude-standard \
	'*.sh' .ci/run | sort -u)
if [ ${#scripts[@]} -gt 0 ] && ! (cd "$top" && shellcheck -x -P SCRIPTDIR "${scripts[@]}"); then
	fail=1
fi

if [ $fail -ne 0 ]; then
	echo "lint: FAILED (see above)" >&2
	exit 1
fi
echo "lint: all checks passed"
