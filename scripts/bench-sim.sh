#!/usr/bin/env bash
# Benchmark: the same simulator load against openev's OCPP server and against
# the independent ocpp-rpc server (node), side by side. Run by hand, not in CI:
#
#   bash scripts/bench-sim.sh                       # 10 000 stations, 2000 Heartbeats/s
#   STATIONS=2000 RATE=1000 DURATION=20s bash scripts/bench-sim.sh
#
# openev's server is `openev sim-target`: ocpp.Server with an accept-all
# router (strict schema validation, the library defaults). ocpp-rpc is
# interop/node/peer.js in server mode, strict as well. Each server runs in a
# process of its own; its memory (VmRSS) and CPU time come from /proc. The
# simulator (`openev sim`) connects STATIONS stations at RAMP, each boots and
# then sends Heartbeats back to back, held to RATE calls/s in total, for
# DURATION after the last station connected. Rates and latencies are the
# steady phase's (all stations connected; the ramp's connection storm left
# out). The table it prints is what goes into docs/simulator.md.
set -euo pipefail
cd "$(dirname "$0")/.."

STATIONS=${STATIONS:-10000}
RAMP=${RAMP:-500/s}
RATE=${RATE:-2000}
DURATION=${DURATION:-30s}
PROTOCOL=${PROTOCOL:-ocpp2.0.1}
SERVERS=${SERVERS:-"openev ocpp-rpc"}

ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d -t bench-sim.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building openev..." >&2
go build -o "$work/openev" ./cmd/openev
bash scripts/setup-node.sh >/dev/null

scenario=sim/scenario/examples/heartbeat-load.yaml # boot, then Heartbeats back to back
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# start_server NAME: starts it, sets SERVER_PID and SERVER_URL.
start_server() {
  case $1 in
  openev)
    "$work/openev" sim-target --addr 127.0.0.1:0 >"$work/openev.out" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 50); do grep -q listening "$work/openev.out" && break; sleep 0.1; done
    SERVER_URL=$(awk '/listening/ {print $2}' "$work/openev.out")
    ;;
  ocpp-rpc)
    # peer.js exits when its stdin closes; a fifo held open on fd 3 keeps it up.
    mkfifo "$work/peer.in"
    exec 3<>"$work/peer.in"
    node interop/node/peer.js server --port 0 --host 127.0.0.1 --protocols "$PROTOCOL" \
      --strict true --quiet <"$work/peer.in" >"$work/peer.out" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do grep -q '"listening"' "$work/peer.out" && break; sleep 0.1; done
    port=$(grep '"listening"' "$work/peer.out" | sed 's/.*"port":\([0-9]*\).*/\1/')
    SERVER_URL="ws://127.0.0.1:$port/ocpp"
    ;;
  esac
  pids+=("$SERVER_PID")
  [ -n "$SERVER_URL" ] || { echo "$1 did not start" >&2; exit 1; }
}

results=()
for name in $SERVERS; do
  echo "== $name: $STATIONS stations, ramp $RAMP, $RATE Heartbeats/s for $DURATION" >&2
  start_server "$name"
  sleep 1
  base_rss=$(rss_kb "$SERVER_PID")
  base_cpu=$(cpu_ticks "$SERVER_PID")
  "$work/openev" sim --url "$SERVER_URL" --protocol "$PROTOCOL" --stations "$STATIONS" --ramp "$RAMP" \
    --rate "$RATE" --duration "$DURATION" --scenario "$scenario" --seed 1 --json \
    >"$work/$name.json" 2>"$work/$name.err" &
  sim_pid=$!
  # Sample the server's memory near the end of the run, all stations connected.
  ramp_s=$(awk -v n="$STATIONS" -v r="${RAMP%/s}" 'BEGIN { print (r > 0 ? n / r : 0) }')
  dur_s=$(awk -v d="${DURATION%s}" 'BEGIN { print d }')
  sleep "$(awk -v a="$ramp_s" -v b="$dur_s" 'BEGIN { print a + b * 0.8 }')"
  peak_rss=$(rss_kb "$SERVER_PID")
  set +e
  wait "$sim_pid"
  rc=$?
  set -e
  end_cpu=$(cpu_ticks "$SERVER_PID")
  tail -n 3 "$work/$name.err" >&2
  [ "$rc" -eq 0 ] || echo "warning: the simulator exited $rc against $name" >&2
  results+=("$(jq -c --arg name "$name" --argjson base "$base_rss" --argjson peak "$peak_rss" \
    --argjson cpu "$(( end_cpu - base_cpu ))" --argjson hz "$hz" '{
      server: $name, connected: .peak_connected, stations: .stations,
      mem_per_station_kib: (if .peak_connected > 0 then (($peak - $base) / .peak_connected) else 0 end),
      server_rss_mib: ($peak / 1024), calls_per_s: (.steady.calls_per_s // .calls_per_s), errors: .errors_total,
      hb: ((.steady // .).actions[] | select(.action == "Heartbeat")),
      server_cpu_ms_per_1k_calls: (if .calls > 0 then ($cpu / $hz * 1000 * 1000 / .calls) else 0 end),
      sim_kib_per_station: (.sim.rss_per_station_bytes / 1024), sim_live_kib_per_station: (.sim.live_per_station_bytes / 1024),
      sim_cpu_ms_per_station: .sim.cpu_per_station_ms,
      sim_cpu_percent: .sim.cpu_percent }' "$work/$name.json")")
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
done

echo
echo "### Simulator load: $STATIONS stations, $PROTOCOL, $RATE Heartbeats/s for $DURATION (ramp $RAMP), $(nproc) cores"
echo
echo "| server | connected | server memory per station | server CPU per 1000 calls (handshakes included) | calls/s (steady) | Heartbeat p50 (steady) | p99 | errors | simulator memory per station: RSS (live) | simulator CPU per station |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in "${results[@]}"; do
  jq -r '"| \(.server) | \(.connected)/\(.stations) | \(.mem_per_station_kib | floor) KiB | \(.server_cpu_ms_per_1k_calls | . * 10 | floor / 10) ms | \(.calls_per_s | floor) | \(.hb.p50_ms) ms | \(.hb.p99_ms) ms | \(.errors) | \(.sim_kib_per_station | floor) KiB (\(.sim_live_kib_per_station | floor) KiB) | \(.sim_cpu_ms_per_station | . * 100 | floor / 100) ms (\(.sim_cpu_percent | floor)% of a core) |"' <<<"$r"
done
