#!/usr/bin/env bash
# Calibrates the GPU, then validates on-demand, cross-layer gate and default-vector
# speculation without a cache and at two cache sizes on two real traces, the two
# draft-model policies at 16 GiB on Qwen3 and every other policy the replay runs on ESFT, and
# measures the host's memory bandwidth; the figures go into Benchmarks/GPU-VALIDATION.md.
#
#   Benchmarks/gpu-validation.sh MOESIM QWEN3_TRACE ESFT_TRACE OUTPUT_DIR
#
# With --engines first, the engine-model check of issues 13 and 15 instead: calibrates for
# Qwen3-30B-A3B and Switch-base-128's experts only (with the engine terms: sync after a
# kernel, copy call, grouped kernel, kernels on concurrent streams), then validates the yalis engine's on-demand and arXiv 2603.19289's speculation
# (reproductions/policies) on the Qwen3 trace at 1k and 64k tokens of context, moesim's
# own engine on-demand at 1k as a reference, every expert resident on one stream against
# the replica-streams engine's four (issue 15's kernels on concurrent streams), and arXiv
# 2605.11537's replication with its replicas on those streams — each concurrent run under
# the three models of a concurrent layer (GPU-alone table, table as issued, roofline) — and
# PyTorch's host costs (Benchmarks/torch-host-terms.py); about 110 s on an H200 before the
# concurrent runs were tripled (2026-12-04):
#
#   Benchmarks/gpu-validation.sh --engines MOESIM QWEN3_TRACE OUTPUT_DIR
#
# QWEN3_TRACE: `moesim trace import --format route-csv --lenient` of the BigMoeOnEdge
# Qwen3-30B-A3B route CSV; ESFT_TRACE: `moesim trace import --format esft` of ESFT.
# Each run writes OUTPUT_DIR/NAME.json; a line per run is printed (python3 reads the JSON).
set -euo pipefail
engines=false
if [ "${1:-}" = --engines ]; then engines=true; shift; fi
moesim=$1 qwen=$2
if $engines; then out=$3; else esft=$3 out=$4; fi
mkdir -p "$out"
run() {
  local name=$1; shift
  "$moesim" gpu validate --profile "${profile:-$out/profile.toml}" --json "$@" > "$out/$name.json"
  python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["validation"]
print(sys.argv[2].ljust(44), "  ".join("%s %.3f/%.3f (%+.1f%%)" % (f["key"], f["simulated"], f["measured"], f.get("error_percent") or 0) for f in v["figures"][:3]))
' "$out/$name.json" "$name"
}
if $engines; then
  "$moesim" gpu calibrate --model qwen3-30b-a3b --model switch-base-128-encoder -o "$out/profile.toml" --verbose 2>"$out/calibrate.log" | tee "$out/calibrate.txt"
  "$moesim" host calibrate --hardware "$out/profile.toml" -o "$out/profile-host.toml" | tee "$out/host-calibrate.txt"
  # What PyTorch adds to the driver's host costs (where python3 has torch; a few seconds).
  python3 Benchmarks/torch-host-terms.py > "$out/torch-host-terms.json" 2>&1 || echo "torch-host-terms: not run (see $out/torch-host-terms.json)"
  # The same as a profile's [framework.pytorch] table, to append to profile.toml for simulations
  # of PyTorch engines on this machine (gpu validate sets it aside: its replay issues driver calls).
  python3 Benchmarks/torch-host-terms.py --toml > "$out/framework-pytorch.toml" 2>&1 || true
  speculation=reproductions/policies/2603.19289-speculation.toml
  run "qwen3-moesim-on-demand-1k" --trace "$qwen" --expert-dtype bf16 --policy on-demand --context 1024 --steps 33
  # Issue 13's target first: yalis on-demand and speculation at 1k and 64k.
  for context in 1024 65536; do
    run "qwen3-yalis-on-demand-$context" --trace "$qwen" --expert-dtype bf16 --engine yalis --policy on-demand --context "$context" --steps 33
    run "qwen3-yalis-speculation-$context" --trace "$qwen" --expert-dtype bf16 --engine yalis --policy "$speculation" --context "$context" --steps 33
  done
  # llama.cpp's GPU path (copies by id run from pageable memory, syncs between weight tensors):
  # the real trace with every step sent down it, and a synthetic one at a batch that reaches its 32 tokens.
  run "qwen3-llama-cpp-gpu-path-1k" --trace "$qwen" --engine llama-cpp --engine-set cpu_experts_below_tokens=0 --context 1024 --steps 33
  "$moesim" trace synth --model qwen3-30b-a3b --tokens 2560 --prefill 16 --decode 64 --seed 1 -o "$out/qwen3-b32.sqlite" > /dev/null
  run "qwen3-synthetic-llama-cpp-b32" --trace "$out/qwen3-b32.sqlite" --engine llama-cpp --batch 32 --steps 8
  # Issue 15's concurrency term: every expert resident, one stream against the replica-streams
  # engine's four; in 2605.11537's regime, Switch-base-128's encoder with 512-token sentences
  # (bf16: the tables' type); and the replicas themselves (predicted experts preloaded, hot
  # ones copied again and their tokens split among the copies on the four streams). Each
  # concurrent run three times, under the three models of a concurrent layer: the GPU-alone
  # table with the host's issue (the profile as calibrated), the table as issued, and the
  # roofline with the host's issue (no table).
  "$moesim" trace synth --model switch-base-128-encoder --tokens 8192 --prefill 512 --decode 0 --seed 1 -o "$out/switch.sqlite" > /dev/null
  python3 - "$out/profile.toml" <<'PY'
