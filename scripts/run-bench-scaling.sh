#!/usr/bin/env bash
# run-bench-scaling.sh PEL - thread scaling on a many-core machine
# (`make bench-scaling`; made for the device machine some sessions are lent,
# see bench/RESULTS.md "Sixteen cores"). In one process each, against the
# sequential engine: the open-science mix, the delta-counter block (one
# popular recipient, one fee pool), and plain transfers at 1, 2, 4, ... up to
# the cores this process may use; the Ed25519 verification rate at the same
# counts; the state and history trees; then the node pinned to 2, 4, 8 cores
# (taskset) with the load generator on the remaining ones (asked for 30k
# tx/s per node core: a fixed 60k hid the 8-core figure, eleventh session),
# the cores each of the node's named threads used in the busiest seconds of
# the run, and the verification bound on the node's cores. JSON lines to build/bench/
# scaling-*.jsonl, a summary to stdout. TIMEOUT (per step, default 60 s).
# On a machine without the project's libraries, copy them next to the binary
# and set LD_LIBRARY_PATH (the tenth session's note shows how).
set -uo pipefail
. "$(dirname "$0")/bench-lib.sh"
pel=${1:-build/pel}
to=${TIMEOUT:-60}
out=build/bench
mkdir -p "$out"
cores=$(nproc)
threads=""
for t in 1 2 4 8 16 32 64; do [ "$t" -le "$cores" ] && threads="$threads $t"; done
bench_machine
for t in $threads; do timeout "$to" "$pel" bench verify --seconds 2 --threads "$t" --json; done > "$out/scaling-verify.jsonl"
for t in $threads; do
  timeout "$to" "$pel" bench exec --workload science --txs 10000 --senders 10000 --threads "$t" --runs 5 --json
done > "$out/scaling-science.jsonl"
for t in $threads; do
  timeout "$to" "$pel" bench exec --accounts 10000 --txs 10000 --hot-recipient 100 --credit delta --work 2000 \
    --threads "$t" --runs 5 --json
done > "$out/scaling-delta.jsonl"
for t in $threads; do
  timeout "$to" "$pel" bench exec --accounts 10000 --txs 10000 --threads "$t" --runs 5 --json
done > "$out/scaling-transfers.jsonl"
timeout $((to * 4)) "$pel" bench trees --threads "$(echo $threads | tr ' ' ,)" --runs 3 --leaves 200000 --json \
  > "$out/scaling-trees.jsonl"

# the node on N cores, the load generator on the others
base=$(mktemp -d /tmp/pel-scaling-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$base"' EXIT
node_on() {   # N WORKLOAD
  local n=$1 dir=$base/node-$1-$2 port url
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url="http://127.0.0.1:$port/rpc"
  "$pel" init --dir "$dir" --port "$port" --chain-id bench >/dev/null
  bench_config "$dir" 1 16
  taskset -c "0-$((n - 1))" "$pel" node --dir "$dir" --quiet > "$dir/node.log" 2>&1 &
  node_pid=$!
  bench_wait_ready "$url" || { kill "$node_pid"; node_pid=; return 1; }
  bench_threads_start "$node_pid" "$dir"
  timeout "$to" taskset -c "$n-$((cores - 1))" "$pel" loadgen --rpc "$url" --rate $((30000 * n)) --duration 6 --threads 4 \
    --senders 256 --workload "$2" --key-seed "scaling-$n-$2" --json \
    | sed "s/^{/{\"node_cores\":$n,/"
  bench_threads_stop "$dir" | sed "s/^{/{\"node_cores\":$n,\"threads_of\":\"$2\",/"
  kill "$node_pid"; wait "$node_pid" 2>/dev/null; node_pid=
  timeout "$to" taskset -c "0-$((n - 1))" "$pel" bench verify --seconds 2 --json \
    | sed "s/^{/{\"node_cores\":$n,\"bound\":\"$2\",/"
}
for n in 2 4 8; do
  [ $((n * 2)) -le "$cores" ] || continue
  node_on "$n" transfers
  [ "$n" = 2 ] && node_on "$n" science
done > "$out/scaling-node.jsonl"

python3 - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
def rows(name):
    p = os.path.join(d, "scaling-%s.jsonl" % name)
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []
print("| workload | " + " | ".join("%d" % r["threads"] for r in rows("science")) + " threads |")
print("|---|" + "---:|" * len(rows("science")))
print("| science (speedup) | " + " | ".join("%.2fx" % r["speedup"] for r in rows("science")) + " |")
for name in ("delta", "transfers"):
    print("| %s (speedup) | " % name + " | ".join("%.2fx" % r["speedup_vs_sequential"] for r in rows(name)) + " |")
print("| verify ours (k/s) | " + " | ".join("%.0f" % (r["per_s"] / 1e3) for r in rows("verify")) + " |")
print("| verify libsodium (k/s) | " + " | ".join("%.0f" % (r["libsodium_per_s"] / 1e3) for r in rows("verify")) + " |")
print()
for r in rows("trees"):
    if r["bench"] == "smt" and r["what"] in ("update", "update+commit"):
        print("state tree %-13s %2d threads: %9.0f key writes/s" % (r["what"], r["threads"], r["rate"]))
print()
bound = {}
for r in rows("node"):
    if r.get("bound"):
        bound[(r["node_cores"], r["bound"])] = r
for r in rows("node"):
    if r.get("bound"):
        continue
    if "thread_cores" in r:   # where the node's CPU went (busiest seconds of the run)
        print("  node threads on %d cores, %s: %s" % (r["node_cores"], r["threads_of"], ", ".join(
            "%s %.2f" % kv for kv in r["thread_cores"].items())))
        continue
    b = bound.get((r["node_cores"], r["workload"]))
    ratio = " (%.2f of our verification rate, %.2f of libsodium's)" % (
        r["committed_tps"] / b["per_s"], r["committed_tps"] / b["libsodium_per_s"]) if b else ""
    print("node on %d cores, %s: %.0f tx/s committed%s" % (r["node_cores"], r["workload"], r["committed_tps"], ratio))
PY
