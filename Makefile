# shoplocal — one Makefile, read top to bottom.
#
#   make run    install what is missing, build, start the whole shop with demo data
#   make test   install what is missing, build, run every suite (unit, valgrind,
#               integration, sanitizers, template lint)
#
# Out-of-tree builds under $(BUILD); header dependencies tracked with -MMD; safe under -j.

BUILD    ?= build
CC       ?= cc
PKGS     := libmicrohttpd sqlite3 libcjson libcurl openssl yaml-0.1
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

OPT      ?= -O2
SAN_FLAGS ?=
CFLAGS   := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -g $(OPT) $(SAN_FLAGS) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CPPFLAGS := -D_GNU_SOURCE -DSHOPLOCAL_VERSION='"$(VERSION)"' -Iemulator -Ibackend -Itests -MMD -MP
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm -ldl
TEST_LDLIBS := $(LDLIBS) $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

# --- sources ----------------------------------------------------------------
EMU_SRC  := $(sort $(wildcard emulator/*/*.c))
EMU_MAIN := emulator/core/main.c
LIB_SRC  := $(filter-out $(EMU_MAIN),$(EMU_SRC)) $(sort $(wildcard backend/lib/*.c)) \
            $(filter-out backend/runtime/bootstrap_main.c,$(sort $(wildcard backend/runtime/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libshoplocal.a
BIN      := $(BUILD)/shoplocal

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
# The same suites linked with tests/support/forkrun.c instead of libcriterion:
# one fork per test, so `make valgrind` pays valgrind's start-up once per suite.
UNIT_VG_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit-vg/%)
FORKRUN  := $(BUILD)/obj/tests/support/forkrun.o
# Planted faults (a leak, an invalid read, a failed assertion) that `make valgrind`
# must catch, run after the suites as its self-check.
VGCHECK_BIN := $(patsubst tests/vgcheck/%.c,$(BUILD)/tests/vgcheck/%,$(sort $(wildcard tests/vgcheck/*.c)))
INTEG_SRC := $(sort $(wildcard tests/integration/test_*.c))
INTEG_BIN := $(INTEG_SRC:tests/integration/%.c=$(BUILD)/tests/integration/%)
TEST_SUPPORT := $(BUILD)/obj/tests/support/testutil.o
COMPAT   := $(sort $(wildcard tests/compat/test_*.py))

# Functions built for the in-process host: <functions dir>/<LogicalId>.so, one per
# handler source named after the function's logical id.
HANDLER_RT := backend/runtime/handler.c
FN_SO      := $(patsubst backend/handlers/%.c,$(BUILD)/functions/%.so,$(wildcard backend/handlers/*.c))
TEST_FN_SO := $(patsubst tests/lambda/%.c,$(BUILD)/tests/functions/%.so,$(wildcard tests/lambda/*.c))
SO_FLAGS   := -fPIC -shared -fvisibility=hidden
# The same handlers linked as production bootstraps, for --lambda-host process:
# <functions dir>/<LogicalId>/bootstrap (handler + the Runtime API loop, libcurl).
BOOT_SRC     := backend/runtime/runtime.c $(HANDLER_RT) backend/runtime/bootstrap_main.c
# What every function links besides its handler: the shared backend library
# (the AWS client, helpers) and the libraries it needs.
BACKEND_LIB_SRC := $(sort $(wildcard backend/lib/*.c))
FN_LDLIBS       := -lcjson -lcurl -lcrypto
FN_BOOT      := $(patsubst backend/handlers/%.c,$(BUILD)/functions/%/bootstrap,$(wildcard backend/handlers/*.c))
TEST_FN_BOOT := $(patsubst tests/lambda/%.c,$(BUILD)/tests/functions/%/bootstrap,$(wildcard tests/lambda/*.c))

DEPFILES := $(LIB_OBJ:.o=.d) $(BUILD)/obj/$(EMU_MAIN:.c=.d) $(FN_SO:%=%.d) $(TEST_FN_SO:%=%.d) \
            $(FN_BOOT:%=%.d) $(TEST_FN_BOOT:%=%.d) \
            $(UNIT_OBJ:.o=.d) $(FORKRUN:.o=.d) $(VGCHECK_BIN:%=%.d) $(INTEG_BIN:%=%.d) \
            $(TEST_SUPPORT:.o=.d)

RUN_FLAGS ?= --seed fixtures/
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
export SHOPLOCAL_BIN := $(abspath $(BIN))

.PHONY: all deps build run test unit valgrind integration compat sanitize lint bench clean help
.DEFAULT_GOAL := build

all: build                                ## same as build

help:                                     ## list the targets
	@grep -E '^[a-z]+:.*## ' Makefile | sed 's/:.*## /\t/'

deps:                                     ## apt-get install only the Debian packages that are missing
	@scripts/deps.sh

build: $(BIN) $(UNIT_BIN) $(UNIT_VG_BIN) $(INTEG_BIN) $(FN_SO) $(TEST_FN_SO) $(FN_BOOT) $(TEST_FN_BOOT) ## the emulator, the functions, every test binary

run: deps                                 ## build and start the whole shop with demo data
	@$(MAKE) --no-print-directory build
	$(BIN) serve $(RUN_FLAGS)

test: deps                                ## every suite, to green
	@rm -f $(BUILD)/test-summary.txt
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory lint unit valgrind integration compat sanitize
	@scripts/run-tests.sh --summary

unit: $(UNIT_BIN)                         ## Criterion unit suites
	@scripts/run-tests.sh unit $(UNIT_BIN)

valgrind: $(UNIT_VG_BIN) $(VGCHECK_BIN)   ## unit suites again under Valgrind memcheck (one fork per test)
	@scripts/run-tests.sh valgrind $(UNIT_VG_BIN)
	@scripts/run-tests.sh valgrind-selfcheck $(VGCHECK_BIN)

integration: $(BIN) $(INTEG_BIN)          ## start real emulators on free ports and talk HTTP to them
	@scripts/run-tests.sh integration $(INTEG_BIN)

compat: $(BIN) $(FN_SO) $(TEST_FN_SO) $(TEST_FN_BOOT) ## real AWS clients (boto3, the AWS CLI) against the emulator
	@scripts/run-tests.sh compat $(COMPAT)

sanitize:                                 ## ASan+UBSan build, then the integration and compat suites on it
	@$(MAKE) --no-print-directory BUILD=build-san OPT=-O1 \
	  SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  build-san/shoplocal $(INTEG_BIN:$(BUILD)/%=build-san/%) $(TEST_FN_SO:$(BUILD)/%=build-san/%) \
	  $(FN_SO:$(BUILD)/%=build-san/%) \
	  $(TEST_FN_BOOT:$(BUILD)/%=build-san/%)
	@SHOPLOCAL_BIN=$(abspath build-san/shoplocal) ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  scripts/run-tests.sh sanitize $(INTEG_BIN:$(BUILD)/%=build-san/%) $(COMPAT)

lint:                                     ## cfn-lint on template.yaml, cppcheck on the C sources
	@scripts/lint.sh

bench: deps                               ## benchmarks against peers (see docs/EMULATOR.md)
	@$(MAKE) --no-print-directory build
	@scripts/bench.sh

clean:                                    ## remove every build output
	rm -rf build build-san

# --- rules -------------------------------------------------------------------
$(BIN): $(BUILD)/obj/$(EMU_MAIN:.c=.o) $(LIB)
	@echo "  LINK  $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/functions/%.so: backend/handlers/%.c $(HANDLER_RT) $(BACKEND_LIB_SRC)
	@mkdir -p $(@D)
	@echo "  SO    $@"
	$(Q)$(CC) $(CPPFLAGS) -MF $@.d $(CFLAGS) $(SO_FLAGS) -o $@ $< $(HANDLER_RT) $(BACKEND_LIB_SRC) $(FN_LDLIBS)

$(BUILD)/tests/functions/%.so: tests/lambda/%.c $(HANDLER_RT) $(BACKEND_LIB_SRC)
	@mkdir -p $(@D)
	@echo "  SO    $@"
	$(Q)$(CC) $(CPPFLAGS) -MF $@.d $(CFLAGS) $(SO_FLAGS) -o $@ $< $(HANDLER_RT) $(BACKEND_LIB_SRC) $(FN_LDLIBS)

$(BUILD)/functions/%/bootstrap: backend/handlers/%.c $(BOOT_SRC) $(BACKEND_LIB_SRC)
	@mkdir -p $(@D)
	@echo "  BOOT  $@"
	$(Q)$(CC) $(CPPFLAGS) -MF $@.d $(CFLAGS) -o $@ $^ $(FN_LDLIBS)

$(BUILD)/tests/functions/%/bootstrap: tests/lambda/%.c $(BOOT_SRC) $(BACKEND_LIB_SRC)
	@mkdir -p $(@D)
	@echo "  BOOT  $@"
	$(Q)$(CC) $(CPPFLAGS) -MF $@.d $(CFLAGS) -o $@ $^ $(FN_LDLIBS)

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	@echo "  AR    $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(TEST_SUPPORT) $(LIB)
	@mkdir -p $(@D)
	@echo "  TEST  $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(TEST_SUPPORT) $(LIB) $(TEST_LDLIBS)

$(BUILD)/tests/unit-vg/%: $(BUILD)/obj/tests/unit/%.o $(FORKRUN) $(TEST_SUPPORT) $(LIB)
	@mkdir -p $(@D)
	@echo "  TEST  $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(FORKRUN) $(TEST_SUPPORT) $(LIB) $(LDLIBS)

$(BUILD)/tests/vgcheck/%: tests/vgcheck/%.c $(FORKRUN)
	@mkdir -p $(@D)
	@echo "  TEST  $@"
	$(Q)$(CC) $(CPPFLAGS) -MF $@.d $(CFLAGS) -o $@ $< $(FORKRUN) $(LDLIBS)

# test_handlers dlopens <BUILD>/functions/<LogicalId>.so: build them first
# (unit-vg: the valgrind stage's fork-per-test copy of the suite, if built).
$(BUILD)/tests/unit/test_handlers $(BUILD)/tests/unit-vg/test_handlers: | $(FN_SO)
# .SECONDARY keeps make from remaking a deleted .so for an up-to-date suite, so the
# stages that run the suite name them too.
unit valgrind: $(FN_SO)

$(BUILD)/tests/integration/%: tests/integration/%.c $(TEST_SUPPORT) $(LIB)
	@mkdir -p $(@D)
	@echo "  TEST  $@"
	$(Q)$(CC) $(CPPFLAGS) -MF $@.d $(CFLAGS) -o $@ $< $(TEST_SUPPORT) $(LIB) $(TEST_LDLIBS)

.SECONDARY:

-include $(DEPFILES)
