# bench-lib.sh - shell pieces the benchmark scripts share; sourced by
# run-bench.sh, run-bench-node.sh and run-bench-cluster.sh (which set
# `pel` and `out`).

# bench_machine: the machine line every benchmark starts with (stderr)
bench_machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
}

# bench_config DIR [TREES VERSIONS_KEPT]: a big faucet allowance per call in
# DIR/config.json so each loadgen sender is funded once; with TREES (1|0)
# and VERSIONS_KEPT, also the state-tree settings
bench_config() {
  python3 - "$1/config.json" "${2:-}" "${3:-}" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["faucet"]["max_amount"] = "1000000000000"; c["faucet"]["amount"] = "1000000000000"
if sys.argv[2]:
    c.setdefault("state", {})["trees"] = sys.argv[2] == "1"
    c["state"]["versions_kept"] = int(sys.argv[3])
json.dump(c, open(p, "w"), indent=2)
PY
}

# bench_wait_ready URL: until the node at URL answers (10 s)
bench_wait_ready() {
  for _ in $(seq 100); do "$pel" block show latest --rpc "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "node at $1 did not start" >&2; return 1
}

# bench_half: half the committed tps of the last line of $out (at least 100)
bench_half() {
  python3 -c "import json; r=[json.loads(l) for l in open('$out')][-1]; print(max(100, int(r['committed_tps']/2)))"
}

# bench_threads_start PID DIR: sample the CPU time of each of PID's threads
# (by name: the node names its threads, see node.c) once a second into
# DIR/cpu.N, in the background, until bench_threads_stop DIR
bench_threads_start() {
  ( i=0
    while kill -0 "$1" 2>/dev/null; do
      for t in /proc/"$1"/task/*; do
        echo "$(cat "$t/comm" 2>/dev/null) $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
      done > "$2/cpu.$i"
      i=$((i + 1)); sleep 1
    done ) &
  echo $! > "$2/sampler.pid"
}

# bench_threads_stop DIR: stop the sampler; print one JSON object: the cores
# each thread name used over the busiest 4-second window
bench_threads_stop() {
  kill "$(cat "$1/sampler.pid")" 2>/dev/null; wait "$(cat "$1/sampler.pid")" 2>/dev/null
  python3 - "$1" <<'PY'
import collections, glob, json, os, sys
d = sys.argv[1]
def load(p):
    c = collections.Counter()
    for l in open(p):
        parts = l.rsplit(None, 1)
        if len(parts) == 2 and parts[1].isdigit():
            c[parts[0]] += int(parts[1])
    return c
snaps = [load(p) for p in sorted(glob.glob(os.path.join(d, "cpu.*")), key=lambda p: int(p.rsplit(".", 1)[1]))]
tick = os.sysconf("SC_CLK_TCK")
if len(snaps) < 2:
    print(json.dumps({"window_s": 0, "thread_cores": {}})); sys.exit()
w = min(4, len(snaps) - 1)
best = max(range(len(snaps) - w), key=lambda i: sum(snaps[i + w].values()) - sum(snaps[i].values()))
a, b = snaps[best], snaps[best + w]
print(json.dumps({"window_s": w, "thread_cores": {k: round((b[k] - a[k]) / tick / w, 2)
                  for k in sorted(b, key=lambda k: a[k] - b[k]) if b[k] > a[k]}}))
PY
}
