# Sourced by the bench scripts: start a fresh 3-member etcd or a fresh 3-node raftkv on loopback
# (free ports, durable, data under a given directory), wait until each member takes a write, read
# processes' CPU from /proc, and stop everything started by PID.
# The caller sets: pids=() (every process started is appended), logs (a directory for the servers'
# output), jar and node_opts (raftkv), and optionally etcd_flags (extra etcd flags). start_*
# set endpoints (the members' client URLs, comma-separated).

stop_all() { # SIGTERM, up to 10 s, then SIGKILL: every process in pids
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
  echo "$name did not answer a write at $url within 60 s; logs in $logs" >&2
  exit 1
}

endpoints=""
start_etcd() { # data-dir tag: members e0..e2, logs $logs/TAG-etcd-I.log
  local dir=$1 tag=$2 ports cluster="" i
  read -r -a ports <<<"$(free_ports 6)"
  for i in 0 1 2; do cluster+="${cluster:+,}e$i=http://127.0.0.1:${ports[$((2 * i + 1))]}"; done
  endpoints=""
  for i in 0 1 2; do
    local client=http://127.0.0.1:${ports[$((2 * i))]} peer=http://127.0.0.1:${ports[$((2 * i + 1))]}
    etcd --name "e$i" --data-dir "$dir/etcd-$i" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$cluster" --initial-cluster-token "$tag" --initial-cluster-state new \
      --logger zap --log-outputs stderr --log-level warn ${etcd_flags[@]+"${etcd_flags[@]}"} \
      >"$logs/$tag-etcd-$i.log" 2>&1 &
    pids+=($!)
    endpoints+="${endpoints:+,}$client"
  done
  for i in 0 1 2; do await_put etcd POST "http://127.0.0.1:${ports[$((2 * i))]}/v3/kv/put" '{"key":"cmVhZHk=","value":"MQ=="}'; done
}

start_raftkv() { # data-dir tag: nodes 0..2 of `java -jar $jar node`, logs $logs/TAG-raftkv-I.log
  local dir=$1 tag=$2 ports members="" i
  read -r -a ports <<<"$(free_ports 6)"
  for i in 0 1 2; do members+="${members:+,}127.0.0.1:${ports[$((2 * i))]}:${ports[$((2 * i + 1))]}"; done
  endpoints=""
  for i in 0 1 2; do
    java "${node_opts[@]}" -jar "$jar" node --id "$i" --members "$members" --data-dir "$dir/raftkv-$i" \
      >"$logs/$tag-raftkv-$i.log" 2>&1 &
    pids+=($!)
    endpoints+="${endpoints:+,}http://127.0.0.1:${ports[$((2 * i + 1))]}"
  done
  for i in 0 1 2; do await_put raftkv PUT "http://127.0.0.1:${ports[$((2 * i + 1))]}/v1/kv/ready" '{"value":"1"}'; done
}

thread_ticks() { # pid: "ticks name" per thread name (user+system CPU in clock ticks; spaces -> _)
  local t
  for t in /proc/"$1"/task/*; do
    awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null | tr '\n' ' '
    tr ' ' '_' <"$t/comm" 2>/dev/null
  done | awk 'NF == 2 { sum[$2] += $1 } END { for (t in sum) print sum[t], t }'
}

compiler_ticks() { # CPU ticks of the JIT compiler threads of every process in pids
  local p
  for p in "${pids[@]}"; do thread_ticks "$p"; done | awk '$2 ~ /^C[12]_CompilerThre/ { sum += $1 } END { print sum + 0 }'
}
