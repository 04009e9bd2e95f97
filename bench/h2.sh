#!/usr/bin/env bash
# HTTP/2 as deployed: `proxyctl start --config FILE` with an h2c listener, side by side with
# nginx (`listen ... http2`), HAProxy (`bind ... proto h2`) and a plain node:http2 proxy
# (bench/undici-peer.ts --h2c), in one run. Every target takes h2c with prior knowledge and
# forwards over pooled HTTP/1.1 to the same backend as bench/product.sh (nginx, 1 worker,
# `return 200 "hello\n"`). Each target runs 1 worker / thread.
#
# Load: `h2load -t1 -c10 -m100 -D<dur>`: 10 connections, 100 concurrent streams each. A warm-up
# per target; --reps rounds interleaved (A B C ... A B C ...). Per run: req/s, mean and max
# request time, failed/errored requests, non-2xx, CPU of the target's process group and of
# h2load. Results: <out>/summary.md (printed at the end), results.tsv, raw h2load outputs.
#
# Usage: bench/h2.sh [options]
#   --duration S      seconds per measured run (default 8)
#   --reps N          interleaved rounds (default 3)
#   --warmup S        warm-up seconds per target, not counted (default 2)
#   --targets LIST    comma-separated (default proxyctl-h2,nginx-h2,haproxy-h2,node-h2)
#   --conns N         h2load -c (default 10)       --streams N  h2load -m (default 100)
#   --quick           --duration 3 --reps 1 --warmup 1
#   --out DIR         default bench/results/h2-<date-time>
#   --base-id B       proxyctl's base id (default 45)
#   --port-base P     ports P+1.. (default 19300)
#   --proxyctl-root D the built proxyctl tree to measure (default: this repository)
# A default run takes about 2 minutes. Loopback only; every h2load run is bounded (-D, inside
# `timeout`); processes are stopped by process group, never by name (bench/lib.sh).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONF=$ROOT/bench/conf
DIST=$ROOT/dist/bench
PROXYCTL_ROOT=$ROOT
DURATION=8 REPS=3 WARMUP=2 CONNS=10 STREAMS=100 TARGETS=proxyctl-h2,nginx-h2,haproxy-h2,node-h2
BASE_ID=45 PORT_BASE=19300 OUT=""
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

while (( $# )); do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --quick) DURATION=3 REPS=1 WARMUP=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    --base-id) BASE_ID=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --proxyctl-root) PROXYCTL_ROOT=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for v in DURATION REPS WARMUP CONNS STREAMS BASE_ID PORT_BASE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "${v,,} takes a whole number (got ${!v})"
done
PROXYCTL_ROOT=$(cd "$PROXYCTL_ROOT" && pwd) || die "no such directory: --proxyctl-root"
CLI=$PROXYCTL_ROOT/bin/run.js

BACKEND_PORT=$((PORT_BASE + 1)) STATUS_PORT=$((PORT_BASE + 2))
declare -A PORT=([proxyctl-h2]=$((PORT_BASE + 11)) [nginx-h2]=$((PORT_BASE + 12)) [haproxy-h2]=$((PORT_BASE + 13)) [node-h2]=$((PORT_BASE + 14)))
IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for t in "${TARGET_LIST[@]}"; do [[ -n ${PORT[$t]:-} ]] || die "unknown target $t (${!PORT[*]})"; done

for tool in node h2load nginx haproxy setsid timeout /usr/bin/time; do
  command -v "$tool" >/dev/null || die "missing tool: $tool (bench/run.sh installs the Debian packages)"
done
for f in "$DIST/undici-peer.js" "$DIST/reload-probe.js" "$PROXYCTL_ROOT/dist/src/commands/start.js"; do
  [[ -f $f ]] || die "$f is missing: run npm run build first"
done

[[ -z $OUT ]] && OUT=$ROOT/bench/results/h2-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
[[ -e $OUT/results.tsv ]] && die "$OUT already holds a run; use a new --out"
mkdir -p "$OUT/raw"
exec 9>"${TMPDIR:-/tmp}/proxyctl-bench-product.lock"   # the same lock as product.sh: one benchmark at a time
flock -n 9 || die "another benchmark is running (two runs would share ports and cores)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/proxyctl-h2-XXXXXX") && chmod 700 "$WORK"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

declare -A PGID
start_target() { # TARGET
  local t=$1 p=${PORT[$1]}
  require_free_port "$p"
  case $t in
    proxyctl-h2) start_proxyctl "$t" "$CONF/h2-proxyctl.yaml" "$p" "$BASE_ID" ;;
    nginx-h2) start_nginx "$t" "$CONF/h2-nginx-proxy.conf" "$p" ;;
    haproxy-h2)
      render "$CONF/h2-haproxy.cfg" "$WORK/haproxy.cfg" "$p"
      cp "$WORK/haproxy.cfg" "$OUT/raw/haproxy-h2.cfg"
      haproxy -c -q -f "$WORK/haproxy.cfg" || die "haproxy config check failed"
      start_group "$t" "$OUT/raw/$t.out" haproxy -W -f "$WORK/haproxy.cfg" ;;
    node-h2) start_group "$t" "$OUT/raw/$t.out" node "$DIST/undici-peer.js" --h2c --port "$p" --upstream "http://127.0.0.1:$BACKEND_PORT" --connections 64 ;;
  esac
  PGID[$t]=$LAST_PGID
}

