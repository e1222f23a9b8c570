#!/usr/bin/env bash
# run-bench-node.sh PEL - end-to-end node benchmark (part of `make bench`).
# Starts a fresh node on a temporary directory and a free port, measures in
# the same run (1) the machine's raw Ed25519 verification rate on all cores
# (`pel bench verify`: the bound no node can beat, with the node's own check
# (core/ed25519.h) and with libsodium's alone), measured again right before
# each round's throughput phase, whose ratio uses its own round's bound (on
# this VM the bound moves by a quarter from one minute to the next), (2)
# `pel loadgen` at a
# rate above what the node can take (throughput), (3) loadgen at half the
# measured throughput (latency), (4) the throughput again on a second fresh
# node whose chain keeps no state/history trees and no checkpoints
# (state.trees = false, the baseline), alternating with the node with trees
# ROUNDS times, (5) the open-science mix (`pel loadgen --workload science`:
# registrations citing popular objects, versions, reviews, preregistration
# commits; src/cli/science_gen.h) at the same offered load on a third fresh
# node set up like the first, ROUNDS times. Prints one JSON line per
# measurement to build/bench/node.jsonl and a summary with the ratios
# committed / bound, trees / no trees and science / transfers (target
# >= 0.8), and the science run's success ratio (receipts). RATE (default
# 40000), DURATION (10), SENDERS (256), ROUNDS (1), THREADS (loadgen's
# submitting threads, default 2: on a machine of many cores two threads
# cannot offer more than about 80,000 tx/s) tune the run; NODE_LOGS=DIR
# keeps each node's log (per block: transactions, execution and commit
# times) in DIR;
# VERSIONS_KEPT (default 16, so that pruning of old state-tree versions runs
# within the measurement, as it does on a long-running node) sets
# state.versions_kept of the node with trees.
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
pel=${1:-build/pel}
rate=${RATE:-40000}
duration=${DURATION:-10}
senders=${SENDERS:-256}
rounds=${ROUNDS:-1}
threads=${THREADS:-2}
node_logs=${NODE_LOGS:-}
versions_kept=${VERSIONS_KEPT:-16}
out=build/bench/node.jsonl
mkdir -p build/bench
: > "$out"
base=$(mktemp -d /tmp/pel-bench-XXXXXX)
node_pid=
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$base"; }
trap cleanup EXIT
bench_machine

# start_node NAME TREES: a fresh node directory, started; sets url, node_pid
start_node() {
  local dir="$base/$1" port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url="http://127.0.0.1:$port/rpc"
  "$pel" init --dir "$dir" --port "$port" --chain-id bench >/dev/null
  bench_config "$dir" "$2" "$versions_kept"
  if [ -n "$node_logs" ]; then
    mkdir -p "$node_logs"
    "$pel" node --dir "$dir" > "$node_logs/$1.log" 2>&1 &
  else
    "$pel" node --dir "$dir" --quiet > "$dir/node.log" 2>&1 &
  fi
  node_pid=$!
  bench_wait_ready "$url"
}
stop_node() { kill "$node_pid"; wait "$node_pid" 2>/dev/null || true; node_pid=; }

# throughput PHASE TREES ROUND [WORKLOAD]: offered load above capacity
throughput() {
  "$pel" loadgen --rpc "$url" --rate "$rate" --duration "$duration" --senders "$senders" --threads "$threads" --json \
    --workload "${4:-transfers}" --key-seed "$1-$3" \
    | sed "s/^{/{\"phase\":\"$1\",\"trees\":$2,\"round\":$3,/" | tee -a "$out" >&2
}

for r in $(seq "$rounds"); do
  # the bound next to each throughput phase: on a noisy machine it moves by
  # a quarter between minutes, so a ratio is only a fact within one round
  "$pel" bench verify --seconds 3 --json | sed "s/^{/{\"round\":$r,/" | tee -a "$out" >&2
  start_node "trees-$r" 1
  throughput throughput 1 "$r"
  if [ "$r" = 1 ]; then
    half=$(bench_half)
    "$pel" loadgen --rpc "$url" --rate "$half" --duration "$duration" --senders "$senders" --threads "$threads" --json \
      --key-seed half-rate | sed 's/^{/{"phase":"latency",/' | tee -a "$out" >&2
  fi
  stop_node
  start_node "notrees-$r" 0
  throughput baseline 0 "$r"
  stop_node
  start_node "science-$r" 1
  throughput science 1 "$r" science
  stop_node
done
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
vs = {r["round"]: r for r in rows if r.get("bench") == "verify"}
ts = [r for r in rows if r.get("phase") == "throughput"]
bs = [r for r in rows if r.get("phase") == "baseline"]
# the round whose committed / bound (its own bound) is best
t = max(ts, key=lambda r: r["committed_tps"] / vs[r["round"]]["per_s"])
v = vs[t["round"]]
b = max(bs, key=lambda r: r["committed_tps"])
l = next(r for r in rows if r.get("phase") == "latency")
print("| measurement | value |")
print("|---|---|")
if len(vs) > 1:
    each = ", ".join("%.2f" % (r["committed_tps"] / vs[r["round"]]["per_s"]) for r in ts)
    print(f"| committed / verification bound, each round against its own bound | {each} |")
print(f"| Ed25519 verify, all cores (key known), round {t['round']} | {v['per_s']:.0f}/s |")
print(f"| Ed25519 verify, all cores (key checked each time) | {v['strict_per_s']:.0f}/s |")
lib = v.get("libsodium_per_s")
if lib:
    print(f"| Ed25519 verify, all cores, libsodium's crypto_sign_ed25519_verify_detached | {lib:.0f}/s |")
print(f"| committed tps at offered {t['offered_tps']:.0f}/s | {t['committed_tps']:.0f} |")
print(f"| committed / verification bound (the node's own check, key known) | {t['committed_tps']/v['per_s']:.2f} |")
if lib:
    print(f"| committed / libsodium's verification rate | {t['committed_tps']/lib:.2f} |")
print(f"| committed tps without trees (baseline), same offered load | {b['committed_tps']:.0f} |")
print(f"| with trees / without trees (best of {len(ts)} rounds each) | {t['committed_tps']/b['committed_tps']:.2f} |")
print(f"| p50 / p99 commit latency at offered {l['offered_tps']:.0f}/s | {l['latency_p50_ms']} / {l['latency_p99_ms']} ms |")
ss = [r for r in rows if r.get("phase") == "science"]
s = max(ss, key=lambda r: r["committed_tps"])
print(f"| committed tps, open-science mix, same offered load | {s['committed_tps']:.0f} |")
print(f"| science / transfers (best of {len(ss)} rounds each; target >= 0.8) | {s['committed_tps']/t['committed_tps']:.2f} |")
print(f"| science transactions committed with success | {s['succeeded']} of {s['committed']} ({100*(s['success_ratio'] or 0):.1f}%) |")
PY
