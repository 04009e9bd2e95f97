#!/usr/bin/env bash
# The product as deployed: `proxyctl start --config FILE` measured exactly as a user runs it,
# side by side with nginx, HAProxy and a plain Node (undici) proxy, in one run.
#
#   1. Throughput matrix. Backend: nginx, 1 worker, `return 200 "hello\n"`. Targets, 1 worker
#      each: proxyctl-l7 (`node bin/run.js start --config <yaml> --workers 1 --base-id N
#      --runtime-dir DIR`, foreground, its own process group), proxyctl-l7-filters (the same
#      listener with a one-filter HTTP chain: the chain's price), proxyctl-l4 (tcp listener),
#      nginx (L7, keepalive 64), haproxy (mode http, http-reuse always), haproxy-tcp (mode tcp),
#      nginx-stream (L4, when the Debian module is installed), undici (bench/undici-peer.ts),
#      and direct (the backend itself; not in the default list). Scenarios keepalive and close
#      (`Connection: close`, a new connection per request); `wrk -t1 -c50 -d<dur>s --latency`;
#      a warm-up per target and scenario; --reps rounds interleaved (A B C ... A B C ...).
#      Per run: req/s, p50, p99, socket errors, non-2xx, CPU of the proxy's process group and of
#      wrk, and backend connections per 1k requests (the backend's stub_status accept counter).
#   2. Reload figures on proxyctl-l7: 20 `proxyctl reload --json` 1 s apart (timeline `ready`
#      atMs and CLI wall time), a few `reload --cold`, `node -e 0` and `status --json` wall
#      times, then 20 s of wrk keep-alive without reloads and 20 s with one reload a second.
#   3. Memory: RSS of a fresh proxyctl (supervisor, idle epoch, standby epoch if status shows
#      one) and of a fresh nginx, idle and holding 10,000 idle keep-alive connections.
#   4. The in-process DataPlane figure (dist/bench/proxy-http.js), as a secondary line.
# Results: <out>/summary.md (printed at the end), results.tsv, reload/*.jsonl, memory.tsv,
# and every raw wrk output beside them.
#
# Usage: bench/product.sh [options]
#   --duration S      seconds per measured wrk run (default 8)
#   --reps N          interleaved rounds per scenario (default 3)
#   --warmup S        warm-up seconds per target and scenario, not counted (default 2)
#   --targets LIST    comma-separated (default proxyctl-l7,proxyctl-l7-filters,proxyctl-l4,nginx,
#                     haproxy,haproxy-tcp,undici[,nginx-stream when installed]); also: direct
#   --scenarios LIST  keepalive,close (default both)
#   --skip-reload     no reload figures        --skip-memory   no memory figures
#   --skip-dataplane  no in-process DataPlane line
#   --quick           --duration 3 --reps 1 --warmup 1, 5 idle reloads, 2 cold, 6 s load runs
#   --mem-conns N     idle connections for the memory figure (default 10000)
#   --out DIR         default bench/results/<date-time>
#   --base-id B       proxyctl base ids B (l7), B+1 (l4), B+2 (memory), B+3 (l7-filters); default 41
#   --port-base P     ports P+1.. (see PORT below); default 19200
#   --proxyctl-root D the built proxyctl tree to measure (default: this repository) [PROXYCTL_ROOT]
#   --baseline-root D another built tree (an older commit), run as target proxyctl-l7-baseline
#                     (base id B+4) with the proxyctl-l7 config, for a same-run A/B
# A default run takes about 8 minutes on the 2-core VM (about 9 with nginx-stream).
#
# Loopback only. Every wrk run is bounded (-d, inside `timeout`). Every process is started with
# setsid (its PID is a new process group) and with a run tag in its environment; on exit, also
# on Ctrl-C or an error, each group is stopped (SIGTERM to its leader, SIGKILL to the group
# after 10 s) and any process still carrying the tag is stopped by PID. Nothing is killed by name.
set -u -o pipefail   # no -e: failures are handled where they happen; the EXIT trap cleans up

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONF=$ROOT/bench/conf
DIST=$ROOT/dist/bench
PROXYCTL_ROOT=${PROXYCTL_ROOT:-$ROOT}   # the proxyctl under test (another checkout, e.g. a release, with --proxyctl-root)

