#!/usr/bin/env bash
# Measures how long `dotnet run --project AppHost` takes until every resource is healthy.
# Usage: AppHost/scripts/measure-startup.sh [cold|warm] [extra AppHost args...]
#   cold: deletes the local data folder first (MariaDB initialises a new datadir); warm: keeps it.
# Prints the wall time from the command's start and the AppHost's own figure (from its process start),
# then stops the AppHost it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
kind="${1:-warm}"; shift || true
bound="${STARTUP_BOUND_SECONDS:-400}"
log="$(mktemp /tmp/apphost-startup.XXXXXX.log)"

dotnet build AppHost -nologo -clp:ErrorsOnly >/dev/null
if [ "$kind" = cold ]; then rm -rf .data; fi

start=$(date +%s.%N)
dotnet run --project AppHost --no-build -- Stack:Mode=local "$@" >"$log" 2>&1 &
apphost=$!
result=""
for _ in $(seq 1 $((bound * 2))); do
  if line=$(grep -m1 -E "All [0-9]+ resources healthy|Not healthy after" "$log"); then result="$line"; break; fi
  kill -0 "$apphost" 2>/dev/null || break
  sleep 0.5
done
end=$(date +%s.%N)
kill -TERM "$apphost" 2>/dev/null || true  # (SIGINT is ignored by background jobs of a script)
wait "$apphost" 2>/dev/null || true

if [[ "$result" == *"All "* ]]; then
  printf '%s start: every resource healthy after %.1f s (wall, from `dotnet run --no-build`)\n' "$kind" "$(echo "$end - $start" | bc)"
  echo "AppHost:$result" | sed 's/  */ /g'
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
else
  echo "The stack was not healthy within ${bound} s; log: $log" >&2
  exit 1
fi
