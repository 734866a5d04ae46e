#!/usr/bin/env bash
# Benchmark: the CSMS end to end. Durable transaction events per second that
# `openev serve` acknowledges to STATIONS simulated stations charging at once,
# on SQLite and on PostgreSQL, with group commit (batching) and, when serve
# can turn it off, without. Run by hand, not in CI:
#
#   bash scripts/bench-csms.sh                          # 1000 stations, 30 s, both backends
#   STATIONS=100 DURATION=10s RUNS=1 bash scripts/bench-csms.sh       # a quick look
#   BACKENDS=sqlite PROTOCOL=ocpp1.6 RUNS=3 bash scripts/bench-csms.sh
#
# Each run starts `openev serve` on a free port with a fresh database (SQLite
# in a temporary directory; PostgreSQL a new database on PGURL, dropped
# afterwards), waits for /healthz, then runs `openev sim` in load mode: the
# stations run sim/scenario/examples/charge-load.yaml, a charging session whose
# meter values (2.0.1 TransactionEvent Updated, 1.6 MeterValues) go out back
# to back, one call in flight per station. Once every station is connected and
# WARMUP has passed, the script reads the server's /metrics at the start and
# the end of a DURATION window: the rate is the growth of
# openev_ocpp_calls_total{direction="from_station",result="ok"} for
# TransactionEvent, StartTransaction, StopTransaction and MeterValues over
# the window. The CSMS sends a CALLRESULT only after the store committed the
# event (fsync), so every one of them is durable. In the same window it reads
# the CPU time (utime+stime, /proc/PID/stat) of the server, of the simulator,
# of the PostgreSQL backends serving the run's database, and of the whole
# machine (/proc/stat). Latency is the simulator's (steady phase: every
# station connected; the window plus warm-up and tail). Configurations
# alternate within each round, so that a round compares them under the same
# conditions; RUNS rounds give the medians.
#
# Batching off is the --db URL's batching=off (MAX_BATCH=N adds max_batch=N
# to the batching-on runs); with an openev that does not know it, the off
# runs are skipped. STORE_BENCH=1 (or auto, when off was skipped) also runs
# the store-level benchmark of both settings (go test -bench TxEvents, 1000
# goroutines on the store alone) in the same session. PERF=1 records a perf profile of the server over each
# window and prints where its CPU went (the single store committer, the OCPP
# calls, GC); it costs the server some CPU, so use it for a separate round.
# The binary is built from BUILD_FROM (default HEAD, via git archive, so that
# uncommitted work in a shared tree does not go in); BUILD_FROM=worktree
# builds the working tree as it is. The last lines printed are a markdown
# section for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."

STATIONS=${STATIONS:-1000}
DURATION=${DURATION:-30s}               # the measured window
WARMUP=${WARMUP:-5s}                    # after the last station connected, before the window
RAMP=${RAMP:-500/s}
BACKENDS=${BACKENDS:-sqlite,postgres}
BATCHING=${BATCHING:-on,off}            # group commit on, off
PROTOCOL=${PROTOCOL:-ocpp2.0.1}         # ocpp2.0.1 or ocpp1.6
RUNS=${RUNS:-1}
METER_INTERVAL=${METER_INTERVAL:-}      # empty: the scenario's (1ms, back to back)
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
MAX_BATCH=${MAX_BATCH:-}                # empty: the store's default (256)
STORE_BENCH=${STORE_BENCH:-auto}        # auto, 1, 0
PERF=${PERF:-}                          # 1: profile the server with perf over the window (costs it some CPU)
PERF_HZ=${PERF_HZ:-499}
STORE_BENCHTIME=${STORE_BENCHTIME:-10000x}
SIM_NICE=${SIM_NICE:-0}                 # niceness of the simulator: 19 lets the server have the CPUs first
SERVER_ENV=${SERVER_ENV:-}              # extra environment of the server, e.g. GOGC=200 GOMAXPROCS=4
BUILD_FROM=${BUILD_FROM:-HEAD}          # a commit, or worktree
KEEP=${KEEP:-}                          # a directory to keep every run's files in