DURATION=8 REPS=3 WARMUP=2 CONNS=50 SCENARIOS=keepalive,close TARGETS=""
SKIP_RELOAD=0 SKIP_MEMORY=0 SKIP_DATAPLANE=0 QUICK=0
RELOADS=20 COLD_RELOADS=6 CLI_COUNT=10 LOAD_SECONDS=20 MEM_CONNS=10000
BASE_ID=41 PORT_BASE=19200 OUT="" BASELINE_ROOT=""

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

while (( $# )); do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --skip-reload) SKIP_RELOAD=1; shift ;;
    --skip-memory) SKIP_MEMORY=1; shift ;;
    --skip-dataplane) SKIP_DATAPLANE=1; shift ;;
    --quick) QUICK=1; shift ;;
    --mem-conns) MEM_CONNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --base-id) BASE_ID=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --proxyctl-root) PROXYCTL_ROOT=$2; shift 2 ;;
    --baseline-root) BASELINE_ROOT=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
PROXYCTL_ROOT=$(cd "$PROXYCTL_ROOT" && pwd) || die "no such directory: --proxyctl-root"
CLI=$PROXYCTL_ROOT/bin/run.js
if [[ -n $BASELINE_ROOT ]]; then
  BASELINE_ROOT=$(cd "$BASELINE_ROOT" && pwd) || die "no such directory: --baseline-root"
  [[ -f $BASELINE_ROOT/dist/src/commands/start.js ]] || die "--baseline-root $BASELINE_ROOT is not built (npm run build there)"
fi
if (( QUICK )); then
  DURATION=3 REPS=1 WARMUP=1 RELOADS=5 COLD_RELOADS=2 CLI_COUNT=3 LOAD_SECONDS=6
fi
for v in DURATION REPS WARMUP MEM_CONNS BASE_ID PORT_BASE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "${v,,} takes a whole number (got ${!v})"
done

STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so
if [[ -z $TARGETS ]]; then
  TARGETS=proxyctl-l7,proxyctl-l7-filters,proxyctl-l4,nginx,haproxy,haproxy-tcp,undici
  [[ -n $BASELINE_ROOT ]] && TARGETS+=,proxyctl-l7-baseline
  [[ -f $STREAM_MODULE ]] && TARGETS+=,nginx-stream
fi

BACKEND_PORT=$((PORT_BASE + 1)) STATUS_PORT=$((PORT_BASE + 2))
declare -A PORT=(
  [direct]=$BACKEND_PORT [proxyctl-l7]=$((PORT_BASE + 11)) [proxyctl-l4]=$((PORT_BASE + 12))
  [nginx]=$((PORT_BASE + 13)) [haproxy]=$((PORT_BASE + 14)) [haproxy-tcp]=$((PORT_BASE + 15))
  [nginx-stream]=$((PORT_BASE + 16)) [undici]=$((PORT_BASE + 17)) [proxyctl-l7-filters]=$((PORT_BASE + 18)) [proxyctl-l7-baseline]=$((PORT_BASE + 19))
)
declare -A LAYER=([direct]=- [proxyctl-l7]=L7 [proxyctl-l7-filters]=L7 [proxyctl-l7-baseline]=L7 [proxyctl-l4]=L4 [nginx]=L7 [haproxy]=L7 [haproxy-tcp]=L4 [nginx-stream]=L4 [undici]=L7)
MEM_PROXYCTL_PORT=$((PORT_BASE + 21)) MEM_NGINX_PORT=$((PORT_BASE + 22))
IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
IFS=, read -r -a SCENARIO_LIST <<<"$SCENARIOS"
for t in "${TARGET_LIST[@]}"; do [[ -n ${PORT[$t]:-} ]] || die "unknown target $t (${!PORT[*]})"; done
for s in "${SCENARIO_LIST[@]}"; do [[ $s == keepalive || $s == close ]] || die "unknown scenario $s (keepalive, close)"; done
[[ ,$TARGETS, == *,nginx-stream,* && ! -f $STREAM_MODULE ]] && die "nginx-stream needs $STREAM_MODULE (apt-get install libnginx-mod-stream)"
has_target() { [[ ,$TARGETS, == *,$1,* ]]; }

