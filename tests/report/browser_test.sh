#!/usr/bin/env bash
# Browser test of the HTML report: generates a report with the built gradproof, renders it in
# headless Chromium, and checks the rendered DOM (per-implementation headlines, the seed specimen's
# findings, summary matrix, a failure section, every chart) and the browser log (no console message
# at all: the report has no script, so any console line is a CSP violation, a parse problem or an
# injected script). Screenshots at 1280 and 390 px are kept as artifacts in OUT_DIR. Chromium
# missing is a failure, not a skip: CI installs it through scripts/install-deps.sh.
#   usage: browser_test.sh GRADPROOF_BINARY OUT_DIR
set -euo pipefail
bin=$1
out=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)  # file:// URLs need an absolute path
fail() { echo "FAIL: $*" >&2; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || fail "chromium is not installed (bash scripts/install-deps.sh installs it)"

report="$out/report.html"
rm -f "$report"
set +e
"$bin" verify -i vectorized -i seed_vectorized --precision f64 --cases 10 -q --html "$report" >"$out/verify.log" 2>&1
rc=$?
set -e
# 0: the seed specimen's failures are known flaws and do not fail the run.
[[ $rc -eq 0 ]] || { cat "$out/verify.log" >&2; fail "gradproof verify exited $rc"; }
[[ -s $report ]] || fail "no report written"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chrome() {
  # A fresh profile and no background services: nothing but the file is loaded.
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@" "file://$report"
}
chrome --dump-dom >"$out/dom.html" 2>"$out/chromium-dom.log" || fail "chromium --dump-dom failed (see $out/chromium-dom.log)"
chrome --screenshot="$out/report-1280.png" --window-size=1280,2000 >/dev/null 2>"$out/chromium-1280.log" ||
  fail "chromium screenshot failed (see $out/chromium-1280.log)"
chrome --screenshot="$out/report-390.png" --window-size=390,1600 >/dev/null 2>"$out/chromium-390.log" ||
  fail "chromium screenshot failed (see $out/chromium-390.log)"

for log in "$out"/chromium-*.log; do
  if grep -E "Uncaught|CONSOLE" "$log"; then fail "console output in $log"; fi
done

dom="$out/dom.html"
grep -q '<html' "$dom" || fail "empty DOM"
check() { grep -q -- "$1" "$dom" || fail "DOM lacks $2 ($1)"; }
check 'id="implementation-verdicts"' "the per-implementation headlines"
check 'data-implementation="seed_vectorized"' "the seed specimen's headline"
check 'id="input-domain"' "the input domain"
check 'data-finding="[a-z_]*/seed_vectorized/f64"' "a finding of the seed specimen"
check '<span class="badge [a-z_]*">' "a finding class badge"
check 'class="cmd reproduce"' "a finding's reproduce line"
check 'id="summary-matrix"' "the summary matrix"
check '<td class="cell' "summary matrix cells"
check 'data-failure="seed_vectorized/f64/' "a failure section of the seed specimen"
check 'class="counterexample"' "a counterexample"
check 'id="chart-ulp-f64"' "the ULP-distribution chart"
check 'id="chart-stability-f64"' "the stability chart"
check 'id="chart-fd"' "the finite-difference chart"
[[ $(grep -o '<path class="series"' "$dom" | wc -l) -ge 6 ]] || fail "fewer chart series than expected"
[[ $(grep -ci '<script' "$dom") -eq 0 ]] || fail "a script element in the DOM"
for png in report-1280.png report-390.png; do
  [[ -s $out/$png ]] || fail "no screenshot $png"
done
echo "report browser test passed; artifacts in $out"