import re, sys
path = sys.argv[1]
blocks = re.split(r"\n(?=\[)", open(path).read())
def without(*tables):
    return "\n".join(b for b in blocks if not any(b.startswith("[calibration.%s." % t) for t in tables))
open(path.replace(".toml", "-issued.toml"), "w").write(without("concurrent_ffn_gpu"))
open(path.replace(".toml", "-roofline.toml"), "w").write(without("concurrent_ffn_gpu", "concurrent_ffn"))
PY
  run "qwen3-moesim-all-resident-1k" --trace "$qwen" --expert-dtype bf16 --policy all-resident --context 1024 --steps 33
  for batch in 1 4; do
    run "switch-moesim-all-resident-b$batch" --trace "$out/switch.sqlite" --expert-dtype bf16 --policy all-resident --batch $batch --steps 4
  done
  for model in gpu-alone issued roofline; do
    case $model in gpu-alone) profile="$out/profile.toml" ;; *) profile="$out/profile-$model.toml" ;; esac
    run "qwen3-replica-streams-all-resident-1k-$model" --trace "$qwen" --expert-dtype bf16 --engine replica-streams --policy all-resident --context 1024 --steps 33
    for batch in 1 4; do
      run "switch-replica-streams-all-resident-b$batch-$model" --trace "$out/switch.sqlite" --expert-dtype bf16 --engine replica-streams \
        --policy all-resident --batch $batch --steps 4
      run "switch-replication-b$batch-$model" --trace "$out/switch.sqlite" --expert-dtype bf16 --engine replica-streams \
        --policy reproductions/policies/2605.11537-replication.toml --batch $batch --steps 4
    done
  done
  # The three models side by side: each concurrent row's replayed time (the GPU-alone run's;
  # every model's run replays the row again) and each model's simulated time, with its error
  # against its own run's replay.
  python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
models = ["gpu-alone", "issued", "roofline"]
print("\nconcurrent rows (figure: replayed; per model: simulated, error against its own replay)")
for path in sorted(glob.glob(os.path.join(out, "*-gpu-alone.json"))):
    row = os.path.basename(path)[: -len("-gpu-alone.json")]
    cells = []
    for model in models:
        figures = json.load(open(os.path.join(out, "%s-%s.json" % (row, model))))["validation"]["figures"]
        first = figures[0]
        if not cells:
            cells.append("%s %.3f" % (first["key"], first["measured"]))
        cells.append("%s %.3f (%+.1f%%)" % (model, first["simulated"], 100 * (first["simulated"] / first["measured"] - 1)))
    print(row.ljust(40), "  ".join(cells))
PY
  exit 0
fi
"$moesim" gpu calibrate --model qwen3-30b-a3b --model deepseek-v2-lite -o "$out/profile.toml" --verbose 2>"$out/calibrate.log" | tee "$out/calibrate.txt"
# The GPU machine's host too (not used by these runs, which compute every expert on the GPU).
"$moesim" host calibrate --hardware "$out/profile.toml" -o "$out/profile-host.toml" | tee "$out/host-calibrate.txt"
for policy in on-demand cross-layer-gate default-vector-speculation; do
  run "qwen3-$policy-none" --trace "$qwen" --expert-dtype bf16 --policy "$policy" --steps 129
  for cache in 4096 16384; do
    run "qwen3-$policy-$cache" --trace "$qwen" --expert-dtype bf16 --policy "$policy" --steps 129 --cache-mib "$cache"
  done
  run "esft-$policy-none" --trace "$esft" --policy "$policy" --steps 64 --prefill-as-decode
  run "esft-$policy-8192" --trace "$esft" --policy "$policy" --steps 64 --prefill-as-decode --cache-mib 8192
done
# Draft-model policies: the draft's assumed time is held on the GPU; the rest is validated.
for policy in speculative-decoding sp-moe; do
  run "qwen3-$policy-16384" --trace "$qwen" --expert-dtype bf16 --policy "$policy" --steps 33 --cache-mib 16384
done
# Every other shipped policy the replay runs (fiddler's CPU experts and the expert-parallel
# policies' four GPUs it does not), once each at 8 GiB on ESFT, whose 213 sequences the
# learned predictors train on (Qwen3's trace holds one).
for policy in mixtral-offloading hobbit promoe oracle predictive-replication; do
  run "esft-$policy-8192" --trace "$esft" --policy "$policy" --steps 64 --prefill-as-decode --cache-mib 8192
done
run "esft-all-resident" --trace "$esft" --policy all-resident --steps 64 --prefill-as-decode
