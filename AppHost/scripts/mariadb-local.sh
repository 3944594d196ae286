#!/usr/bin/env bash
# Runs the local stack's MariaDB: initialises its datadir once, then replaces itself with mariadbd,
# so the AppHost (DCP) supervises the server process directly.
# Environment (set by the AppHost): MARIADB_DATA (folder kept across restarts), MARIADB_PORT,
# MARIADB_USER, MARIADB_PASSWORD, MARIADB_DATABASE.
set -euo pipefail
data="${MARIADB_DATA:?MARIADB_DATA is not set}"
port="${MARIADB_PORT:?MARIADB_PORT is not set}"
user="${MARIADB_USER:?MARIADB_USER is not set}"
password="${MARIADB_PASSWORD:?MARIADB_PASSWORD is not set}"
database="${MARIADB_DATABASE:-customer_db}"
export PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin"

for tool in mariadbd mariadb-install-db; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed: apt-get install -y mariadb-server" >&2; exit 127; }
done

run_as=()
[ "$(id -u)" = 0 ] && run_as=(--user=root)   # mariadbd refuses to run as root without it

mkdir -p "$data/tmp"
if [ ! -d "$data/db/mysql" ]; then
  # Initialise into a scratch folder and rename it, so an interrupted first start never leaves
  # a half-initialised datadir behind.
  rm -rf "$data/db.init"
  echo "Initialising MariaDB datadir $data/db"
  mariadb-install-db --no-defaults --datadir="$data/db.init" --auth-root-authentication-method=normal \
    --skip-test-db "${run_as[@]}" >"$data/install.log" 2>&1 || { cat "$data/install.log" >&2; exit 1; }
  mv "$data/db.init" "$data/db"
fi

# Runs at every start: the platform user always has the password the AppHost holds now.
sql_escape() { local s="${1//\\/\\\\}"; printf '%s' "${s//\'/\'\'}"; }
umask 077
init="$data/init.sql"
{
  echo "CREATE USER IF NOT EXISTS '$(sql_escape "$user")'@'%' IDENTIFIED BY '$(sql_escape "$password")';"
  echo "ALTER USER '$(sql_escape "$user")'@'%' IDENTIFIED BY '$(sql_escape "$password")';"
  echo "CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4;"
  # Least privilege: the platform database only (a datadir from before keeps no server-wide grant).
  echo "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '$(sql_escape "$user")'@'%';"
  echo "GRANT ALL PRIVILEGES ON \`$database\`.* TO '$(sql_escape "$user")'@'%';"
} >"$init"

exec mariadbd --no-defaults \
  --datadir="$data/db" --tmpdir="$data/tmp" \
  --socket="$data/mysqld.sock" --pid-file="$data/mysqld.pid" \
  --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
  --init-file="$init" \
  --skip-log-bin --local-infile=1 --max-connections=500 \
  --innodb-buffer-pool-size=256M \
  --character-set-server=utf8mb4 --default-time-zone=+00:00 \
  --log-warnings=2 \
  "${run_as[@]}"
