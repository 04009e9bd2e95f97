#!/usr/bin/env bash
# Reload under load: proxyctl, nginx and HAProxy side by side, in one run.
#
# For each target (1 worker each, in front of the same nginx backend):
#   1. idle: --ready-reloads reloads (default 20), --ready-interval s apart, no load, to
#      measure reload-to-ready time (and, for nginx/HAProxy, until the old worker is gone);
#   2. for each scenario (keepalive, close): wrk -t1 -c50 runs while the target is reloaded
#      --reloads times (default 100), one reload every --interval s (default 0.4); wrk's socket
#      errors and HTTP >= 400 answers are the failure count. wrk runs 1 s before the first and
#      1 s after the last reload, then is stopped with SIGINT (it prints its summary then), so
#      every run holds the asked number of reloads whatever their speed (up to 5 s per reload).
# Then one markdown table (also DIR/table.md, DIR/summary.json); raw outputs stay in DIR.
#
# How each target is reloaded (the reference is ../shared/bench, reload-under-load.sh):
#   proxyctl  node bin/run.js reload --json   (blocks until the new epoch is ready)
#   nginx     nginx -s reload, config with `listen ... reuseport` (conf/nginx-proxy-reuseport.conf)
#   haproxy   `reload` on the master CLI of haproxy -W -S, `expose-fd listeners` (conf/haproxy.cfg)
# Each reload is run to completion (until the new workers serve; bench/reload-targets.ts says
# how that is detected) before the next one starts.
#
# Usage: bench/reload.sh [options]        (env vars in brackets)
#   --targets LIST        proxyctl,nginx,haproxy [RELOAD_TARGETS]
#   --reloads N           reloads per load run, default 100 [RELOADS]
#   --interval S          seconds between reload starts under load, default 0.4 [RELOAD_INTERVAL]
#   --ready-reloads N     idle reloads for reload-to-ready, default 20 [READY_RELOADS]
#   --ready-interval S    default 1 [READY_INTERVAL]
#   --scenarios LIST      keepalive,close [RELOAD_SCENARIOS]
#   --control S           also a run of S seconds without reloads per scenario (default 0: none)
#   --conns N             wrk connections, default 50
#   --drain-time D        proxyctl drainTime, default 2 x --interval (parentShutdownTime is 2 x that)
#   --base-id B           proxyctl base id, default 7 [PROXYCTL_BASE_ID]
#   --port-base P         ports P+1 (backend), P+11 proxyctl, P+12 nginx, P+13 haproxy; default 19000
#   --out DIR             raw outputs (default: a new temp dir) [RELOAD_OUT]
#   [PROXYCTL_CLI]        the proxyctl entry point, default bin/run.js of this repo
# About 1 min per peer with 20 idle + 2 x 100 reloads at 0.4 s; a target whose reloads take
# longer than the interval takes longer (proxyctl: ~1-2 s per reload, so several minutes).
#
# Loopback only. Every process is started with setsid (its PID is the ID of a new process
# group) and with PROXYCTL_RELOAD_BENCH_TAG=<random> in its environment; at exit (also on
# Ctrl-C or an error) the groups are stopped with SIGTERM, then SIGKILL after 5 s, and any
# process still carrying the tag (a daemon that left its group) is stopped the same way.
# Nothing is ever killed by name.
set -u -o pipefail   # no -e: failures are handled where they happen, the EXIT trap cleans up

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONF_DIR=$ROOT/bench/conf
PROBE=$ROOT/dist/bench/reload-probe.js
REPORT=$ROOT/dist/bench/reload-report.js
PROXYCTL_CLI=${PROXYCTL_CLI:-$ROOT/bin/run.js}   # env override: e.g. a stand-in while the CLI is being written

