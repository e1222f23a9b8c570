#!/usr/bin/env python3
"""bench-table.py [--hot | --science] FILE.jsonl - markdown tables of
`pel bench exec --json` lines.

Default: one row per (engine, threads, accounts, txs): throughput, and the
speedup over the sequential engine measured in the same process run.
--hot: issue 7's hot-counter block (one row per credit mode and threads).
--science: the open-science mix (one row per senders and threads).
Both of those also show each engine's minimum block time and Block-STM's
phases (medians): on a noisy machine the minimum is the repeatable figure.
"""
import json
import sys

PHASES = ("execute", "materialise", "sequential_tail", "write_set")
PHASES_HEAD = "Block-STM execute / materialise / sequential tail / write set ms"


def phases(r):
    ph = r["phases_ms_median"]
    return " / ".join("{:.2f}".format(ph[p]) for p in PHASES)


def sweep(rows):
    print("| engine | threads | accounts | block | tx/s (median) | speedup vs sequential (same run) | executions/tx |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| {engine} | {threads} | {accounts} | {txs} | {tps:,.0f} | {sp:.2f}x | {ex:.2f} |".format(
            engine=r["engine"], threads=r["threads"], accounts=r["accounts"], txs=r["txs"],
            tps=r["tps_median"], sp=r["speedup_vs_sequential"], ex=r.get("executions_per_tx", 1.0)))


def hot(rows):
    print("| hot recipient and fee pool | threads | Block-STM tx/s | sequential tx/s | speedup (target 1.7x at 2 with delta) "
          "| min ms sequential / Block-STM | " + PHASES_HEAD + " | executions / tx |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| credit {} | {} | {:,.0f} | {:,.0f} | {:.2f}x | {:.2f} / {:.2f} | {} | {:.2f} |".format(
            r["credit"], r["threads"], r["tps_median"], r["sequential_tps_median"], r["speedup_vs_sequential"],
            1e3 * r["sequential_seconds_min"], 1e3 * r["seconds_min"], phases(r), r["executions_per_tx"]))


def science(rows):
    print("| science workload | senders | threads | sequential ms | Block-STM ms | speedup (target 1.7x at 2) "
          "| min ms sequential / Block-STM | " + PHASES_HEAD + " |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| {} txs | {} | {} | {:.1f} | {:.1f} | {:.2f}x | {:.1f} / {:.1f} | {} |".format(
            r["txs"], r["senders"], r["threads"], r["seq_ms"], r["par_ms"], r["speedup"],
            r["seq_ms_min"], r["par_ms_min"], phases(r)))


if __name__ == "__main__":
    args = sys.argv[1:]
    kind = sweep
    if args and args[0] in ("--hot", "--science"):
        kind = hot if args[0] == "--hot" else science
        args = args[1:]
    if len(args) != 1:
        sys.exit("usage: bench-table.py [--hot | --science] FILE.jsonl")
    kind([json.loads(line) for line in open(args[0]) if line.strip()])