secs() { local d=${1%s}; [[ $d =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "bench-csms: $1 is not a duration in seconds (e.g. 30s)" >&2; exit 2; }; echo "$d"; }
dur_s=$(secs "$DURATION")
warm_s=$(secs "$WARMUP")
case $PROTOCOL in
ocpp2.0.1) event_action=TransactionEvent ;;
ocpp1.6) event_action=MeterValues ;;
*) echo "bench-csms: PROTOCOL=$PROTOCOL: want ocpp2.0.1 or ocpp1.6" >&2; exit 2 ;;
esac
IFS=, read -ra backends <<<"$BACKENDS"
IFS=, read -ra batchings <<<"$BATCHING"
for b in "${backends[@]}"; do [[ $b == sqlite || $b == postgres ]] || { echo "bench-csms: BACKENDS: unknown backend $b (want sqlite, postgres)" >&2; exit 2; }; done
for b in "${batchings[@]}"; do [[ $b == on || $b == off ]] || { echo "bench-csms: BATCHING: $b (want on, off)" >&2; exit 2; }; done
for tool in curl jq awk; do command -v $tool >/dev/null || { echo "bench-csms: needs $tool" >&2; exit 2; }; done
if [[ " ${backends[*]} " == *" postgres "* ]]; then
  command -v psql >/dev/null || { echo "bench-csms: BACKENDS has postgres but psql is missing" >&2; exit 2; }
  psql "$PGURL/postgres" -Atqc 'SELECT 1' >/dev/null ||
    { echo "bench-csms: cannot reach PostgreSQL at $PGURL (start it with scripts/services.sh, or set PGURL)" >&2; exit 2; }
  pgversion="PostgreSQL $(psql "$PGURL/postgres" -Atqc 'SHOW server_version' | cut -d' ' -f1)"
fi

ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d -t bench-csms.XXXXXX)
server_pid="" sim_pid="" pgdb=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  wait 2>/dev/null
  [ -n "$pgdb" ] && psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && rm -rf "$work/src" && cp -r "$work"/. "$KEEP"/ && echo "bench-csms: files kept in $KEEP" >&2; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# The binary is built from a commit (git archive: the working tree, where
# others may have work in progress, is not read), or with
# BUILD_FROM=worktree from the working tree as it is.
dirty="" src=.
if [ "$BUILD_FROM" = worktree ]; then
  commit=$(git rev-parse --short HEAD)
  dirty=$(git status --porcelain --untracked-files=no -- '*.go' | awk '{print $2}' | paste -sd, -)
  log "building openev from the working tree ($commit${dirty:+, with uncommitted changes to $dirty})"
  go build -o "$work/openev" ./cmd/openev
else
  commit=$(git rev-parse --short "$BUILD_FROM^{commit}") || { echo "bench-csms: BUILD_FROM=$BUILD_FROM is not a commit" >&2; exit 2; }
  log "building openev $commit"
  src=$work/src
  mkdir "$src"
  git archive "$commit" | tar -x -C "$src"
  go -C "$src" build -o "$work/openev" ./cmd/openev
fi
started_at=$(date -u '+%Y-%m-%d %H:%M')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# Does this openev take batching=off in --db? (Older ones refuse the URL.)
off_supported=0
mkdir "$work/probe"
"$work/openev" serve --addr 127.0.0.1:0 --api-key probe --db "sqlite://$work/probe/p.db?batching=off" >"$work/probe/log" 2>&1 &
probe=$!
for _ in $(seq 50); do
  grep -q 'msg=listening' "$work/probe/log" && break
  kill -0 "$probe" 2>/dev/null || break
  sleep 0.1
done
grep -q 'batching off' "$work/probe/log" && off_supported=1
kill "$probe" 2>/dev/null || true
wait "$probe" 2>/dev/null || true
rm -rf "$work/probe"

hz=$(getconf CLK_TCK)
scenario=sim/scenario/examples/charge-load.yaml
if [ -n "$METER_INTERVAL" ]; then
  # In load mode the scenario's station settings win over --meter-interval
  # (sim/load applies the scenario to every station again), so the interval
  # goes into a copy of the scenario.
  sed "s/^  meter_interval: .*/  meter_interval: $METER_INTERVAL/" "$scenario" >"$work/charge-load.yaml"
  scenario=$work/charge-load.yaml