TARGETS=${RELOAD_TARGETS:-proxyctl,nginx,haproxy}
RELOADS=${RELOADS:-100}
INTERVAL=${RELOAD_INTERVAL:-0.4}
READY_RELOADS=${READY_RELOADS:-20}
READY_INTERVAL=${READY_INTERVAL:-1}
SCENARIOS=${RELOAD_SCENARIOS:-keepalive,close}
CONTROL=0 CONNS=50 DRAIN_TIME=""
BASE_ID=${PROXYCTL_BASE_ID:-7}
PORT_BASE=19000
OUT=${RELOAD_OUT:-}
LEAD=1 TAIL=1          # seconds of load before the first and after the last reload

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

while (( $# )); do
  case "$1" in
    --targets) TARGETS=$2; shift 2 ;;
    --reloads) RELOADS=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --ready-reloads) READY_RELOADS=$2; shift 2 ;;
    --ready-interval) READY_INTERVAL=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --control) CONTROL=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --drain-time) DRAIN_TIME=$2; shift 2 ;;
    --base-id) BASE_ID=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $RELOADS =~ ^[0-9]+$ && $READY_RELOADS =~ ^[0-9]+$ && $CONNS =~ ^[0-9]+$ && $PORT_BASE =~ ^[0-9]+$ ]] || die "--reloads, --ready-reloads, --conns and --port-base take whole numbers"
[[ $INTERVAL =~ ^[0-9]*\.?[0-9]+$ && $READY_INTERVAL =~ ^[0-9]*\.?[0-9]+$ && $CONTROL =~ ^[0-9]+$ ]] || die "--interval/--ready-interval take seconds, --control whole seconds"
# 2 x the interval: an epoch drains while the next two reloads happen, so at most three epochs
# (one serving, two draining) exist at once.
[[ -n $DRAIN_TIME ]] || DRAIN_TIME="$(awk -v i="$INTERVAL" 'BEGIN { printf "%d", i * 2000 }')ms"
# In-flight requests get as long again to finish: a parentShutdownTime equal to the drain time
# would cut requests that started just before the drain deadline.
PARENT_SHUTDOWN_TIME="$(( ${DRAIN_TIME%ms} * 2 ))ms"
BACKEND_PORT=$((PORT_BASE + 1))
declare -A PORT=([proxyctl]=$((PORT_BASE + 11)) [nginx]=$((PORT_BASE + 12)) [haproxy]=$((PORT_BASE + 13)))
IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
IFS=, read -r -a SCENARIO_LIST <<<"$SCENARIOS"
for t in "${TARGET_LIST[@]}"; do [[ -n ${PORT[$t]:-} ]] || die "unknown target $t (proxyctl, nginx, haproxy)"; done
for s in "${SCENARIO_LIST[@]}"; do [[ $s == keepalive || $s == close ]] || die "unknown scenario $s (keepalive, close)"; done

