# Shared by bench/product.sh and bench/h2.sh (sourced, not run): logging, process groups,
# ports, CPU accounting and the nginx and config templates. The sourcing script sets ROOT, OUT
# (results) and WORK (scratch, removed at exit) and installs `trap cleanup EXIT`.
#
# Every process is started with setsid (its PID is a new process group) and with the run tag
# in its environment; cleanup stops each group (SIGTERM to its leader, SIGKILL to the group
# after 10 s) and then any process still carrying the tag, by PID. Nothing is killed by name.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --------------------------------------------------------------- process control ----
TAG="$$-$RANDOM$RANDOM"
GROUPS_STARTED=()   # "name:pgid", in start order
CLK_TCK=$(getconf CLK_TCK)

# start_group NAME LOGFILE CMD... -> LAST_PGID (= the leader's PID)
start_group() {
  local name=$1 out=$2; shift 2
  env PROXYCTL_PRODUCT_BENCH_TAG="$TAG" setsid "$@" >"$out" 2>&1 </dev/null 9>&- &
  LAST_PGID=$!
  GROUPS_STARTED+=("$name:$LAST_PGID")
}

# live (non-zombie) PIDs of a process group
group_pids() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pg="$1" '
    { pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " "); if (f[3] == pg && f[1] != "Z") print pid }'
}
group_alive() { [[ -n $(group_pids "$1") ]]; }

# stop_group NAME PGID: SIGTERM to the leader (proxyctl stops its epochs, nginx and HAProxy
# their workers), then SIGKILL to the whole group if anything is left after 10 s.
stop_group() {
  local name=$1 pg=$2 i=0
  if group_alive "$pg"; then
    kill -TERM "$pg" 2>/dev/null || kill -TERM -- "-$pg" 2>/dev/null
    while group_alive "$pg" && (( i < 100 )); do sleep 0.1; i=$((i + 1)); done
    if group_alive "$pg"; then
      log "$name (pgid $pg) still alive after 10 s: SIGKILL to the group"
      kill -KILL -- "-$pg" 2>/dev/null
    fi
  fi
  wait "$pg" 2>/dev/null
  local keep=() g
  for g in "${GROUPS_STARTED[@]}"; do [[ $g == "$name:$pg" ]] || keep+=("$g"); done
  GROUPS_STARTED=("${keep[@]}")
}

tagged_pids() {
  grep -lsaF "PROXYCTL_PRODUCT_BENCH_TAG=$TAG" /proc/[0-9]*/environ 2>/dev/null | awk -F/ '{ print $3 }' | grep -vx "$$"
}

cleanup() {
  local rc=$? i g p
  trap - EXIT INT TERM
  for (( i = ${#GROUPS_STARTED[@]} - 1; i >= 0; i-- )); do
    g=${GROUPS_STARTED[i]}
    stop_group "${g%%:*}" "${g##*:}"
  done
  p=$(tagged_pids)
  if [[ -n $p ]]; then
    log "stopping leftover processes of this run: $(echo $p)"
    for i in $p; do kill -TERM "$i" 2>/dev/null; done
    sleep 2
    for i in $(tagged_pids); do kill -KILL "$i" 2>/dev/null; done
  fi
  [[ -n ${WORK:-} && -d $WORK ]] && rm -rf "$WORK"
  log "results: $OUT"
  exit "$rc"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # PORT SECONDS
  local i=0
  while (( i < $2 * 10 )); do port_open "$1" && return 0; sleep 0.1; i=$((i + 1)); done
  return 1
}
require_free_port() { ! port_open "$1" || die "port $1 is in use (pick other ports with --port-base)"; }

# CPU ticks (user+sys, with reaped children) of every process in a group
pg_ticks() {
  [[ -n $1 ]] || { echo 0; return; }
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pg="$1" '
    { s = $0; sub(/^.*\) /, "", s); split(s, f, " "); if (f[3] == pg) t += f[12] + f[13] + f[14] + f[15] }
    END { print t + 0 }'
}
# machine-wide jiffies "busy total steal"
machine_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6 - $9, t, $9; exit }' /proc/stat; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo NA; }

# ---------------------------------------------------------------------- targets ----
render() { # TEMPLATE DEST PROXY_PORT [TCP_PORT]
  sed -e "s/@BACKEND_PORT@/$BACKEND_PORT/g" -e "s/@STATUS_PORT@/$STATUS_PORT/g" -e "s/@PROXY_PORT@/$3/g" \
      -e "s/@HTTP_PORT@/$3/g" -e "s/@TCP_PORT@/${4:-0}/g" "$1" >"$2"
}

start_nginx() { # NAME TEMPLATE PORT -> LAST_PGID
  local prefix=$WORK/$1
  mkdir -p "$prefix/logs" "$prefix/tmp"
  render "$2" "$prefix/nginx.conf" "$3"
  cp "$prefix/nginx.conf" "$OUT/raw/$1.nginx.conf"
  nginx -t -q -p "$prefix/" -c "$prefix/nginx.conf" || die "nginx config test failed for $2"
  start_group "$1" "$OUT/raw/$1.out" nginx -p "$prefix/" -c "$prefix/nginx.conf"
}

# start_proxyctl NAME TEMPLATE PORT BASE_ID [CLI] -> LAST_PGID, RT_DIR; the foreground supervisor
# is the group leader. CLI: the bin/run.js of the tree to run (default $CLI).
start_proxyctl() {
  local name=$1 yaml=$WORK/$1.yaml cli=${5:-$CLI}
  RT_DIR=$WORK/$name-runtime
  mkdir -p "$RT_DIR" && chmod 700 "$RT_DIR"
  render "$2" "$yaml" "$3"
  cp "$yaml" "$OUT/raw/$name.yaml"
  echo "node $cli start --config $yaml --workers 1 --base-id $4 --runtime-dir $RT_DIR" >"$OUT/raw/$name.command"
  start_group "$name" "$OUT/raw/$name.log" node "$cli" start --config "$yaml" --workers 1 --base-id "$4" --runtime-dir "$RT_DIR"
}

# waits until URL answers 200 (proxyctl's port is bound by the supervisor before epoch 0 serves)
wait_serving() { # PORT SECONDS
  local i=0
  while (( i < $2 * 4 )); do
    [[ $(timeout 5 node "$DIST/reload-probe.js" get "http://127.0.0.1:$1/" 2>/dev/null) == *'"status":200'* ]] && return 0
    sleep 0.25; i=$((i + 1))
  done
  return 1
}
