#!/usr/bin/env bash
# raftkv against etcd under the same closed-loop load (`raftkv bench load`), on this machine:
# each sitting starts a fresh 3-member etcd (durable, loopback, free ports, its own data dirs) and
# a fresh 3-node raftkv (one `java -jar target/raftkv.jar node` JVM per node, FileStorage), one
# after the other (the order alternates between sittings), warms each up, runs every op at every
# client count against raftkv's HTTP API, etcd's JSON gateway and etcd's gRPC, and stops it.
# The end is one table: medians over the sittings of ops/s, p50 and p99 per target, and the
# ratios raftkv / etcd-grpc and raftkv / etcd-http.
#
# Usage: bench/compare-etcd.sh [--runs N] [--duration 15s] [--warmup 3s] [--server-warmup 10s]
#          [--server-jit-max 90s: after the warm-up, raftkv's nodes get more puts until their JIT
#          compilers are quiet, at most this many seconds; 0s: none]
#          [--clients 1,16,64] [--ops put,get] [--keys 10000] [--value-size 128] [--jar JAR]
#          [-- more options of `raftkv bench load`]
# Needs etcd on PATH (Debian: apt-get update && apt-get install -y etcd-server etcd-client).
# RAFTKV_NODE_OPTS (default -Xmx1g) are the raftkv nodes' JVM options; BENCH_JAVA_OPTS (default
# -Xmx1g -XX:+UseSerialGC) the load generator's. Every process started is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1 duration=15s warmup=3s server_warmup=10s server_jit_max=90s clients=1,16,64 ops=put,get keys=10000 value_size=128
jar=target/raftkv.jar
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --server-warmup) server_warmup=$2; shift 2 ;;
    --server-jit-max) server_jit_max=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --value-size) value_size=$2; shift 2 ;;
    --jar) jar=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done

if ! command -v etcd >/dev/null 2>&1; then
  echo "etcd is not on PATH. Debian: apt-get update && apt-get install -y etcd-server etcd-client" >&2
  exit 2
fi
[[ -f $jar ]] || mvn -B -q package -DskipTests
read -r -a node_opts <<<"${RAFTKV_NODE_OPTS:--Xmx1g}"
read -r -a bench_opts <<<"${BENCH_JAVA_OPTS:--Xmx1g -XX:+UseSerialGC}"
# etcd's default --max-concurrent-streams (2^32-1) stalls pekko-http's HTTP/2 client (it reads the
# setting as a signed int, -1): give etcd a limit below 2^31, which changes nothing else.
etcd_flags=()
if etcd --help 2>&1 | grep -q -- --max-concurrent-streams; then etcd_flags=(--max-concurrent-streams 1000); fi

work=$(mktemp -d /tmp/raftkv-compare.XXXXXX)
results=$work/results
logs=$results/logs
mkdir -p "$logs"
pids=()
# shellcheck source=bench/cluster-lib.sh
source bench/cluster-lib.sh

cleanup() {
  stop_all
  rm -rf "$work"/sitting-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load() { # target csv-file [options]
  local target=$1 csv=$2
  shift 2
  java "${bench_opts[@]}" -jar "$jar" bench load --target "$target" --endpoints "$endpoints" \
    --keys "$keys" --value-size "$value_size" ${csv:+--csv "$csv"} "$@" "${extra[@]}"
}

# The nodes' JIT goes on compiling for a minute or more after a start (a fifth of both cores at
# first): a run measured then measures the compiler as much as the service. Keep putting at 64
# clients, 5 s at a time, until the three nodes' compiler threads together used under 5% of a
# core over the last 5 s, or --server-jit-max has passed.
jit_settle() {
  local start=$SECONDS before after hz
  hz=$(getconf CLK_TCK)
  while ((SECONDS - start < ${server_jit_max%s})); do
    before=$(compiler_ticks)
    load raftkv-http "" --op put --clients 64 --duration 5s --warmup 0s --jit-warmup-max 0s --quiet >/dev/null
    after=$(compiler_ticks)
    if (((after - before) * 100 < 25 * hz)); then break; fi  # under 5% of a core for 5 s
  done
  echo "== the nodes' JIT settled after $((SECONDS - start)) s more of puts (limit $server_jit_max)"
}

measure() { # system sitting-number: warm up, preload, then every op at every client count
  local system=$1 n=$2 targets t op
  if [[ $system == etcd ]]; then targets=(etcd-http etcd-grpc); else targets=(raftkv-http); fi
  echo "== sitting $n: $system warm-up ($server_warmup, 16 clients, every key written first)"
  load "${targets[0]}" "" --op put --preload --clients 16 --duration "$server_warmup" --warmup 0s --quiet >/dev/null
  if [[ $system == raftkv ]]; then jit_settle; fi
  for op in ${ops//,/ }; do
    for t in "${targets[@]}"; do
      echo "== sitting $n: $t $op, clients $clients, $duration each after $warmup of warm-up"
      load "$t" "$results/sitting-$n-$t-$op.csv" --op "$op" --clients "$clients" --duration "$duration" --warmup "$warmup" \
        --json "$results/sitting-$n-$t-$op.json" 2>"$results/logs/sitting-$n-$t-$op.progress"
    done
  done
}

for n in $(seq "$runs"); do
  dir=$work/sitting-$n
  mkdir -p "$dir"
  if ((n % 2 == 1)); then order=(etcd raftkv); else order=(raftkv etcd); fi
  for system in "${order[@]}"; do
    echo "== sitting $n of $runs: starting a fresh 3-member $system"
    if [[ $system == etcd ]]; then start_etcd "$dir" "sitting-$n"; else start_raftkv "$dir" "sitting-$n"; fi
    measure "$system" "$n"
    stop_all
  done
  rm -rf "$dir"
done

java "${bench_opts[@]}" -jar "$jar" bench compare --targets raftkv-http,etcd-http,etcd-grpc "$results"/sitting-*.csv | tee "$results/compare.md"
echo
echo "per-run CSV/JSON, progress and server logs: $results"
