#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages: Debian packages for the real peers the tests talk to.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

needed=()
command -v redis-server >/dev/null 2>&1 || needed+=(redis-server)
command -v prometheus >/dev/null 2>&1 || needed+=(prometheus)
command -v shellcheck >/dev/null 2>&1 || needed+=(shellcheck)
command -v chromium >/dev/null 2>&1 || needed+=(chromium)

if [ "${#needed[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-deps: missing ${needed[*]} and not root; install them with apt-get" >&2
    exit 1
  fi
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "install-test-deps: installing ${needed[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
  # The Debian packages enable their own daemons; the tests start their own instances on free ports.
  for service in redis-server prometheus; do
    if command -v systemctl >/dev/null 2>&1; then "${sudo_cmd[@]}" systemctl stop "$service" >/dev/null 2>&1 || true; fi
  done
fi
