#!/usr/bin/env bash
# Reproduces the seed text's experiments on Fashion-MNIST with `lamina train` and `lamina plot`,
# printing a Markdown summary (docs/experiments.md records one run of it).
#   usage: scripts/experiments.sh [OUT_DIR] [LAMINA]      (defaults: runs/experiments, build/bin/lamina)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/experiments}
lamina=${2:-build/bin/lamina}
threads=${THREADS:-2}
mkdir -p "$out/plots"

train() {  # train NAME MODEL [flags...]
  local name=$1 model=$2
  shift 2
  if [[ ! -f $out/$name/run.json ]]; then
    rm -rf "${out:?}/$name"
    # Status 1 is a diverged run (NaN loss): a result to report, not a reason to stop.
    "$lamina" train "models/$model.yaml" --out "$out/$name" --threads "$threads" --no-progress "$@" \
      > "$out/$name.log" 2>&1 || [[ $? -eq 1 ]]
  fi
}
diverged() { grep -q '"status": "diverged"' "$out/$1/run.json"; }
last() {  # last RUN COLUMN: a column of the final epoch in metrics.csv, or "diverged"
  if diverged "$1"; then echo "diverged"; else tail -1 "$out/$1/metrics.csv" | cut -d, -f"$2"; fi
}
first_epoch_above() {  # first epoch whose train accuracy reaches $2 ("-" if never)
  [[ -f $out/$1/metrics.csv ]] || { echo "-"; return; }
  awk -F, -v t="$2" 'NR > 1 && $3 >= t { print $1; found = 1; exit } END { if (!found) print "-" }' "$out/$1/metrics.csv"
}
init_flags() {  # init_flags "INDEXES" INIT_YAML: sets flags=(--set layers.K.init=INIT ...)
  flags=()
  for k in $1; do flags+=(--set "layers.$k.init=$2"); done
}

echo "## (a) BatchNorm and the initial weight scale (1000 samples, 20 epochs)"
echo
echo "| weight std | train acc, BatchNorm | train acc, plain | epoch >= 0.6, BatchNorm | epoch >= 0.6, plain |"
echo "|---|---|---|---|---|"
for i in $(seq 0 15); do
  std=$(awk -v i="$i" 'BEGIN { printf "%.3g", 10 ^ (-4 * i / 15) }')
  init_flags "0 3 6 9 12 15" "{type: normal, std: $std}"
  train "bn-$i" bn-compare "${flags[@]}"
  init_flags "0 2 4 6 8 10" "{type: normal, std: $std}"
  train "plain-$i" bn-compare-plain "${flags[@]}"
  echo "| $std | $(last "bn-$i" 3) | $(last "plain-$i" 3) | $(first_epoch_above "bn-$i" 0.6) | $(first_epoch_above "plain-$i" 0.6) |"
done
"$lamina" plot "$out/bn-4" "$out/plain-4" --out "$out/plots/batchnorm.png" --title "BatchNorm vs plain, weight std 0.0858" > /dev/null

echo
echo "## (b, c) Overfitting, weight decay and dropout (300 samples)"
echo
train overfit overfit
train overfit-l2 overfit --set "regularizer={type: l2, lambda: 0.1}"
train dropout-015 overfit-dropout --set layers.2.ratio=0.15 --set layers.5.ratio=0.15 --set layers.8.ratio=0.15 \
  --set layers.11.ratio=0.15 --set layers.14.ratio=0.15 --set layers.17.ratio=0.15
train dropout-020 overfit-dropout
echo "| run | epochs | train acc | test acc | gap | best test acc |"
echo "|---|---|---|---|---|---|"
for r in overfit overfit-l2 dropout-015 dropout-020; do
  tr=$(last $r 3)
  te=$(last $r 8)
  best=$(awk -F, 'NR > 1 && $8 > b { b = $8 } END { printf "%.4f", b }' "$out/$r/metrics.csv")
  echo "| $r | $(last $r 1) | $tr | $te | $(awk -v a="$tr" -v b="$te" 'BEGIN { printf "%.4f", a - b }') | $best |"
done
"$lamina" plot "$out/overfit" "$out/overfit-l2" --out "$out/plots/weight-decay.png" --title "300 samples: no decay vs L2 0.1" > /dev/null
"$lamina" plot "$out/overfit" "$out/dropout-015" "$out/dropout-020" --out "$out/plots/dropout.png" --title "300 samples: dropout" > /dev/null

echo
echo "## (d) Optimizers (full training set, batch 128, 1876 steps)"
echo
echo "| optimizer | loss at step 100 | loss at step 500 | loss at step 1870 | final test acc |"
echo "|---|---|---|---|---|"
for o in sgd momentum adagrad adam adamw; do
  train "opt-$o" optimizers --set optimizer.type=$o
  at() { awk -F, -v s="$1" '$1 == s { print $3 }' "$out/opt-$o/iterations.csv"; }
  echo "| $o | $(at 100) | $(at 500) | $(at 1870) | $(last "opt-$o" 8) |"
done
"$lamina" plot "$out"/opt-{sgd,momentum,adagrad,adam,adamw} --metric iterations --out "$out/plots/optimizers.png" \
  --title "optimizers: batch loss every 10 steps" > /dev/null

