#!/usr/bin/env bash
# Trains and evaluates the README's discrete-sequence figures, then prints them
# (`python -m ganjax.tools.report sequences`). Each run is one named job; finished jobs (eval.json present)
# are skipped, so rerunning resumes.
#   launch/sequences.sh                                  # every job, one after another
#   JOBS="seqgan_oracle_s0 mle_oracle_s0" OUT=/tmp/seq launch/sequences.sh
#   STEPS=20 launch/sequences.sh                         # smoke test
# Jobs: the Gumbel-softmax GAN and an MLE LSTM of the same size on the grammar; TextGAN, BGAN
# (tokens) and MLE on the fortunes corpus (Debian's `fortunes`, installed here with apt when
# missing); SeqGAN and its MLE baseline on the synthetic oracle (3 oracle seeds). About 90 minutes on
# 2 CPU cores, one job at a time. Logs: $OUT/logs/<job>.log.
set -euo pipefail
out="${OUT:-/tmp/ganjax_sequences}"
LOGS="$out/logs"
# shellcheck source=launch/jobs.sh
source "$(dirname "$0")/jobs.sh"
steps() { if [ -n "${STEPS:-}" ]; then echo "--config.num_steps=$STEPS"; fi; }
C="--config.progress=False"
declare -A cmd
order=()
add() { cmd[$1]="$2"; order+=("$1"); }
add gsgan_grammar "--config=configs/gsgan.py $(steps)"
add gsgan_pretrained_grammar "--config=configs/gsgan.py --config.gsgan.pretrain_steps=2500 $(steps)"
add mle_grammar "--config=configs/gsgan.py:mle $(steps)"
fortunes="--config.data.name=corpus:/usr/share/games/fortunes"
add textgan_fortunes "--config=configs/textgan.py $fortunes $(steps)"
add bgan_fortunes "--config=configs/bgan.py:tokens $fortunes $(steps)"
add mle_fortunes "--config=configs/textgan.py:mle $fortunes $(steps)"
for s in ${SEEDS:-0 1 2}; do
  add mle_oracle_s$s "--config=configs/seqgan.py:mle --config.seed=$s --config.keep_checkpoints=12 $(steps)"
  add seqgan_oracle_s$s "--config=configs/seqgan.py --config.seed=$s --config.keep_checkpoints=12 $(steps)"
done
# The optimizer and loss-scale experiments on oracle seed 0, each from seqgan_oracle_s0's step-5,000
# checkpoint (MLE and D pre-training done): the adversarial phase with G's MLE Adam state carried
# (the former default), carried with the loss a per-sequence mean (the former loss), fresh with it.
adv="--config=configs/seqgan.py --config.seed=0"
add seqgan_carried_seqmean_s0 "$adv --config.seqgan.adversarial_optimizer=carried --config.seqgan.pg_reduction=sequence_mean"
add seqgan_carried_tokenmean_s0 "$adv --config.seqgan.adversarial_optimizer=carried --config.seqgan.pg_reduction=token_mean"
add seqgan_fresh_seqmean_s0 "$adv --config.seqgan.pg_reduction=sequence_mean"
# SeqGAN's first 4,000 steps (MLE pre-training) are its baseline's first 4,000 steps, step for step
# (same seed, data order and update): a SeqGAN job starts from its baseline's step-4,000 checkpoint
# when there is one (SHARE_PRETRAINING=0: train it from scratch).
share() {
  local from="$out/mle_oracle_s$1/checkpoints/4000" to="$out/seqgan_oracle_s$1/checkpoints"
  if [ "${SHARE_PRETRAINING:-1}" = 1 ] && [ -d "$from" ] && [ ! -d "$to" ]; then mkdir -p "$to" && cp -r "$from" "$to/"; fi
}
from_adversarial() {  # an adversarial-phase experiment starts from seqgan_oracle_s0's step-5,000 checkpoint
  local from="$out/seqgan_oracle_s0/checkpoints/5000" to="$out/$1/checkpoints"
  if [ -d "$from" ] && [ ! -d "$to" ]; then mkdir -p "$to" && cp -r "$from" "$to/"; fi
  [ -d "$to" ] || { echo "$1 needs $from: run seqgan_oracle_s0 first" >&2; exit 2; }
}
for j in ${JOBS:-${order[*]}}; do
  if [ -z "${cmd[$j]:-}" ]; then echo "unknown job $j (jobs: ${order[*]})" >&2; exit 2; fi
  [ -f "$out/$j/eval.json" ] && [ -z "${STEPS:-}" ] && continue
  case "$j" in
    seqgan_oracle_s*) finish; share "${j#seqgan_oracle_s}";;  # after its baseline
    seqgan_*_s0) finish; from_adversarial "$j";;
  esac
  if [[ "$j" == *_fortunes && ! -d /usr/share/games/fortunes && -z "${EXTRA:-}" ]]; then  # Debian's fortunes, once
    (apt-get update -qq && apt-get install -y -qq fortunes) >/dev/null || { echo "cannot install fortunes" >&2; exit 1; }
  fi
  # shellcheck disable=SC2086
  job "$j" python3 -m ganjax.main --workdir="$out/$j" ${cmd[$j]} $C ${EXTRA:-}
done
finish
python3 -m ganjax.tools.report sequences "$out"
