# Sourced by scripts/gpu_check.sh: JSON lines, the preflight, the budget,
# and the case runner. Needs only bash and coreutils (a bare root has no
# Python): every JSON line is written here.
#   emit key=value ... key:=RAW ...   one JSON object (values: strings; := raw JSON)
n_ok=0 n_fail=0 n_skipped=0 n_below=0 failed_names="" skip_all=""

jstr() {  # a JSON string of $1: escapes, control characters and non-ASCII bytes dropped
  local s
  s=$(printf '%s' "$1" | LC_ALL=C tr -d '\000-\010\013-\037\177-\377')
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/\\t}; s=${s//$'\n'/\\n}
  printf '"%s"' "$s"
}
emit() {
  local out="" kv k v
  for kv in "$@"; do
    if [[ "$kv" == *:=* && "${kv%%:=*}" != *=* ]]; then k=${kv%%:=*} v=${kv#*:=}
    else k=${kv%%=*} v=$(jstr "${kv#*=}")
    fi
    out+="${out:+, }$(jstr "$k"): $v"
  done
  echo "{$out}" | tee -a "$logs/check.jsonl"
}
jlist() {  # a JSON list of strings
  local out="" s
  for s in "$@"; do out+="${out:+, }$(jstr "$s")"; done
  printf '[%s]' "$out"
}
left() { echo $((deadline - SECONDS)); }
probe_s() {  # probe_s WANT_S: a preflight probe's timeout, out of the budget too (at least 1 s)
  local room=$(($(left) - reserve))
  ((room < 1)) && room=1
  ((room < $1)) && echo "$room" || echo "$1"
}
count() {  # count STATUS NAME: the summary's tallies
  case $1 in
    ok) n_ok=$((n_ok + 1)) ;;
    skipped) n_skipped=$((n_skipped + 1)) ;;
    below_target) n_below=$((n_below + 1)); failed_names+="${failed_names:+ }$2" ;;
    *) n_fail=$((n_fail + 1)); failed_names+="${failed_names:+ }$2" ;;
  esac
}
skip() {  # skip NAME WHY
  count skipped "$1"
  emit check="$1" status=skipped skipped="$2"
}

