#!/usr/bin/env python3
"""node-log-parts.py LOG... - where a node's blocks spent their time, per
committed transaction.

Reads `pel node` logs (one line a block: see README, "The node's log"; keep
them from a benchmark with `NODE_LOGS=DIR scripts/run-bench-node.sh`) and
prints, over the blocks of at least --min-txs transactions (default 100:
the load's blocks, not the setup's), the build (`exec`) and commit times
and each commit part in microseconds per transaction. Exit status 1 when a
file has no such block.
"""
import argparse
import re
import sys

LINE = re.compile(r"block \d+: (\d+) txs .*?exec ([\d.]+) ms .*?commit ([\d.]+) ms \((.*?)\)")
PART = re.compile(r"([a-z][a-z ]*?) ([\d.]+)$")


def parts(path, min_txs):
    tot, blocks, txs = {}, 0, 0
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.search(line)
            if not m or int(m.group(1)) < min_txs:
                continue
            blocks += 1
            txs += int(m.group(1))
            for name, ms in (("exec", m.group(2)), ("commit", m.group(3))):
                tot[name] = tot.get(name, 0.0) + float(ms)
            for p in m.group(4).split(", "):
                pm = PART.match(p.strip())
                if pm:
                    tot[pm.group(1)] = tot.get(pm.group(1), 0.0) + float(pm.group(2))
    return blocks, txs, tot


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--min-txs", type=int, default=100)
    a = ap.parse_args()
    rc = 0
    for path in a.logs:
        blocks, txs, tot = parts(path, a.min_txs)
        if not txs:
            print(f"{path}: no block of {a.min_txs} or more transactions", file=sys.stderr)
            rc = 1
            continue
        print(f"{path}: {blocks} blocks, {txs} transactions (µs a transaction)")
        for name, ms in tot.items():
            print(f"  {name:14s} {ms * 1000 / txs:8.1f}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
