#!/usr/bin/env bash
# Trains and evaluates the README's domain-adaptation table (every method and both bounds on three
# domain pairs, 3 seeds), then prints it (`python -m ganjax.tools.report adaptation`). Each run is one named
# job <method>_<pair>_s<seed>; finished jobs (eval.json present) are skipped, so rerunning resumes.
#
#   launch/adaptation.sh [MNIST_DIR]                    # default ../shared/data/mnist15k (13,000 / 2,000)
#   JOBS="dann_mnistm_s0 dann_source_only_mnistm_s0" OUT=/tmp/da launch/adaptation.sh
#   SEEDS="0" PARALLEL=4 launch/adaptation.sh           # one seed, 4 jobs at a time (a GPU: set
#                                                       # XLA_PYTHON_CLIENT_PREALLOCATE=false)
#   STEPS=100 launch/adaptation.sh                      # smoke test: every job for 100 steps
#   PIXELDA=configs/pixelda.py JOBS="pixelda_mnistm_s0" launch/adaptation.sh   # PixelDA at the released size
# Pairs: mnistm (MNIST -> MNIST-M, blend:), digits_mnist (scikit-learn's 8x8 digits upsampled -> MNIST),
# fonts_mnist (matplotlib-font digits -> MNIST, SimGAN's protocol; its target-only bound is the
# digits_mnist one: the same MNIST, network and seed), fashion_m (the full Fashion-MNIST -> its own
# MNIST-M-style blend, 60,000 / 10,000; DANN and its bounds; needs `apt-get install dataset-fashion-mnist`). Logs: $OUT/logs/<job>.log; workdirs: $OUT/<job>.
set -euo pipefail
mnist="${1:-../shared/data/mnist15k}"
out="${OUT:-/tmp/ganjax_adaptation}"
LOGS="$out/logs"
# shellcheck source=launch/jobs.sh
source "$(dirname "$0")/jobs.sh"
steps() { if [ -n "${STEPS:-}" ]; then echo "--config.num_steps=$STEPS"; else echo "--config.num_steps=$1"; fi; }
C="--config.progress=False --config.checkpoint_every=100000"
declare -A pair=(
  [mnistm]="--config.data.streams.source=blend:idx:$mnist --config.data.streams.target=blend:idx:$mnist --config.data.holdout=2000"
  [digits_mnist]="--config.data.streams.source=digits --config.data.streams.target=idx:$mnist --config.data.holdouts.target=2000"
  [fonts_mnist]="--config.data.streams.source=fonts --config.data.streams.target=idx:$mnist --config.data.holdouts.target=2000"
  [fashion_m]="--config.data.streams.source=blend:fashion_mnist --config.data.streams.target=blend:fashion_mnist")
declare -A cmd
order=()
add() { cmd[$1]="$2"; order+=("$1"); }
for s in ${SEEDS:-0 1 2}; do
  for p in mnistm digits_mnist fonts_mnist fashion_m; do
    add dann_source_only_${p}_s$s "--config=configs/dann.py:source_only ${pair[$p]} --config.seed=$s $(steps 2000)"
  done
  for p in mnistm digits_mnist fonts_mnist fashion_m; do
    add dann_${p}_s$s "--config=configs/dann.py ${pair[$p]} --config.seed=$s $(steps 2000)"
  done
  for p in mnistm digits_mnist fashion_m; do
    add dann_target_only_${p}_s$s "--config=configs/dann.py:target_only ${pair[$p]} --config.seed=$s $(steps 2000)"
  done
  add pixelda_mnistm_s$s "--config=${PIXELDA:-configs/pixelda.py:cpu} ${pair[mnistm]} --config.seed=$s $(steps 1500)"
  # the bounds with each method's own classifier recipe (optimizer, batch, steps) instead of DANN's SGD
  add source_only_pixelda_mnistm_s$s "--config=configs/dann.py:source_only:pixelda ${pair[mnistm]} --config.seed=$s $(steps 1500)"
  add target_only_pixelda_mnistm_s$s "--config=configs/dann.py:target_only:pixelda ${pair[mnistm]} --config.seed=$s $(steps 1500)"
  add source_only_dtn_digits_mnist_s$s "--config=configs/dann.py:source_only:dtn ${pair[digits_mnist]} --config.seed=$s $(steps 500)"
  add source_only_simgan_fonts_mnist_s$s "--config=configs/dann.py:source_only:simgan ${pair[fonts_mnist]} --config.seed=$s $(steps 2000)"
  add dtn_digits_mnist_s$s "--config=configs/dtn.py ${pair[digits_mnist]} --config.seed=$s $(steps 1500)"
  add simgan_fonts_mnist_s$s "--config=configs/simgan.py ${pair[fonts_mnist]} --config.seed=$s $(steps 2000)"
done
for j in ${JOBS:-${order[*]}}; do
  if [ -z "${cmd[$j]:-}" ]; then echo "unknown job $j (jobs: ${order[*]})" >&2; exit 2; fi
  [ -f "$out/$j/eval.json" ] && continue
  # shellcheck disable=SC2086
  job "$j" python3 -m ganjax.main --workdir="$out/$j" ${cmd[$j]} $C ${EXTRA:-}
done
status=0
finish || status=1
for w in "$out"/dann_target_only_digits_mnist_s*; do  # the fonts pair's upper bound: the same MNIST run
  [ -d "$w" ] && ln -sfn "$w" "$out/$(basename "$w" | sed 's/digits_mnist/fonts_mnist/')"
done
python3 -m ganjax.tools.report adaptation "$out" || status=1
exit "$status"
