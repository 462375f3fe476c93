#!/usr/bin/env bash
# Start-up times of a 3-node raftkv cluster on loopback, each node its own JVM:
#   1. fresh cluster: the 3 processes start at once -> first acknowledged PUT
#   2. SIGTERM of all three, then all start at once -> first acknowledged PUT
#   3. one node SIGTERMed and restarted into the running cluster -> its first GET (through Raft)
# Times are from the moment the processes were started. Usage (after `mvn -B -q package -DskipTests`):
#   bench/startup.sh [--plain] [JAR]
# By default the nodes run through bin/raftkv (class-data sharing from an archive made by a
# training run first, C1 only, serial GC: docs/deployment.md); --plain runs bare `java -jar`.
# Node logs (with timestamps) stay in the printed work directory.
set -euo pipefail
plain=false
if [[ ${1:-} == --plain ]]; then plain=true; shift; fi
jar=${1:-target/raftkv.jar}
work=$(mktemp -d /tmp/raftkv-startup.XXXXXX)
pids=()
launch=(java -jar "$jar")
if ! $plain; then
  jar=$(cd "$(dirname "$jar")" && pwd)/$(basename "$jar")
  launch=(env RAFTKV_JAR="$jar" "$(dirname "${BASH_SOURCE[0]}")/../bin/raftkv")
  echo "class-data archive: $("${launch[@]}" startup-archive "$jar")"
fi
echo "node command: ${launch[*]} node ..."

cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cports=(); hports=(); members=""
for i in 0 1 2; do
  cports[$i]=$(free_port); hports[$i]=$(free_port)
  members+="${members:+,}127.0.0.1:${cports[$i]}:${hports[$i]}"
done

now_ms() { date +%s%3N; }

start_node() { # id
  "${launch[@]}" node --id "$1" --members "$members" --data-dir "$work/data-$1" \
    >>"$work/node-$1.log" 2>&1 &
  pids[$1]=$!
}

stop_node() { # id: SIGTERM and wait
  kill -TERM "${pids[$1]}" 2>/dev/null || true
  wait "${pids[$1]}" 2>/dev/null || true
}

# Retries every 50 ms until the request answers 200; prints the ms since $1.
await_ok() { # t0 method url [body]
  local t0=$1 method=$2 url=$3 body=${4:-}
  local deadline=$(( $(now_ms) + 60000 ))
  while (( $(now_ms) < deadline )); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 -X "$method" ${body:+-d "$body"} "$url" || true)
    if [[ $code == 200 ]]; then echo $(( $(now_ms) - t0 )); return; fi
    sleep 0.05
  done
  echo "timeout"
}

put_url() { echo "http://127.0.0.1:${hports[$1]}/v1/kv/startup"; }

t0=$(now_ms); for i in 0 1 2; do start_node $i; done
fresh=$(await_ok "$t0" PUT "$(put_url 0)" '{"value":"fresh"}')

for i in 0 1 2; do stop_node $i; done
t0=$(now_ms); for i in 0 1 2; do start_node $i; done
restart=$(await_ok "$t0" PUT "$(put_url 1)" '{"value":"restart"}')

# one node into the running cluster (node 0: the first seed, the hardest case before)
stop_node 0
t0=$(now_ms); start_node 0
one=$(await_ok "$t0" GET "$(put_url 0)")

printf '%-44s %8s ms  (target 5000)\n' "fresh cluster, start -> first PUT" "$fresh"
printf '%-44s %8s ms  (target 5000)\n' "restart of all three, start -> first PUT" "$restart"
printf '%-44s %8s ms  (target 3000)\n' "one node restarted, start -> its first GET" "$one"
echo "node logs: $work"
