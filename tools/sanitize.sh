#!/usr/bin/env bash
# Builds hrmc with AddressSanitizer + UndefinedBehaviorSanitizer into ./build-sanitize and runs the
# whole test suite there (CI runs this after the plain suite). ccache shares the uninstrumented
# compiler library's objects with ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${HRMC_JOBS:-$(nproc)}
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
[ -f build-sanitize/build.ninja ] || cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHRMC_SANITIZE=ON
cmake --build build-sanitize -j "$jobs"
# detect_leaks=0: LLVM's and MLIR's global registries are not freed at exit by design.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-sanitize -j2 --output-on-failure "$@"
