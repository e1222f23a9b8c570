#!/usr/bin/env bash
# run-bench-cluster.sh PEL - the raft cluster against a single node (part
# of `make bench`). In one run, on this machine: a fresh single node
# (local ordering) and a fresh 3-node cluster (`pel init --cluster 3`, raft
# ordering, all three members on loopback), each given the same `pel
# loadgen` runs: throughput at an offered load above capacity (RATE), then
# latency at half the single node's committed tps (the same offered load
# for both). loadgen takes one --rpc URL: it is pointed at the cluster's
# leader (followers would only forward). Then leader failover, TRIALS times:
# kill -9 of the leader, a faucet transfer offered to the survivors every
# 10 ms, and the time until a survivor reports itself leader AND a height
# above the height at the kill (the first block committed by the new
# leader), polled over node_info every 10 ms; the killed member is
# restarted and the cluster is let agree before the next trial. One JSON
# line per measurement in build/bench/cluster.jsonl and a summary table
# with the ratios cluster / single. RATE (default 20000), DURATION (10),
# SENDERS (256), TRIALS (10) tune the run.
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
pel=${1:-build/pel}
rate=${RATE:-20000}
duration=${DURATION:-10}
senders=${SENDERS:-256}
trials=${TRIALS:-10}
out=build/bench/cluster.jsonl
mkdir -p build/bench
: > "$out"
base=$(mktemp -d /tmp/pel-bench-cluster-XXXXXX)
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  [ -f "$base/pids" ] && for p in $(cat "$base/pids"); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$base"
}
trap cleanup EXIT
bench_machine

# free_ports N: N consecutive free TCP ports on 127.0.0.1; prints the first
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    p = random.randint(20000, 60000 - n)
    try:
        ss = []
        for i in range(n):
            s = socket.socket(); s.bind(("127.0.0.1", p + i)); ss.append(s)
        for s in ss: s.close()
        print(p); sys.exit(0)
    except OSError:
        for s in ss: s.close()
sys.exit(1)
PY
}


# loadgen PHASE URL RATE SEED
loadgen() {
  "$pel" loadgen --rpc "$2" --rate "$3" --duration "$duration" --senders "$senders" --json \
    --key-seed "$4" | sed "s/^{/{\"phase\":\"$1\",/" | tee -a "$out" >&2
}

# ---- single node ----
sport=$(free_ports 1)
surl="http://127.0.0.1:$sport/rpc"
"$pel" init --dir "$base/single" --port "$sport" --chain-id bench >/dev/null
bench_config "$base/single"
"$pel" node --dir "$base/single" --quiet > "$base/single/node.log" 2>&1 &
spid=$!; pids="$spid"
bench_wait_ready "$surl"
loadgen single-throughput "$surl" "$rate" single-t
half=$(bench_half)
loadgen single-latency "$surl" "$half" single-l
kill "$spid"; wait "$spid" 2>/dev/null || true; pids=""

# ---- 3-node cluster ----
cport=$(free_ports 6)
"$pel" init --cluster 3 --dir "$base/cluster" --port "$cport" --raft-port $((cport + 3)) --chain-id bench >/dev/null
for i in 1 2 3; do bench_config "$base/cluster/node$i"; done
: > "$base/pids"
for i in 1 2 3; do
  "$pel" node --dir "$base/cluster/node$i" --quiet > "$base/cluster/node$i/node.log" 2>&1 &
  echo $! >> "$base/pids"
  disown $!                 # killed and restarted by the failover trials below
