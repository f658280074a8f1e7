#!/usr/bin/env bash
# Runs orderflow's tests on a machine that has only Rust: installs what the tests need when it is
# missing (nats-server, from Debian's packages), then `cargo test --workspace` with any extra
# arguments given (e.g. `./test.sh --release`).
set -euo pipefail
cd "$(dirname "$0")"

# The NATS tests start their own nats-server (Debian package `nats-server`, installed in /usr/sbin).
export PATH="$PATH:/usr/sbin"
if ! command -v nats-server >/dev/null 2>&1; then
  echo "test.sh: installing nats-server (Debian package)"
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq nats-server
fi
nats-server --version

cargo test --workspace "$@"
