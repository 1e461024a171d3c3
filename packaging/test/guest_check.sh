#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The checks make package-check runs inside the booted guest, as root, from
# xpmem-pkgcheck.service once systemd has finished booting (package_check.sh
# puts this file at /usr/local/lib/xpmem-pkgcheck/). The mode is in
# /var/lib/xpmem-pkgcheck/mode:
#  installed  the packages are installed: the module was loaded at boot by
#             systemd-modules-load and is the DKMS build of VERSION, udev
#             made /dev/xpmem root:root 0666, pkg-config finds cray-xpmem
#             and xpmem, and a program built against the installed header
#             does a make/get/attach/detach round trip as an unprivileged
#             user;
#  removed    the packages were purged (on the host, where depmod is fast):
#             the system boots clean, xpmem is not loaded, there is no
#             /dev/xpmem, no module file, no DKMS state, no packaged file.
# Results ("ok - ..." / "not ok - ...") go to the console and to
# /var/lib/xpmem-pkgcheck/results; the exit status and the kernel log to
# the same directory, for the host. The unit powers the guest off after.

# The checks are functions that check() runs by name.
# shellcheck disable=SC2317
set -uo pipefail
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C.UTF-8

DIR=/var/lib/xpmem-pkgcheck
USER_NAME=xpmemtest
# The round trip takes a second or two even under TCG.
ROUNDTRIP_TIMEOUT=180

version=$(sed -n 's/^version=//p' "$DIR/expected")
mode=$(cat "$DIR/mode")
krel=$(uname -r)
passed=0
failed=0
: >"$DIR/results"

say() {
	printf 'xpmem-pkgcheck: %s\n' "$*"
}

# check DESCRIPTION CMD...: run CMD, record ok / not ok with its output.
check() {
	local desc=$1 output rc
	shift
	output=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok - %s\n' "$desc" | tee -a "$DIR/results"
	else
		failed=$((failed + 1))
		printf 'not ok - %s\n' "$desc" | tee -a "$DIR/results"
	fi
	if [ -n "$output" ]; then
		printf '    %s\n' "${output//$'\n'/$'\n'    }" | tee -a "$DIR/results"
	fi
	return "$rc"
}

# ---- the installed system, as booted -------------------------------------------

boot_finished() {
	local state
	state=$(timeout 300 systemctl is-system-running --wait)
	echo "system state: $state"
	if [ "$state" != running ]; then
		echo "failed units:"
		systemctl --failed --no-legend --no-pager
		return 1
	fi
}

loaded_at_boot() {
	[ -d /sys/module/xpmem ] || {
		echo "/sys/module/xpmem does not exist: xpmem is not loaded"
		return 1
	}
	systemctl show -p Result -p ExecMainStatus systemd-modules-load.service
	[ "$(systemctl show -P Result systemd-modules-load.service)" = success ] || return 1
	# Before journald runs, systemd-modules-load logs to the kernel log.
	local logs
	logs=$(journalctl -b --no-pager -o cat; dmesg)
	grep -m 1 "Inserted module 'xpmem'" <<<"$logs" || {
		echo "systemd-modules-load did not log loading xpmem"
		return 1
	}
}

is_dkms_module() {
	local path
	path=$(modinfo -n xpmem) || return 1
	echo "modinfo -n xpmem: $path"
	case $path in
	"/lib/modules/$krel/updates/dkms/xpmem.ko"*) ;;
	*) return 1 ;;
	esac
	# What dkms status reads (dkms status itself takes half a minute here).
	ls -d "/var/lib/dkms/xpmem/$version/$krel/"*/module/xpmem.ko*
}

module_version() {
	local v
	v=$(cat /sys/module/xpmem/version)
	echo "module version $v, VERSION $version"
	[ "$v" = "$version" ]
}

device_node() {
	local seen want="character special file root:root 666"
	seen=$(stat -c '%F %U:%G %a' /dev/xpmem) || return 1
	echo "/dev/xpmem: $seen (want: $want)"
	[ "$seen" = "$want" ]
}

udev_rule() {
	udevadm info --query=property --name=/dev/xpmem | grep -E '^(DEVNAME|SUBSYSTEM)=' || return 1
	# The rule is read and matches the device.
	udevadm test /sys/class/misc/xpmem 2>&1 | grep '60-xpmem.rules'
}

pkg_config() {
	local name flags v
	for name in cray-xpmem xpmem; do
		flags=$(pkg-config --cflags --libs "$name") || return 1
		v=$(pkg-config --modversion "$name") || return 1
		echo "pkg-config $name: '$flags', version $v"
		[[ " $flags " == *" -lxpmem "* ]] || return 1
		[ "$v" = "$version" ] || return 1
	done
}

