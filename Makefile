# A thin wrapper over CMake/CTest. The two set-up commands:
#   make run    build, then run the tour of examples
#   make test   build, then run every test
# Also: make bench, make install PREFIX=..., make docs, make clean.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local

BENCH_DIR ?= build-bench

.PHONY: all build run test bench install docs check-docs clean

all: build

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@sh scripts/tour.sh $(BUILD_DIR)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# kin against kotlinx.coroutines and Go in one run; QUICK=1 for small N.
bench:
	cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=Release -DKIN_BUILD_TESTS=OFF -DKIN_BUILD_EXAMPLES=ON $(CMAKE_FLAGS)
	cmake --build $(BENCH_DIR) -j $(JOBS) --target kin-bench kin-bench-callgrind http_server
	bash scripts/bench.sh $(BENCH_DIR) $(if $(QUICK),--quick)

install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# The API reference: doxygen renders include/kin.h, README.md and
# docs/guide.md to $(BUILD_DIR)/docs/html; fails on undocumented symbols.
docs:
	sh scripts/docs.sh $(BUILD_DIR)

# The guide's snippets: each compiles, runs and prints what the guide shows.
check-docs: build
	sh docs/check_snippets.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(BENCH_DIR)
