#!/usr/bin/env bash
# npm run bench: builds, installs the load tools and peers the benchmarks compare against
# (Debian packages wrk, nginx and haproxy) when they are missing, then runs every benchmark in
# turn. The last step, bench/reload.sh (reload under load: proxyctl vs nginx vs HAProxy), takes
# its settings from env vars (RELOADS, RELOAD_INTERVAL, RELOAD_OUT, ...; see its header);
# BENCH_RELOAD=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx)
command -v haproxy >/dev/null || missing+=(haproxy)
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
node dist/bench/proxy-http.js "$@"
if [[ ${BENCH_RELOAD:-1} != 0 ]]; then
  bash bench/reload.sh
fi
