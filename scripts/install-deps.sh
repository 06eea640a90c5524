#!/usr/bin/env bash
# Installs what building and testing shardgate needs on a Debian machine,
# skipping whatever is already there: MariaDB server and client (the shard
# backends and the CLI) and, when asked, sysbench (make bench).
set -euo pipefail

want=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || want+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || want+=(mariadb-client)
for extra in "$@"; do
  command -v "$extra" >/dev/null 2>&1 || want+=("$extra")
done

if [ ${#want[@]} -gt 0 ]; then
  echo "install-deps: installing ${want[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # Debian's packaging tries to start a system mariadb service; shardgate
  # runs its own mariadbd processes and does not need it.
  $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  echo "install-deps: Go is missing: install Go 1.26 or newer (https://go.dev/doc/install)" >&2
  exit 1
fi