# package_check.sh built ~/roundtrip (test/roundtrip.c) as this user with
# cc $(pkg-config --cflags --libs cray-xpmem) against the installed header
# and library, before the boot (the compiler is slow under TCG).
roundtrip_as_user() {
	local home
	home=$(getent passwd "$USER_NAME" | cut -d: -f6)
	id "$USER_NAME"
	ldd "$home/roundtrip" | grep libxpmem || return 1
	# Bounded: a hang (of the module) becomes a failure, not a stuck guest.
	timeout -k 10 "$ROUNDTRIP_TIMEOUT" runuser -u "$USER_NAME" -- "$home/roundtrip" "$version"
	local rc=$?
	[ "$rc" -ne 124 ] || echo "roundtrip did not finish within $ROUNDTRIP_TIMEOUT s (hung?); killed"
	return "$rc"
}

# ---- after removal -----------------------------------------------------------------

not_loaded() {
	if [ -e /sys/module/xpmem ] || [ -e /dev/xpmem ]; then
		echo "/sys/module/xpmem or /dev/xpmem exists"
		return 1
	fi
	if modprobe -n xpmem 2>&1; then
		echo "modprobe still finds xpmem"
		return 1
	fi
	echo "xpmem is not loaded, no /dev/xpmem, modprobe does not find it"
}

files_gone() {
	local f rc=0
	while IFS= read -r f; do
		# Directories (also /lib, a symlink to usr/lib) are shared.
		[ -d "$f" ] && continue
		if [ -e "$f" ] || [ -L "$f" ]; then
			echo "still there: $f"
			rc=1
		fi
	done <"$DIR/packaged-files"
	echo "$(wc -l <"$DIR/packaged-files") paths of the packages checked"
	return "$rc"
}

dkms_gone() {
	local left
	# DKMS installs into updates/ (extra/ on some distributions); a find
	# over all of /lib/modules takes 20 s over 9p under TCG, and modinfo
	# below covers the rest through modules.dep.
	left=$(find /lib/modules/*/updates /lib/modules/*/extra -name 'xpmem.ko*' 2>/dev/null)
	[ -z "$left" ] || {
		echo "module files left: $left"
		return 1
	}
	[ ! -e /var/lib/dkms/xpmem ] || {
		echo "/var/lib/dkms/xpmem is still there"
		return 1
	}
	! modinfo xpmem >/dev/null 2>&1 || {
		echo "modinfo still finds xpmem: $(modinfo -n xpmem)"
		return 1
	}
	echo "no xpmem.ko under /lib/modules/*/{updates,extra}, no DKMS state, modinfo does not find it"
}

# ---- main -------------------------------------------------------------------------

case $mode in
installed)
	say "checking the installed packages on kernel $krel (VERSION $version)"
	check "systemd finished booting with no failed unit" boot_finished
	check "systemd-modules-load loaded xpmem at boot (modules-load.d)" loaded_at_boot
	check "the loaded xpmem.ko is the DKMS build for $krel" is_dkms_module
	check "module version is VERSION ($version)" module_version
	check "/dev/xpmem is a character device, owner root:root, mode 0666" device_node
	check "udev knows /dev/xpmem and applies 60-xpmem.rules" udev_rule
	check "pkg-config --cflags --libs cray-xpmem (and xpmem) work, version $version" pkg_config
	check "a program built against the installed xpmem.h runs make/get/attach/detach as user $USER_NAME" roundtrip_as_user
	;;
removed)
	say "checking the system after the packages were purged (kernel $krel)"
	check "after removal: systemd finished booting with no failed unit" boot_finished
	check "after removal: xpmem is not loaded and cannot be" not_loaded
	check "after removal: no module file, no DKMS state" dkms_gone
	check "after removal: no file of the packages is left" files_gone
	;;
*)
	check "known mode in $DIR/mode ($mode)" false
	;;
esac
# Where boot time goes under TCG (systemd-analyze blame would wait for
# D-Bus, which this root does not have).
systemd-analyze time 2>&1 | head -n 1 | sed 's/^/xpmem-pkgcheck: /'

dmesg >"$DIR/dmesg.log" 2>&1
dmesg --level=emerg,alert,crit,err,warn >"$DIR/dmesg_warn.log" 2>&1
say "$passed passed, $failed failed"
status=0
[ $failed -eq 0 ] || status=1
printf '%s\n' "$status" >"$DIR/status"
sync
exit $status
