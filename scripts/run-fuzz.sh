#!/usr/bin/env bash
# run-fuzz.sh DIR - run each libFuzzer target in DIR for FUZZ_SECONDS
# (default 60), with a corpus kept under build/fuzz/corpus/NAME.
# Prints "fuzz ok NAME" or "fuzz FAIL NAME" per target.
set -uo pipefail
dir=$1; secs=${FUZZ_SECONDS:-60}; rc=0
for t in "$dir"/fuzz_*; do
  [ -x "$t" ] || continue
  n=$(basename "$t"); corpus=build/fuzz/corpus/$n; mkdir -p "$corpus"
  if "$t" -max_total_time="$secs" -max_len=4096 -print_final_stats=0 \
       -artifact_prefix=build/fuzz/crash-"$n"- "$corpus" >build/fuzz/"$n".log 2>&1; then
    echo "fuzz ok $n"
  else
    tail -30 build/fuzz/"$n".log; echo "fuzz FAIL $n"; rc=1
  fi
done
exit $rc