# ------------------------------------------------------------------ preconditions ----
for tool in node wrk nginx haproxy setsid ss timeout /usr/bin/time; do
  command -v "$tool" >/dev/null || die "missing tool: $tool (bench/run.sh installs the Debian packages)"
done
for f in "$DIST/undici-peer.js" "$DIST/idle-conns.js" "$DIST/product-reload.js" "$DIST/product-report.js" "$DIST/reload-probe.js" "$PROXYCTL_ROOT/dist/src/commands/start.js"; do
  [[ -f $f ]] || die "$f is missing: run npm run build first"
done
[[ -d $ROOT/node_modules/undici ]] || die "undici is not installed (npm ci)"
# 10,000 idle connections need as many descriptors in the client and in the proxy; every
# process started below inherits this limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null   # (a container may cap the hard limit)
(( $(ulimit -n) > MEM_CONNS + 1000 )) || { log "WARNING: ulimit -n is $(ulimit -n): the memory test uses $(( $(ulimit -n) - 1000 )) connections"; MEM_CONNS=$(( $(ulimit -n) - 1000 )); }

[[ -z $OUT ]] && OUT=$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
[[ -e $OUT/results.tsv ]] && die "$OUT already holds a run; use a new --out"
mkdir -p "$OUT/raw" "$OUT/reload"

exec 9>"${TMPDIR:-/tmp}/proxyctl-bench-product.lock"
flock -n 9 || die "another bench/product.sh is running (two runs would share ports and cores)"


# connections the backend has accepted so far (stub_status, read with bash's /dev/tcp)
backend_accepts() {
  local r
  r=$( { exec 3<>"/dev/tcp/127.0.0.1/$STATUS_PORT" && printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' >&3 && timeout 2 cat <&3; } 2>/dev/null | tr -d '\r')
  awk '/^ *[0-9]+ +[0-9]+ +[0-9]+ *$/ { print $1; exit }' <<<"$r"
}



declare -A PGID RUNTIME BASE
start_target() { # TARGET
  local t=$1 p=${PORT[$1]}
  case $t in
    direct) PGID[$t]=""; return 0 ;;
    proxyctl-l7) require_free_port "$p"; start_proxyctl "$t" "$CONF/product-proxyctl-l7.yaml" "$p" "$BASE_ID"; RUNTIME[$t]=$RT_DIR; BASE[$t]=$BASE_ID ;;
    proxyctl-l7-baseline) [[ -n $BASELINE_ROOT ]] || die "target proxyctl-l7-baseline needs --baseline-root"
      require_free_port "$p"; start_proxyctl "$t" "$CONF/product-proxyctl-l7.yaml" "$p" $((BASE_ID + 4)) "$BASELINE_ROOT/bin/run.js" ;;
    proxyctl-l7-filters) require_free_port "$p"; start_proxyctl "$t" "$CONF/product-proxyctl-l7-filters.yaml" "$p" $((BASE_ID + 3)) ;;
    proxyctl-l4) require_free_port "$p"; start_proxyctl "$t" "$CONF/product-proxyctl-l4.yaml" "$p" $((BASE_ID + 1)); RUNTIME[$t]=$RT_DIR; BASE[$t]=$((BASE_ID + 1)) ;;
    nginx) require_free_port "$p"; start_nginx nginx "$CONF/product-nginx-proxy.conf" "$p" ;;
    nginx-stream) require_free_port "$p"; start_nginx nginx-stream "$CONF/product-nginx-stream.conf" "$p" ;;
    haproxy|haproxy-tcp)
      if [[ -n ${HAPROXY_PGID:-} ]]; then PGID[$t]=$HAPROXY_PGID; return 0; fi
      require_free_port "${PORT[haproxy]}"; require_free_port "${PORT[haproxy-tcp]}"
      render "$CONF/product-haproxy.cfg" "$WORK/haproxy.cfg" "${PORT[haproxy]}" "${PORT[haproxy-tcp]}"
      cp "$WORK/haproxy.cfg" "$OUT/raw/haproxy.cfg"
      haproxy -c -q -f "$WORK/haproxy.cfg" || die "haproxy config check failed"
      start_group haproxy "$OUT/raw/haproxy.out" haproxy -W -f "$WORK/haproxy.cfg"
      HAPROXY_PGID=$LAST_PGID ;;
    undici) require_free_port "$p"; start_group undici "$OUT/raw/undici.out" node "$DIST/undici-peer.js" --port "$p" --upstream "http://127.0.0.1:$BACKEND_PORT" --connections 64 ;;
  esac
  PGID[$t]=$LAST_PGID
}