fi
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
disk_bytes() { awk '$1 == "write_bytes:" {print $2}' "/proc/$1/io" 2>/dev/null || echo 0; } # what it sent to storage
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; } # user nice system irq softirq
# pg_ticks DB: CPU ticks of the PostgreSQL backends connected to DB.
pg_ticks() {
  local sum=0 p
  for p in $(psql "$PGURL/postgres" -Atqc "SELECT pid FROM pg_stat_activity WHERE datname = '$1'"); do
    sum=$((sum + $(ticks "$p")))
  done
  echo $sum
}
# counter FILE ok|err: transaction events in a /metrics snapshot that were
# acknowledged (ok), or answered with a CALLERROR (err).
counter() {
  awk -v want="$2" '/^openev_ocpp_calls_total\{/ && /direction="from_station"/ &&
    /action="(TransactionEvent|StartTransaction|StopTransaction|MeterValues)"/ {
      ok = ($0 ~ /result="ok"/); if ((want == "ok") == ok) s += $NF } END {print s + 0}' "$1"
}
store_stat() { awk -v k="openev_store_duration_seconds_$2{op=\"RecordTransactionEvent\"}" '$1 == k {print $2}' "$1"; }

# perf_summary DATA SECONDS: where the server's CPU went, in % of one core
# (inclusive: a frame counts with everything it calls).
perf_summary() {
  local n
  n=$(perf report -i "$1" --no-children -n --sort comm -g none --stdio 2>/dev/null | awk '!/^#/ && NF {s += $2} END {print s + 0}')
  perf report -i "$1" --children --sort sym --stdio -g none 2>/dev/null | awk -v n="$n" -v hz="$PERF_HZ" -v s="$2" '
    BEGIN {
      k = 0
      label[++k] = "store committer (the single writer: SQL, commit)"; frame[k] = "github.com/openev/openev/store/internal/groupcommit.(*Committer).loop"
      label[++k] = "  of which fsync (its CPU; the wait is off-CPU)"; frame[k] = "modernc.org/libc.Xfsync"
      label[++k] = "OCPP calls (decode, validate, handler, answer)"; frame[k] = "github.com/openev/openev/ocpp.(*workerPool).work"
      label[++k] = "  of which the handlers (csms; store wait off-CPU)"; frame[k] = "github.com/openev/openev/ocpp.(*Conn).runHandler"
      label[++k] = "websocket reads (nbio poller)"; frame[k] = "github.com/lesismal/nbio.(*poller).readWriteLoop"
      label[++k] = "garbage collector (background mark)"; frame[k] = "runtime.gcBgMarkWorker"
      label[++k] = "Go scheduler"; frame[k] = "runtime.schedule"
    }
    $1 ~ /%$/ {
      name = ""; for (i = 4; i <= NF; i++) name = name (i > 4 ? " " : "") $i
      for (j = 1; j <= k; j++) if (name == frame[j] && !(j in got)) { v = $1; sub(/%/, "", v); got[j] = v }
    }
    END {
      printf "%d samples at %d Hz over %s s: the server used %.0f%% of a core\n", n, hz, s, n / hz / s * 100
      for (j = 1; j <= k; j++) printf "  %-52s %4.0f%% of a core (%5.1f%% of its CPU)\n", label[j], got[j] / 100 * n / hz / s * 100, got[j]
    }'
}

# snapshot NAME: /metrics and the CPU counters at one instant.
snapshot() {
  local s=$work/$1
  date +%s.%N >"$s.t"
  curl -sf "$base/metrics" >"$s.metrics" || : >"$s.metrics"
  echo "$(ticks "$server_pid") $(ticks "$sim_pid") $(busy_ticks) $(disk_bytes "$server_pid") ${pgdb:+$(pg_ticks "$pgdb")}" >"$s.cpu"
}

