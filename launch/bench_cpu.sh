#!/usr/bin/env bash
# Reproduces the README's performance table on this machine (PyTorch needed for the reference
# columns: pip install -e '.[bench]'). Run it on an otherwise idle machine. Results: $OUT/*.json.
#
#   launch/bench_cpu.sh [MNIST_DIR]    # default ../shared/data/mnist
set -euo pipefail
mnist="${1:-../shared/data/mnist}"
out="${OUT:-/tmp/ganjax_bench}"
rm -rf "$out" && mkdir -p "$out"
b() { python3 -m ganjax.bench "$@"; echo; }
# Time to first step on an empty compilation cache, then with it warm.
b --config=configs/dcgan.py --config.compilation_cache="$out/xla" --reference=torch --steps=5 --json="$out/dcgan_b64.json"
b --config=configs/dcgan.py --config.compilation_cache="$out/xla" --steps=5 --json="$out/dcgan_b64_warm.json"
b --config=configs/dcgan.py --config.batch_size=256 --config.compilation_cache="$out/xla" --reference=torch --steps=3 --json="$out/dcgan_b256.json"
b --config=configs/dcgan.py --config.model.conv_impl=xla --config.compilation_cache= --steps=3 --json="$out/dcgan_b64_xla_conv.json"
b --config=configs/vae.py --config.data.name="idx:$mnist" --config.compilation_cache= --reference=torch --steps=50 --json="$out/vae_mnist.json"
b --config=configs/gan.py --config.data.name="idx:$mnist" --config.compilation_cache= --reference=torch --steps=50 --json="$out/gan_mnist.json"
b --config=configs/infogan.py --config.batch_size=64 --config.data.name="idx:$mnist" --config.compilation_cache= --reference=torch --steps=5 --json="$out/infogan_mnist.json"
# The larger network: the SNGAN ResNet pair at 32x32 (five critic updates per step).
b --config=configs/sngan.py --config.compilation_cache= --reference=torch --steps=1 --repeats=3 --warmup=1 --json="$out/sngan.json"
