#!/usr/bin/env bash
# Trains and evaluates the README's MNIST results (everything but the mode-coverage sweep, which is
# launch/mode_coverage.sh), then prints their tables. Each figure is one named job; finished jobs
# (eval.json / ais.json present) are skipped, so rerunning resumes.
#
#   launch/figures.sh [MNIST_DIR]                       # default ../shared/data/mnist, every job
#   JOBS="infogan_mnist_s0 sgan_s0" OUT=/tmp/figs launch/figures.sh
#   PARALLEL=8 launch/figures.sh                        # 8 jobs at a time (on a GPU also set
#                                                       # XLA_PYTHON_CLIENT_PREALLOCATE=false)
#   STEPS=100 launch/figures.sh                         # smoke test: every job for 100 steps
#   EXTRA="--config.eval.num_samples=500" launch/figures.sh   # more flags for every training job
# Logs: $OUT/logs/<job>.log; workdirs: $OUT/<job>.
set -euo pipefail
mnist="${1:-../shared/data/mnist}"
out="${OUT:-/tmp/ganjax_figures}"
LOGS="$out/logs"
# shellcheck source=launch/jobs.sh
source "$(dirname "$0")/jobs.sh"
M="--config.data.name=idx:$mnist --config.data.holdout=2000 --config.progress=False"
steps() { if [ -n "${STEPS:-}" ]; then echo "--config.num_steps=$STEPS"; else echo "${1:+--config.num_steps=$1}"; fi; }

declare -A cmd  # job -> its arguments to ganjax.main (MNIST: 8,000 training / 2,000 held-out images)
order=()        # every job, the longest first
add() { cmd[$1]="$2"; order+=("$1"); }
add cgan "--config=configs/cgan.py $M $(steps)"    # 20,000 steps
add ali "--config=configs/ali.py $M $(steps)"      # 20,000 steps
add gan "--config=configs/gan.py $M $(steps)"      # 20,000 steps, 28x28
for s in 0 1 2; do
  add infogan_mnist_s$s "--config=configs/infogan.py $M --config.seed=$s $(steps)"  # 5,000 steps of 128
  add sgan_s$s "--config=configs/sgan.py:mlp $M --config.seed=$s $(steps)"  # 100 labels, 10,000 steps (the recorded plain-MLP figure)
done
add acgan "--config=configs/acgan.py $M $(steps)"  # 5,000 steps, DCGAN players at 32x32
add vae "--config=configs/vae.py $M --config.vae.iwae_samples=5000 $(steps)"  # 10,000 steps
add dcgan "--config=configs/dcgan.py $M $(steps 3000)"
add vae32 "--config=configs/vae.py $M --config.data.image_size=32 $(steps)"  # DCGAN's 32x32, for AIS side by side
for c in wgan_gp wgan dcgan lsgan ebgan bgan; do  # the objective table: 1,500 generator steps each
  add obj_$c "--config=configs/$c.py $M $(steps 1500) --config.sample_every=500 --config.checkpoint_every=500"
done
for s in 0 1 2; do
  # digits: the settings its README figure was measured with (batch 64, z ~ N(0, I))
  add infogan_digits_s$s "--config=configs/infogan.py --config.seed=$s $(steps 3000) --config.batch_size=64 --config.model.latent_dist=normal"
  add timeseries_infogan_s$s "--config=configs/timeseries_infogan.py --config.seed=$s $(steps 3000)"
done
# AIS log-likelihood (Wu et al.) of a finished run's generator on its first 100 held-out images:
# job -> "run|extra flags". The VAE with its own Bernoulli decoder beside its IWAE bound on the same
# images; the 32x32 VAE and the DCGAN under one Gaussian observation model (sigma 0.1, [-1, 1] pixels).
declare -A ais=([ais_vae]="vae|--iwae_samples=5000" [ais_vae32]="vae32|--observation=gaussian" [ais_dcgan]="dcgan|")
conf_of() { sed -n 's/^--config=\([^ ]*\).*/\1/p' <<<"${cmd[$1]}"; }

jobs_wanted="${JOBS:-${order[*]} ${!ais[*]}}"
for j in $jobs_wanted; do
  if [ -n "${cmd[$j]:-}" ]; then
    [ -f "$out/$j/eval.json" ] && continue
    # shellcheck disable=SC2086
    job "$j" python3 -m ganjax.main --workdir="$out/$j" ${cmd[$j]} ${EXTRA:-}
  elif [ -z "${ais[$j]:-}" ]; then
    echo "unknown job $j (jobs: ${order[*]} ${!ais[*]})" >&2; exit 2
  fi
done
status=0
finish || status=1
for j in $jobs_wanted; do  # AIS reads the trained runs, so it comes after them
  spec="${ais[$j]:-}"
  src="${spec%%|*}" extra="${spec#*|}"
  [ -n "$src" ] && [ -f "$out/$src/eval.json" ] || continue
  grep -qs '"log_likelihood"' "$LOGS/$j.log" && continue  # done already
  # shellcheck disable=SC2046,SC2086
  job "$j" python3 -m ganjax.tools.likelihood --config="$(conf_of "$src")" --workdir="$out/$src" \
    $(sed 's/--config=[^ ]* //' <<<"${cmd[$src]}") --num_images="${AIS_IMAGES:-100}" $extra
done
finish || status=1
done_dirs=$(ls -d "$out"/*/eval.json 2>/dev/null | xargs -r -n1 dirname)
# shellcheck disable=SC2086
[ -n "$done_dirs" ] && python3 -m ganjax.tools.report evals $done_dirs
exit "$status"
