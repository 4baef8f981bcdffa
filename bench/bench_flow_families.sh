#!/bin/bash
# Flow families on Fashion-MNIST (the README table): STEPS (150) steps of each preset's batch at 1 rank x 2 threads,
# then test bpd on 8 batches. FAMILIES names presets of configs/ or paths of TOML files. For models with ODE blocks
# (FFJORD) the last column is the function evaluations per forward (nfe_forward) at the first and the last logged step.
set -e
cd "$(dirname "$0")/.."; B=build/launch/flowtrain; F=${FLOWTRAIN_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}; D=${1:-/tmp/fashion-mnist-full}
STEPS=${STEPS:-150}; RUNS=${RUNS:-/tmp/flow-family-runs}; EVERY=${EVERY:-$STEPS}
if [ ! -d $D/train ]; then
  $B data convert --from idx $F/train-images-idx3-ubyte.gz $F/train-labels-idx1-ubyte.gz --out $D/train --shards 4 >/dev/null
  $B data convert --from idx $F/t10k-images-idx3-ubyte.gz $F/t10k-labels-idx1-ubyte.gz --out $D/test --shards 2 >/dev/null
fi
rm -rf $RUNS
for c in ${FAMILIES:-glow-fashion nice-fashion maf-fashion nsf-fashion realnvp-fashion flowpp-fashion residual-flow-fashion iresnet-fashion ddnf-fashion ffjord-fashion}; do
  config=configs/$c.toml; [ -f "$c" ] && config=$c && c=$(basename $c .toml)
  start=$(date +%s.%N)
  OMP_NUM_THREADS=2 $B train $config --run-dir $RUNS/$c --set data.train=$D/train --set data.test=$D/test \
    --set train.steps=$STEPS --set log.every_steps=$EVERY --set log.eval_every_steps=$STEPS --set log.eval_batches=8 \
    --set log.sample_every_steps=0 --set checkpoint.every_steps=0 > $RUNS-$c.log 2>&1
  end=$(date +%s.%N)
  params=$($B info $config | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['parameter_count'])")
  line=$(grep "^step $STEPS/" $RUNS-$c.log | sed 's/.*| \([0-9]*\) img\/s.*/\1/')
  bpd=$(grep "^eval step" $RUNS-$c.log | sed 's/.*test bpd \([0-9.]*\).*/\1/')
  nfe=$(/usr/bin/python3 -c "
import json, sys
n = [json.loads(l)['nfe_forward'] for l in open('$RUNS/$c/metrics.jsonl') if 'nfe_forward' in l]
print(f'{n[0]:g} -> {n[-1]:g}' if n else '')")
  echo "| $c | $params | $bpd | $line | $(echo "$end - $start" | bc) | $nfe |"
done