# run_one BACKEND BATCHING ROUND: one measured run; appends a JSON line to results.jsonl.
run_one() {
  local backend=$1 batching=$2 round=$3 tag="$1-$2-$3" db params=""
  if [ "$batching" = off ]; then
    params=batching=off
  elif [ -n "$MAX_BATCH" ]; then
    params=max_batch=$MAX_BATCH
  fi
  case $backend in
  sqlite)
    mkdir -p "$work/$tag.db"
    db="sqlite://$work/$tag.db/openev.db${params:+?$params}"
    ;;
  postgres)
    pgdb="bench_csms_$$_${round}_${batching}"
    psql "$PGURL/postgres" -qc "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" -c "CREATE DATABASE $pgdb" >/dev/null
    db="$PGURL/$pgdb?sslmode=disable${params:+&$params}"
    ;;
  esac
  # shellcheck disable=SC2086 # SERVER_ENV is a list of KEY=VALUE words
  env $SERVER_ENV "$work/openev" serve --addr 127.0.0.1:0 --db "$db" --api-key bench --accept-unknown-tokens \
    --log-level info >"$work/$tag.serve.log" 2>&1 &
  server_pid=$!
  local addr=""
  for _ in $(seq 100); do
    addr=$(sed -n 's/.*msg=listening addr=\([0-9.:]*\).*/\1/p' "$work/$tag.serve.log" | head -1)
    [ -n "$addr" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$addr" ] || { tail -5 "$work/$tag.serve.log" >&2; echo "bench-csms: openev serve did not start" >&2; exit 1; }
  base="http://$addr"
  curl -sf "$base/healthz" >/dev/null || { echo "bench-csms: $base/healthz does not answer" >&2; exit 1; }
  local rss0 load0
  rss0=$(rss_kb "$server_pid" VmRSS)
  load0=$(cut -d' ' -f1-3 /proc/loadavg)

  local simdur
  simdur=$(awk -v w="$warm_s" -v d="$dur_s" 'BEGIN {print w + d + 5}')
  nice -n "$SIM_NICE" "$work/openev" sim --url "ws://$addr/ocpp" --protocol "$PROTOCOL" --stations "$STATIONS" --ramp "$RAMP" \
    --duration "${simdur}s" --scenario "$scenario" \
    --seed 1 --json >"$work/$tag.sim.json" 2>"$work/$tag.sim.err" &
  sim_pid=$!
  local t0 connected=0
  t0=$(date +%s)
  while :; do
    connected=$(curl -sf "$base/healthz" | jq -r '.stations_connected // 0' 2>/dev/null || echo 0)
    connected=${connected:-0}
    [ "$connected" -ge "$STATIONS" ] && break
    kill -0 "$sim_pid" 2>/dev/null || { tail -5 "$work/$tag.sim.err" >&2; echo "bench-csms: the simulator ended before all stations connected" >&2; exit 1; }
    if [ $(($(date +%s) - t0)) -gt 120 ]; then echo "bench-csms: only $connected of $STATIONS stations connected after 120 s" >&2; exit 1; fi
    sleep 0.5
  done
  log "  $connected stations connected after $(($(date +%s) - t0)) s; warm-up ${warm_s}s"
  sleep "$warm_s"
  snapshot "$tag.a"
  local perf_pid="" trace_pid=""
  if [ -n "$PERF" ]; then
    perf record -q -F "$PERF_HZ" -g -p "$server_pid" -o "$work/$tag.perf.data" -- sleep "$dur_s" >/dev/null 2>&1 &
    perf_pid=$!
    perf trace -s -e fsync,fdatasync -p "$server_pid" -o "$work/$tag.trace.txt" -- sleep "$dur_s" >/dev/null 2>&1 &
    trace_pid=$!
  fi
  # The window, with a progress line every 5 s.
  local left=$dur_s step prev=$tag.a i=0
  while awk -v l="$left" 'BEGIN {exit !(l > 0)}'; do
    step=$(awk -v l="$left" 'BEGIN {print (l > 5 ? 5 : l)}')
    sleep "$step"
    left=$(awk -v l="$left" -v s="$step" 'BEGIN {print l - s}')
    i=$((i + 1))
    snapshot "$tag.p$i"
    awk -v a="$(counter "$work/$prev.metrics" ok)" -v b="$(counter "$work/$tag.p$i.metrics" ok)" \
      -v ta="$(cat "$work/$prev.t")" -v tb="$(cat "$work/$tag.p$i.t")" -v l="$left" -v c="$(curl -sf "$base/healthz" | jq -r .stations_connected)" \
      'BEGIN {printf "  … %5.0f events/s acknowledged, %d stations connected, %s s left\n", (b - a) / (tb - ta), c, l}' >&2
    prev=$tag.p$i
  done
  cp "$work/$prev.metrics" "$work/$tag.b.metrics"
  cp "$work/$prev.t" "$work/$tag.b.t"
  cp "$work/$prev.cpu" "$work/$tag.b.cpu"
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid" || true
    perf_summary "$work/$tag.perf.data" "$dur_s" >"$work/$tag.perf.txt" 2>/dev/null || true
    wait "$trace_pid" || true
    # The server's own syscalls: on SQLite one fsync of the WAL per commit.
    awk -v s="$dur_s" -v ev="$(($(counter "$work/$tag.b.metrics" ok) - $(counter "$work/$tag.a.metrics" ok)))" '
      $1 == "fsync" || $1 == "fdatasync" { fn += $2; ft += $4 }
      END { if (fn > 0) printf "fsync: %.0f/s (%.0f events per fsync), %.1f ms each, %.0f%% of the window\n", fn / s, ev / fn, ft / fn, ft / 10 / s }' "$work/$tag.trace.txt" >>"$work/$tag.perf.txt" 2>/dev/null || true
    sed 's/^/  perf: /' "$work/$tag.perf.txt" >&2
  fi
  local rss1 hwm load1
  rss1=$(rss_kb "$server_pid" VmRSS)
  hwm=$(rss_kb "$server_pid" VmHWM)
  load1=$(cut -d' ' -f1-3 /proc/loadavg)

  set +e
  wait "$sim_pid"
  local rc=$?
  set -e
  sim_pid=""
  [ "$rc" -eq 0 ] || log "  warning: the simulator exited $rc (see its report: errors at the end of a run are calls cut short)"
  curl -sf "$base/metrics" >"$work/$tag.end.metrics" || : >"$work/$tag.end.metrics"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""

  local rows=0
  case $backend in
  sqlite) rows=$(sqlite3 "$work/$tag.db/openev.db" 'SELECT count(*) FROM transaction_events' 2>/dev/null || echo null) ;;
  postgres)
    rows=$(psql "$PGURL/$pgdb" -Atqc 'SELECT count(*) FROM transaction_events' 2>/dev/null || echo null)
    psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null
    pgdb=""
    ;;
  esac
  local A=$work/$tag.a B=$work/$tag.b
  read -r srv_a sim_a busy_a disk_a pg_a <"$A.cpu"
  read -r srv_b sim_b busy_b disk_b pg_b <"$B.cpu"
  jq -c -n --arg backend "$backend" --arg batching "$batching" --argjson round "$round" \
    --argjson t "$(awk -v a="$(cat "$A.t")" -v b="$(cat "$B.t")" 'BEGIN {print b - a}')" \
    --argjson acked "$(($(counter "$B.metrics" ok) - $(counter "$A.metrics" ok)))" \
    --argjson failed "$(($(counter "$B.metrics" err) - $(counter "$A.metrics" err)))" \
    --argjson store_sum "$(awk -v a="$(store_stat "$A.metrics" sum)" -v b="$(store_stat "$B.metrics" sum)" 'BEGIN {print b - a}')" \
    --argjson store_n "$(awk -v a="$(store_stat "$A.metrics" count)" -v b="$(store_stat "$B.metrics" count)" 'BEGIN {print b - a}')" \
    --argjson srv "$((srv_b - srv_a))" --argjson simcpu "$((sim_b - sim_a))" --argjson busy "$((busy_b - busy_a))" --argjson disk "$((disk_b - disk_a))" \
    --argjson pg "$((${pg_b:-0} - ${pg_a:-0}))" --argjson hz "$hz" \
    --argjson rss0 "$rss0" --argjson rss1 "$rss1" --argjson hwm "$hwm" --arg load0 "$load0" --arg load1 "$load1" \
    --argjson rows "${rows:-null}" --argjson acked_total "$(counter "$work/$tag.end.metrics" ok)" --argjson rc "$rc" --slurpfile sim "$work/$tag.sim.json" --arg action "$event_action" '
    ($sim[0]) as $r | (($r.steady // $r).actions | map(select(.action == $action)) | .[0] // {}) as $ev |
    {backend: $backend, batching: $batching, round: $round, window_s: $t,
     events: $acked, events_per_s: ($acked / $t), failed: $failed,
     disk_kib_per_event: (if $acked > 0 then $disk / 1024 / $acked else null end),
     store_ms_per_event: (if $store_n > 0 then $store_sum / $store_n * 1000 else null end),
     server_cpu_ms_per_1k: (if $acked > 0 then $srv / $hz * 1e6 / $acked else null end),
     server_cpu_pct: ($srv / $hz / $t * 100), sim_cpu_pct: ($simcpu / $hz / $t * 100),
     pg_cpu_pct: ($pg / $hz / $t * 100), machine_busy_pct: ($busy / $hz / $t * 100),
     others_cpu_pct: (($busy - $srv - $simcpu - $pg) / $hz / $t * 100),
     rss_start_mib: ($rss0 / 1024), rss_mib: ($rss1 / 1024), rss_peak_mib: ($hwm / 1024),
     load_before: $load0, load_after: $load1, rows_stored: $rows, acked_in_run: $acked_total,
     connected: $r.peak_connected, stations: $r.stations,
     p50_ms: $ev.p50_ms, p90_ms: $ev.p90_ms, p99_ms: $ev.p99_ms, max_ms: $ev.max_ms,
     sim_errors: $r.errors_total, sim_errors_by_kind: $r.errors, sim_exit: $rc}' >>"$work/results.jsonl"
  tail -1 "$work/results.jsonl" | jq -r '"  → \(.events_per_s | floor) events/s durable, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms; server \(.server_cpu_pct | floor)% of a core (\(.server_cpu_ms_per_1k * 10 | floor / 10) ms per 1000), simulator \(.sim_cpu_pct | floor)%, PostgreSQL \(.pg_cpu_pct | floor)%, others \(.others_cpu_pct | floor)%; \(.failed) CALLERRORs"' >&2
}

log "bench-csms: $STATIONS stations, $PROTOCOL, window ${dur_s}s after ${warm_s}s warm-up, ramp $RAMP, backends ${backends[*]}, batching ${batchings[*]}, $RUNS round(s); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
skipped_off=0
for round in $(seq "$RUNS"); do
  for backend in "${backends[@]}"; do
    for batching in "${batchings[@]}"; do
      if [ "$batching" = off ] && [ "$off_supported" = 0 ]; then
        skipped_off=1
        continue
      fi
      log "round $round: $backend, batching $batching"
      run_one "$backend" "$batching" "$round"
    done
  done
done
if [ "$skipped_off" = 1 ]; then
  log "batching off skipped: this openev serve does not take batching=off in --db"
fi

store_lines=()
if [ "$STORE_BENCH" = 1 ] || { [ "$STORE_BENCH" = auto ] && [ "$skipped_off" = 1 ]; }; then
  pkgs=()
  for b in "${backends[@]}"; do pkgs+=("./store/$b/"); done
  log "store level: go test -run '^\$' -bench TxEvents -benchtime=$STORE_BENCHTIME -count=$RUNS ${pkgs[*]}"
  OPENEV_TEST_POSTGRES=${OPENEV_TEST_POSTGRES:-$PGURL/postgres?sslmode=disable} \
    go -C "$src" test -run '^$' -bench TxEvents -benchtime="$STORE_BENCHTIME" -count="$RUNS" "${pkgs[@]}" | tee "$work/store-bench.txt" >&2
fi

n=$(wc -l <"$work/results.jsonl" 2>/dev/null || echo 0)
[ "$n" -gt 0 ] || { echo "bench-csms: no run measured" >&2; exit 1; }
echo
echo "### $STATIONS stations, $PROTOCOL, ${dur_s} s window: $started_at UTC, openev $commit"
echo
echo "- Command: \`STATIONS=$STATIONS DURATION=$DURATION WARMUP=$WARMUP RAMP=$RAMP BACKENDS=$BACKENDS BATCHING=$BATCHING PROTOCOL=$PROTOCOL RUNS=$RUNS${METER_INTERVAL:+ METER_INTERVAL=$METER_INTERVAL}${MAX_BATCH:+ MAX_BATCH=$MAX_BATCH}${SERVER_ENV:+ SERVER_ENV=\"$SERVER_ENV\"}$([ "$SIM_NICE" = 0 ] || echo " SIM_NICE=$SIM_NICE") bash scripts/bench-csms.sh\`"
echo "- Machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM; load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "- openev $commit${dirty:+ with uncommitted changes to $dirty}; $(go version | cut -d' ' -f3)${pgversion:+; $pgversion}"
echo
echo "Medians of $RUNS round(s):"
echo
echo "| backend | batching | durable events/s | $event_action p50 | p99 | server CPU per 1000 events | server CPU | simulator CPU | PostgreSQL CPU | other CPU | server RSS (peak) | CALLERRORs |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
order=""
for b in "${backends[@]}"; do for m in "${batchings[@]}"; do order+="$b/$m "; done; done
jq -s -r --arg order "${order% }" 'def med: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def r1: if . == null then "—" else . * 10 | round / 10 end;
  . as $all | ($order | split(" "))[] as $k | [$all[] | select("\(.backend)/\(.batching)" == $k)] | select(length > 0) |
  "| \(.[0].backend) | \(.[0].batching) | \(map(.events_per_s) | med | round) | \(map(.p50_ms) | med) ms | \(map(.p99_ms) | med) ms | \(map(.server_cpu_ms_per_1k) | med | r1) ms | \(map(.server_cpu_pct) | med | round)% | \(map(.sim_cpu_pct) | med | round)% | \(map(.pg_cpu_pct) | med | round)% | \(map(.others_cpu_pct) | med | round)% | \(map(.rss_mib) | med | round) MiB (\(map(.rss_peak_mib) | max | round)) | \(map(.failed) | add) |"' "$work/results.jsonl"
echo
echo "Every run (CPU in % of one core over the window; stored ≥ acknowledged: transaction_events rows in the database at the end against the events acknowledged over the whole run):"
echo
echo "| round | backend | batching | events/s | p50 | p99 | server CPU /1000 | server | sim | PostgreSQL | others | store time per event | server disk writes per event | RSS | load before → after | stored ≥ acknowledged | sim errors |"
echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"
jq -r 'def r1: if . == null then "—" else . * 10 | round / 10 end;
  "| \(.round) | \(.backend) | \(.batching) | \(.events_per_s | round) | \(.p50_ms) ms | \(.p99_ms) ms | \(.server_cpu_ms_per_1k | r1) ms | \(.server_cpu_pct | round)% | \(.sim_cpu_pct | round)% | \(.pg_cpu_pct | round)% | \(.others_cpu_pct | round)% | \(.store_ms_per_event | r1) ms | \(.disk_kib_per_event | r1) KiB | \(.rss_mib | round) MiB | \(.load_before) → \(.load_after) | \(.rows_stored) ≥ \(.acked_in_run): \(if .rows_stored == null then "?" elif .rows_stored >= .acked_in_run then "yes" else "NO" end) | \(.sim_errors) |"' "$work/results.jsonl"
if [ -s "$work/store-bench.txt" ]; then
  echo
  echo "Store level, same session (go test -bench TxEvents, 1000 goroutines on the store alone, events/s):"
  echo
  echo '```'
  grep -E '^(Benchmark|pkg:)' "$work/store-bench.txt"
  echo '```'
fi
