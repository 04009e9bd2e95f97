#!/usr/bin/env bash
# What an endpoint update costs the workers, as deployed: `proxyctl start --config FILE` with a
# file-discovery cluster, under wrk, with no update and with one update per second (the
# endpoints file alternates between one and two backends, written aside and renamed over, as
# deploy tools do). The peer is nginx, whose way to change an upstream's servers without NGINX
# Plus is a reload: `nginx -s reload` once per second with the same alternation. Both run 1
# worker against the same nginx backends (`return 200 "hello\n"`, bench/conf).
#
# Per run: req/s and wrk's latency percentiles (p50, p90, p99), non-2xx and socket errors.
# --reps rounds interleaved (none, update, nginx none, nginx reload, ...). Results:
# <out>/summary.md (printed at the end), results.tsv, raw wrk outputs.
#
# Usage: bench/membership.sh [options]
#   --duration S   seconds per measured run (default 10)
#   --reps N       interleaved rounds (default 3)
#   --conns N      wrk -c (default 50)
#   --quick        --duration 4 --reps 1
#   --out DIR      default bench/results/membership-<date-time>
#   --base-id B    proxyctl's base id (default 46)   --port-base P  ports P+1.. (default 19400)
# About 2.5 minutes by default. Loopback only; each wrk run is bounded; processes are stopped
# by process group, never by name (bench/lib.sh).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONF=$ROOT/bench/conf
DIST=$ROOT/dist/bench
CLI=$ROOT/bin/run.js
DURATION=10 REPS=3 CONNS=50 BASE_ID=46 PORT_BASE=19400 OUT=""
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

