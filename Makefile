# SPDX-License-Identifier: GPL-2.0
#
# Top-level build of xpmem: the kernel module (per kernel, under build/kernel/),
# libxpmem (build/lib/), the tests (build/test/), and the two README commands:
#
#   make run      build, boot a guest, load the module, run the demo, report
#   make check    static checks and the whole test suite in guests, on every
#                 supported kernel
#   make lint     the static checks alone (checkpatch, W=1, sparse, shellcheck)
#
# Variables: KERNEL=6.1|6.12 (one kernel instead of all), KDIR= (build the
# module against this tree instead), PREFIX=/usr/local, DESTDIR=, V=1.

VERSION := $(shell cat $(CURDIR)/VERSION)
VERSION_MAJOR := $(word 1,$(subst ., ,$(VERSION)))
VERSION_MINOR := $(word 2,$(subst ., ,$(VERSION)))
VERSION_PATCH := $(word 3,$(subst ., ,$(VERSION)))

KERNELS ?= 6.1 6.12
KERNEL ?=
ifneq ($(KERNEL),)
KERNELS := $(KERNEL)
endif

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

B := $(CURDIR)/build
CC ?= gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
LIB_SO := libxpmem.so.0.0.0
LIB_SONAME := libxpmem.so.0

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all lib module test bench lint run check install install-bench \
	uninstall clean setup

all: lib module test bench

# ---------------------------------------------------------------- library
lib: $(B)/lib/$(LIB_SO) $(B)/lib/libxpmem.a

$(B)/lib/libxpmem.o: lib/libxpmem.c include/xpmem.h include/uapi/xpmem_ioctl.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) -fPIC -Iinclude -c $< -o $@

$(B)/lib/$(LIB_SO): $(B)/lib/libxpmem.o lib/libxpmem.map
	$(Q)$(CC) $(CFLAGS) -shared -Wl,-soname,$(LIB_SONAME) -Wl,-z,defs \
		-Wl,--version-script,lib/libxpmem.map -o $@ $< -lpthread
	$(Q)ln -sf $(LIB_SO) $(B)/lib/$(LIB_SONAME)
	$(Q)ln -sf $(LIB_SONAME) $(B)/lib/libxpmem.so

$(B)/lib/libxpmem.a: $(B)/lib/libxpmem.o
	$(Q)$(AR) rcs $@ $<

# The .pc files bake in the install paths: remade when those change.
PC_PATHS := $(PREFIX) $(LIBDIR) $(INCLUDEDIR)
$(B)/lib/pc-paths: FORCE
	@mkdir -p $(@D)
	@echo '$(PC_PATHS)' | cmp -s - $@ || echo '$(PC_PATHS)' > $@

.PHONY: FORCE
FORCE:

$(B)/lib/%.pc: lib/%.pc.in VERSION $(B)/lib/pc-paths
	@mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# ---------------------------------------------------------------- module
# Without KDIR: one build per supported kernel installed on this machine
# (test/vm/setup_host.sh installs them), in build/kernel/<release>/.
ifneq ($(KDIR),)
module:
	$(Q)$(MAKE) -C kernel KDIR=$(KDIR) OUT=$(B)/kernel/custom \
		XPMEM_VERSION=$(VERSION)
else
module:
	$(Q)set -e; for k in $(KERNELS); do \
		rel=$$(bash test/vm/kernel_release.sh $$k) || exit 1; \
		$(MAKE) -C kernel KDIR=/lib/modules/$$rel/build \
			OUT=$(B)/kernel/$$rel XPMEM_VERSION=$(VERSION); \
	done
endif

# ---------------------------------------------------------------- tests
test: lib
	$(Q)$(MAKE) -C test OUT=$(B)/test LIBDIR=$(B)/lib INCDIR=$(CURDIR)/include

# ---------------------------------------------------------------- benchmark
# build/bench/xpmem_bench; bench/run_bench.sh runs it in guests (make run
# runs it too). docs/performance.md has the results and how to reproduce.
bench: lib
	$(Q)$(MAKE) -C bench OUT=$(B)/bench LIBDIR=$(B)/lib INCDIR=$(CURDIR)/include

# ---------------------------------------------------------------- guests
setup:
	$(Q)bash test/vm/setup_host.sh $(if $(KERNEL),$(KERNEL),all)

run: setup
	$(Q)$(MAKE) --no-print-directory all KERNELS="$(if $(KERNEL),$(KERNEL),6.1)"
	$(Q)bash test/run_demo.sh $(if $(KERNEL),$(KERNEL),6.1)

# Lint, the suite, stress + fuzz and the packages on every kernel
# (test/check_all.sh; CHECK_LANES picks lanes, CHECK_STRESS_SECONDS=300).
check: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash test/check_all.sh $(KERNELS)

