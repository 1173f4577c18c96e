#!/usr/bin/env bash
# Trains and evaluates the README's discrete-sequence figures (issue #17), then prints them
# (`python -m ganjax.report sequences`). Each run is one named job; finished jobs (eval.json present)
# are skipped, so rerunning resumes.
#   launch/sequences.sh                                  # every job, one after another
#   JOBS="seqgan_oracle_s0 mle_oracle_s0" OUT=/tmp/seq launch/sequences.sh
#   STEPS=20 launch/sequences.sh                         # smoke test
# Jobs: SeqGAN and its MLE baseline on the synthetic oracle (3 oracle seeds); the Gumbel-softmax GAN
# and an MLE LSTM of the same size on the grammar; TextGAN, BGAN (tokens) and MLE on the fortunes
# corpus (Debian's `fortunes`, installed here with apt when missing). Logs: $OUT/logs/<job>.log.
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
for s in ${SEEDS:-0 1 2}; do
  add seqgan_oracle_s$s "--config=configs/seqgan.py --config.seed=$s $(steps)"
  add mle_oracle_s$s "--config=configs/seqgan.py:mle --config.seed=$s $(steps)"
done
add gsgan_grammar "--config=configs/gsgan.py $(steps)"
add mle_grammar "--config=configs/gsgan.py:mle $(steps)"
if [ ! -d /usr/share/games/fortunes ] && [ -z "${EXTRA:-}" ]; then
  (apt-get update -qq && apt-get install -y -qq fortunes) >/dev/null || { echo "cannot install fortunes" >&2; exit 1; }
fi
add textgan_fortunes "--config=configs/textgan.py $(steps)"
add bgan_fortunes "--config=configs/bgan.py:tokens $(steps)"
add mle_fortunes "--config=configs/textgan.py:mle $(steps)"
for j in ${JOBS:-${order[*]}}; do
  if [ -z "${cmd[$j]:-}" ]; then echo "unknown job $j (jobs: ${order[*]})" >&2; exit 2; fi
  [ -f "$out/$j/eval.json" ] && [ -z "${STEPS:-}" ] && continue
  # shellcheck disable=SC2086
  job "$j" python3 -m ganjax.main --workdir="$out/$j" ${cmd[$j]} $C ${EXTRA:-}
done
finish