while (( $# )); do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --quick) DURATION=4 REPS=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    --base-id) BASE_ID=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for v in DURATION REPS CONNS BASE_ID PORT_BASE; do [[ ${!v} =~ ^[0-9]+$ ]] || die "${v,,} takes a whole number (got ${!v})"; done
for tool in node wrk nginx setsid timeout; do command -v "$tool" >/dev/null || die "missing tool: $tool (bench/run.sh installs the Debian packages)"; done
[[ -f $ROOT/dist/src/commands/start.js && -f $DIST/reload-probe.js ]] || die "run npm run build first"

B1=$((PORT_BASE + 1)) S1=$((PORT_BASE + 2)) B2=$((PORT_BASE + 3)) S2=$((PORT_BASE + 4))
PROXY_PORT=$((PORT_BASE + 11)) NGINX_PORT=$((PORT_BASE + 12))
[[ -z $OUT ]] && OUT=$ROOT/bench/results/membership-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT/raw" && OUT=$(cd "$OUT" && pwd)
[[ -e $OUT/results.tsv ]] && die "$OUT already holds a run; use a new --out"
exec 9>"${TMPDIR:-/tmp}/proxyctl-bench-product.lock"   # one benchmark at a time (shared with product.sh)
flock -n 9 || die "another benchmark is running (two runs would share ports and cores)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/proxyctl-membership-XXXXXX") && chmod 700 "$WORK"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for p in $B1 $S1 $B2 $S2 $PROXY_PORT $NGINX_PORT; do require_free_port "$p"; done
BACKEND_PORT=$B1 STATUS_PORT=$S1 start_nginx backend1 "$CONF/product-nginx-backend.conf" "$B1"
BACKEND_PORT=$B2 STATUS_PORT=$S2 start_nginx backend2 "$CONF/product-nginx-backend.conf" "$B2"
wait_port "$B1" 10 && wait_port "$B2" 10 || die "the backends do not listen"

# The two endpoint sets, for proxyctl (a file) and nginx (an upstream block in a config).
ENDPOINTS=$WORK/endpoints.yaml
endpoints_file() { # N: 1 or 2 backends
  { echo 'endpoints:'; echo "  - 127.0.0.1:$B1"; (( $1 == 2 )) && echo "  - 127.0.0.1:$B2"; } >"$ENDPOINTS.tmp"
  mv "$ENDPOINTS.tmp" "$ENDPOINTS"
}
NGX=$WORK/nginx-proxy
nginx_conf() { # N
  local servers="server 127.0.0.1:$B1;"
  (( $1 == 2 )) && servers="$servers server 127.0.0.1:$B2;"
  sed -e "s/server 127.0.0.1:@BACKEND_PORT@;/$servers/" -e "s/@PROXY_PORT@/$NGINX_PORT/g" "$CONF/product-nginx-proxy.conf" >"$NGX/nginx.conf"
}
endpoints_file 2
cat >"$WORK/proxyctl.yaml" <<EOF
workers: 1
listeners:
  - name: web
    address: 127.0.0.1:$PROXY_PORT
    protocol: http
    routes:
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    discovery: file
    file: $ENDPOINTS
drain: { strategy: gradual, drainTime: 2s, parentShutdownTime: 4s }
EOF
cp "$WORK/proxyctl.yaml" "$OUT/raw/proxyctl.yaml"
RT_DIR=$WORK/proxyctl-runtime && mkdir -p "$RT_DIR" && chmod 700 "$RT_DIR"
start_group proxyctl "$OUT/raw/proxyctl.log" node "$CLI" start --config "$WORK/proxyctl.yaml" --workers 1 --base-id "$BASE_ID" --runtime-dir "$RT_DIR"
mkdir -p "$NGX/logs" "$NGX/tmp" && nginx_conf 2
nginx -t -q -p "$NGX/" -c "$NGX/nginx.conf" || die "nginx config test failed"
start_group nginx "$OUT/raw/nginx.out" nginx -p "$NGX/" -c "$NGX/nginx.conf"
wait_serving "$PROXY_PORT" 30 || die "proxyctl does not answer (see $OUT/raw/proxyctl.log)"
wait_serving "$NGINX_PORT" 30 || die "nginx does not answer"

# Updates once per second until the file $WORK/stop-updates exists; the count goes to $1.
updater() { # COUNTFILE KIND
  local n=0 k
  while [[ ! -e $WORK/stop-updates ]]; do
    sleep 1
    k=$(( n % 2 + 1 ))
    if [[ $2 == file ]]; then endpoints_file "$k"; else nginx_conf "$k" && nginx -p "$NGX/" -c "$NGX/nginx.conf" -s reload 2>>"$OUT/raw/nginx-reload.err"; fi
    n=$((n + 1))
  done
  echo "$n" >"$1"
}

# proxyctl's count of membership snapshots pushed to the workers (cluster.app.membership_change)
pushed() { node "$CLI" stats --base-id "$BASE_ID" --runtime-dir "$RT_DIR" --filter '^cluster\.app\.membership_change$' 2>/dev/null | awk '{ print $2 + 0 }'; }

# run TARGET PORT UPDATES(none|file|reload) FILE
run() {
  local upd=$3 f=$4 upid=""
  rm -f "$WORK/stop-updates"
  if [[ $upd != none ]]; then updater "$f.updates" "$upd" & upid=$!; fi
  echo "# $(date -u +%FT%TZ) wrk -t1 -c$CONNS -d${DURATION}s --latency http://127.0.0.1:$2/ ($1, updates: $upd)" >"$f"
  timeout $((DURATION + 30)) wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$2/" >>"$f" 2>&1
  touch "$WORK/stop-updates"
  [[ -n $upid ]] && wait "$upid"
  endpoints_file 2; nginx_conf 2; nginx -p "$NGX/" -c "$NGX/nginx.conf" -s reload 2>/dev/null
  sleep 1.5
}

# parse FILE -> "rps p50_ms p90_ms p99_ms errors"
parse() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 } / 50%/ { p50 = ms($2) } / 90%/ { p90 = ms($2) } / 99%/ { p99 = ms($2) }
    /Non-2xx/ { err += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) err += $i + 0 }
    END { printf "%.0f %.3f %.3f %.3f %d\n", rps, p50, p90, p99, err }' "$1"
}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(nproc) CPUs, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions: node $(node -v), $(nginx -v 2>&1 | sed 's/.*: //'), proxyctl $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
  echo "command: bench/membership.sh --duration $DURATION --reps $REPS --conns $CONNS"
} >"$OUT/env.txt"
printf 'rep\ttarget\tupdates\trps\tp50_ms\tp90_ms\tp99_ms\terrors\tupdates_done\n' >"$OUT/results.tsv"
timeout 10 wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1   # warm-up, not counted
timeout 10 wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$NGINX_PORT/" >/dev/null 2>&1
PUSHED=$(pushed)
for (( r = 1; r <= REPS; r++ )); do
  for spec in proxyctl:$PROXY_PORT:none proxyctl:$PROXY_PORT:file nginx:$NGINX_PORT:none nginx:$NGINX_PORT:reload; do
    IFS=: read -r t p u <<<"$spec"
    f=$OUT/raw/wrk.$t.$u.$r.txt
    run "$t" "$p" "$u" "$f"
    read -r rps p50 p90 p99 err < <(parse "$f")
    done_n="$(cat "$f.updates" 2>/dev/null || echo 0) done"
    [[ $u == file ]] && done_n="${done_n% done} written, $(( $(pushed) - PUSHED )) applied"
    PUSHED=$(pushed)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$t" "$u" "$rps" "$p50" "$p90" "$p99" "$err" "$done_n" >>"$OUT/results.tsv"
    log "rep$r $t updates=$u ($done_n): $rps req/s, p50 $p50 ms, p90 $p90 ms, p99 $p99 ms, errors $err"
  done
done

awk -F'\t' '
  NR == 1 { next }
  { k = $2 " " $3; if (!(k in n)) order[++nk] = k; n[k]++; rps[k, n[k]] = $4; p50[k, n[k]] = $5; p99[k, n[k]] = $7; err[k] += $8 }
  function med(a, k, c,   i, j, x, v) { for (i = 1; i <= c; i++) v[i] = a[k, i] + 0
    for (i = 2; i <= c; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
    return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
  END {
    print "| target | updates | req/s (median) | p50 ms | p99 ms | errors |"
    print "|---|---|---:|---:|---:|---:|"
    for (i = 1; i <= nk; i++) { k = order[i]; split(k, kk, " "); R[k] = med(rps, k, n[k]); P[k] = med(p99, k, n[k])
      printf "| %s | %s | %.0f | %.3f | %.3f | %d |\n", kk[1], kk[2], R[k], med(p50, k, n[k]), P[k], err[k] }
    print ""
    printf "proxyctl with one update/s: %.2fx the req/s and %.2fx the p99 of no update\n", R["proxyctl file"] / R["proxyctl none"], P["proxyctl file"] / P["proxyctl none"]
    printf "nginx with one reload/s:    %.2fx the req/s and %.2fx the p99 of no reload\n", R["nginx reload"] / R["nginx none"], P["nginx reload"] / P["nginx none"]
    printf "proxyctl updating vs nginx reloading: %.2fx the req/s\n", R["proxyctl file"] / R["nginx reload"]
  }' "$OUT/results.tsv" | tee "$OUT/summary.md"