# The suite on a 6.1 kernel built with KASAN, lockdep, DEBUG_VM, kmemleak
# (test/vm/debug_kernel.sh; the kernel is cached in build/debug-kernel/).
.PHONY: check-debug
check-debug:
	$(Q)bash test/vm/setup_host.sh debug
	$(Q)bash test/vm/debug_kernel.sh check

# The concurrency stress test and the ioctl fuzzer, in a guest per kernel
# (test/run_stress.sh): STRESS_SECONDS of stress, then FUZZ_SECONDS of fuzz.
# STRESS_SEED is random unless given, and printed: STRESS_SEED=<it> repeats
# a run. `make check` can add it with: $(MAKE) stress STRESS_SECONDS=300.
STRESS_SECONDS ?= 300
STRESS_SEED ?=
FUZZ_SECONDS ?= 60
.PHONY: stress
stress: setup
	$(Q)$(MAKE) --no-print-directory lib module test
	$(Q)STRESS_SECONDS="$(STRESS_SECONDS)" STRESS_SEED="$(STRESS_SEED)" \
		FUZZ_SECONDS="$(FUZZ_SECONDS)" bash test/run_stress.sh $(KERNELS)

# Break the module on purpose (tools/mutants.sh: nozap and noseq; more on
# request) and check that the coherence tests catch each break, in guests.
.PHONY: mutants
mutants: test
	$(Q)bash tools/mutants.sh $(foreach k,$(KERNELS),--kernel $(k))

# Debian's MPICH (via UCX) and Open MPI (vader) on xpmem, in a guest per
# kernel (mpi-tests/README.md): UCX and vader rebuilt from apt-get source
# against this library (cached in build/mpi/), MPICH's pt2pt suite, our
# conformance program, module counters, the fallback without the module and
# a ping-pong comparison. Needs root (packages, guests).
.PHONY: mpi-check
mpi-check: lib module
	$(Q)bash mpi-tests/mpi_check.sh $(KERNELS)

# checkpatch --strict, W=1 + sparse for each built kernel, shellcheck
lint: module
	$(Q)bash tools/lint.sh

# ---------------------------------------------------------------- install
install: lib $(B)/lib/xpmem.pc $(B)/lib/cray-xpmem.pc
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0644 include/xpmem.h $(DESTDIR)$(INCLUDEDIR)/xpmem.h
	install -m 0755 $(B)/lib/$(LIB_SO) $(DESTDIR)$(LIBDIR)/$(LIB_SO)
	ln -sf $(LIB_SO) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libxpmem.so
	install -m 0644 $(B)/lib/libxpmem.a $(DESTDIR)$(LIBDIR)/libxpmem.a
	install -m 0644 $(B)/lib/xpmem.pc $(B)/lib/cray-xpmem.pc $(DESTDIR)$(PKGCONFIGDIR)/

# The benchmark, installed on its own (it links the installed library).
install-bench: lib
	$(MAKE) -C bench OUT=$(B)/bench-install LIBDIR=$(B)/lib \
		INCDIR=$(CURDIR)/include RPATH=
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/bench-install/xpmem_bench $(DESTDIR)$(PREFIX)/bin/xpmem_bench

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/xpmem_bench
	rm -f $(DESTDIR)$(INCLUDEDIR)/xpmem.h $(DESTDIR)$(LIBDIR)/$(LIB_SO) \
		$(DESTDIR)$(LIBDIR)/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libxpmem.so \
		$(DESTDIR)$(LIBDIR)/libxpmem.a $(DESTDIR)$(PKGCONFIGDIR)/xpmem.pc \
		$(DESTDIR)$(PKGCONFIGDIR)/cray-xpmem.pc

clean:
	rm -rf $(B)

# ---------------------------------------------------------------- packaging
# Debian and RPM packages (packaging/README.md). Owned by packaging/.
#   make packages        .deb + .rpm from a clean copy of the tree, into
#                        build/packages/ (lintian and rpmlint must be clean)
#   make deb / make rpm  one kind only
#   make release-check   every shipped version (packages, changelog, spec,
#                        dkms.conf, .pc files, modules) equals VERSION
#   make package-check   build, install into a Debian root per kernel (DKMS
#                        builds the module), boot it, check, remove; also
#                        an install without kernel headers (KERNEL=6.1|6.12)
#   make setup-packaging install the packaging tools (the targets above do
#                        it themselves when one is missing)
.PHONY: packages deb rpm release-check package-check setup-packaging

setup-packaging:
	$(Q)bash test/vm/setup_host.sh packaging

packages:
	$(Q)bash packaging/build_packages.sh

deb:
	$(Q)bash packaging/build_packages.sh --deb

rpm:
	$(Q)bash packaging/build_packages.sh --rpm

release-check: packages
	$(Q)bash packaging/release_check.sh

package-check:
	$(Q)bash packaging/test/package_check.sh $(KERNELS)