declare -A NOTE
check_target() { # TARGET: answers 200 hello, and Connection: close with Connection: close
  local t=$1 url=http://127.0.0.1:${PORT[$1]}/ a b
  a=$(timeout 10 node "$DIST/reload-probe.js" get "$url" 2>&1) || die "$t does not answer 200 at $url: $a"
  [[ $a == *'"body":"hello\n"'* ]] || die "$t answered $a (expected 200 hello)"
  b=$(timeout 10 node "$DIST/reload-probe.js" get "$url" --close 2>&1)
  if [[ $b != *'"connection":"close"'* ]]; then
    NOTE[$t]="(!) answers a Connection: close request with $b"
    log "WARNING: $t ${NOTE[$t]}"
  fi
  echo -e "$t\t$url\t$a\t$b" >>"$OUT/raw/checks.tsv"
}

# ---------------------------------------------------------------------- wrk ----
# run_wrk OUTFILE PORT DURATION CLOSE(0|1) PGID [CMD...] -> OUTFILE with wrk's output and
# accounting lines. wrk runs in a group of its own; CMD, if any, runs meanwhile (from 0.5 s in).
run_wrk() {
  local out=$1 port=$2 dur=$3 close=$4 ppg=${5:-} hdr=()
  shift 5
  (( close )) && hdr=(-H 'Connection: close')
  local a0 a1 p0 p1 m0 m1 rc
  echo "# $(date -u +%FT%TZ) wrk -t1 -c$CONNS -d${dur}s --latency ${hdr[*]} http://127.0.0.1:$port/" >"$out"
  a0=$(backend_accepts); p0=$(pg_ticks "$ppg"); read -r -a m0 < <(machine_ticks)
  start_group wrk "$out.tmp" timeout $((dur + 20)) /usr/bin/time -f 'WRK_CPU user_s=%U sys_s=%S' \
    wrk -t1 -c"$CONNS" -d"${dur}s" --latency -s "$CONF/summary.lua" "${hdr[@]}" "http://127.0.0.1:$port/"
  local wpg=$LAST_PGID
  if (( $# )); then sleep 0.5; "$@"; fi
  wait "$wpg"; rc=$?
  p1=$(pg_ticks "$ppg"); read -r -a m1 < <(machine_ticks); a1=$(backend_accepts)
  stop_group wrk "$wpg"
  { cat "$out.tmp"; echo "# wrk exit: $rc"; } >>"$out" && rm -f "$out.tmp"
  [[ -n $a0 && -n $a1 ]] && echo "BACKEND_CONNS opened=$((a1 - a0 - 1))" >>"$out"
  awk -v p=$((p1 - p0)) -v hz="$CLK_TCK" -v d="$dur" -v has="${ppg:+1}" \
      -v mb=$((m1[0] - m0[0])) -v mt=$((m1[1] - m0[1])) -v ms=$((m1[2] - m0[2])) 'BEGIN {
    printf "CPU_SHARE proxy_pct=%s machine_busy_pct=%.0f steal_pct=%.1f\n", (has ? sprintf("%.0f", p / hz / d * 100) : "-"),
      (mt > 0 ? mb / mt * 100 : 0), (mt > 0 ? ms / mt * 100 : 0) }' >>"$out"
}

# parse_wrk FILE -> "rps p50_ms p99_ms sock_errors non2xx requests proxy_cpu wrk_cpu backend_conns_per_1k busy steal"
parse_wrk() {
  awk '
    /^BENCH_SUMMARY/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); s[kv[1]] = kv[2] } }
    /^WRK_CPU/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); w[kv[1]] = kv[2] } }
    /^CPU_SHARE/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); c[kv[1]] = kv[2] } }
    /^BACKEND_CONNS/ { split($2, kv, "="); bc = kv[2] }
    END {
      if (!("requests" in s) || s["duration_us"] == 0) { print "NA NA NA NA NA NA NA NA NA NA NA"; exit }
      d = s["duration_us"] / 1e6
      printf "%.0f %.2f %.2f %d %d %d %s %.0f %s %s %s\n", s["requests"] / d, s["p50_us"] / 1000, s["p99_us"] / 1000,
        s["connect"] + s["read"] + s["write"] + s["timeout"], s["status"], s["requests"], c["proxy_pct"],
        (w["user_s"] + w["sys_s"]) / d * 100, (bc != "" && s["requests"] > 0 ? sprintf("%.1f", bc / s["requests"] * 1000) : "NA"),
        c["machine_busy_pct"], c["steal_pct"]
    }' "$1"
}

