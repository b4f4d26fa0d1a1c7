# Sourced by net_checks.sh and gpu_checks.sh (arguments: MODE SIGNVOTE
# FIXTURE_BIN WORKDIR MPIRUN...): sets mode, sv, work and mpirun, makes a
# 600-image CIFAR-format fixture in WORKDIR/data and starts `cfg` with the
# small_cnn run on it that both use (callers append their own --set).
mode=$1 sv=$2 fixture=$3 work=$4
shift 4
mpirun=("$@")
rm -rf "$work" && mkdir -p "$work"
"$fixture" "$work/data" 600
cfg=(train "$(dirname "${BASH_SOURCE[0]}")/../../configs/cifar10_resnet18_w16_signum.yaml"
     --set model.name=small_cnn --set data.path="$work/data" --set data.val_count=100
     --set data.train_files=1 --set data.records_per_file=600 --set data.batch_size=16
     --set run.checkpoint_every=0 --set optimizer.milestones=[] --set optimizer.schedule=constant)
