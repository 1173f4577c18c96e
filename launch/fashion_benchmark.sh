#!/usr/bin/env bash
# The standard benchmark table on the complete Fashion-MNIST (60,000 training / 10,000 test images:
# Debian's dataset-fashion-mnist, or the IDX files fetched once): every unconditional generator and
# the two conditional ones, each with its own config's networks and settings, all at 32x32 (one
# classifier feature space), one budget of generator steps, 3 seeds; each run is evaluated on the 10,000
# test images with the whole metric suite (10,000 samples); then the table
# (python -m ganjax.tools.report benchmark). Finished runs (eval.json) are skipped and each run saves a
# checkpoint every quarter of its steps: rerunning the same command resumes an interrupted table.
#
#   launch/fashion_benchmark.sh                          # the CPU budget (BUDGET=cpu): on 2 cores about 2.5 h
#                                                        # for every method but SN-GAN, SN-GAN ~4 h more
#   BUDGET=gpu PARALLEL=10 launch/fashion_benchmark.sh   # the GPU budget: 10x the generator steps
#                                                        # (XLA_PYTHON_CLIENT_PREALLOCATE=false on a GPU)
#   STEPS=50 SEEDS=0 METHODS="dcgan cgan" OUT=/tmp/fb launch/fashion_benchmark.sh   # a smoke test
#   DATA=idx:/path/kmnist launch/fashion_benchmark.sh     # the same table on other labelled images
# Logs: $OUT/logs/<method>_s<seed>.log; workdirs: $OUT/<method>_s<seed>.
set -euo pipefail
budget="${BUDGET:-cpu}"
case "$budget" in
  cpu) steps="${STEPS:-1000}" ;;
  gpu) steps="${STEPS:-10000}" ;;
  *) echo "BUDGET must be cpu or gpu, got $budget" >&2; exit 2 ;;
esac
out="${OUT:-/tmp/ganjax_fashion_$budget}"
LOGS="$out/logs"
# shellcheck source=launch/jobs.sh
source "$(dirname "$0")/jobs.sh"
methods="${METHODS:-gan dcgan lsgan wgan wgan_gp sngan ebgan bgan cgan acgan}"
seeds="${SEEDS:-0 1 2}"
samples="${SAMPLES:-10000}"
data="${DATA:-fashion_mnist}"
for m in $methods; do
  [ -f "configs/$m.py" ] || { echo "unknown method $m (no configs/$m.py)" >&2; exit 2; }
  for s in $seeds; do
    wd="$out/${m}_s$s"
    [ -f "$wd/eval.json" ] && continue
    # shellcheck disable=SC2086
    job "${m}_s$s" python3 -m ganjax.main --config="configs/$m.py" --workdir="$wd" --config.seed="$s" \
      --config.data.name="$data" --config.data.image_size=32 --config.num_steps="$steps" \
      --config.eval.num_samples="$samples" --config.sample_every="$steps" --config.checkpoint_every="$(( (steps + 3) / 4 ))" \
      --config.progress=False ${EXTRA:-}
  done
done
status=0
finish || status=1
python3 -m ganjax.tools.report benchmark "$out"
exit "$status"
