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
logs=$work
pids=()
# shellcheck source=bench/cluster-lib.sh
source bench/cluster-lib.sh
trap 'stop_all; rm -rf "$work"' EXIT

cpu_ticks() { # pid: utime + stime in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
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

start_raftkv "$work" idle
measure raftkv
stop_all

if [[ -n $etcd ]] && command -v etcd >/dev/null 2>&1; then
  start_etcd "$work" idle
  measure etcd
fi
