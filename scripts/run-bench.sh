#!/usr/bin/env bash
# run-bench.sh PEL - the engine benchmark sweep (`make bench`).
# The Block-STM paper's grid: accounts 2, 10, 100, 1000, 10000 x block 1000,
# 10000 x threads 1, 2 (and 4, 8, 16 where the machine has the cores), for
# Block-STM and the declared-access engine, each against the sequential
# engine in the same process. JSON lines go to build/bench/exec.jsonl, a
# markdown table to stdout. RUNS=n sets runs per point (default 7).
# Then the state- and history-tree benchmark (`pel bench trees`, one process
# sweeping the same thread counts): JSON lines to build/bench/trees.jsonl and
# a second table; TREES_OPTS adds options to it (e.g. "--accounts 100000").
# Then issue 7's hot-counter block (delta counters against read-and-write and
# none, build/bench/hot.jsonl) and the open-science workload
# (build/bench/science.jsonl), a table each.
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
pel=${1:-build/pel}
runs=${RUNS:-7}
out=build/bench/exec.jsonl
mkdir -p build/bench
: > "$out"
cores=$(nproc)
threads="1 2"
for t in 4 8 16; do [ "$t" -le "$cores" ] && threads="$threads $t"; done
bench_machine
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
trees=build/bench/trees.jsonl
# shellcheck disable=SC2086  # TREES_OPTS is a list of options
"$pel" bench trees --threads "${threads// /,}" --json ${TREES_OPTS:-} | tee "$trees" >&2
python3 - "$trees" <<'PY'
import json, sys
print()
print("| tree | what | threads | rate (median) | unit | target | ratio to target |")
print("|---|---|---:|---:|---|---:|---:|")
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    t = "{:,.0f}".format(r["target"]) if r["target"] else "-"
    q = "{:.2f}x".format(r["ratio_to_target"]) if r["ratio_to_target"] is not None else "-"
    print("| {} | {} | {} | {:,.0f} | {} | {} | {} |".format(
        r["bench"], r["what"], r["threads"], r["rate"], r["unit"], t, q))
PY
# hot counters (issue 7): 10,000 transfers that all pay one recipient and a
# fee into one pool, the recipient credited as a delta counter, read and
# written (rmw), or with no delta counters at all (none: the pool is read and
# written too, so the block serialises); --work 2000 gives each transfer a
# ~3 us body. Same run, each against the sequential engine in its process.
hot=build/bench/hot.jsonl
: > "$hot"
for t in $threads; do
  [ "$t" = 1 ] && continue
  for credit in delta rmw none; do
    "$pel" bench exec --accounts 10000 --txs 10000 --hot-recipient 100 --credit "$credit" --work 2000 \
      --threads "$t" --runs "$runs" --json | tee -a "$hot" >&2
  done
done
echo
python3 scripts/bench-table.py --hot "$hot"

# the open-science workload (src/cli/science_gen.h: registrations citing
# popular objects, versions, reviews, preregistration commits) through the
# ledger and its modules
science=build/bench/science.jsonl
: > "$science"
for t in $threads; do
  [ "$t" = 1 ] && continue
  for senders in 1000 10000; do
    "$pel" bench exec --workload science --txs 10000 --senders "$senders" --threads "$t" --runs "$runs" --json | tee -a "$science" >&2
  done
done
echo
python3 scripts/bench-table.py --science "$science"
