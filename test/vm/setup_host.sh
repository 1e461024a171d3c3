#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything the xpmem build and the QEMU test guests need on a
# Debian 12 (bookworm) host: compiler, QEMU, busybox, initramfs tools and the
# Debian kernel images + headers the guests boot (6.1 and/or 6.12).
# For 6.12 it adds a <codename>-backports apt source (deb and deb-src), derived
# from the machine's own Debian archive entry, unless one is already there.
# Idempotent: when everything is installed it touches nothing and takes about
# a second. Prints one line per requested kernel: its resolved release.

set -euo pipefail
# shellcheck source=vm_common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/vm_common.sh"

BACKPORTS_FILE=/etc/apt/sources.list.d/xpmem-backports.sources
DEB_SRC_FILE=/etc/apt/sources.list.d/xpmem-deb-src.sources
export DEBIAN_FRONTEND=noninteractive

usage() {
	cat >&2 <<EOF
usage: $VM_PROG [6.1|6.12|all|debug|mpi|packaging]   (default: all)
Installs the packages needed to build xpmem and to boot the QEMU test guests
with the Debian 6.1 and/or 6.12 kernel, then prints the kernel release(s).
mpi: instead, installs Debian's Open MPI and MPICH and what mpi-tests/ needs
to rebuild UCX and Open MPI's vader from source, and adds a deb-src entry for
the <codename> suite (derived from the machine's Debian archive entry) so
that apt-get source works.
packaging: instead, installs what packaging/ needs to build the Debian and
RPM packages, lint them and make the guest roots of make package-check
(debhelper, dh-dkms, lintian, rpm, rpmlint, mmdebstrap, ...).
debug: 6.1 plus what building the debug kernel of make check-debug needs.
EOF
	exit 2
}

# All enabled apt source entries, one line each:
#   TYPE <tab> URI <tab> SUITE <tab> COMPONENTS <tab> SIGNED-BY <tab> FILE
# Reads deb822 *.sources files and one-line sources.list / *.list files.
# SIGNED-BY is "-" when absent and "(embedded)" for an inline key block.
# Files given in $1 (a path) are skipped.
list_apt_sources() {
	local skip=$1 f
	local deb822=() oneline=()
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && [ "$f" != "$skip" ] && deb822+=("$f")
	done
	[ -f /etc/apt/sources.list ] && oneline+=(/etc/apt/sources.list)
	for f in /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] && [ "$f" != "$skip" ] && oneline+=("$f")
	done
	if [ ${#deb822[@]} -gt 0 ]; then
		awk '
		function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
		function flush(   nt, nu, ns, i, j, k, T, U, S) {
			if (tolower(enabled) != "no" && types != "" && uris != "" && suites != "") {
				nt = split(types, T, /[ \t]+/)
				nu = split(uris, U, /[ \t]+/)
				ns = split(suites, S, /[ \t]+/)
				for (i = 1; i <= nt; i++)
					for (j = 1; j <= nu; j++)
						for (k = 1; k <= ns; k++)
							printf "%s\t%s\t%s\t%s\t%s\t%s\n", T[i], U[j], S[k], comps, (sb == "" ? "-" : sb), file
			}
			types = uris = suites = comps = sb = enabled = field = ""
		}
		FNR == 1 { flush(); file = FILENAME }
		/^[ \t]*#/ { next }
		/^[ \t\r]*$/ { flush(); next }
		/^[ \t]/ { next }   # continuation line (e.g. an embedded key)
		{
			i = index($0, ":")
			if (i == 0) next
			field = tolower(trim(substr($0, 1, i - 1)))
			value = trim(substr($0, i + 1))
			if (field == "types") types = value
			else if (field == "uris") uris = value
			else if (field == "suites") suites = value
			else if (field == "components") comps = value
			else if (field == "enabled") enabled = value
			else if (field == "signed-by") sb = (value == "" ? "(embedded)" : value)
		}
		END { flush() }
		' "${deb822[@]}"
	fi
	if [ ${#oneline[@]} -gt 0 ]; then
		awk '
		{
			line = $0
			sub(/#.*/, "", line)
			sub(/^[ \t]+/, "", line)
			n = split(line, F, /[ \t]+/)
			if (n < 3 || (F[1] != "deb" && F[1] != "deb-src")) next
			i = 2; opts = ""
			if (F[i] ~ /^\[/) {
				while (i <= n && F[i] !~ /\]$/) { opts = opts " " F[i]; i++ }
				opts = opts " " F[i]; i++
			}
			sb = "-"
			if (match(opts, /signed-by=[^ \]]+/))
				sb = substr(opts, RSTART + 10, RLENGTH - 10)
			comps = ""
			for (j = i + 2; j <= n; j++) comps = comps (comps == "" ? "" : " ") F[j]
			if (F[i] != "" && F[i + 1] != "")
				printf "%s\t%s\t%s\t%s\t%s\t%s\n", F[1], F[i], F[i + 1], comps, sb, FILENAME
		}
		' "${oneline[@]}"
	fi
}

# Make sure a <codename>-backports source with deb and deb-src exists.
# Sets need_update=1 when it wrote the file.
ensure_backports_source() {
	local codename sources main uri sb have_types types content
	# shellcheck source=/dev/null
	codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	[ -n "$codename" ] ||
		die "cannot tell the Debian release of this machine" \
			"/etc/os-release has no VERSION_CODENAME" \
			"this harness needs Debian 12 (bookworm)"
	sources=$(list_apt_sources "$BACKPORTS_FILE")

	# Entry types that some other file already provides for backports.
	have_types=$(awk -F'\t' -v s="$codename-backports" '$3 == s { print $1 }' <<<"$sources" | sort -u | tr '\n' ' ')
	types=
	case " $have_types " in *" deb "*) ;; *) types="deb" ;; esac
	case " $have_types " in *" deb-src "*) ;; *) types="${types:+$types }deb-src" ;; esac
	if [ -z "$types" ]; then
		if [ -f "$BACKPORTS_FILE" ]; then
			warn "$codename-backports is configured elsewhere; removing the redundant $BACKPORTS_FILE"
			rm -f "$BACKPORTS_FILE"
			need_update=1
		fi
		return 0
	fi

	# The machine's own Debian archive entry: type deb, suite <codename>, main.
	main=$(awk -F'\t' -v s="$codename" '$1 == "deb" && $3 == s && (" " $4 " ") ~ / main / { print; exit }' <<<"$sources")
	[ -n "$main" ] ||
		die "found no apt source for the Debian archive ('$codename' suite, 'main' component)" \
			"the $codename-backports source is derived from it (same URI and key), so it must exist" \
			"add the Debian archive to /etc/apt/sources.list.d/debian.sources, or add a $codename-backports source (deb and deb-src) yourself"
	uri=$(cut -f2 <<<"$main")
	sb=$(cut -f5 <<<"$main")
	if [ "$sb" = "(embedded)" ]; then
		# An inline key block is not copied; use the packaged archive keyring.
		sb=-
		[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
			sb=/usr/share/keyrings/debian-archive-keyring.gpg
	fi
	content="# Written by xpmem test/vm/setup_host.sh: Debian backports, for the
# linux-image-6.12-amd64 kernel and (deb-src) its source. Derived from:
# $(cut -f6 <<<"$main")
Types: $types
URIs: $uri
Suites: $codename-backports
Components: main"
	[ "$sb" != "-" ] && content+=$'\n'"Signed-By: $sb"
	if [ -f "$BACKPORTS_FILE" ] && [ "$(cat "$BACKPORTS_FILE")" = "$content" ]; then
		return 0
	fi
	info "adding apt source $BACKPORTS_FILE ($types $uri $codename-backports)"
	printf '%s\n' "$content" >"$BACKPORTS_FILE"
	need_update=1
}

# Make sure apt-get source works for the <codename> suite: add a deb-src
# entry with the URI and key of the machine's own Debian archive entry,
# unless some file already has one. Sets need_update=1 when it wrote the file.
ensure_deb_src_source() {
	local codename sources main uri sb content
	# shellcheck source=/dev/null
	codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	[ -n "$codename" ] ||
		die "cannot tell the Debian release of this machine" \
			"/etc/os-release has no VERSION_CODENAME" \
			"this harness needs Debian 12 (bookworm)"
	sources=$(list_apt_sources "$DEB_SRC_FILE")
	if awk -F'\t' -v s="$codename" '$1 == "deb-src" && $3 == s && (" " $4 " ") ~ / main / { f = 1 } END { exit !f }' <<<"$sources"; then
		if [ -f "$DEB_SRC_FILE" ]; then
			warn "deb-src for $codename is configured elsewhere; removing the redundant $DEB_SRC_FILE"
			rm -f "$DEB_SRC_FILE"
			need_update=1
		fi
		return 0
	fi
	main=$(awk -F'\t' -v s="$codename" '$1 == "deb" && $3 == s && (" " $4 " ") ~ / main / { print; exit }' <<<"$sources")
	[ -n "$main" ] ||
		die "found no apt source for the Debian archive ('$codename' suite, 'main' component)" \
			"the deb-src entry is derived from it (same URI and key), so it must exist" \
			"add the Debian archive to /etc/apt/sources.list.d/debian.sources, or add a deb-src entry for $codename yourself"
	uri=$(cut -f2 <<<"$main")
	sb=$(cut -f5 <<<"$main")
	if [ "$sb" = "(embedded)" ]; then
		sb=-
		[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
			sb=/usr/share/keyrings/debian-archive-keyring.gpg
	fi
	content="# Written by xpmem test/vm/setup_host.sh: Debian sources (apt-get source
# ucx/openmpi/mpich for mpi-tests/). Derived from:
# $(cut -f6 <<<"$main")
Types: deb-src
URIs: $uri
Suites: $codename
Components: main"
	[ "$sb" != "-" ] && content+=$'\n'"Signed-By: $sb"
	if [ -f "$DEB_SRC_FILE" ] && [ "$(cat "$DEB_SRC_FILE")" = "$content" ]; then
		return 0
	fi
	info "adding apt source $DEB_SRC_FILE (deb-src $uri $codename)"
	printf '%s\n' "$content" >"$DEB_SRC_FILE"
	need_update=1
}

is_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

has_candidate() {
	local cand
	cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	[ -n "$cand" ] && [ "$cand" != "(none)" ]
}

apt_update() {
	info "running apt-get update"
	apt-get update -q >&2 ||
		die "apt-get update failed" \
			"the package lists could not be downloaded (see the messages above)" \
			"check the network and the files in /etc/apt/sources.list.d/, then re-run"
}

# ---- main ------------------------------------------------------------------

[ $# -le 1 ] || usage
what=${1:-all}
case $what in
6.1) series=(6.1) ;;
6.12) series=(6.12) ;;
all) series=(6.1 6.12) ;;
debug) series=(6.1 debug) ;;
mpi) series=(mpi) ;;
packaging) series=(packaging) ;;
-h | --help) usage ;;
*) usage ;;
esac

