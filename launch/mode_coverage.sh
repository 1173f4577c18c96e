#!/usr/bin/env bash
# The README's mode-coverage table: ring8 / grid25, the plain GAN and each stabilizer against mode
# collapse, several seeds, then a mean +- std table (python -m ganjax.tools.report modes).
#
#   launch/mode_coverage.sh                       # all variants, seeds 0 1 2, both datasets
#   STEPS=5000 LR=1e-3 SEEDS="0 1 2" DATASETS="ring8" VARIANTS="gan unrolled5" OUT=/tmp/modes launch/mode_coverage.sh
#   STEPS=25000 D_LR=1e-4 G_LR=1e-3 VARIANTS="gan unrolled5 unrolled10" launch/mode_coverage.sh  # Metz et al.'s rates
#   PARALLEL=8 launch/mode_coverage.sh            # 8 runs at a time (on a GPU: XLA_PYTHON_CLIENT_PREALLOCATE=false)
# Each run logs to $OUT/logs/<run>.log; EXTRA="--config.x=y ..." adds flags to every run.
set -euo pipefail
out="${OUT:-/tmp/ganjax_modes}"
steps="${STEPS:-5000}"
lr="${LR:-1e-3}"  # both players' Adam learning rate: 5,000 steps at 1e-3 converge onto the modes (1e-4 does not)
g_lr="${G_LR:-$lr}"
d_lr="${D_LR:-$lr}"
LOGS="$out/logs"
# shellcheck source=launch/jobs.sh
source "$(dirname "$0")/jobs.sh"
seeds="${SEEDS:-0 1 2}"
datasets="${DATASETS:-ring8 grid25}"
variants="${VARIANTS:-gan unrolled5 unrolled10 minibatch replay ensemble instance_noise wgan_gp}"

config_file() {  # the method of each variant: the unrolled GAN and GMAN are methods of their own
  case "$1" in
    unrolled*) echo "configs/unrolled_gan.py" ;;
    ensemble) echo "configs/gman.py" ;;
    *) echo "configs/gan.py" ;;
  esac
}

flags() {  # the overrides of <config_file>:<dataset> that make each variant
  case "$1" in
    gan) ;;
    unrolled5) echo "--config.unrolled.steps=5" ;;
    unrolled10) echo "--config.unrolled.steps=10" ;;
    minibatch) echo "--config.gan.minibatch_features=(16,4,64)" ;;  # B=16 kernels of C=4 dims, within groups of 64 samples
    replay) echo "--config.gan.replay_size=5120 --config.gan.replay_fraction=0.5" ;;
    ensemble) echo "--config.gman.num_discriminators=5" ;;
    instance_noise) echo "--config.gan.instance_noise=0.5" ;;
    # Gulrajani et al.'s settings, 5 critic steps per generator step. batch_size is per critic step
    # (a step reads batch_size * d_steps rows): this sweep's figures used 2,560, i.e. 5 critic steps
    # of 2,560 samples and G's step on 2,560 -- 5x the other variants' 512 (kept so that they reproduce).
    wgan_gp) echo "--config.gan.loss=wasserstein --config.gan.penalty=gradient --config.gan.d_steps=5 --config.batch_size=2560
                   --config.optim.d.b1=0.0 --config.optim.d.b2=0.9 --config.optim.g.b1=0.0 --config.optim.g.b2=0.9" ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}

for data in $datasets; do
  for v in $variants; do
    for s in $seeds; do
      wd="$out/${data}_${v}_s${s}"
      [ -f "$wd/eval.json" ] && continue  # done already: rerunning the script resumes the sweep
      # shellcheck disable=SC2046
      job "${data}_${v}_s${s}" python3 -m ganjax.main --config="$(config_file "$v"):$data" --workdir="$wd" \
        --config.seed="$s" --config.num_steps="$steps" --config.optim.g.lr="$g_lr" --config.optim.d.lr="$d_lr" \
        --config.progress=False --config.sample_every="$steps" $(flags "$v") ${EXTRA:-}
    done
  done
done
status=0
finish || status=1
python3 -m ganjax.tools.report modes "$out"
exit "$status"
