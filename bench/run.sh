#!/usr/bin/env bash
# npm run bench: builds, installs the load tools the benchmarks compare against (Debian
# packages wrk and nginx) when they are missing, then runs every benchmark in turn.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx)
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
