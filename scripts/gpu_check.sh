#!/usr/bin/env bash
# One command for a GPU machine: the GPU tests, the training step against
# PyTorch on the same GPU, and the sign kernels against the device's copy
# bandwidth. Prints one JSON line per check; exits non-zero when a check
# fails. About 3-5 minutes on one GPU (each step has a time limit).
#
#   scripts/gpu_check.sh            from a build tree (binaries in build/)
#   BUNDLE/scripts/gpu_check.sh     from scripts/gpu_bundle.sh's folder on a
#                                   machine without Debian's libraries
#
# The CUDA libraries (cudart 13, cuDNN 9, cuBLAS, NCCL) are looked for on the
# loader's path, in /usr/local/cuda and in Python's nvidia-* packages; the
# first line names the ones found.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$here/bin/signvote" ]; then  # a bundle
  bin=$here/bin; tests=$here/bin; mpi_tests=$here/bin
  pkglib=$(ls -d "$here"/openmpi/lib/*/ | head -1)
  export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export OPAL_PREFIX="$here/openmpi" OPAL_BINDIR="$here/bin" OPAL_LIBDIR="$here/lib" OPAL_PKGLIBDIR="${pkglib%/}" \
         OPAL_PKGDATADIR="$here/openmpi/share/openmpi" OPAL_SYSCONFDIR="$here/openmpi/etc" OPAL_DATADIR="$here/openmpi/share"
  mpirun_bin=$here/bin/mpirun
else
  bin=$here/build; tests=$here/build/tests; mpi_tests=$here/build/tests/mpi
  mpirun_bin=$(command -v mpirun)
fi
work=$(mktemp -d /tmp/signvote-gpu-check.XXXXXX)
py=$(command -v python3)
json() { "$py" -c 'import json,sys; print(json.dumps(dict(a.split("=",1) for a in sys.argv[1:])))' "$@"; }
failed=0

# --- the CUDA libraries ------------------------------------------------------
want=(libcudart.so.13 libcudnn.so.9 libcublas.so.13 libcublasLt.so.13 libnccl.so.2)
dirs=(/usr/local/cuda/lib64 /usr/local/cuda/lib)
nv=$("$py" -c 'import nvidia, os; print(" ".join(os.path.join(p, d, "lib") for p in nvidia.__path__ for d in os.listdir(p)))' 2>/dev/null || true)
read -r -a nvdirs <<< "$nv"
found=()
for lib in "${want[@]}"; do
  path=$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l && !p {print $NF; p = 1}')  # no early exit: SIGPIPE
  if [ -z "$path" ]; then
    for d in "${dirs[@]}" "${nvdirs[@]}"; do
      if [ -e "$d/$lib" ]; then path=$d/$lib; break; fi
    done
  fi
  [ -n "$path" ] || { json check=cuda_libraries status=fail missing="$lib" searched="ldconfig ${dirs[*]} ${nvdirs[*]}"; exit 1; }
  export LD_LIBRARY_PATH="$(dirname "$path"):$LD_LIBRARY_PATH"
  found+=("$lib=$path")
done
json check=cuda_libraries status=ok "${found[@]}"

glibc_have=$(ldd --version | head -1 | grep -o '[0-9]*\.[0-9]*$')
if [ -f "$here/MANIFEST" ]; then
  glibc_need=$(grep -o 'GLIBC_2\.[0-9]*' "$here/MANIFEST" | head -1 | sed 's/GLIBC_//')
  if [ "$(printf '%s\n%s\n' "$glibc_need" "$glibc_have" | sort -V | head -1)" != "$glibc_need" ]; then
    json check=glibc status=fail have="$glibc_have" need="$glibc_need" hint="build the bundle on an older distribution"
    exit 1
  fi
fi

devices=$("$bin/signvote" devices --json)
echo "$devices" | "$py" -c 'import json,sys; d=json.load(sys.stdin); d["check"]="devices"; d["status"]="ok" if d["count"] else "fail"; print(json.dumps(d)); sys.exit(0 if d["count"] else 1)'

# --- the GPU tests ------------------------------------------------------------
exe() {  # test binary by name, in a bundle's bin/ or a build tree
  if [ -x "$bin/$1" ]; then echo "$bin/$1"; else find "$here/build/tests" -name "$1" -type f | head -1; fi
}
run_check() {  # NAME LIMIT_S CMD...: one JSON line (status, rc, seconds, last output line)
  local name=$1 limit=$2 start=$SECONDS rc=0 status=ok
  shift 2
  timeout "$limit" "$@" > "$work/$name.log" 2>&1 || rc=$?
  case $rc in 0) ;; 77) status=skipped ;; 124) status=timeout ;; *) status=fail ;; esac
  case $status in ok | skipped) ;; *) failed=1 ;; esac
  json check="$name" status="$status" rc="$rc" seconds="$((SECONDS - start))" \
    last="$(grep -v '^[[:space:]]*$' "$work/$name.log" | tail -1)" log="$work/$name.log"
}
mpirun=("$mpirun_bin" --oversubscribe --mca pml ob1 --bind-to none)
[ "$(id -u)" -ne 0 ] || mpirun+=(--allow-run-as-root)
fixture=$(exe make_cifar_fixture)
run_check kernels_cuda 120 "$(exe test_sign_kernels_cuda)"
run_check layers_cuda 120 "$(exe test_layers_cuda)"
run_check model_cuda 180 "$(exe test_model_cuda)"
for mode in nodevice replicas allreduce resume; do
  run_check "mpi_$mode" 180 "$here/tests/mpi/gpu_checks.sh" "$mode" "$bin/signvote" "$fixture" "$work/$mode" "${mpirun[@]}"
done

# --- the training step against PyTorch on the same GPU ---------------------------
# ResNet-18 width 64, batch 128, in both math modes; PyTorch with
# channels_last and contiguous timed (the faster reported), cudnn.benchmark.
have_torch=$("$py" -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null || echo 0)
for math in tf32 fp32; do
  start=$SECONDS
  ours=$(timeout 120 "$bin/signvote-bench" step --device cuda --math "$math" --width 64 --batch 128 --iters 30 --warmup 5 \
           --json 2> "$work/step_$math.err") ||
    { json check="step_$math" status=fail reason="$(tail -1 "$work/step_$math.err")"; failed=1; continue; }
  peer='{}'
  if [ "$have_torch" = 1 ]; then
    peer=$(timeout 180 "$py" "$here/bench/peer_pytorch_resnet18.py" --device cuda --math "$math" --width 64 --batch 128 \
             --iters 30 --warmup 5 2> "$work/peer_$math.err") ||
      { json check="step_$math" status=fail reason="PyTorch peer: $(tail -1 "$work/peer_$math.err")"; failed=1; continue; }
  fi
  "$py" - "$ours" "$peer" "$math" "$((SECONDS - start))" <<'PY' || failed=1
import json, sys
ours, peer, math, secs = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {"check": f"step_{math}", "model": "resnet18", "width": 64, "batch": 128, "seconds": int(secs),
       "signvote_images_per_s": round(ours["images_per_s"], 1), "breakdown_ms": ours["breakdown_ms"]}
if peer:
    out.update(pytorch_images_per_s=round(peer["images_per_s"], 1), pytorch_memory_format=peer["memory_format"],
               torch=peer["torch"], ratio=round(ours["images_per_s"] / peer["images_per_s"], 3), target=1.0)
    out["status"] = "ok" if out["ratio"] >= 1.0 else "below_target"
else:
    out["status"] = "no_peer"  # torch with CUDA is not importable here
print(json.dumps(out))
PY
done

# --- the sign kernels against the device's copy bandwidth ------------------------
if k=$(timeout 120 "$bin/signvote-bench" kernels-cuda --dim 11173962 --workers 27 --reps 30 --json 2> "$work/kernels.err"); then
  echo "$k" | "$py" -c 'import json,sys; d=json.load(sys.stdin); d["check"]="kernels_vs_copy"; d["target"]=0.8; ok=min(d["momentum_pack_ratio"], d["apply_ratio"])>=0.8; d["status"]="ok" if ok else "below_target"; print(json.dumps(d))'
else
  json check=kernels_vs_copy status=fail reason="$(tail -1 "$work/kernels.err")"; failed=1
fi
json check=summary status="$([ $failed -eq 0 ] && echo ok || echo fail)" logs="$work"
exit $failed