done
for i in 0 1 2; do bench_wait_ready "http://127.0.0.1:$((cport + i))/rpc"; done
leader_url() {
  python3 - "$cport" <<'PY'
import json, sys, time, urllib.request
base = int(sys.argv[1])
def info(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/rpc", data=json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "node_info"}).encode(), headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=2))["result"]
for _ in range(200):
    for i in range(3):
        try:
            if info(base + i)["ordering"]["role"] == "leader":
                print(f"http://127.0.0.1:{base + i}/rpc"); sys.exit(0)
        except Exception: pass
    time.sleep(0.05)
sys.exit(1)
PY
}
lurl=$(leader_url)
loadgen cluster-throughput "$lurl" "$rate" cluster-t
loadgen cluster-latency "$lurl" "$half" cluster-l

# ---- leader failover ----
python3 - "$pel" "$base" "$cport" "$trials" "$out" <<'PY'
import json, os, signal, subprocess, sys, time, urllib.request
pel, base, cport, trials, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
pids = [int(l) for l in open(f"{base}/pids")]
procs = [None, None, None]          # members restarted here
def call(i, method, params=None, timeout=1.0):
    body = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None: body["params"] = params
    req = urllib.request.Request(f"http://127.0.0.1:{cport + i}/rpc", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=timeout))
def info(i):
    try: return call(i, "node_info")["result"]
    except Exception: return None
def leader(members, secs=20):
    end = time.time() + secs
    while time.time() < end:
        for i in members:
            a = info(i)
            if a and a["ordering"]["role"] == "leader": return i, a
        time.sleep(0.01)
    return None, None
def agree(secs=30):
    end = time.time() + secs
    while time.time() < end:
        a = [info(i) for i in range(3)]
        if all(a) and len({(x["height"], x["state_root"]) for x in a}) == 1: return True
        time.sleep(0.05)
    return False
faucet_addr = info(0)["faucet"]
times = []
for t in range(trials):
    if not agree(): print("cluster did not converge", file=sys.stderr); break
    old, a = leader(range(3))
    h_kill = a["height"]
    t0 = time.monotonic()
    os.kill(pids[old], signal.SIGKILL)
    try: os.waitpid(pids[old], 0)
    except ChildProcessError: pass
    survivors = [i for i in range(3) if i != old]
    done = None
    while time.monotonic() - t0 < 30 and done is None:
        for i in survivors:
            try: call(i, "faucet", {"address": faucet_addr, "amount": "1"}, timeout=0.5)
            except Exception: pass
            x = info(i)
            if x and x["ordering"]["role"] == "leader" and x["height"] > h_kill:
                done = time.monotonic() - t0; break
        time.sleep(0.01)
    row = {"phase": "failover", "trial": t + 1, "old_leader": old + 1,
           "failover_ms": round(done * 1000, 1) if done is not None else None}
    print(json.dumps(row), file=sys.stderr)
    open(out, "a").write(json.dumps(row) + "\n")
    log = open(f"{base}/cluster/node{old + 1}/node.log", "a")
    p = subprocess.Popen([pel, "node", "--dir", f"{base}/cluster/node{old + 1}", "--quiet"], stdout=log, stderr=log)
    pids[old] = p.pid
    open(f"{base}/pids", "w").write("\n".join(map(str, pids)) + "\n")
PY

python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ph = {r["phase"]: r for r in rows if r.get("phase") != "failover"}
st, ct = ph["single-throughput"], ph["cluster-throughput"]
sl, cl = ph["single-latency"], ph["cluster-latency"]
fo = [r["failover_ms"] for r in rows if r.get("phase") == "failover" and r["failover_ms"] is not None]
nf = sum(1 for r in rows if r.get("phase") == "failover")
print("| measurement | single node | 3-node cluster | cluster / single |")
print("|---|---|---|---|")
print(f"| committed tps at offered {st['rate']}/s | {st['committed_tps']:.0f} | {ct['committed_tps']:.0f} | {ct['committed_tps']/st['committed_tps']:.2f} |")
for k, name in (("latency_p50_ms", "p50"), ("latency_p99_ms", "p99")):
    print(f"| {name} commit latency at offered {sl['rate']}/s | {sl[k]} ms | {cl[k]} ms | {cl[k]/sl[k]:.2f} |")
if fo:
    fo.sort()
    print(f"| leader failover (kill -9 -> first block of the new leader), {len(fo)} of {nf} trials | | "
          f"median {statistics.median(fo):.0f} ms, min {fo[0]:.0f}, max {fo[-1]:.0f} | |")
else:
    print(f"| leader failover | | no trial completed ({nf}) | |")
PY
