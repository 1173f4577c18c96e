#!/usr/bin/env bash
# The README's GPU performance table: ganjax against the same networks and step in PyTorch (eager,
# cuDNN autotuning) on the same GPU, float32 and bfloat16 (ganjax: config.dtype; PyTorch: autocast),
# then XLA's FLOP count over the step time. Run on an otherwise idle GPU. Results: $OUT/*.json.
#
#   launch/bench_gpu.sh
set -euo pipefail
out="${OUT:-/tmp/ganjax_bench_gpu}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
b() { python3 -m ganjax.bench --reference=torch --steps=20 --repeats=5 --warmup=5 "$@"; echo; }
for dtype in float32 bfloat16; do
  for batch in 64 256; do
    b --config=configs/dcgan.py --config.data.image_size=64 --config.batch_size="$batch" --config.dtype="$dtype" \
      --json="$out/dcgan64_b${batch}_${dtype}.json"
  done
done
