#!/usr/bin/env bash
# How long `gradproof check` takes on every plug-in and protocol program of tests/ — the mutants
# included — with the default case counts and shrink budget: the time a user pays in CI for a
# broken implementation. Timed, never asserted (speed is measured here, not tested).
#   bash bench/check_times.sh [BUILD_DIR]     (default build/release; needs the test targets built)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
gp="$build/gradproof"
tests="$build/tests"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

mutants=(missing_max_shift max_initialized_at_zero log_of_rounded_probability epsilon_inside_log
  gradient_not_divided_by_n loss_summed_gradient_averaged regularization_factor_mismatch float_accumulation
  last_class_skipped simd_tail_drops_last micro_batch_mean_of_means tiny_probabilities_dropped ten_digit_log2e
  transposed_gradient_index clamped_logits reversed_summation kahan_summation long_double_internal online_softmax
  log1p_form)

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) hardware threads"
printf '%-34s %8s %5s  %s\n' "implementation" "seconds" "exit" "findings (class: count)"
run() {
  local name=$1
  shift
  local start end code
  start=$(date +%s.%N)
  code=0
  "$@" -q --json "$out/$name.json" >"$out/$name.txt" 2>&1 || code=$?
  end=$(date +%s.%N)
  local classes
  classes=$(/usr/bin/python3 - "$out/$name.json" <<'PY'
import collections, json, sys
try:
    f = json.load(open(sys.argv[1]))["findings"]
except Exception:
    print("-"); sys.exit()
c = collections.Counter(x["class"] for x in f)
print(", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "none")
PY
)
  printf '%-34s %8.1f %5s  %s\n' "$name" "$(echo "$end - $start" | bc)" "$code" "$classes"
}
for m in "${mutants[@]}"; do
  GRADPROOF_VARIANT=$m run "variant:$m" "$gp" check --plugin "$tests/libmutation_plugin.so"
done
for p in "$tests"/plugin/plugins/*.so "$tests"/reliability/*.so; do
  [[ -e $p ]] || continue
  run "$(basename "$p" .so)" "$gp" check --plugin "$p"
done
run "textbook numpy (seed_numpy.py)" "$gp" check --exec "/usr/bin/python3 examples/python/seed_numpy.py vectorized"
