#!/usr/bin/env bash
# Installs what building and testing shardgate needs on a Debian machine,
# skipping whatever is already there: MariaDB server and client (the shard
# backends, the CLI and mariadb-dump), the clients the compat tests drive
# (a JDK and MariaDB Connector/J, PyMySQL, Node.js with npm and the mysql2
# package from compat/node/package-lock.json), Debian's chromium with a
# font (the console's browser test drives it headless) and, when asked,
# sysbench (make bench).
set -euo pipefail

want=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || want+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || want+=(mariadb-client)
command -v javac >/dev/null 2>&1 || want+=(default-jdk-headless)
[ -f /usr/share/java/mariadb-java-client.jar ] || want+=(libmariadb-java)
/usr/bin/python3 -c 'import pymysql' >/dev/null 2>&1 || want+=(python3-pymysql)
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
[ -d /usr/share/fonts/truetype/liberation ] || want+=(fonts-liberation)
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

# mysql2 for compat/node, exactly as locked.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -f "$here/compat/node/package-lock.json" ] && [ ! -f "$here/compat/node/node_modules/mysql2/package.json" ]; then
  echo "install-deps: npm ci in compat/node"
  (cd "$here/compat/node" && npm ci --no-audit --no-fund --loglevel=error)
fi
