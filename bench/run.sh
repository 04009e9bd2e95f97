#!/usr/bin/env bash
# npm run bench [-- product.sh options]: builds, installs the load tools and peers when they
# are missing (Debian packages wrk, nghttp2-client, nginx, haproxy, time), then runs
#   1. the counter-increment micro-benchmark (dist/bench/counter-increment.js);
#   2. bench/product.sh, the product as deployed: `proxyctl start --config FILE` against nginx,
#      HAProxy and an undici proxy (throughput, reload, memory; it also prints the in-process
#      DataPlane line). Arguments go to it, e.g. `npm run bench -- --quick`. About 8 minutes.
#   3. bench/h2.sh, HTTP/2 as deployed: h2load (10 connections x 100 streams) against proxyctl
#      with an h2c listener, nginx `http2`, HAProxy `proto h2` and a node:http2 + undici proxy
#      (about 2 minutes; --quick is passed on). BENCH_H2=0 skips it.
#   4. the load-balancing policies alone (dist/bench/lb.js: ns per pick and µs per build), and
#      bench/membership.sh: what one endpoint update a second costs the workers, as deployed,
#      against nginx reloading once a second (about 3 minutes; BENCH_MEMBERSHIP=0 skips it).
#   5. with BENCH_RELOAD=1 only: bench/reload.sh, the reload storm against nginx and HAProxy
#      (several minutes more; its settings come from env vars, see its header). It is off by
#      default since the product benchmark already measures reloads and the whole run would
#      take well over 12 minutes with it.
# nginx stream joins the L4 targets when the Debian module is installed
# (apt-get install libnginx-mod-stream; adds about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v nginx >/dev/null || missing+=(nginx)
command -v haproxy >/dev/null || missing+=(haproxy)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bench: please install ${missing[*]} (Debian packages) and run again" >&2
    exit 1
  fi
fi
npm run build
node dist/bench/counter-increment.js
bash bench/product.sh "$@"
if [[ ${BENCH_H2:-1} != 0 ]]; then
  h2args=()
  [[ " $* " == *' --quick '* ]] && h2args=(--quick)
  bash bench/h2.sh "${h2args[@]}"
fi
node dist/bench/lb.js
if [[ ${BENCH_MEMBERSHIP:-1} != 0 ]]; then
  margs=()
  [[ " $* " == *' --quick '* ]] && margs=(--quick)
  bash bench/membership.sh "${margs[@]}"
fi
if [[ ${BENCH_RELOAD:-0} != 0 ]]; then
  bash bench/reload.sh
fi
