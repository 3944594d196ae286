#!/usr/bin/env bash
# The test command (README "Tests"; .ci/run calls it): installs what is missing, builds the solution
# once, runs every test project of aspire.sln, and ends with "N passed, N failed[, N skipped]".
# Exit status: 0 only when every test project ran and no test failed.
set -uo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
configuration="${CONFIGURATION:-Release}"
project_timeout="${TEST_PROJECT_TIMEOUT:-900}"   # seconds per test project, a hard bound
results="$repo/artifacts/test-results"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin:/usr/local/bin"

log() { printf '==> %s\n' "$*" >&2; }

# --- 1. What the real-server fixtures need -------------------------------------------------------
missing_apt=()
command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null || missing_apt+=(mariadb-server)
/usr/bin/python3 -c 'import cassandra' 2>/dev/null || missing_apt+=(python3-cassandra)
[ -x /usr/bin/chromium ] || missing_apt+=(chromium)   # the Customer 360 page's browser test (Playwright drives it)
command -v kubectl >/dev/null || missing_apt+=(kubectl)   # renders deploy/ (kubectl kustomize) in AppHost.Tests
need_s3rver=0
command -v s3rver >/dev/null || need_s3rver=1
# The Kubernetes API schema the deployment tests validate deploy/ against, offline.
need_k8s_schema=0
{ command -v npm >/dev/null && [ -f "$(npm root -g)/kubernetes-models/package.json" ]; } || need_k8s_schema=1
[ "$need_s3rver" = 1 ] || [ "$need_k8s_schema" = 1 ] && ! command -v npm >/dev/null && missing_apt+=(nodejs npm)

if [ "${#missing_apt[@]}" -gt 0 ] || [ "$need_s3rver" = 1 ] || [ "$need_k8s_schema" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing: ${missing_apt[*]} $([ "$need_s3rver" = 1 ] && echo 's3rver (npm)') $([ "$need_k8s_schema" = 1 ] && echo 'kubernetes-models (npm)'). Run this script as root to install them." >&2
    exit 2
  fi
  if [ "${#missing_apt[@]}" -gt 0 ]; then
    log "Installing ${missing_apt[*]}"
    apt-get update || exit 2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing_apt[@]}" || exit 2
  fi
  if [ "$need_s3rver" = 1 ]; then
    log "Installing s3rver@3.7.1"
    npm install -g s3rver@3.7.1 || exit 2
  fi
  if [ "$need_k8s_schema" = 1 ]; then
    log "Installing kubernetes-models@5.1.0"
    npm install -g --no-audit --no-fund kubernetes-models@5.1.0 || exit 2
  fi
fi
command -v dotnet >/dev/null || { echo "The .NET 10 SDK is missing: see https://dot.net/download" >&2; exit 2; }

# --- 2. Build once -------------------------------------------------------------------------------
log "Building aspire.sln ($configuration)"
dotnet build aspire.sln --configuration "$configuration" -nologo -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }

# --- 3. Every test project, one at a time (each starts real servers; 2 cores do not run two well) --
rm -rf "$results"
mkdir -p "$results"
mapfile -t projects < <(dotnet sln aspire.sln list | tr '\\' '/' | grep -E '\.Tests\.csproj$' | sort)
crashed=()
for project in "${projects[@]}"; do
  name="$(basename "$project" .csproj)"
  log "Testing $name"
  timeout --kill-after=30 "$project_timeout" \
    dotnet test "$project" --no-build --configuration "$configuration" \
      --logger "trx;LogFileName=$name.trx" --results-directory "$results" -nologo
  status=$?
  if [ ! -f "$results/$name.trx" ]; then
    # No result file: the test host crashed, hung past the bound, or the project did not run at all.
    crashed+=("$name (exit $status)")
  fi
done

# --- 4. One summary over all projects ------------------------------------------------------------
summary="$(/usr/bin/python3 - "$results" "${#crashed[@]}" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in sorted(glob.glob(sys.argv[1] + "/*.trx")):
    counters = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    c = {k: int(v) for k, v in counters.attrib.items()}
    passed += c.get("passed", 0)
    failed += c.get("failed", 0) + c.get("error", 0) + c.get("timeout", 0) + c.get("aborted", 0)
    skipped += c.get("notExecuted", 0)
    print(f"  {path.rsplit('/', 1)[-1][:-4]}: {c.get('passed', 0)} passed, {c.get('failed', 0)} failed, {c.get('notExecuted', 0)} skipped", file=sys.stderr)
failed += int(sys.argv[2])  # a project that produced no results counts as one failure
print(f"{passed} passed, {failed} failed, {skipped} skipped")
with open(sys.argv[1] + "/failed-count", "w") as f:
    print(failed, file=f)
PY
)"
for c in "${crashed[@]}"; do echo "  $c: no test results (crashed, timed out or did not run)" >&2; done
echo "$summary"
[ "$(cat "$results/failed-count" 2>/dev/null || echo 1)" = 0 ]
