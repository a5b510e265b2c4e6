#!/usr/bin/env bash
# Measure a GPU or TPU machine in one go: the accelerator suite of `simcollapse bench`
# (matmul peak, theory at 10^7 points, Monte Carlo at d = 4096 in float32 and float64,
# MNIST and language-model throughput), one JSON plus a Markdown table next to it.
# A few minutes on a current GPU; on a CPU the suite runs at reduced sizes.
#
#   benchmarks/accelerator.sh [OUT.json]      (QUICK=1 for the reduced sizes anywhere)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kind="$(python -c 'import jax; print(jax.devices()[0].device_kind.lower().replace(" ", "-"))')"
out="${1:-$here/results/accelerator-$kind.json}"
simcollapse bench --suite accelerator --out "$out" ${QUICK:+--quick}
simcollapse bench --markdown "$out" > "${out%.json}.md"
echo "wrote $out and ${out%.json}.md"
