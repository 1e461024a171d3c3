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

$(B)/lib/%.pc: lib/%.pc.in VERSION
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

check: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)bash test/check.sh $(KERNELS)

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

