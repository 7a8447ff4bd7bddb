#!/usr/bin/env bash
# Calibrates the GPU, then validates on-demand, cross-layer gate and default-vector
# speculation without a cache and at two cache sizes on two real traces; the figures go
# into Benchmarks/GPU-VALIDATION.md.
#
#   Benchmarks/gpu-validation.sh MOESIM QWEN3_TRACE ESFT_TRACE OUTPUT_DIR
#
# QWEN3_TRACE: `moesim trace import --format route-csv --lenient` of the BigMoeOnEdge
# Qwen3-30B-A3B route CSV; ESFT_TRACE: `moesim trace import --format esft` of ESFT.
# Each run writes OUTPUT_DIR/NAME.json; a line per run is printed (python3 reads the JSON).
set -euo pipefail
moesim=$1 qwen=$2 esft=$3 out=$4
mkdir -p "$out"
"$moesim" gpu calibrate --model qwen3-30b-a3b --model deepseek-v2-lite -o "$out/profile.toml" --verbose 2>"$out/calibrate.log" | tee "$out/calibrate.txt"
run() {
  local name=$1; shift
  "$moesim" gpu validate --profile "$out/profile.toml" --json "$@" > "$out/$name.json"
  python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["validation"]
print(sys.argv[2].ljust(44), "  ".join("%s %.3f/%.3f (%+.1f%%)" % (f["key"], f["simulated"], f["measured"], f["error_percent"] or 0) for f in v["figures"][:3]))
' "$out/$name.json" "$name"
}
for policy in on-demand cross-layer-gate default-vector-speculation; do
  run "qwen3-$policy-none" --trace "$qwen" --expert-dtype bf16 --policy "$policy" --steps 129
  for cache in 4096 16384; do
    run "qwen3-$policy-$cache" --trace "$qwen" --expert-dtype bf16 --policy "$policy" --steps 129 --cache-mib "$cache"
  done
  run "esft-$policy-none" --trace "$esft" --policy "$policy" --steps 64 --prefill-as-decode
  run "esft-$policy-8192" --trace "$esft" --policy "$policy" --steps 64 --prefill-as-decode --cache-mib 8192
done
