#!/usr/bin/env bash
# Runs orderflow's tests on a machine that has only Rust: installs what the tests need when it is
# missing (from Debian's packages: nats-server for the NATS tests, chromium and chromium-driver for
# the browser tests of the web pages, and a Chinese font so that their screenshots are legible),
# then `cargo test --workspace` with any extra arguments given
# (e.g. `./test.sh --release`).
set -euo pipefail
cd "$(dirname "$0")"

# The NATS tests start their own nats-server (Debian package `nats-server`, installed in /usr/sbin);
# the browser tests start /usr/bin/chromedriver (package `chromium-driver`), which drives
# /usr/bin/chromium (package `chromium`).
export PATH="$PATH:/usr/sbin"
missing=()
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# Without a CJK font Chromium draws the Chinese pages as boxes (the tests pass; the screenshots
# are useless).
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  missing+=(fonts-wqy-microhei)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "test.sh: installing ${missing[*]} (Debian packages)"
  sudo_=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo_="sudo"
    else
      echo "test.sh: not root and no sudo: install ${missing[*]} with apt-get as root" >&2
      exit 1
    fi
  fi
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}"
fi
nats-server --version
chromium --version
chromedriver --version

cargo test --workspace "$@"
