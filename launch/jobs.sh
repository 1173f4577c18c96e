# Sourced by the figure scripts: run commands as background jobs, at most $PARALLEL at a time
# (default 1: one after another), each logged to $LOGS/<name>.log.
#   job NAME CMD...   start CMD (waits first while $PARALLEL jobs are running)
#   finish            wait for every job; returns non-zero and names the logs if any job failed
PARALLEL="${PARALLEL:-1}"
_failed=()
_names=()
_pids=()

job() {
  local name="$1"; shift
  mkdir -p "$LOGS"
  while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
  "$@" >"$LOGS/$name.log" 2>&1 &
  _pids+=("$!"); _names+=("$name")
}

finish() {
  local i
  for i in "${!_pids[@]}"; do
    wait "${_pids[$i]}" || _failed+=("$LOGS/${_names[$i]}.log")
  done
  _pids=(); _names=()
  if [ "${#_failed[@]}" -gt 0 ]; then
    echo "failed: ${_failed[*]}" >&2
    return 1
  fi
}