# h2 200 "hello\n" from the target (h2load -n1 with prior knowledge), or die
check_target() {
  local out
  out=$(timeout 10 h2load -n1 -c1 "http://127.0.0.1:${PORT[$1]}/" 2>&1)
  [[ $out == *'1 succeeded'* && $out == *'1 2xx'* ]] || die "$1 does not answer h2c 200 at :${PORT[$1]}: $out"
}

# run_h2load OUTFILE PORT DURATION PGID: h2load's output plus the CPU lines
run_h2load() {
  local out=$1 port=$2 dur=$3 ppg=$4 p0 p1 rc
  echo "# $(date -u +%FT%TZ) h2load -t1 -c$CONNS -m$STREAMS -D$dur http://127.0.0.1:$port/" >"$out"
  p0=$(pg_ticks "$ppg")
  start_group h2load "$out.tmp" timeout $((dur + 20)) /usr/bin/time -f 'H2LOAD_CPU user_s=%U sys_s=%S' \
    h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$dur" "http://127.0.0.1:$port/"
  local hpg=$LAST_PGID
  wait "$hpg"; rc=$?
  p1=$(pg_ticks "$ppg")
  stop_group h2load "$hpg"
  { cat "$out.tmp"; echo "# h2load exit: $rc"; } >>"$out" && rm -f "$out.tmp"
  awk -v p=$((p1 - p0)) -v hz="$CLK_TCK" -v d="$dur" 'BEGIN { printf "CPU_SHARE proxy_pct=%.0f\n", p / hz / d * 100 }' >>"$out"
}

# parse_h2load FILE -> "rps mean_ms max_ms failed errored non2xx requests proxy_cpu h2load_cpu"
parse_h2load() {
  awk -v d="$2" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^finished in/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^req\/s/) { rps = $i; sub(/,/, "", rps) } }
    /^requests:/ { done = $8; failed = $10; errored = $12 }
    /^status codes:/ { s2 = $3; s3 = $5; s4 = $7; s5 = $9 }
    /^time for request:/ { mx = ms($5); mean = ms($6) }
    /^H2LOAD_CPU/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); w[kv[1]] = kv[2] } }
    /^CPU_SHARE/ { split($2, kv, "="); pc = kv[2] }
    END {
      if (rps == "") { print "NA NA NA NA NA NA NA NA NA"; exit }
      printf "%.0f %.2f %.2f %d %d %d %d %s %.0f\n", rps, mean, mx, failed, errored, s3 + s4 + s5, done, pc, (w["user_s"] + w["sys_s"]) / d * 100
    }' "$1"
}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(nproc) CPUs, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions: node $(node -v), $(nginx -v 2>&1 | sed 's/.*: //'), HAProxy $(haproxy -v 2>/dev/null | head -1 | awk '{ print $3 }'), $(h2load --version 2>&1 | head -1), proxyctl $PROXYCTL_ROOT$(git -C "$PROXYCTL_ROOT" rev-parse --short HEAD 2>/dev/null | sed 's/^/ at /')"
  echo "command: bench/h2.sh --duration $DURATION --reps $REPS --warmup $WARMUP --targets $TARGETS --conns $CONNS --streams $STREAMS"
} >"$OUT/env.txt"
printf 'rep\ttarget\trps\tmean_ms\tmax_ms\tfailed\terrored\tnon2xx\trequests\tproxy_cpu_pct\th2load_cpu_pct\n' >"$OUT/results.tsv"

