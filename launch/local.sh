#!/usr/bin/env bash
# Runs N ganjax processes on this machine as one jax.distributed job (one device mesh over all of
# them), e.g. to test multi-process code on a CPU:
#
#   GANJAX_PROCESSES=2 XLA_FLAGS=--xla_force_host_platform_device_count=2 \
#     launch/local.sh --config=configs/dcgan.py --workdir=/tmp/dcgan_2proc
#
# Env: GANJAX_PROCESSES (default 2), GANJAX_COORDINATOR (default 127.0.0.1:12345). CPU processes use
# gloo collectives. All processes log to stdout; process 0 writes metrics, samples and eval.json.
set -euo pipefail
n="${GANJAX_PROCESSES:-2}"
coordinator="${GANJAX_COORDINATOR:-127.0.0.1:12345}"
python="${PYTHON:-python3}"
pids=()
for ((i = 0; i < n; i++)); do
  "$python" -m ganjax.main --distributed --coordinator="$coordinator" --num_processes="$n" \
    --process_id="$i" "$@" &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null || true' INT TERM
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=$?
done
exit "$status"
