#!/usr/bin/env bash
# The whole test suite: builds the solution (Release) and runs every test project; the last line is "N passed, N failed".
# Runs inside the Debian 13 root on hosts whose libstdc++ is too old for TorchSharp (scripts/compat-root.sh).
set -uo pipefail
REPO="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
source "$REPO/scripts/compat-root.sh"
SWEEP_ROOT_EXTRA="$SWEEP_TEST_PACKAGES"   # the processes it starts (redis-server, python3, …) inside the root too
# The npm packages of the manifest validator and the OpenAPI linter (pinned by their lock files), installed before
# entering the root: node_modules is plain JavaScript, and the host's npm may trust registry proxies that the root's CA
# bundle does not; the root retries.
sweep_npm_ci() {
  local tool
  for tool in k8s-validate openapi-lint; do
    [ -f "$REPO/tools/$tool/node_modules/.package-lock.json" ] || ! command -v npm >/dev/null 2>&1 \
      || npm ci --prefix "$REPO/tools/$tool" --no-audit --no-fund --loglevel=error >/dev/null 2>&1 || true
  done
}
sweep_npm_ci
sweep_compat_exec "$REPO" "$REPO/test.sh" "$@"
sweep_npm_ci
cd "$REPO"

# The cluster tests start a real redis-server (inside the Debian 13 root it is part of the root's packages).
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1
  fi
  command -v redis-server >/dev/null 2>&1 || echo "warning: redis-server is not installed; the cluster tests will fail"
fi

# The Kubernetes manifest tests run kubectl (kustomize) and node inside the root (SWEEP_TEST_PACKAGES).
for tool in kubectl node; do
  command -v $tool >/dev/null 2>&1 || echo "warning: $tool is not installed; the Deployment tests will fail"
done
[ -d tools/k8s-validate/node_modules/kubernetes-models ] || echo "warning: npm ci in tools/k8s-validate failed; the Deployment tests will fail"
[ -d tools/openapi-lint/node_modules/@redocly/cli ] || echo "warning: npm ci in tools/openapi-lint failed; the OpenAPI test will fail"

results="$REPO/.artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
echo "== build (Release)"
# A registry hiccup must not fail the run: restore with retries, then build without restoring again.
for attempt in 1 2 3 4; do
  dotnet restore Sweep.sln -nologo -v quiet >"$results/restore.log" 2>&1 && break
  [ $attempt = 4 ] || { echo "restore failed (attempt $attempt), retrying in $((attempt * 5)) s"; sleep $((attempt * 5)); }
done
if ! dotnet build Sweep.sln -c Release --no-restore -nologo -v quiet >"$results/build.log" 2>&1; then
  grep -E ' error ' "$results/restore.log" | sort -u | head -10
  grep -E ' error ' "$results/build.log" | sort -u | head -30
  echo "build failed (log: $results/build.log)"
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0; failed=0; status=0
for project in tests/*/; do
  name="$(basename "$project")"
  exe="$project/bin/Release/net10.0/$name"
  [ -x "$exe" ] || continue
  # Optional filter: ./test.sh Training.Tests runs one project.
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  echo "== $name"
  start=$(date +%s)
  timeout --kill-after=30 "${SWEEP_TEST_TIMEOUT:-1200}" "$exe" -noColor -noLogo -xml "$results/$name.xml" >"$results/$name.log" 2>&1
  rc=$?
  grep -E '\[FAIL\]|Assert|Failure|Exception' "$results/$name.log" | head -40
  line=$(grep -o '<assembly [^>]*>' "$results/$name.xml" 2>/dev/null | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$line"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$line")
  e=$(sed -n 's/.* errors="\([0-9]*\)".*/\1/p' <<<"$line")
  p=${p:-0}; f=${f:-0}; e=${e:-0}
  if [ -z "$line" ] || [ $rc -ne 0 ] && [ "$f" = 0 ] && [ "$e" = 0 ]; then
    tail -n 20 "$results/$name.log"; f=$((f + 1))   # crashed or timed out: count the project as a failure
  fi
  f=$((f + e))
  echo "   $p passed, $f failed ($(( $(date +%s) - start )) s)"
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -gt 0 ] && status=1
done
echo "$passed passed, $failed failed"
exit $status