require_free_port "$BACKEND_PORT"; require_free_port "$STATUS_PORT"
start_nginx backend "$CONF/product-nginx-backend.conf" "$BACKEND_PORT"
wait_port "$BACKEND_PORT" 10 || die "the backend does not listen on $BACKEND_PORT"
for t in "${TARGET_LIST[@]}"; do start_target "$t"; done
for t in "${TARGET_LIST[@]}"; do
  wait_port "${PORT[$t]}" 30 || die "$t does not listen on ${PORT[$t]} (see $OUT/raw/$t.*)"
  i=0; until check_target "$t" 2>/dev/null || (( ++i > 40 )); do sleep 0.25; done
  check_target "$t"
done
log "every target answers h2c 200 hello"

total=$(( ${#TARGET_LIST[@]} * REPS )) n=0
if (( WARMUP > 0 )); then
  for t in "${TARGET_LIST[@]}"; do run_h2load "$OUT/raw/warmup.$t.txt" "${PORT[$t]}" "$WARMUP" "${PGID[$t]}"; sleep 0.5; done
fi
for (( r = 1; r <= REPS; r++ )); do
  for t in "${TARGET_LIST[@]}"; do
    n=$((n + 1)) f=$OUT/raw/h2.$t.$r.txt
    run_h2load "$f" "${PORT[$t]}" "$DURATION" "${PGID[$t]}"
    read -r rps mean mx failed errored bad req pcpu hcpu < <(parse_h2load "$f" "$DURATION")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$t" "$rps" "$mean" "$mx" "$failed" "$errored" "$bad" "$req" "$pcpu" "$hcpu" >>"$OUT/results.tsv"
    log "[$n/$total] rep$r $t: $rps req/s, mean $mean ms, max $mx ms, failed $failed, errored $errored, non-2xx $bad, cpu proxy $pcpu% h2load $hcpu%"
    sleep 1
  done
done

awk -F'\t' -v conns="$CONNS" -v streams="$STREAMS" -v dur="$DURATION" '
  NR == 1 { next }
  { t = $2; if (!(t in seen)) { seen[t] = 1; order[++nt] = t } cnt[t]++; k = t SUBSEP cnt[t]; rps[k] = $3; mean[k] = $4; cpu[k] = $10; bad[t] += $6 + $7 + $8; req[t] += $9 }
  function median(arr, t, n,   i, j, a, x) { for (i = 1; i <= n; i++) a[i] = arr[t, i] + 0
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END {
    printf "## HTTP/2 (h2c prior knowledge): h2load -t1 -c%s -m%s, %s s per run\n\n", conns, streams, dur
    print "| target | req/s median | mean request ms | CPU% proxy group | failed+errored+non-2xx | requests | reps |"
    print "|---|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= nt; i++) { t = order[i]; m[t] = median(rps, t, cnt[t])
      printf "| %s | %.0f | %.2f | %.0f | %d | %d | %d |\n", t, m[t], median(mean, t, cnt[t]), median(cpu, t, cnt[t]), bad[t], req[t], cnt[t] }
    print ""
    if ("proxyctl-h2" in m) for (i = 1; i <= nt; i++) { t = order[i]; if (t != "proxyctl-h2" && m[t] > 0) printf "- proxyctl-h2 / %s: **%.2f×**\n", t, m["proxyctl-h2"] / m[t] }
  }' "$OUT/results.tsv" >"$OUT/summary.md"
cat "$OUT/env.txt" >>"$OUT/summary.md"
cat "$OUT/summary.md"
