#!/usr/bin/env bash
# run-tests.sh - the whole test suite, as `make test` runs it:
#   1. every test binary, optimised build;
#   2. every test binary again under AddressSanitizer + UBSan;
#   3. the concurrency (engine) tests under ThreadSanitizer;
#   4. the independent Python verifier's tests, then the explorer in a
#      headless browser (tests/browser, needs build/pel, chromium and
#      tests/browser/node_modules: scripts/install-deps.sh);
#   5. each fuzz target briefly (libFuzzer).
# Each binary ends with "NAME: N passed, N failed"; this script sums them and
# prints the closing line "N passed, N failed". Exit status is non-zero if any
# check, binary or build failed.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
passed=0; failed=0; broken=0

run_bins() { # $1 = label, rest = binaries
  local label=$1; shift
  for b in "$@"; do
    local out rc line p f
    out=$("$b" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed$' | tail -1)
    if [ -z "$line" ]; then
      printf '%s\n' "$out" | tail -20
      echo "[$label] $b: crashed or printed no summary (rc=$rc)"; broken=$((broken+1)); continue
    fi
    p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/' <<<"$line")
    f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/' <<<"$line")
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
      printf '%s\n' "$out" | grep -E -B2 'FAIL|ERROR|WARNING|runtime error' | head -60
      [ "$f" -eq 0 ] && broken=$((broken+1))
    fi
    passed=$((passed+p)); failed=$((failed+f))
    echo "[$label] $line"
  done
}

build() { make -s -j"$JOBS" "$@" tests || { echo "build failed: $*"; broken=$((broken+1)); return 1; }; }

bins() { find "$1/tests" -type f -perm -u+x -name 'test_*' 2>/dev/null | sort; }

if build; then run_bins plain $(bins build); fi

ASAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
if build BUILD=build/asan OPT=-O1 SAN="$ASAN"; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  PEL_CRASH_KILLS=${PEL_CRASH_KILLS_ASAN:-3} \
  PEL_TEST_ITERS=${PEL_TEST_ITERS_ASAN:-${PEL_TEST_ITERS:-300}} run_bins asan $(bins build/asan)
fi

if build BUILD=build/tsan OPT=-O1 SAN="-fsanitize=thread"; then
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  PEL_TEST_ITERS=${PEL_TEST_ITERS_TSAN:-${PEL_TEST_ITERS:-}} PEL_TEST_TSAN=1 \
  run_bins tsan $(find build/tsan/tests/exec build/tsan/tests/state build/tsan/tests/rpc \
                   build/tsan/tests/node build/tsan/tests/modules \
                   build/tsan/tests/core/test_sign build/tsan/tests/core/test_ed25519 -type f -perm -u+x -name 'test_*' \
                   ! -name test_crash ! -name test_e2e ! -name test_cluster ! -name test_proofs ! -name test_objects \
                   2>/dev/null | sort)
fi

# tools in other languages (the independent Python verifier): same summary line
run_bins python $(find tests/tools -name 'test_*.py' 2>/dev/null | sort)

# the explorer, served by build/pel, in headless chromium (fails, never
# skips, when chromium or playwright-core is missing)
run_bins browser tests/browser/test_explorer.mjs

if make -s fuzz-build >/dev/null; then
  fuzz_out=$(FUZZ_SECONDS=${FUZZ_SECONDS:-5} scripts/run-fuzz.sh build/fuzz/fuzz 2>&1); frc=$?
  printf '%s\n' "$fuzz_out" | tail -n +1 | grep -E '^fuzz' || true
  fp=$(grep -c '^fuzz ok' <<<"$fuzz_out"); ff=$(grep -c '^fuzz FAIL' <<<"$fuzz_out")
  passed=$((passed+fp)); failed=$((failed+ff))
  [ $frc -ne 0 ] && [ "$ff" -eq 0 ] && broken=$((broken+1))
else
  echo "fuzz build failed"; broken=$((broken+1))
fi

[ $broken -ne 0 ] && echo "$broken test binaries or builds broke"
echo "total: $passed passed, $((failed+broken)) failed"
[ $failed -eq 0 ] && [ $broken -eq 0 ]
