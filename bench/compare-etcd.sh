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
etcd_streams=()
if etcd --help 2>&1 | grep -q -- --max-concurrent-streams; then etcd_streams=(--max-concurrent-streams 1000); fi

work=$(mktemp -d /tmp/raftkv-compare.XXXXXX)
results=$work/results
mkdir -p "$results/logs"
pids=()

stop_all() { # SIGTERM, up to 10 s, then SIGKILL: every process this script started
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_all
  rm -rf "$work"/sitting-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_ports() { # N distinct ports free a moment ago
  python3 -c 'import socket,sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

await_put() { # name method url body: retry until the write answers 200 (60 s at most)
  local name=$1 method=$2 url=$3 body=$4
  for _ in $(seq 600); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -m 2 -X "$method" -d "$body" "$url" || true) == 200 ]] && return 0
    sleep 0.1
  done
  echo "$name did not answer a write at $url within 60 s; logs in $results/logs" >&2
  exit 1
}

endpoints=""
start_etcd() { # sitting-dir sitting-number
  local dir=$1 n=$2 ports cluster="" i
  read -r -a ports <<<"$(free_ports 6)"
  for i in 0 1 2; do cluster+="${cluster:+,}e$i=http://127.0.0.1:${ports[$((2 * i + 1))]}"; done
  endpoints=""
  for i in 0 1 2; do
    local client=http://127.0.0.1:${ports[$((2 * i))]} peer=http://127.0.0.1:${ports[$((2 * i + 1))]}
    etcd --name "e$i" --data-dir "$dir/etcd-$i" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$cluster" --initial-cluster-token "compare-$n" --initial-cluster-state new \
      --logger zap --log-outputs stderr --log-level warn "${etcd_streams[@]}" \
      >"$results/logs/sitting-$n-etcd-$i.log" 2>&1 &
    pids+=($!)
    endpoints+="${endpoints:+,}$client"
  done
  for i in 0 1 2; do await_put etcd POST "http://127.0.0.1:${ports[$((2 * i))]}/v3/kv/put" '{"key":"cmVhZHk=","value":"MQ=="}'; done
}

start_raftkv() { # sitting-dir sitting-number
  local dir=$1 n=$2 ports members="" i
  read -r -a ports <<<"$(free_ports 6)"
  for i in 0 1 2; do members+="${members:+,}127.0.0.1:${ports[$((2 * i))]}:${ports[$((2 * i + 1))]}"; done
  endpoints=""
  for i in 0 1 2; do
    java "${node_opts[@]}" -jar "$jar" node --id "$i" --members "$members" --data-dir "$dir/raftkv-$i" \
      >"$results/logs/sitting-$n-raftkv-$i.log" 2>&1 &
    pids+=($!)
    endpoints+="${endpoints:+,}http://127.0.0.1:${ports[$((2 * i + 1))]}"
  done
  for i in 0 1 2; do await_put raftkv PUT "http://127.0.0.1:${ports[$((2 * i + 1))]}/v1/kv/ready" '{"value":"1"}'; done
}

load() { # target csv-file [options]
  local target=$1 csv=$2
  shift 2
  java "${bench_opts[@]}" -jar "$jar" bench load --target "$target" --endpoints "$endpoints" \
    --keys "$keys" --value-size "$value_size" ${csv:+--csv "$csv"} "$@" "${extra[@]}"
}

compiler_ticks() { # CPU ticks of the JIT compiler threads of every process in pids
  local p t sum=0
  for p in "${pids[@]}"; do
    for t in /proc/"$p"/task/*; do
      if grep -q '^C[12] CompilerThre' "$t/comm" 2>/dev/null; then
        sum=$((sum + $(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null || echo 0)))
      fi
    done
  done
  echo "$sum"
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
    if [[ $system == etcd ]]; then start_etcd "$dir" "$n"; else start_raftkv "$dir" "$n"; fi
    measure "$system" "$n"
    stop_all
  done
  rm -rf "$dir"
done

java "${bench_opts[@]}" -jar "$jar" bench compare --targets raftkv-http,etcd-http,etcd-grpc "$results"/sitting-*.csv | tee "$results/compare.md"
echo
echo "per-run CSV/JSON, progress and server logs: $results"
