#!/usr/bin/env bash
# moesim's fuzzer: builds the libFuzzer binary, assembles each target's seed corpus, and runs
# the targets. Called by `make fuzz` (long runs) and `make fuzz-smoke` (the seeded pass of
# `make test`); see Fuzz/README.md.
#
#   Fuzz/fuzz.sh build  CONFIG            swift build -c CONFIG with -sanitize=fuzzer into .build-fuzz
#   Fuzz/fuzz.sh corpus CONFIG            seeds into .build-fuzz/seeds/TARGET
#   Fuzz/fuzz.sh run    CONFIG SECONDS    every target for SECONDS in parallel; new inputs kept in .build-fuzz/corpus
#   Fuzz/fuzz.sh smoke  CONFIG RUNS       every target for RUNS inputs from seed 1; fails on any crash
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
SHARED=${SHARED:-../shared/traces}
TARGETS=${FUZZ_TARGETS:-"trace-file trace-meta chunk toml import"}
mode=$1
config=${2:-release}
out=.build-fuzz
binary="$out/$config/MoesimFuzz"
# libFuzzer must see a Swift trap's signal to save the input (replay one with the backtrace
# on: MOESIM_FUZZ_TARGET=T .build-fuzz/CONFIG/MoesimFuzz ARTIFACT).
export SWIFT_BACKTRACE=enable=no
# Per input: 10 s before it counts as a hang; 2 GiB of memory in all, 1 GiB in one allocation.
limits=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=262144 -dict=Fuzz/dictionaries/numbers.dict)

build() {
  "$SWIFT" build --package-path Fuzz -c "$config" --build-path "$out" -Xswiftc -sanitize=fuzzer
}

corpus() {
  rm -rf "$out/seeds"
  for target in $TARGETS; do
    MOESIM_FUZZ_TARGET=$target MOESIM_FUZZ_SEEDS="$out/seeds/$target" "$binary"
  done
  # The bundled TOML files of every schema, named by their paths (hardware/h200.toml and
  # profiles/h200.toml share a file name).
  local file
  for file in hardware/*.toml profiles/*.toml policies/*.toml engines/*.toml reproductions/*.toml reproductions/policies/*.toml \
              reproductions/hardware/*.toml traces/demo-sweep.toml; do
    cp "$file" "$out/seeds/toml/${file//\//_}"
  done
  # The head of each real trace, when ../shared/traces is present (read, never committed).
  local seeds="$out/seeds/import"
  if [ -d "$SHARED" ]; then
    head -c 20000 "$SHARED/bigmoeonedge-route-csv/qwen.route.csv" | head -n -1 > "$seeds/route.csv" || true
    head -n 60 "$SHARED/mixtral-8x7b-jsonl/gsm8k_2_routing.jsonl" > "$seeds/mixtral.jsonl" || true
    # A request's first three steps (the files are 300 KB).
    python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))[:3], open(sys.argv[2], "w"))' \
      "$SHARED/llama4-maverick-mmlu/abstract_algebra/0.json" "$seeds/llama4.json" || true
    { for layer in 1 2 3; do head -n 2 "$SHARED/esft-deepseek-v2-lite/intent/expert_weights_$layer.txt"; printf '\0'; done; } > "$seeds/esft.txt" || true
  fi
}

run() {
  local seconds=$1 failed=0
  mkdir -p "$out/logs"
  for target in $TARGETS; do
    # Not "$out/artifacts": that folder of a build path is SwiftPM's (dependencies' binary
    # artifacts), and a run's crash folder there was found gone at the run's end.
    mkdir -p "$out/corpus/$target" "$out/crashes/$target"
    MOESIM_FUZZ_TARGET=$target "$binary" "$out/corpus/$target" "$out/seeds/$target" "${limits[@]}" \
      -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/crashes/$target/" \
      > "$out/logs/$target.log" 2>&1 &
  done
  for job in $(jobs -p); do wait "$job" || failed=1; done
  for target in $TARGETS; do
    echo "== $target: $(grep -E '^stat::number_of_executed_units' "$out/logs/$target.log" | awk '{print $2}') inputs," \
         "$(grep -E '^#[0-9]+.*cov:' "$out/logs/$target.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9/a-zA-Z]+')"
    ls "$out/crashes/$target" | sed 's/^/   crash: /'
  done
  return $failed
}

smoke() {
  local runs=$1 failed=0 scratch target
  scratch=$(mktemp -d)
  # The targets run side by side (each from seed 1, so each is the same pass as alone): on
  # CI's two cores this halves the step.
  local -A pids=()
  for target in $TARGETS; do
    mkdir -p "$scratch/$target"
    MOESIM_FUZZ_TARGET=$target "$binary" "$scratch/$target" "$out/seeds/$target" "${limits[@]}" \
      -seed=1 -runs="$runs" -artifact_prefix="$scratch/$target-" > "$scratch/$target.log" 2>&1 &
    pids[$target]=$!
  done
  for target in $TARGETS; do
    if ! wait "${pids[$target]}"; then
      echo "fuzz smoke: $target crashed; the input and log are in $scratch"; tail -40 "$scratch/$target.log"; failed=1
    else
      echo "fuzz smoke: $target, $runs inputs from seed 1, no crash"
    fi
  done
  [ $failed = 0 ] && rm -rf "$scratch"
  return $failed
}

case $mode in
  build) build ;;
  corpus) corpus ;;
  run) run "${3:-600}" ;;
  smoke) smoke "${3:-2000}" ;;
  *) echo "usage: $0 build|corpus|run|smoke CONFIG [SECONDS|RUNS]"; exit 2 ;;
esac
