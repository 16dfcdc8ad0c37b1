# SPDX-License-Identifier: GPL-2.0
#
# gomemguard: see README.md.  The targets a newcomer needs are `make demo`
# and `make check`; both install what is missing from apt first.

VERSION := $(shell cat VERSION)
KDIR ?= /lib/modules/$(shell uname -r)/build
DKMS_SRC ?= $(DESTDIR)/usr/src/gomemguard-$(VERSION)
# Kernel releases the tests and demo run on (Debian 12's 6.1 and 6.12) are
# looked up only by the targets that boot or build for them, never by
# `make module` or `make dkms-install` on a host.

.PHONY: all module tools selftests workloads modules-all check check-debug demo shell deps ksrc \
	checkpatch dkms-src dkms-install dkms-remove deb bench clean help

all: module tools

help:
	@echo "make check         install deps, build, run every test on each kernel in QEMU"
	@echo "make check-debug   the suite on a KASAN/lockdep/kmemleak 6.12 kernel (built once, long)"
	@echo "make demo          boot a guest, load the module, show gomemctl at work"
	@echo "make bench         overhead, latency, lead time, scale on each kernel -> bench/RESULTS.md"
	@echo "make shell         a guest shell with the module and gomemctl (KVER=...)"
	@echo "make module        build gomemguard.ko for KDIR (default: running kernel)"
	@echo "make tools         build gomemctl"
	@echo "make dkms-install  install the module sources with DKMS (as root)"
	@echo "make dkms-remove   remove them again"
	@echo "make deb           Debian packages gomemguard-dkms and gomemctl in build/deb/"
	@echo "make checkpatch    kernel style check of the module sources"

# In-place build for one kernel, the way DKMS and `make -C KDIR M=` do it.
module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools VERSION=$(VERSION)

deps:
	scripts/deps.sh

ksrc:
	scripts/ksrc.sh

selftests: ksrc
	$(MAKE) -C selftests OUTPUT=$(CURDIR)/build/selftests

workloads:
	$(MAKE) -C selftests/workloads OUT=$(CURDIR)/build/workloads

# One out-of-tree build per target kernel, each in build/k/<release>.
modules-all:
	@for k in $${KVERS:-$$(selftests/vm/kernels.sh)}; do \
		scripts/build-module.sh $$k || exit 1; \
	done

check:
	scripts/check.sh

check-debug:
	scripts/check-debug.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

KVER ?= $(shell selftests/vm/kernels.sh | tail -n 1)
shell:
	scripts/deps.sh
	$(MAKE) tools selftests
	scripts/build-module.sh $(KVER)
	selftests/vm/guest.sh --shell $(KVER) -- selftests/guest-shell.sh

checkpatch: ksrc
	selftests/host/checkpatch_test.sh

# The DKMS source tree: exactly what dkms needs to build the module.
dkms-src:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	cp -r Kbuild VERSION kmod include $(DKMS_SRC)/
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms/dkms.conf > $(DKMS_SRC)/dkms.conf

# Re-runnable: after a pull, and for a new version (scripts/dkms-install.sh).
dkms-install: dkms-src
	scripts/dkms-install.sh $(VERSION) $(DKMS_SRC)

dkms-remove:
	dkms remove -m gomemguard -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

# gomemguard-dkms_<version>-1_all.deb and gomemctl_<version>-1_amd64.deb in
# build/deb/, built from a copy of the tree without root (debian/).
deb:
	scripts/deb.sh

clean:
	$(MAKE) -C tools clean
	rm -rf build
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
		kmod/modules.order modules.order Module.symvers .*.cmd