echo
echo "## (e) Initialization (SGD lr 0.01, same network)"
echo
echo "| init | loss at step 100 | loss at step 500 | loss at step 1870 | final test acc |"
echo "|---|---|---|---|---|"
for init in std-0.01 xavier he; do
  spec=$init
  [[ $init == std-0.01 ]] && spec="{type: normal, std: 0.01}"
  init_flags "0 2 4 6 8" "$spec"
  train "init-$init" init-compare "${flags[@]}"
  at() { awk -F, -v s="$1" '$1 == s { print $3 }' "$out/init-$init/iterations.csv"; }
  echo "| $init | $(at 100) | $(at 500) | $(at 1870) | $(last "init-$init" 8) |"
done
"$lamina" plot "$out"/init-{std-0.01,xavier,he} --metric iterations --out "$out/plots/init.png" \
  --title "initialization: batch loss every 10 steps" > /dev/null

echo
echo "## Hyperparameter search (500 samples, 20% validation, 100 trials of 50 epochs)"
echo
for v in search-text search-text-narrow search-text-asha; do
  [[ -f $out/$v/summary.json ]] || "$lamina" search "models/$v.yaml" --out "$out/$v" --no-progress > "$out/$v.log"
  echo "### $v"
  echo
  echo '```'
  sed -n '/finished trials ranked/,$p' "$out/$v.log"
  echo '```'
  echo
done
"$lamina" plot "$out/search-text" --out "$out/plots/search.png" --title "search-text: 100 trials" > /dev/null

echo "## Ensembles against dropout"
echo
echo '```'
for s in 1 2 3 4 5; do
  train "ens300-$s" overfit --seed "$s"
  train "ensfull-$s" mlp --seed "$s"
done
train drop300 overfit-dropout
train dropfull mlp-dropout
echo "# 300 samples: five plain networks (models/overfit.yaml, seeds 1-5), then one with dropout 0.2"
"$lamina" eval "$out"/ens300-{1,2,3,4,5} --threads "$threads"
"$lamina" eval "$out/drop300" --threads "$threads"
echo "# full data: five plain networks (models/mlp.yaml, seeds 1-5), then one with dropout 0.2"
"$lamina" eval "$out"/ensfull-{1,2,3,4,5} --threads "$threads"
"$lamina" eval "$out/dropfull" --threads "$threads"
echo '```'
echo
echo "## Learning-rate schedules (models/mlp.yaml, SGD lr 0.1, 10 epochs)"
echo
echo "| schedule | train acc | val acc | test acc |"
echo "|---|---|---|---|"
train sched-constant mlp
train sched-cosine mlp --set 'optimizer.schedule={type: cosine, warmup_epochs: 1}'
train sched-step mlp --set 'optimizer.schedule={type: step, every: 4, factor: 0.3}'
for s in constant cosine step; do
  echo "| $s | $(last "sched-$s" 3) | $(last "sched-$s" 6) | $(last "sched-$s" 8) |"
done
"$lamina" plot "$out"/sched-{constant,cosine,step} --out "$out/plots/schedules.png" \
  --title "SGD lr 0.1: constant, cosine (1 warm-up epoch), step (x0.3 every 4 epochs)" > /dev/null 2>&1
echo

echo "## Early stopping and the best checkpoint (models/overfit.yaml, 60 of 300 samples held out)"
echo
echo '```'
es() { train "$1" overfit --set data.validation_split=0.2 --set "train.callbacks=$2"; }
es es-full '[{type: keep_best}]'
es es-stop '[{type: early_stopping, patience: 10}, {type: keep_best}]'
es es-fullacc '[{type: keep_best, metric: val_accuracy}]'
es es-stopacc '[{type: early_stopping, metric: val_accuracy, patience: 20}, {type: keep_best, metric: val_accuracy}]'
for r in es-full es-stop es-fullacc es-stopacc; do
  grep -h "stopped after" "$out/$r.log" || true
  "$lamina" eval "$out/$r" --best --threads "$threads"
  "$lamina" eval "$out/$r" --threads "$threads"
done
echo '```'
"$lamina" plot "$out/es-full" "$out/es-stop" --metric loss --out "$out/plots/early-stopping.png" \
  --title "300 samples (60 held out): 200 epochs against early stopping on val_loss (patience 10)" > /dev/null 2>&1
echo

echo "## A CNN beside the MLP (models/cnn.yaml and models/mlp.yaml, 10 epochs)"
echo
echo "| model | train acc | val acc | test acc |"
echo "|---|---|---|---|"
train cnn cnn
train mlp mlp
for r in mlp cnn; do echo "| $r | $(last "$r" 3) | $(last "$r" 6) | $(last "$r" 8) |"; done
"$lamina" plot "$out/mlp" "$out/cnn" --out "$out/plots/cnn.png" \
  --title "models/mlp.yaml against models/cnn.yaml: accuracy per epoch" > /dev/null 2>&1
echo

echo "## A residual CNN beside the CNN (models/resnet-small.yaml and models/cnn.yaml, 10 epochs)"
echo
echo "| model | train acc | test acc |"
echo "|---|---|---|"
train resnet resnet-small
for r in cnn resnet; do echo "| $r | $(last "$r" 3) | $(last "$r" 8) |"; done
"$lamina" plot "$out/cnn" "$out/resnet" --out "$out/plots/resnet.png" \
  --title "models/cnn.yaml against models/resnet-small.yaml: accuracy per epoch" > /dev/null 2>&1
"$lamina" graph models/resnet-small.yaml --input-shape 1,28,28 --out "$out/plots/resnet-graph.svg" > /dev/null
echo

echo "plots: $out/plots"
