#!/usr/bin/env bash
# The real clients the test suite drives (curl, h2load, openssl, mandoc, prlimit). Installs the missing ones
# from Debian's packages when it can (root with apt-get), and otherwise names what is missing.
set -euo pipefail
declare -A package=([curl]=curl [h2load]=nghttp2-client [openssl]=openssl [promtool]=prometheus [mandoc]=mandoc [prlimit]=util-linux)
missing=()
for tool in "${!package[@]}"; do
  command -v "$tool" >/dev/null || missing+=("${package[$tool]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "test-tools: installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "test-tools: the tests need these Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
exit 1