# --- preflight -----------------------------------------------------------------
cuda_wanted=(libcudart.so.13 libcudnn.so.9 libcublas.so.13 libcublasLt.so.13 libnccl.so.2)
find_cuda_lib() {  # find_cuda_lib SONAME: a path, or nothing
  local d p
  local IFS=:
  for d in ${GPU_CHECK_CUDA_LIBS:-} ${LD_LIBRARY_PATH:-}; do
    [ -n "$d" ] && [ -e "$d/$1" ] && { echo "$d/$1"; return; }
  done
  unset IFS
  p=$(ldconfig -p 2>/dev/null | awk -v l="$1" '$1 == l && !p {print $NF; p = 1}')
  [ -n "$p" ] && { echo "$p"; return; }
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/*/lib "${py_nvidia_dirs[@]}"; do
    [ -e "$d/$1" ] && { echo "$d/$1"; return; }
  done
  return 0
}
probe_python() {  # py_version, torch_version, torch_cuda, torch_cuda_version, py_nvidia_dirs
  py_version="" torch_version="" torch_cuda=false torch_cuda_version="" py_nvidia_dirs=()
  [ -n "$py" ] || return 0
  py_version=$(timeout "$(probe_s 20)" "$py" -c 'import platform; print(platform.python_version())' 2>/dev/null || true)
  local nv t
  nv=$(timeout "$(probe_s 20)" "$py" -c 'import nvidia, os; print(" ".join(os.path.join(p, d, "lib") for p in nvidia.__path__ for d in os.listdir(p)))' 2>/dev/null || true)
  read -r -a py_nvidia_dirs <<< "$nv"
  t=$(timeout "$(probe_s 90)" "$py" -c 'import torch; print(torch.__version__, int(torch.cuda.is_available()), torch.version.cuda or "none")' \
        2>"$logs/preflight_torch.log" | tail -1 || true)
  if [ -n "$t" ]; then
    read -r torch_version torch_cuda torch_cuda_version <<< "$t"
    [ "$torch_cuda" = 1 ] && torch_cuda=true || torch_cuda=false
  fi
}
probe_nvidia_smi() {  # smi: raw JSON; exclusive: the compute mode when a GPU takes one process only
  exclusive=""
  if ! command -v nvidia-smi >/dev/null; then smi='"not found"'; return; fi
  local head rows line gpus="" driver cuda
  head=$(timeout "$(probe_s 20)" nvidia-smi 2>&1 | head -5 || true)
  driver=$(grep -o 'Driver Version: [0-9.]*' <<< "$head" | awk '{print $3}' || true)
  cuda=$(grep -o 'CUDA Version: [0-9.]*' <<< "$head" | awk '{print $3}' || true)
  rows=$(timeout "$(probe_s 20)" nvidia-smi --query-gpu=name,compute_mode,uuid,pci.bus_id,memory.total --format=csv,noheader 2>&1 || true)
  while IFS=, read -r name mode uuid bus mem; do
    [ -n "$name" ] || continue
    [[ "$mode" != *Exclusive* ]] || exclusive=${mode# }  # one process per GPU: workers cannot share it
    gpus+="${gpus:+, }{\"name\": $(jstr "$name"), \"compute_mode\": $(jstr "${mode# }"), \"uuid\": $(jstr "${uuid# }"), \"pci_bus_id\": $(jstr "${bus# }"), \"memory\": $(jstr "${mem# }")}"
  done <<< "$rows"
  smi="{\"driver\": $(jstr "$driver"), \"cuda\": $(jstr "$cuda"), \"gpus\": [$gpus]}"
}
missing_libs() {  # missing_libs BINARY: the shared libraries the loader cannot find, space-separated
  ldd "$1" 2>/dev/null | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
preflight() {
  probe_python
  probe_nvidia_smi
  local lib p libs="" extra=""
  for lib in "${cuda_wanted[@]}"; do
    p=$(find_cuda_lib "$lib")
    libs+="${libs:+, }$(jstr "$lib"): $([ -n "$p" ] && jstr "$p" || echo null)"
    # After the bundle's lib/, so the bundle's own libraries (Open MPI) win.
    [ -n "$p" ] && [[ ":${LD_LIBRARY_PATH:-}:$extra:" != *":$(dirname "$p"):"* ]] && extra+=":$(dirname "$p")"
  done
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}$extra"
  LD_LIBRARY_PATH=${LD_LIBRARY_PATH#:}
  glibc_have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}' || true)
  glibc_need=""
  [ -f "$here/MANIFEST" ] && glibc_need=$(grep -o 'GLIBC_2\.[0-9]*' "$here/MANIFEST" | head -1 | sed 's/GLIBC_//' || true)
  gpus=0
  local sv dev_json="null"
  sv=$(find_exe signvote || true)
  if [ -n "$sv" ] && [ -z "$(missing_libs "$sv")" ]; then
    dev_json=$(timeout "$(probe_s 30)" "$sv" devices --json 2> "$logs/preflight_devices.log" | tail -1 || true)
    gpus=$(grep -o '"count": [0-9]*' <<< "$dev_json" | awk '{print $2}' || true)
    [[ "$dev_json" == \{* ]] || dev_json=null
  fi
  if [ "$dev_json" = null ] && command -v nvidia-smi >/dev/null; then  # signvote missing or broken here
    gpus=$(timeout "$(probe_s 20)" nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
  fi
  gpus=${gpus:-0}
  emit check=preflight bundle="$( [ -f "$here/MANIFEST" ] && head -1 "$here/MANIFEST" || echo "build tree $here")" \
       nvidia_smi:="$smi" glibc="$glibc_have" glibc_needed="${glibc_need:-unknown}" cuda_libraries:="{$libs}" \
       gpus_visible:="$gpus" signvote_devices:="$dev_json" python="${py:-none}" python_version="${py_version:-none}" \
       torch="${torch_version:-none}" torch_cuda:="$torch_cuda" torch_cuda_version="${torch_cuda_version:-none}" \
       mpirun="${mpirun_bin:-none}" budget_s:="$budget" ld_library_path="$LD_LIBRARY_PATH"
}
glibc_ok() {
  [ -n "$glibc_need" ] && [ -n "$glibc_have" ] || return 0
  [ "$(printf '%s\n%s\n' "$glibc_need" "$glibc_have" | sort -V | head -1)" = "$glibc_need" ]
}

# --- the case runner -------------------------------------------------------------
# why_not NAME BINARY: why the case cannot run (empty: it can)
why_not() {
  local name=$1 exe=$2 miss
  if [ -n "$skip_all" ]; then echo "$skip_all"; return; fi
  if [ -n "${GPU_CHECK_ONLY:-}" ] && ! [[ "$name" =~ $GPU_CHECK_ONLY ]]; then echo "not in GPU_CHECK_ONLY"; return; fi
  # no room left: say so before anything slow (ldd)
  if [ "$(limit_for 10)" = 0 ]; then echo "budget: $(left) s left of ${budget} s"; return; fi
  if [ -z "$exe" ] || [ ! -x "$exe" ]; then echo "binary not built${exe:+ ($exe)}"; return; fi
  miss=$(missing_libs "$exe")
  [ -z "$miss" ] || echo "missing $miss"
}
limit_for() {  # limit_for WANT_S: this case's timeout (0: the budget has no room left)
  local room=$(($(left) - reserve))
  if ((room < 10)); then echo 0; elif ((room < $1)); then echo "$room"; else echo "$1"; fi
}
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -1 || true; }
# run_logged NAME WANT_S CMD...: runs under the budget; sets rc, secs, limit, log
run_logged() {
  local name=$1 want=$2 t0=$SECONDS
  shift 2
  log=$logs/$name.log rc=0 limit=$(limit_for "$want")
  if [ "$limit" = 0 ]; then rc=-1 secs=0; return; fi
  timeout -k 5 "$limit" "$@" > "$log" 2>&1 || rc=$?
  secs=$((SECONDS - t0))
}
report() {  # report NAME [extra emit args]: the JSON line of the last run_logged
  local name=$1 status=ok
  shift
  case $rc in
    -1) skip "$name" "budget: $(left) s left of ${budget} s"; return ;;
    0) ;;
    77) status=skipped ;;
    124 | 137) status=timeout ;;
    *) status=fail ;;
  esac
  count "$status" "$name"
  local what=last
  [ "$status" = skipped ] && what=skipped  # the test's own "Skipped: <reason>" line
  emit check="$name" status="$status" rc:="$rc" seconds:="$secs" timeout_s:="$limit" "$what=$(last_line "$log")" \
       log="$log" "$@"
}
run_test() {  # run_test NAME WANT_S BINARY_NAME [ARGS...]
  local name=$1 want=$2 exe why
  exe=$(find_exe "$3" || true)
  shift 3
  why=$(why_not "$name" "$exe")
  if [ -n "$why" ]; then skip "$name" "$why"; return; fi
  run_logged "$name" "$want" "$exe" "$@"
  report "$name"
}
shareable() {  # shareable NAME: the case's ranks may share a GPU (or need none)
  [ -z "$exclusive" ] || [ "$gpus" -ge 2 ] || [ "$1" = mpi_nodevice ]
}
run_mpi_case() {  # run_mpi_case NAME WANT_S SCRIPT MODE SIGNVOTE FIXTURE WORK MPIRUN...
  local name=$1 want=$2 why
  why=$(why_not "$name" "$5")
  [ -n "$why" ] || why=$(why_not "$name" "$6")
  [ -n "$why" ] || [ -n "$mpirun_bin" ] || why="no mpirun"
  [ -n "$why" ] || shareable "$name" || why="compute mode $exclusive with $gpus GPU(s): the 2 cuda workers cannot share one"
  if [ -n "$why" ]; then skip "$name" "$why"; return; fi
  run_logged "$name" "$want" "${@:3}"
  report "$name"
}

source "$here/scripts/gpu_check_cases.sh"
