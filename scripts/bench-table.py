#!/usr/bin/env python3
"""bench-table.py FILE.jsonl - markdown table of `pel bench exec --json` lines.

One row per (engine, threads, accounts, txs): throughput, and the speedup
over the sequential engine measured in the same process run.
"""
import json
import sys


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    print("| engine | threads | accounts | block | tx/s (median) | speedup vs sequential (same run) | executions/tx |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| {engine} | {threads} | {accounts} | {txs} | {tps:,.0f} | {sp:.2f}x | {ex:.2f} |".format(
            engine=r["engine"], threads=r["threads"], accounts=r["accounts"], txs=r["txs"],
            tps=r["tps_median"], sp=r["speedup_vs_sequential"], ex=r.get("executions_per_tx", 1.0)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench-table.py FILE.jsonl")
    main(sys.argv[1])
