#!/usr/bin/env bash
# CPU that an idle 3-node raftkv burns: starts three durable nodes on loopback (free ports, fresh
# data dirs), writes one key through each, lets them settle, then reads each JVM's user+system CPU
# time from /proc over a quiet window and prints it as a percentage of one core, per node and in
# total. Where etcd is installed, does the same for a 3-member etcd right after, for comparison.
#
# Usage: bench/idle-cpu.sh [--settle 20] [--window 30] [--no-etcd] [--jar target/raftkv.jar]
# RAFTKV_NODE_OPTS (default -Xmx1g) are the nodes' JVM options. Every process started is stopped
# by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

settle=20 window=30 jar=target/raftkv.jar etcd=etcd
while [[ $# -gt 0 ]]; do
  case $1 in
    --settle) settle=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --jar) jar=$2; shift 2 ;;
    --no-etcd) etcd=; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
[[ -f $jar ]] || mvn -B -q package -DskipTests
read -r -a node_opts <<<"${RAFTKV_NODE_OPTS:--Xmx1g}"
work=$(mktemp -d /tmp/raftkv-idle.XXXXXX)
pids=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT

free_ports() { # count
  python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
EOF
}

await_put() { # method url body
  local i
  for i in $(seq 1 300); do
    if curl -sf -o /dev/null -X "$1" -d "$3" "$2"; then return 0; fi
    sleep 0.2
  done
  echo "no answer from $2" >&2
  exit 1
}

cpu_ticks() { # pid: utime + stime in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

thread_ticks() { # pid: per thread "ticks name" (name without spaces; one line per thread name)
  local t
  for t in /proc/"$1"/task/*; do
    awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null | tr '\n' ' '
    tr ' ' '_' <"$t/comm" 2>/dev/null
  done | awk 'NF == 2 { sum[$2] += $1 } END { for (t in sum) print sum[t], t }'
}

measure() { # name
  local name=$1 before=() after=() i total=0 hz
  hz=$(getconf CLK_TCK)
  sleep "$settle"
  for i in "${!pids[@]}"; do before[i]=$(cpu_ticks "${pids[i]}"); thread_ticks "${pids[i]}" >"$work/threads-before-$i"; done
  sleep "$window"
  for i in "${!pids[@]}"; do after[i]=$(cpu_ticks "${pids[i]}"); thread_ticks "${pids[i]}" >"$work/threads-after-$i"; done
  for i in "${!pids[@]}"; do
    local d=$((after[i] - before[i]))
    total=$((total + d))
    awk -v n="$name-$i" -v d="$d" -v hz="$hz" -v w="$window" 'BEGIN { printf "%-9s %5.1f%% of a core\n", n, 100 * d / hz / w }'
  done
  # where it went, by thread name (the 3 processes together), biggest first
  for i in "${!pids[@]}"; do
    awk 'NR == FNR { before[$2] = $1; next } { print $1 - before[$2], $2 }' "$work/threads-before-$i" "$work/threads-after-$i"
  done | awk -v hz="$hz" -v w="$window" '{ sum[$2] += $1 } END { for (t in sum) if (sum[t] > 0) printf "  %5.1f%%  %s\n", 100 * sum[t] / hz / w, t }' | sort -rn | head -8
  awk -v n="$name" -v d="$total" -v hz="$hz" -v w="$window" 'BEGIN { printf "%-9s %5.1f%% of a core (3 together, %ss window)\n", n, 100 * d / hz / w, w }'
}

read -r -a ports <<<"$(free_ports 6)"
members=""
for i in 0 1 2; do members+="${members:+,}127.0.0.1:${ports[$((2 * i))]}:${ports[$((2 * i + 1))]}"; done
for i in 0 1 2; do
  java "${node_opts[@]}" -jar "$jar" node --id "$i" --members "$members" --data-dir "$work/raftkv-$i" \
    >"$work/raftkv-$i.log" 2>&1 &
  pids+=($!)
done
for i in 0 1 2; do await_put PUT "http://127.0.0.1:${ports[$((2 * i + 1))]}/v1/kv/idle" '{"value":"1"}'; done
measure raftkv
stop_all

if [[ -n $etcd ]] && command -v etcd >/dev/null 2>&1; then
  read -r -a ports <<<"$(free_ports 6)"
  cluster=""
  for i in 0 1 2; do cluster+="${cluster:+,}e$i=http://127.0.0.1:${ports[$((2 * i + 1))]}"; done
  for i in 0 1 2; do
    client=http://127.0.0.1:${ports[$((2 * i))]} peer=http://127.0.0.1:${ports[$((2 * i + 1))]}
    etcd --name "e$i" --data-dir "$work/etcd-$i" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$cluster" --initial-cluster-token idle --initial-cluster-state new \
      --logger zap --log-outputs stderr --log-level warn >"$work/etcd-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2; do
    await_put POST "http://127.0.0.1:${ports[$((2 * i))]}/v3/kv/put" '{"key":"aWRsZQ==","value":"MQ=="}'
  done
  measure etcd
fi
