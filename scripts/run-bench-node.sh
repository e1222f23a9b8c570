#!/usr/bin/env bash
# run-bench-node.sh PEL - end-to-end node benchmark (part of `make bench`).
# Starts a fresh node on a temporary directory and a free port, measures in
# the same run (1) the machine's raw Ed25519 verification rate on all cores
# (`pel bench verify`: the bound no node can beat), (2) `pel loadgen` at a
# rate above what the node can take (throughput), (3) loadgen at half the
# measured throughput (latency). Prints one JSON line per measurement to
# build/bench/node.jsonl and a summary with the ratio committed / bound.
# RATE (default 40000), DURATION (10), SENDERS (256) tune the run.
set -euo pipefail
pel=${1:-build/pel}
rate=${RATE:-40000}
duration=${DURATION:-10}
senders=${SENDERS:-256}
out=build/bench/node.jsonl
mkdir -p build/bench
: > "$out"
dir=$(mktemp -d /tmp/pel-bench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/rpc"
node_pid=
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
"$pel" init --dir "$dir" --port "$port" --chain-id bench >/dev/null
# a big faucet allowance per call so each sender is funded once
python3 - "$dir/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["faucet"]["max_amount"] = "1000000000000"; c["faucet"]["amount"] = "1000000000000"
json.dump(c, open(p, "w"), indent=2)
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
"$pel" bench verify --seconds 3 --json | tee -a "$out" >&2
"$pel" node --dir "$dir" --quiet > "$dir/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 100); do "$pel" block show latest --rpc "$url" >/dev/null 2>&1 && break; sleep 0.1; done
"$pel" loadgen --rpc "$url" --rate "$rate" --duration "$duration" --senders "$senders" --json \
  | sed 's/^{/{"phase":"throughput",/' | tee -a "$out" >&2
half=$(python3 -c "import json; r=[json.loads(l) for l in open('$out')][-1]; print(max(100, int(r['committed_tps']/2)))")
"$pel" loadgen --rpc "$url" --rate "$half" --duration "$duration" --senders "$senders" --json \
  --key-seed half-rate | sed 's/^{/{"phase":"latency",/' | tee -a "$out" >&2
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
v = next(r for r in rows if r.get("bench") == "verify")
t = next(r for r in rows if r.get("phase") == "throughput")
l = next(r for r in rows if r.get("phase") == "latency")
print("| measurement | value |")
print("|---|---|")
print(f"| Ed25519 verify, all cores (key known) | {v['per_s']:.0f}/s |")
print(f"| Ed25519 verify, all cores (key checked each time) | {v['strict_per_s']:.0f}/s |")
print(f"| committed tps at offered {t['offered_tps']:.0f}/s | {t['committed_tps']:.0f} |")
print(f"| committed / verification bound | {t['committed_tps']/v['per_s']:.2f} |")
print(f"| p50 / p99 commit latency at offered {l['offered_tps']:.0f}/s | {l['latency_p50_ms']} / {l['latency_p99_ms']} ms |")
PY
