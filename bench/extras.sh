#!/usr/bin/env bash
# The benchmark's other figures: GEMM rate vs Lamina's achieved FLOP rate, heap allocations per
# batch, peak RSS, plugin start-up time. Needs bench/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== GEMM rate on a training step's shapes, and Lamina's achieved rate (median of 3)"
for build in build build-native; do
  bench_dir=build-bench; [[ $build == build-native ]] && bench_dir=build-bench-native
  for spec in "w1 100" "w1 1000" "w2 100"; do
    set -- $spec
    for threads in 1 2; do
      g=$(./$bench_dir/gemm_rate "$1" "$2" "$threads")
      model=bench/w1.yaml; [[ $1 == w2 ]] && model=bench/w2.yaml
      secs=()
      for rep in 1 2 3; do
        ./$build/bin/lamina train $model --threads "$threads" --no-progress --out "$tmp/r$rep" \
          --set train.batch_size="$2" >/dev/null
        secs+=("$(/usr/bin/python3 -c "import json;print(json.load(open('$tmp/r$rep/run.json'))['train_seconds_per_epoch'][0])")")
        rm -rf "$tmp/r$rep"
      done
      /usr/bin/python3 - "$g" "$2" "$build" "$threads" "${secs[@]}" <<'PY'
import json, statistics, sys
g = json.loads(sys.argv[1]); batch = int(sys.argv[2]); build = sys.argv[3]; threads = sys.argv[4]
secs = statistics.median(float(s) for s in sys.argv[5:])
steps = 60000 // batch
achieved = g["step_flops"] * steps / secs / 1e9
print(f"{build:12} {g['workload']} batch {batch:4} threads {threads}: sgemm {g['gflops']:6.1f} GFLOP/s "
      f"(step GEMMs {g['step_ms']:.3f} ms); Lamina step {secs / steps * 1e3:.3f} ms = {achieved:6.1f} GFLOP/s "
      f"= {achieved / g['gflops'] * 100:4.1f}% of sgemm; {60000 / secs:,.0f} samples/s")
PY
    done
  done
done

echo "== Eigen (Lamina's kernels) vs OpenBLAS (cblas_sgemm) vs oneDNN (dnnl_sgemm) on the same shapes, portable build"
for spec in "w1 100" "w1 1000" "w2 100"; do
  for threads in 1 2; do
    for kernel in eigen openblas onednn; do
      ./build-bench/gemm_rate $spec "$threads" "$kernel"
    done
  done
done
echo "== heap allocations per W1 step's GEMMs (batch 100), by kernel"
for kernel in eigen openblas onednn; do
  for threads in 1 2; do
    a=()
    for reps in 100 200; do
      a+=("$(GEMM_REPS=$reps LD_PRELOAD=$PWD/build-bench/count_allocs.so ./build-bench/gemm_rate w1 100 "$threads" "$kernel" 2>&1 >/dev/null |
        grep -o 'heap allocations: [0-9]*' | grep -o '[0-9]*$')")
    done
    echo "$kernel, $threads thread(s): $(((a[1] - a[0]) / 100)) per step"
  done
done

count() {  # WORKLOAD BATCHES THREADS
  LD_PRELOAD=$PWD/build-bench/count_allocs.so ./build/bin/lamina train "bench/$1.yaml" --threads "$3" --no-progress \
    --out "$tmp/a$1-$2-$3" --set data.train_limit=$(($2 * 100)) --set data.test_limit=1000 2>&1 >/dev/null |
    grep -o 'heap allocations: [0-9]*' | grep -o '[0-9]*$'
}
for w in w1 w4 w4a w5 w6; do
  echo "== heap allocations per training batch in steady state ($w)"
  for threads in 1 2; do
    a20=$(count "$w" 20 "$threads"); a40=$(count "$w" 40 "$threads")
    echo "$threads thread(s): 20 batches: $a20 allocations, 40 batches: $a40; per batch: $(((a40 - a20) / 20))"
  done
done

echo "== W4's convolutions against Eigen's GEMM on the same shapes (bench/conv_rate)"
for threads in 1 2; do ./build-bench/conv_rate "$threads"; done

echo "== peak RSS"
/usr/bin/time -f "models/mlp.yaml (10 epochs): %M KB" ./build/bin/lamina train models/mlp.yaml --no-progress --out "$tmp/rss1" >/dev/null
/usr/bin/time -f "bench/w1.yaml (1 epoch): %M KB" ./build/bin/lamina train bench/w1.yaml --no-progress --out "$tmp/rss2" >/dev/null

echo "== start-up: every plugin loaded vs none"
hyperfine -N -w 5 -r 50 './build/bin/lamina plugins' './build/bin/lamina --version' 2>&1 | grep -E "Time|±|lamina"
