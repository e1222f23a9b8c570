# PEL - plain GNU make. `make` builds build/pel and build/libpel.a;
# `make test` runs every test (plain, ASan+UBSan, TSan) and fuzzes briefly;
# `make bench` runs the benchmarks; `make run` installs deps, builds, runs.
#
# Variants share the rules below through BUILD and SAN:
#   make BUILD=build/asan SAN="-fsanitize=address,undefined" tests

CC      ?= cc
BUILD   ?= build
SAN     ?=
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
# Link-time optimisation for build/pel (GCC, no sanitizers; LTO= turns it
# off): a transaction's path through the engine crosses a dozen small
# functions in view.c, mvmem.c, blockstm.c and engine.c, which only LTO can
# inline across files (bench/RESULTS.md: -3.6 % on a Block-STM delta block,
# -1.6 % sequential). Objects carry ordinary code too (-ffat-lto-objects), so
# the test programs link without the whole-program step (-fno-lto: the
# linker would otherwise run it on any object carrying LTO code).
IS_GCC  := $(shell $(CC) -v 2>&1 | grep -q '^gcc version' && echo 1)
LTO     ?= $(if $(SAN),,$(if $(IS_GCC),-flto=auto))
LTO_OBJ := $(if $(LTO),$(LTO) -ffat-lto-objects)
AR      := $(if $(LTO),gcc-ar,ar)
WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes
ALLCFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -Itests -pthread $(CFLAGS) $(SAN) -MMD -MP
LDLIBS  := -llmdb -lmicrohttpd -lcjson -lcurl -lsodium -lraft -luv -pthread -lm

LIB_SRC  := $(shell find src -name '*.c' ! -path 'src/cli/*' | sort)
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(shell find tests -name 'test_*.c' ! -path 'tests/fuzz/*' | sort)
BENCH_SRC:= $(sort $(wildcard bench/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:%.c=$(BUILD)/%)

.PHONY: all tests test bench bench-node bench-cluster bench-scaling run fuzz soak clean deps crash-test
all: $(BUILD)/pel

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LTO_OBJ) -c $< -o $@

$(BUILD)/libpel.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/pel: $(CLI_OBJ) $(BUILD)/libpel.a
	$(CC) $(ALLCFLAGS) $(LTO) -o $@ $(CLI_OBJ) $(BUILD)/libpel.a $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/libpel.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(if $(LTO),-fno-lto) -o $@ $< $(BUILD)/libpel.a $(LDLIBS)

tests: $(TEST_BIN) $(BUILD)/pel

# Fuzz targets: clang + libFuzzer, library rebuilt with coverage.
FUZZ_BUILD := build/fuzz
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined
fuzz-build:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang SAN="$(FUZZ_FLAGS)" $(FUZZ_BUILD)/libpel.a
	@mkdir -p $(FUZZ_BUILD)/fuzz
	@for f in $(FUZZ_SRC); do \
	  n=$$(basename $$f .c); \
	  clang -std=c11 -D_GNU_SOURCE -Isrc -Wall -Wextra -Werror -g -O1 -fsanitize=fuzzer,address,undefined \
	    $$f $(FUZZ_BUILD)/libpel.a $(LDLIBS) -o $(FUZZ_BUILD)/fuzz/$$n || exit 1; \
	done

# make fuzz FUZZ_SECONDS=300 for a long run; make test runs each briefly.
FUZZ_SECONDS ?= 60
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz.sh $(FUZZ_BUILD)/fuzz

test:
	scripts/run-tests.sh

# The kill -9 loop of the node, long: 200 kills (make test runs 20).
crash-test: tests
	PEL_CRASH_KILLS=$${PEL_CRASH_KILLS:-200} $(BUILD)/tests/node/test_crash

soak:
	PEL_TEST_ITERS=20000 scripts/run-tests.sh
	$(MAKE) crash-test
	PEL_CLUSTER_FAULTS=$${PEL_CLUSTER_FAULTS:-100} PEL_CLUSTER_TWO_VOTER_KILLS=$${PEL_CLUSTER_TWO_VOTER_KILLS:-60} \
	  $(BUILD)/tests/node/test_cluster
	$(MAKE) fuzz FUZZ_SECONDS=600

bench: $(BUILD)/pel
	scripts/run-bench.sh $(BUILD)/pel
	scripts/run-bench-node.sh $(BUILD)/pel
	scripts/run-bench-cluster.sh $(BUILD)/pel

bench-cluster: $(BUILD)/pel
	scripts/run-bench-cluster.sh $(BUILD)/pel

bench-node: $(BUILD)/pel
	scripts/run-bench-node.sh $(BUILD)/pel

# thread scaling up to every core, the node pinned to some cores and the load
# generator on the others (for many-core machines; not part of make bench)
bench-scaling: $(BUILD)/pel
	scripts/run-bench-scaling.sh $(BUILD)/pel

deps:
	@scripts/install-deps.sh --if-missing

# make run: a single-node devnet in ./devnet (created on first run), in the
# foreground with the explorer/API on http://127.0.0.1:8645. Ctrl-C stops it.
run: deps all
	@test -f devnet/genesis.json || $(BUILD)/pel init --dir devnet
	$(BUILD)/pel node --dir devnet

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