# ------------------------------------------------------------------- sections ----
matrix() {
  local s t r n=0 total=$(( ${#TARGET_LIST[@]} * ${#SCENARIO_LIST[@]} * REPS ))
  log "throughput: ${TARGET_LIST[*]}; ${SCENARIO_LIST[*]}; $REPS reps x ${DURATION}s (+${WARMUP}s warm-up each)"
  for s in "${SCENARIO_LIST[@]}"; do
    if (( WARMUP > 0 )); then
      for t in "${TARGET_LIST[@]}"; do
        run_wrk "$OUT/raw/warmup.$s.$t.txt" "${PORT[$t]}" "$WARMUP" "$([[ $s == close ]] && echo 1 || echo 0)" "${PGID[$t]}"
        sleep 0.5
      done
    fi
    for (( r = 1; r <= REPS; r++ )); do
      for t in "${TARGET_LIST[@]}"; do
        n=$((n + 1))
        local f=$OUT/raw/$s.$t.$r.txt
        run_wrk "$f" "${PORT[$t]}" "$DURATION" "$([[ $s == close ]] && echo 1 || echo 0)" "${PGID[$t]}"
        read -r rps p50 p99 serr n2xx req pcpu wcpu bc busy steal < <(parse_wrk "$f")
        printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$t" "${LAYER[$t]}" \
          "$rps" "$p50" "$p99" "$serr" "$n2xx" "$req" "$pcpu" "$wcpu" "$bc" "$busy" "$steal" "${NOTE[$t]:-}" >>"$OUT/results.tsv"
        log "[$n/$total] $s rep$r $t: $rps req/s, p99 $p99 ms, socket errors $serr, non-2xx $n2xx, cpu proxy $pcpu% wrk $wcpu%, backend conns/1k $bc"
        sleep 1
      done
    done
  done
}

reload_figures() { # on the running proxyctl-l7
  local t=proxyctl-l7 rt=${RUNTIME[proxyctl-l7]} b=${BASE[proxyctl-l7]} common
  common=(--cli "$CLI" --base-id "$b" --runtime-dir "$rt")
  log "reload: $RELOADS x proxyctl reload --json, 1 s apart, no load"
  node "$DIST/product-reload.js" reloads "${common[@]}" --count "$RELOADS" --interval 1 --log "$OUT/reload/idle.jsonl" --tag idle \
    2>"$OUT/reload/idle.err" || log "WARNING: reload loop failed (see $OUT/reload/idle.err)"
  sleep 1
  log "reload: $COLD_RELOADS x proxyctl reload --cold --json"
  node "$DIST/product-reload.js" reloads "${common[@]}" --count "$COLD_RELOADS" --interval 1 --cold --log "$OUT/reload/cold.jsonl" --tag cold \
    2>"$OUT/reload/cold.err" || log "WARNING: cold reload loop failed (see $OUT/reload/cold.err)"
  sleep 1
  log "reload: $CLI_COUNT x node -e 0 and proxyctl status --json"
  node "$DIST/product-reload.js" cli "${common[@]}" --count "$CLI_COUNT" --log "$OUT/reload/cli.jsonl" --tag cli \
    2>"$OUT/reload/cli.err" || log "WARNING: cli timing failed (see $OUT/reload/cli.err)"
  sleep 2   # let the last epoch's predecessor finish draining
  log "reload: ${LOAD_SECONDS}s wrk keep-alive without reloads, then ${LOAD_SECONDS}s with one reload a second"
  run_wrk "$OUT/reload/control.wrk.txt" "${PORT[$t]}" "$LOAD_SECONDS" 0 "${PGID[$t]}"
  sleep 1
  run_wrk "$OUT/reload/under-load.wrk.txt" "${PORT[$t]}" "$((LOAD_SECONDS + 1))" 0 "${PGID[$t]}" \
    reload_loop_under_load "${common[@]}"
  sleep 1
  [[ $(timeout 5 node "$DIST/reload-probe.js" get "http://127.0.0.1:${PORT[$t]}/" 2>/dev/null) == *'"status":200'* ]] \
    || log "WARNING: proxyctl-l7 does not answer after the reloads"
}

reload_loop_under_load() {
  node "$DIST/product-reload.js" reloads "$@" --count "$LOAD_SECONDS" --interval 1 --deadline "$LOAD_SECONDS" \
    --log "$OUT/reload/under-load.jsonl" --tag load 2>"$OUT/reload/under-load.err" || log "WARNING: reload loop under load failed"
}

# memory_of NAME PORT KIND(proxyctl|nginx) PGID [RUNTIME BASE]: writes rows to memory.tsv
memory_of() {
  local name=$1 port=$2 kind=$3 pg=$4 rt=${5:-} b=${6:-} sup="" epoch="" standby="" worker="" st
  run_wrk "$OUT/raw/memory-warmup.$name.txt" "$port" 2 0 "$pg"
  sleep 2
  if [[ $kind == proxyctl ]]; then
    sup=$pg
    st=$(timeout 20 node "$CLI" status --json --base-id "$b" --runtime-dir "$rt" 2>/dev/null)
    echo "$st" >"$OUT/raw/memory.$name.status.json"
    read -r epoch standby < <(node -e '
      const s = JSON.parse(process.argv[1]);
      const a = (s.epochs || []).find((e) => e.state === "active");
      const sb = s.standby && typeof s.standby.pid === "number" ? s.standby.pid : (s.epochs || []).find((e) => e.state === "standby")?.pid;
      console.log(a ? a.pid : "NA", sb ?? "NA");' "$st" 2>/dev/null || echo "NA NA")
  else
    sup=$pg
    epoch=$(group_pids "$pg" | grep -vx "$pg" | head -1)
  fi
  local r_sup r_ep r_sb
  r_sup=$(rss_kb "$sup"); r_ep=$(rss_kb "${epoch:-0}"); r_sb=NA
  [[ -n $standby && $standby != NA ]] && r_sb=$(rss_kb "$standby")
  log "memory $name: idle RSS supervisor/master $r_sup kB, epoch/worker $r_ep kB, standby $r_sb kB; opening $MEM_CONNS idle connections"
  local f=$OUT/raw/memory.$name.idle-conns.out
  start_group "idle-conns-$name" "$f" timeout 300 node "$DIST/idle-conns.js" --port "$port" --count "$MEM_CONNS" --concurrency 200 --hold 240
  local cpg=$LAST_PGID i=0
  while ! grep -q '"ready":true' "$f" 2>/dev/null && (( i < 1200 )); do sleep 0.1; i=$((i + 1)); done
  sleep 2
  local e_sup e_ep est
  e_sup=$(rss_kb "$sup"); e_ep=$(rss_kb "${epoch:-0}")
  est=$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l)
  log "memory $name: with connections: supervisor/master $e_sup kB, epoch/worker $e_ep kB; established at :$port: $est; client: $(tail -1 "$f")"
  stop_group "idle-conns-$name" "$cpg"
  local client; client=$(grep '"ready":true' "$f" | tail -1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" supervisor "$sup" "$r_sup" "$e_sup" "$est" "$client" >>"$OUT/memory.tsv"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" epoch "${epoch:-NA}" "$r_ep" "$e_ep" "$est" "$client" >>"$OUT/memory.tsv"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" standby "${standby:-NA}" "$r_sb" NA "$est" "$client" >>"$OUT/memory.tsv"
}

memory_figures() {
  printf 'target\trole\tpid\trss_idle_kb\trss_conns_kb\testablished\tclient\n' >"$OUT/memory.tsv"
  echo "$MEM_CONNS" >"$OUT/memory.conns"
  require_free_port "$MEM_PROXYCTL_PORT"; require_free_port "$MEM_NGINX_PORT"
  start_proxyctl proxyctl-mem "$CONF/product-proxyctl-l7.yaml" "$MEM_PROXYCTL_PORT" $((BASE_ID + 2))
  local ppg=$LAST_PGID prt=$RT_DIR
  wait_serving "$MEM_PROXYCTL_PORT" 30 || die "proxyctl-mem does not serve (see $OUT/raw/proxyctl-mem.log)"
  start_nginx nginx-mem "$CONF/product-nginx-proxy.conf" "$MEM_NGINX_PORT"
  local npg=$LAST_PGID
  wait_serving "$MEM_NGINX_PORT" 10 || die "nginx-mem does not serve"
  memory_of proxyctl "$MEM_PROXYCTL_PORT" proxyctl "$ppg" "$prt" $((BASE_ID + 2))
  memory_of nginx "$MEM_NGINX_PORT" nginx "$npg"
  stop_group proxyctl-mem "$ppg"
  stop_group nginx-mem "$npg"
}

# --------------------------------------------------------------------------- main ----
WORK=$(mktemp -d "${TMPDIR:-/tmp}/proxyctl-product-XXXXXX") && chmod 700 "$WORK"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
T_START=$(date +%s)

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(nproc) CPUs, $(uname -r),$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions: node $(node -v), $(nginx -v 2>&1 | sed 's/.*: //'), HAProxy $(haproxy -v 2>/dev/null | head -1 | awk '{ print $3 }'), $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }'), undici $(node -p 'require("'"$ROOT"'/node_modules/undici/package.json").version'), proxyctl $PROXYCTL_ROOT$(git -C "$PROXYCTL_ROOT" rev-parse --short HEAD 2>/dev/null | sed 's/^/ at /')$(git -C "$PROXYCTL_ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' (+ uncommitted src changes, or not a git checkout)')"
  [[ -n $BASELINE_ROOT ]] && echo "baseline: proxyctl-l7-baseline runs $BASELINE_ROOT$(git -C "$BASELINE_ROOT" rev-parse --short HEAD 2>/dev/null | sed 's/^/ at /')"
  echo "command: bench/product.sh --duration $DURATION --reps $REPS --warmup $WARMUP --targets $TARGETS --scenarios $SCENARIOS$( ((QUICK)) && echo ' --quick')$( ((SKIP_RELOAD)) && echo ' --skip-reload')$( ((SKIP_MEMORY)) && echo ' --skip-memory')"
  echo "load: wrk -t1 -c$CONNS -d${DURATION}s --latency (close: -H 'Connection: close'); warm-up ${WARMUP}s per target and scenario; $REPS reps interleaved; medians"
  (( SKIP_RELOAD )) || echo "reload: $RELOADS idle reloads 1 s apart, $COLD_RELOADS cold, $CLI_COUNT x node -e 0 / status, ${LOAD_SECONDS}s with and without reloads"
  (( SKIP_MEMORY )) || echo "memory: $MEM_CONNS idle keep-alive connections; ulimit -n $(ulimit -n)"
} >"$OUT/env.txt"
printf 'scenario\trep\ttarget\tlayer\trps\tp50_ms\tp99_ms\tsocket_errors\tnon2xx\trequests\tproxy_cpu_pct\twrk_cpu_pct\tbackend_conns_per_1k\tbusy_pct\tsteal_pct\tnote\n' >"$OUT/results.tsv"
: >"$OUT/raw/checks.tsv"

require_free_port "$BACKEND_PORT"; require_free_port "$STATUS_PORT"
start_nginx backend "$CONF/product-nginx-backend.conf" "$BACKEND_PORT"
BACKEND_PGID=$LAST_PGID
wait_port "$BACKEND_PORT" 10 || die "the backend does not listen on $BACKEND_PORT"
wait_port "$STATUS_PORT" 10 || die "the backend's stub_status does not listen on $STATUS_PORT"

for t in "${TARGET_LIST[@]}"; do start_target "$t"; done
for t in "${TARGET_LIST[@]}"; do
  wait_serving "${PORT[$t]}" 30 || die "$t does not serve on ${PORT[$t]} (see $OUT/raw/$t.*)"
  check_target "$t"
done
log "every target answers 200 hello (checks: $OUT/raw/checks.tsv)"

matrix

if (( ! SKIP_RELOAD )); then
  if has_target proxyctl-l7; then
    # the other targets are idle from here on: stop them, so they cost nothing
    for t in "${TARGET_LIST[@]}"; do
      [[ $t == proxyctl-l7 || $t == direct || -z ${PGID[$t]:-} ]] && continue
      [[ $t == haproxy-tcp && ,$TARGETS, == *,haproxy,* ]] && continue
      stop_group "$t" "${PGID[$t]}"
      [[ $t == haproxy* ]] && HAPROXY_PGID=""
    done
    reload_figures
  else
    log "no proxyctl-l7 target: no reload figures"
  fi
fi
for (( i = ${#GROUPS_STARTED[@]} - 1; i >= 0; i-- )); do
  g=${GROUPS_STARTED[i]}
  [[ ${g%%:*} == backend ]] || stop_group "${g%%:*}" "${g##*:}"
done

(( SKIP_MEMORY )) || memory_figures

stop_group backend "$BACKEND_PGID"

if (( ! SKIP_DATAPLANE )); then
  log "in-process DataPlane (dist/bench/proxy-http.js, keep-alive, $((QUICK ? 3 : 4)) s, 1 rep)"
  # in a group of its own like everything else: it starts its own nginx pair as children
  start_group dataplane "$OUT/dataplane.txt" timeout 120 node "$ROOT/dist/bench/proxy-http.js" --duration $((QUICK ? 3 : 4)) --reps 1
  DP_PGID=$LAST_PGID
  wait "$DP_PGID" || log "WARNING: proxy-http.js failed (see $OUT/dataplane.txt)"
  stop_group dataplane "$DP_PGID"
fi

echo "elapsed: $(( $(date +%s) - T_START )) s" >>"$OUT/env.txt"
node "$DIST/product-report.js" --dir "$OUT" >"$OUT/summary.md" || die "product-report failed"
cat "$OUT/summary.md"
