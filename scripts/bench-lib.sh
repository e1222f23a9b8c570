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
