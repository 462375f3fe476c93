#!/usr/bin/env bash
# The recovery benchmark: raftkv (and etcd, when `etcd` is on PATH) on 3 local processes each,
# the time from each fault to the first acknowledged write, median of 3 runs (or $RUNS).
# Usage: bench/recovery.sh [more options of `raftkv bench recovery`]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f target/raftkv.jar ] || mvn -B -q package -DskipTests
args=(--runs "${RUNS:-3}")
if command -v etcd >/dev/null 2>&1; then args+=(--etcd "$(command -v etcd)"); fi
exec java -jar target/raftkv.jar bench recovery "${args[@]}" "$@"
