#!/usr/bin/env bash
# Runs the parse+sema libFuzzer target for a while (default 600 s), starting from the committed
# corpus plus every model and stdlib file; new interesting inputs go to build/fuzz-corpus.
# Usage: tools/fuzz.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}; shift || true
fuzzer=build/tests/fuzz/libfuzzer/hrmc_fuzz_frontend
[ -x "$fuzzer" ] || { echo "build first: tools/build.sh (needs clang, see tools/setup.sh)"; exit 2; }
mkdir -p build/fuzz-corpus
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -max_len=8192 \
  -dict=tests/fuzz/hrm.dict "$@" build/fuzz-corpus tests/fuzz/corpus tests/dsl/broken models stdlib
