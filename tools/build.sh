#!/usr/bin/env bash
# Configures (once) and builds hrmc into ./build with Ninja; incremental on every later run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${HRMC_JOBS:-$(nproc)}
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1  # objects shared with build-sanitize (tools/sanitize.sh)
[ -f build/build.ninja ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"