require_root "$VM_PROG"
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
	die "apt-get/dpkg not found" "this harness supports Debian hosts only" \
		"run it on Debian 12 (bookworm)"
fi

pkgs=(
	# build
	gcc make libc6-dev sparse
	# guests
	qemu-system-x86 busybox-static cpio xz-utils kmod coreutils util-linux
)
need_update=0
for s in "${series[@]}"; do
	case $s in
	6.1) pkgs+=(linux-image-amd64 linux-headers-amd64 linux-source-6.1) ;;
	debug) pkgs+=(flex bison bc libelf-dev) ;;
	6.12)
		pkgs+=(linux-image-6.12-amd64 linux-headers-6.12-amd64)
		ensure_backports_source
		;;
	mpi)
		# Debian's MPIs, the tools to rebuild UCX (autogen) and to
		# unpack Debian sources (dpkg-source), numactl for UCX.
		pkgs=(gcc make libc6-dev dpkg-dev autoconf automake libtool
			pkg-config libnuma-dev openmpi-bin libopenmpi-dev
			mpich libmpich-dev)
		ensure_deb_src_source
		;;
	packaging)
		# packaging/build_packages.sh (dpkg-buildpackage, rpmbuild,
		# linters) and packaging/test/ (guest roots, their checks).
		pkgs=(gcc make git dpkg-dev debhelper dh-dkms fakeroot lintian
			rpm rpm2cpio rpmlint cpio mmdebstrap)
		;;
	esac
done

missing=()
for p in "${pkgs[@]}"; do
	is_installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$need_update" -eq 0 ]; then
		for p in "${missing[@]}"; do
			if ! has_candidate "$p"; then
				need_update=1
				break
			fi
		done
	fi
	[ "$need_update" -eq 1 ] && apt_update
	info "installing: ${missing[*]}"
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install failed for: ${missing[*]}" \
			"see the apt messages above (a package may be missing from the configured suites)" \
			"fix the apt sources or the network, then re-run: bash $VM_DIR/setup_host.sh $what"
elif [ "$need_update" -eq 1 ]; then
	# The source list changed but nothing is missing: refresh the lists so
	# that apt-get source (deb-src) works.
	apt_update
fi

for s in "${series[@]}"; do
	[ "$s" = mpi ] || [ "$s" = packaging ] || [ "$s" = debug ] && continue
	bash "$VM_DIR/kernel_release.sh" "$s"
done