# ------------------------------------------------------------------ tools and build ----
# Same policy as bench/run.sh: install the Debian packages when missing and we can.
install_missing() {
  local missing=() c
  for c in wrk nginx haproxy; do command -v "$c" >/dev/null || missing+=("$c"); done
  (( ${#missing[@]} )) || return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]} (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
  else
    die "please install ${missing[*]} (Debian packages) and run again"
  fi
}

# Build only when what this script runs is missing (bench/run.sh builds before calling it).
ensure_build() {
  local need=("$PROBE" "$REPORT")
  [[ ,$TARGETS, == *,proxyctl,* && $PROXYCTL_CLI == "$ROOT/bin/run.js" ]] && need+=("$ROOT/dist/src/commands/reload.js")
  local f
  for f in "${need[@]}"; do
    [[ -f $f ]] && continue
    log "$f is missing: npm run build"
    (cd "$ROOT" && npm run build) || die "npm run build failed"
    return
  done
}

# --------------------------------------------------------------- process control ----
# Everything runs with setsid so its PID is a process group ID we can stop as a whole, and
# with a tag in its environment so a process that left its group (a daemon) is found too.
TAG="$$-$RANDOM$RANDOM"
GROUPS_STARTED=()   # "name:pgid", in start order

# start_group NAME OUTFILE CMD...  -> sets LAST_PGID
start_group() {
  local name=$1 out=$2; shift 2
  env PROXYCTL_RELOAD_BENCH_TAG="$TAG" setsid "$@" >"$out" 2>&1 </dev/null 8>&- &
  LAST_PGID=$!
  GROUPS_STARTED+=("$name:$LAST_PGID")
  log "started $name (pgid $LAST_PGID): $*"
}

# true while the process group has a live (non-zombie) member
group_alive() {
  kill -0 -- "-$1" 2>/dev/null || return 1
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pg="$1" '
    { s = $0; sub(/^.*\) /, "", s); split(s, f, " "); if (f[3] == pg && f[1] != "Z") found = 1 }
    END { exit !found }'
}

stop_group() { # NAME PGID [SIGNAL]
  local name=$1 pg=$2 sig=${3:-TERM} i=0
  if group_alive "$pg"; then
    kill "-$sig" -- "-$pg" 2>/dev/null
    while group_alive "$pg" && (( i < 50 )); do sleep 0.1; i=$((i + 1)); done
    if group_alive "$pg"; then
      log "$name (pgid $pg) still alive after 5 s: SIGKILL"
      kill -KILL -- "-$pg" 2>/dev/null
    fi
  fi
  wait "$pg" 2>/dev/null
  local keep=() g
  for g in "${GROUPS_STARTED[@]}"; do [[ $g == "$name:$pg" ]] || keep+=("$g"); done
  GROUPS_STARTED=("${keep[@]}")
}

# PIDs of live processes that carry our tag (only processes this run started have it)
tagged_pids() {
  grep -lsaF "PROXYCTL_RELOAD_BENCH_TAG=$TAG" /proc/[0-9]*/environ 2>/dev/null | awk -F/ '{ print $3 }' | grep -vx "$$"
}

sweep_tagged() {
  local pids p
  pids=$(tagged_pids) || true
  [[ -n $pids ]] || return 0
  log "stopping leftover processes started by this run: $(echo $pids)"
  for p in $pids; do kill -TERM "$p" 2>/dev/null; done
  sleep 2
  for p in $(tagged_pids); do kill -KILL "$p" 2>/dev/null; done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # PORT SECONDS
  local i=0
  while (( i < $2 * 10 )); do port_open "$1" && return 0; sleep 0.1; i=$((i + 1)); done
  return 1
}
require_free_port() { ! port_open "$1" || die "port $1 is in use (pick other ports with --port-base)"; }

PROXYCTL_UP=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if (( PROXYCTL_UP )); then stop_proxyctl; fi
  local i g
  for (( i = ${#GROUPS_STARTED[@]} - 1; i >= 0; i-- )); do
    g=${GROUPS_STARTED[i]}
    stop_group "${g%%:*}" "${g##*:}"
  done
  sweep_tagged
  [[ -n ${WORK:-} && -d $WORK ]] && rm -rf "$WORK"
  [[ -n ${OUT:-} ]] && log "raw outputs: $OUT"
  exit "$rc"
}

# ---------------------------------------------------------------------- targets ----
# render TEMPLATE DEST: fills in the @VARS@ of a file in bench/conf
render() {
  sed -e "s#@RUN_DIR@#$WORK#g" -e "s/@BACKEND_PORT@/$BACKEND_PORT/g" -e "s/@PROXY_PORT@/$PROXY_PORT/g" \
      -e "s/@DRAIN_TIME@/$DRAIN_TIME/g" -e "s/@PARENT_SHUTDOWN_TIME@/$PARENT_SHUTDOWN_TIME/g" "$1" >"$2"
}

# start_nginx NAME TEMPLATE -> NGINX_PREFIX, NGINX_CONF, LAST_PGID (= the master's PID)
start_nginx() {
  NGINX_PREFIX=$WORK/$1
  NGINX_CONF=$NGINX_PREFIX/nginx.conf
  mkdir -p "$NGINX_PREFIX/logs" "$NGINX_PREFIX/tmp"
  render "$2" "$NGINX_CONF"
  nginx -t -q -p "$NGINX_PREFIX/" -c "$NGINX_CONF" || die "nginx config test failed for $2"
  start_group "$1" "$OUT/$1.out" nginx -p "$NGINX_PREFIX/" -c "$NGINX_CONF"
}

start_backend() {
  require_free_port "$BACKEND_PORT"
  PROXY_PORT=0 start_nginx backend "$CONF_DIR/nginx-backend.conf"
  wait_port "$BACKEND_PORT" 10 || die "backend did not listen on $BACKEND_PORT"
}

# start_target TARGET: starts it, sets URL and RELOAD_ARGS (the reload-probe.js options)
start_target() {
  local t=$1
  PROXY_PORT=${PORT[$t]}
  URL=http://127.0.0.1:$PROXY_PORT/
  require_free_port "$PROXY_PORT"
  case $t in
    nginx)
      start_nginx nginx "$CONF_DIR/nginx-proxy-reuseport.conf"
      TARGET_PGID=$LAST_PGID
      RELOAD_ARGS=(--target nginx --prefix "$NGINX_PREFIX" --conf "$NGINX_CONF" --master "$LAST_PGID") ;;
    haproxy)
      local cfg=$WORK/haproxy.cfg sock=$WORK/haproxy-master.sock
      render "$CONF_DIR/haproxy.cfg" "$cfg"
      rm -f "$sock" "$WORK/haproxy-admin.sock"
      haproxy -c -q -f "$cfg" || die "haproxy config check failed"
      start_group haproxy "$OUT/haproxy.out" haproxy -W -S "$sock" -f "$cfg" -p "$WORK/haproxy.pid"
      TARGET_PGID=$LAST_PGID
      RELOAD_ARGS=(--target haproxy --master-sock "$sock" --master "$LAST_PGID") ;;
    proxyctl)
      start_proxyctl || return 1
      RELOAD_ARGS=(--target proxyctl --cli "$PROXYCTL_CLI" --base-id "$BASE_ID" --runtime-dir "$RUNTIME_DIR") ;;
  esac
  wait_port "$PROXY_PORT" 30 || { log "$t did not listen on $PROXY_PORT"; return 1; }
}

# proxyctl daemonizes: `start --daemon` returns once epoch 0 serves. Its private runtime dir
# (0700) and base id keep it apart from any other proxyctl on this machine.
start_proxyctl() {
  RUNTIME_DIR=$(mktemp -d "$WORK/proxyctl-rt.XXXXXX") && chmod 700 "$RUNTIME_DIR"
  render "$CONF_DIR/proxyctl-reload.yaml" "$WORK/proxyctl.yaml"
  cp "$WORK/proxyctl.yaml" "$OUT/proxyctl.yaml"
  start_group proxyctl "$OUT/proxyctl.start.txt" timeout 60 node "$PROXYCTL_CLI" start --config "$WORK/proxyctl.yaml" \
    --daemon --base-id "$BASE_ID" --runtime-dir "$RUNTIME_DIR" --workers 1
  TARGET_PGID=$LAST_PGID
  PROXYCTL_UP=1
  wait "$LAST_PGID"; local rc=$?
  (( rc == 0 )) || { log "proxyctl start exited $rc: $(tail -c 400 "$OUT/proxyctl.start.txt")"; return 1; }
}

stop_proxyctl() {
  PROXYCTL_UP=0
  timeout 30 env PROXYCTL_RELOAD_BENCH_TAG="$TAG" node "$PROXYCTL_CLI" stop --now --base-id "$BASE_ID" --runtime-dir "$RUNTIME_DIR" \
    >>"$OUT/proxyctl.stop.txt" 2>&1 8>&- || log "proxyctl stop exited $? (see $OUT/proxyctl.stop.txt)"
  sweep_tagged   # the daemon is not in the group of `start`: stop it by its tag if still there
}

stop_target() {
  local t=$1
  [[ $t == proxyctl ]] && stop_proxyctl
  stop_group "$t" "$TARGET_PGID"
}

# checks TARGET answers hello, and answers a Connection: close request with close
check_target() {
  local t=$1 a b
  a=$(node "$PROBE" get "$URL") || { log "$t does not answer 200 at $URL: $a"; return 1; }
  [[ $a == *'"body":"hello\n"'* ]] || log "WARNING: $t answered $a (expected body hello)"
  b=$(node "$PROBE" get "$URL" --close)
  [[ $b == *'"connection":"close"'* ]] || { log "WARNING: $t answers a Connection: close request with $b"; NOTE="answers keep-alive to Connection: close"; }
  return 0
}

serving() { [[ $(node "$PROBE" get "$URL" 2>/dev/null) == *'"status":200'* ]] && echo yes || echo no; }

# ---------------------------------------------------------------------- the runs ----
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT/runs.tsv"; }

idle_run() { # TARGET
  local t=$1 log=$t.idle.reloads.jsonl
  log "$t: $READY_RELOADS idle reloads, $READY_INTERVAL s apart (reload-to-ready)"
  node "$PROBE" loop "${RELOAD_ARGS[@]}" --count "$READY_RELOADS" --interval "$READY_INTERVAL" --track-old \
    --log "$OUT/$log" >"$OUT/$t.idle.probe.txt" 2>&1 || log "WARNING: reload-probe failed (see $OUT/$t.idle.probe.txt)"
  row "$t" idle - "$log" "$(serving)" "$NOTE"
}

load_run() { # TARGET SCENARIO RELOADS(0 = control) CONTROL_SECONDS
  local t=$1 sc=$2 n=$3 label=$2 hdr=() dmax
  (( n == 0 )) && label=$sc-control
  [[ $sc == close ]] && hdr=(-H 'Connection: close')
  local wrkf=$t.$label.wrk.txt logf=-
  # wrk's -d is only an upper bound: wrk is stopped with SIGINT once the reloads are done, and
  # prints its summary then. The bound allows 5 s per reload (a proxyctl reload took ~2 s under
  # load on the 2-core VM), so a slow target still gets all its reloads.
  if (( n == 0 )); then dmax=$4
  else dmax=$(awk -v n="$n" -v i="$INTERVAL" -v l="$LEAD" -v t="$TAIL" 'BEGIN { x = 2 * i > 5 ? 2 * i : 5; printf "%d", l + t + 20 + n * x }')
  fi
  log "$t/$label: wrk -t1 -c$CONNS ${hdr[*]:-(keep-alive)} with $n reloads (wrk -d${dmax}s upper bound)"
  echo "# $(date -u +%FT%TZ) wrk -t1 -c$CONNS -d${dmax}s --latency ${hdr[*]} $URL; reloads: $n every $INTERVAL s" >"$OUT/$wrkf"
  start_group wrk "$OUT/$wrkf.tmp" timeout $((dmax + 30)) wrk -t1 -c"$CONNS" -d"${dmax}s" --latency -s "$CONF_DIR/summary.lua" "${hdr[@]}" "$URL"
  local wrk_pg=$LAST_PGID
  if (( n > 0 )); then
    logf=$t.$label.reloads.jsonl
    sleep "$LEAD"
    node "$PROBE" loop "${RELOAD_ARGS[@]}" --count "$n" --interval "$INTERVAL" --deadline $((dmax - LEAD - TAIL - 10)) \
      --log "$OUT/$logf" >"$OUT/$t.$label.probe.txt" 2>&1 || log "WARNING: reload-probe failed (see $OUT/$t.$label.probe.txt)"
    sleep "$TAIL"
    group_alive "$wrk_pg" || log "WARNING: wrk ended before the reloads did (see $OUT/$wrkf)"
    kill -INT -- "-$wrk_pg" 2>/dev/null
  fi
  wait "$wrk_pg"; local rc=$?
  stop_group wrk "$wrk_pg"
  cat "$OUT/$wrkf.tmp" >>"$OUT/$wrkf" && rm -f "$OUT/$wrkf.tmp"
  echo "# wrk exit: $rc" >>"$OUT/$wrkf"
  sleep 0.5
  local note=$NOTE done=0
  [[ $logf != - ]] && done=$(grep -c . "$OUT/$logf" 2>/dev/null)
  (( n > 0 && done < n )) && note="${note:+$note; }only $done of $n reloads done (time bound)"
  row "$t" "$label" "$wrkf" "$logf" "$(serving)" "$note"
  grep -h '^reloads ok' "$OUT/$t.$label.probe.txt" 2>/dev/null | sed "s/^/[$t\/$label] /" >&2
}

run_target() { # TARGET
  local t=$1 s
  NOTE="" TARGET_PGID=""
  if ! start_target "$t" || ! check_target "$t"; then
    log "ERROR: $t could not be started or does not answer; skipping it"
    row "$t" start - - no "could not start or does not answer (see $OUT/$t*.txt / .out)"
    FAILED=1
    [[ -n $TARGET_PGID ]] && stop_target "$t"
    TARGET_PGID=""
    return
  fi
  idle_run "$t"
  for s in "${SCENARIO_LIST[@]}"; do
    if (( CONTROL > 0 )); then load_run "$t" "$s" 0 "$CONTROL"; sleep 1; fi
    load_run "$t" "$s" "$RELOADS"
    sleep 1
  done
  stop_target "$t"
  TARGET_PGID=""
}

# --------------------------------------------------------------------------- main ----
[[ -z $OUT ]] && OUT=$(mktemp -d "${TMPDIR:-/tmp}/proxyctl-reload-XXXXXX")
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
[[ $OUT == /work/shared || $OUT == /work/shared/* ]] && die "--out must not be under /work/shared"
[[ -e $OUT/runs.tsv ]] && die "$OUT already holds a run (runs.tsv); use a new --out"

# One run at a time: two would share ports and the same 2 cores.
exec 8>"${TMPDIR:-/tmp}/proxyctl-bench-reload.lock"
flock -n 8 || die "another bench/reload.sh is running"

install_missing
ensure_build
command -v node >/dev/null || die "node is not on PATH"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/proxyctl-reload-work-XXXXXX")   # sockets, nginx prefixes, configs
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

FAILED=0 TARGET_PGID="" NOTE=""
{
  echo "## Reload under load: ${TARGETS//,/, } ($(date -u +%FT%TZ))"
  echo
  echo "- $(nproc) CPUs, $(node -v), $(nginx -v 2>&1 | sed 's/.*: //'), $(haproxy -v 2>/dev/null | head -1 | awk '{ print "HAProxy " $3 }'), $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')"
  echo "- backend: nginx, 1 worker, \`return 200 \"hello\\n\"\`, keep-alive; every proxy runs 1 worker."
  echo "- load: \`wrk -t1 -c$CONNS\` (keepalive; close = \`-H 'Connection: close'\`), from ${LEAD} s before the first reload to ${TAIL} s after the last."
  echo "- under load: $RELOADS reloads per run, one started every $INTERVAL s (each run until ready; the next starts at once if a reload overran the interval)."
  echo "- idle: $READY_RELOADS reloads, $READY_INTERVAL s apart, no load."
  echo "- proxyctl: drainTime = $DRAIN_TIME (2 × the interval unless --drain-time), parentShutdownTime = $PARENT_SHUTDOWN_TIME; at most 3 epochs (1 serving + 2 draining) are live, a 4th hurries the oldest."
  echo "- command: \`bench/reload.sh --targets $TARGETS --reloads $RELOADS --interval $INTERVAL --ready-reloads $READY_RELOADS --ready-interval $READY_INTERVAL --scenarios $SCENARIOS --control $CONTROL --drain-time $DRAIN_TIME\`"
} >"$OUT/params.md"
printf 'target\tscenario\twrk_file\treload_log\tserving_after\tnote\n' >"$OUT/runs.tsv"

start_backend
for t in "${TARGET_LIST[@]}"; do run_target "$t"; sleep 1; done

echo
node "$REPORT" --dir "$OUT" || FAILED=1
exit "$FAILED"
