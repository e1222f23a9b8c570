#!/usr/bin/env bash
# run-bench.sh PEL - the engine benchmark sweep (`make bench`).
# The Block-STM paper's grid: accounts 2, 10, 100, 1000, 10000 x block 1000,
# 10000 x threads 1, 2 (and 4, 8, 16 where the machine has the cores), for
# Block-STM and the declared-access engine, each against the sequential
# engine in the same process. JSON lines go to build/bench/exec.jsonl, a
# markdown table to stdout. RUNS=n sets runs per point (default 7).
set -euo pipefail
pel=${1:-build/pel}
runs=${RUNS:-7}
out=build/bench/exec.jsonl
mkdir -p build/bench
: > "$out"
cores=$(nproc)
threads="1 2"
for t in 4 8 16; do [ "$t" -le "$cores" ] && threads="$threads $t"; done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
for txs in 1000 10000; do
  for accounts in 2 10 100 1000 10000; do
    "$pel" bench exec --engine sequential --accounts "$accounts" --txs "$txs" --threads 1 --runs "$runs" --json | tee -a "$out" >&2
    for engine in blockstm declared; do
      for t in $threads; do
        "$pel" bench exec --engine "$engine" --accounts "$accounts" --txs "$txs" --threads "$t" --runs "$runs" --json | tee -a "$out" >&2
      done
    done
  done
done
python3 scripts/bench-table.py "$out"
