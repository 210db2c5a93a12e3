# SPDX-License-Identifier: Apache-2.0
# barelb: one non-recursive Makefile. `make V=1` prints full commands.
#   make            bin/barelb-controller bin/barelb-speaker bin/barelbctl (release flags)
#   make deps       install the Debian packages the build and the tests need (only what is missing)
#   make test       deps + sanitizer build + every test; last line "N passed, N failed"
#   make demo       deps + build + the demo (see README)
#   make bench      benchmarks (test/bench), each prints "bench NAME: ... (baseline ..., ratio X)"
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make install    PREFIX (default /usr/local), DESTDIR honoured

PREFIX      ?= /usr/local
DESTDIR     ?=
CC          ?= cc
FUZZ_CC     ?= clang
FUZZ_SECONDS ?= 60

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS := libnl-3.0 libnl-route-3.0 libpcap yaml-0.1 libcjson libcurl libevent
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wvla -Wnull-dereference
BASE    := -std=gnu11 -g -Iinclude -Ilib $(PKG_CFLAGS) -MMD -MP
HARDEN  := -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -fcf-protection
SAN     := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDHARD  := -pie -Wl,-z,relro,-z,now

LIB_SRC := $(wildcard lib/*.c)
CTL_SRC := $(wildcard controller/*.c)
SPK_SRC := $(wildcard speaker/*.c speaker/*/*.c speaker/*/*/*.c)
CLI_SRC := $(wildcard cli/*.c)
MAINS   := controller/main.c speaker/main.c cli/main.c
# Everything but the three mains: what unit tests and fuzz targets link against.
CORE_SRC := $(LIB_SRC) $(filter-out $(MAINS),$(CTL_SRC) $(SPK_SRC) $(CLI_SRC))
UNIT_SRC := $(wildcard test/unit/test_*.c)
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard test/bench/*.c)
HELPER_SRC := $(wildcard test/helpers/*.c)

obj = $(patsubst %.c,build/$(1)/%.o,$(2))

BINS     := bin/barelb-controller bin/barelb-speaker bin/barelbctl
ASANBINS := $(patsubst bin/%,build/asan/bin/%,$(BINS))
UNITS    := $(patsubst test/unit/%.c,build/asan/test/%,$(UNIT_SRC))
HELPERS  := $(patsubst test/helpers/%.c,build/asan/helpers/%,$(HELPER_SRC))
FUZZERS  := $(patsubst test/fuzz/%.c,build/fuzz/bin/%,$(FUZZ_SRC))
BENCHES  := $(patsubst test/bench/%.c,build/bench/%,$(BENCH_SRC))

.PHONY: all deps test unit demo bench fuzz install clean check-build
# Keep objects that make would otherwise treat as intermediate and delete.
.SECONDARY:
all: $(BINS)

# ---------- release objects ----------
build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(BASE) $(WARN) $(HARDEN) $(CFLAGS) -c $< -o $@

# ---------- sanitizer objects (tests) ----------
build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC asan $<")
	$(Q)$(CC) $(BASE) $(WARN) $(SAN) $(CFLAGS) -c $< -o $@

# ---------- fuzz objects ----------
build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) $(BASE) $(WARN) -Wno-unused-command-line-argument -O1 -g \
		-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -c $< -o $@

define link_bin
$(1)/barelb-controller: $(call obj,$(2),$(LIB_SRC) $(CTL_SRC))
$(1)/barelb-speaker: $(call obj,$(2),$(LIB_SRC) $(SPK_SRC))
$(1)/barelbctl: $(call obj,$(2),$(LIB_SRC) $(CLI_SRC))
endef
$(eval $(call link_bin,bin,rel))
$(eval $(call link_bin,build/asan/bin,asan))

bin/%:
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDHARD) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/asan/bin/%:
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD asan $@")
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/asan/test/test_%: build/asan/test/unit/test_%.o $(call obj,asan,$(CORE_SRC))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD test $@")
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka -lm

build/asan/helpers/%: build/asan/test/helpers/%.o $(call obj,asan,$(CORE_SRC))
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# Benchmarks: release flags, no sanitizers.
build/bench/%: build/rel/test/bench/%.o $(call obj,rel,$(CORE_SRC))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD bench $@")
	$(Q)$(CC) $(LDHARD) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/fuzz/bin/fuzz_%: build/fuzz/test/fuzz/fuzz_%.o $(call obj,fuzz,$(CORE_SRC))
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD fuzz $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS) -lm

# ---------- top-level targets ----------
deps:
	$(Q)tools/deps.sh

check-build: $(BINS) $(ASANBINS) $(UNITS) $(HELPERS) $(FUZZERS)

# deps first, then the build (a separate make, so pkg-config sees the installed packages).
test: deps
	$(Q)$(MAKE) --no-print-directory check-build
	$(Q)test/run.sh

unit: $(UNITS)
	$(Q)test/run.sh --unit-only

demo: deps
	$(Q)$(MAKE) --no-print-directory $(BINS)
	$(Q)tools/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory $(BINS) $(BENCHES) $(HELPERS)
	$(Q)test/bench/run.sh

fuzz: deps
	$(Q)$(MAKE) --no-print-directory $(FUZZERS)
	$(Q)test/fuzz/run.sh $(FUZZ_SECONDS)

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/barelb
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 conf/*.yaml $(DESTDIR)$(PREFIX)/share/barelb/

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
