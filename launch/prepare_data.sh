#!/usr/bin/env bash
# Prepares a TFDS dataset once, as ArrayRecord, so training can read it with tfds.data_source and no
# TensorFlow. Needs TensorFlow and a network *here only*:
#
#   pip install -e '.[prepare]'
#   launch/prepare_data.sh mnist [DATA_DIR]        # then: --config.data.name=tfds:mnist
#   launch/prepare_data.sh cifar10 /data/tfds      #       --config.data.tfds_dir=/data/tfds
set -euo pipefail
name="${1:?usage: launch/prepare_data.sh DATASET [DATA_DIR]}"
data_dir="${2:-}"
python3 - "$name" "$data_dir" <<'PY'
import sys
import tensorflow_datasets as tfds

name, data_dir = sys.argv[1], sys.argv[2] or None
builder = tfds.builder(name, data_dir=data_dir, file_format="array_record")
builder.download_and_prepare()
print(f"prepared {name} in {builder.data_dir}: splits {', '.join(builder.info.splits)}")
PY
