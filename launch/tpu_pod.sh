#!/usr/bin/env bash
# Runs one ganjax job on every worker of a Cloud TPU VM pod slice; jax.distributed.initialize finds
# the coordinator and process ids itself on TPU. The workdir must be on a filesystem all workers
# share (e.g. NFS / Filestore or a gcsfuse mount): orbax writes one checkpoint from all of them.
#
#   TPU=my-v4-32 ZONE=us-central2-b launch/tpu_pod.sh --config=configs/dcgan.py --workdir=/mnt/shared/dcgan
#
# Setup once per pod: the repo at ~/ganjax on every worker and `pip install -e ~/ganjax 'jax[tpu]'`.
set -euo pipefail
: "${TPU:?set TPU to the TPU VM name}" "${ZONE:?set ZONE}"
args=$(printf ' %q' "$@")
gcloud compute tpus tpu-vm ssh "$TPU" --zone="$ZONE" --worker=all \
  --command="cd ~/ganjax && python3 -m ganjax.main --distributed${args}"
