# ragkv: the two commands are `make demo` and `make test` (see README.md).
# Each installs what is missing with apt-get (idempotent), builds, and runs.

JOBS        ?= 2
BUILD_DIR   ?= build/release
ASAN_DIR    ?= build/asan
CMAKE_FLAGS ?=

# Debian 12 packages the build, the tests and the demo need.
APT_PACKAGES := build-essential cmake pkg-config git ca-certificates \
  libgtest-dev libgmock-dev libbenchmark-dev \
  libcli11-dev libfmt-dev nlohmann-json3-dev libcurl4-openssl-dev libpoppler-cpp-dev \
  libstemmer-dev libxxhash-dev libgumbo-dev \
  clang libclang-rt-14-dev \
  redis-tools redis-server redis-sentinel python3 python3-redis python3-numpy \
  sqlite3 iproute2 \
  libhnswlib-dev libfaiss-dev \
  postgresql-doc-15 dict-foldoc

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build build-asan test test-unit test-asan demo bench clean format

all: build

# Installs only the packages that are missing; a no-op on a ready machine.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "==> apt-get install:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "==> Debian packages: all present"; fi

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j$(JOBS)

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
build-asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DRAGKV_SANITIZE=address,undefined \
	  -DCMAKE_CXX_FLAGS="-O1" $(CMAKE_FLAGS)
	cmake --build $(ASAN_DIR) -j$(JOBS) --target ragkv_unit_tests

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) -L unit

test-asan: build-asan
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS) -L unit

# The whole suite: every test (unit, integration, client compatibility,
# crash and fuzz targets) on the Release build, then the unit tests again
# under ASan+UBSan.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)
	$(MAKE) test-asan

demo: build
	./scripts/demo.sh $(BUILD_DIR)/ragkv

bench: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DRAGKV_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j$(JOBS)

format:
	find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build
