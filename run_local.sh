#!/usr/bin/env bash
# goldstream on one machine: set-up, a local Kafka broker, the test suite and the demo.
#
# Downloads and builds go once into $GOLDSTREAM_CACHE (default ~/.cache/goldstream), keyed by
# version, so fresh clones and CI reuse them. Runtime state (broker data, logs, pid files)
# lives in .local/ inside the clone. Versions are pinned in infra/versions.env.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/versions.env
source "$ROOT/infra/versions.env"

CACHE="${GOLDSTREAM_CACHE:-$HOME/.cache/goldstream}"
STATE="${GOLDSTREAM_STATE_DIR:-$ROOT/.local}"
KAFKA_PORT="${GOLDSTREAM_KAFKA_PORT:-9092}"
KAFKA_BOOTSTRAP="127.0.0.1:${KAFKA_PORT}"
SYSTEM_PYTHON="${GOLDSTREAM_PYTHON:-python3}"

VENV_LINK="$ROOT/.venv"
DASHBOARD_HOST="${GOLDSTREAM_DASHBOARD_HOST:-127.0.0.1}"
DASHBOARD_PORT="${GOLDSTREAM_DASHBOARD_PORT:-8050}"

usage() {
  cat <<EOF
Usage: ./run_local.sh [command]

  (none)                 the demo: set up, start Kafka, generate traffic with every fraud
                         scenario, run the streaming pipeline over it and print a summary
                         that compares the outputs with the generator's ground truth
  setup                  build the venv and Airflow's venv, fetch Kafka and the Flink job
                         server through Maven, build Prism, unpack the Flink distribution
                         from PyPI's apache-flink-libraries; install Debian's chromium with
                         apt-get unless it is there; a second run downloads and builds nothing
  test [pytest args]     setup, lint (as below; a finding stops it), start Kafka, run the
                         whole pytest suite, stop Kafka; exits with pytest's code
  lint                   ruff check, ruff format --check and mypy over the clone, with the
                         versions pinned in requirements.txt and the settings in
                         pyproject.toml; names each tool that failed and how to fix it
  broker start|stop|status [--secure]
                         the local one-node KRaft broker on 127.0.0.1:\$GOLDSTREAM_KAFKA_PORT
                         (status exits 0 when up, 3 when down); with --secure a second,
                         secured one on 127.0.0.1:\$GOLDSTREAM_KAFKA_SECURE_PORT: SASL_SSL with
                         SCRAM-SHA-512 and client certificates, its CA, certificates and
                         users created on the first start in .local/kafka-secure (status
                         prints the client options that connect to it)
  airflow start|stop|status
                         Airflow ${AIRFLOW_VERSION} as standalone runs it (API server and web UI on
                         127.0.0.1:\$GOLDSTREAM_AIRFLOW_PORT, scheduler, DAG processor, triggerer)
                         with the daily report's DAG from dags/; start prints the UI's address
                         and login; state in .local/airflow (status exits 0 when up, 3 when down)
  flink start|stop|status
                         a Flink ${FLINK_VERSION} session cluster (one JobManager, one TaskManager)
                         with its REST API and web UI on 127.0.0.1:\$GOLDSTREAM_FLINK_REST_PORT;
                         run pipelines on it with --runner=FlinkRunner
                         --flink_master=127.0.0.1:<port> (status exits 0 when up, 3 when down)
  dashboard [options]    the live page, topic browser and Prometheus /metrics of a running
                         pipeline, in the foreground, on http://127.0.0.1:\$GOLDSTREAM_DASHBOARD_PORT/
                         (python -m dashboard --help lists the options: --group, topics,
                         --lag_warning, Kafka security)
  dashboard start|stop|status
                         the same in the background, watching group \$GOLDSTREAM_DASHBOARD_GROUP
                         (default goldstream-demo); the demo starts it (status exits 0 when
                         up, 3 when down)
  help                   this text

Environment:
  GOLDSTREAM_CACHE       downloads and builds (default ~/.cache/goldstream)
  GOLDSTREAM_KAFKA_PORT  broker port (default 9092); the controller uses port+1 unless
                         GOLDSTREAM_KAFKA_CONTROLLER_PORT is set
  GOLDSTREAM_KAFKA_SECURE_PORT
                         the secured broker's SASL_SSL port (default the broker's port+2,
                         9094); its controller
                         uses port+1 unless GOLDSTREAM_KAFKA_SECURE_CONTROLLER_PORT is set
  GOLDSTREAM_FLINK_REST_PORT
                         Flink REST API and web UI port (default 8081); the JobManager's RPC
                         uses port+1 unless GOLDSTREAM_FLINK_RPC_PORT is set
  GOLDSTREAM_AIRFLOW_PORT
                         Airflow's API server and web UI port (default 8280)
  GOLDSTREAM_STATE_DIR   broker data, Flink config, logs and pid files (default .local/ in
                         the clone)
  GOLDSTREAM_CHROMIUM    the Chromium the report page test runs (default /usr/bin/chromium,
                         Debian's chromium package, which setup installs when it is missing)
  GOLDSTREAM_DASHBOARD_PORT
                         the live page's port (default 8050); GOLDSTREAM_DASHBOARD_HOST its
                         address (default 127.0.0.1)
EOF
}

say() { printf '==> %s\n' "$*" >&2; }
fail() {
  printf 'error: %s\n' "$1" >&2
  shift
  for line in "$@"; do printf '       %s\n' "$line" >&2; done
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Prerequisites

require_command() {  # name, what to install
  command -v "$1" >/dev/null 2>&1 || fail "'$1' was not found on PATH." "Install $2 and run this again."
}

require_python() {
  require_command "$SYSTEM_PYTHON" "Python 3.10-3.12 (or set GOLDSTREAM_PYTHON to one)"
  "$SYSTEM_PYTHON" - <<'EOF' || fail "apache-beam ${BEAM_VERSION} needs Python 3.10 or newer." \
    "Install one and point GOLDSTREAM_PYTHON at it."
import sys
sys.exit(0 if sys.version_info >= (3, 10) else 1)
EOF
}

# ---------------------------------------------------------------------------------------------
# Set-up: each step checks its stamp first, so a second run downloads and builds nothing.

venv_key() {
  local py_version
  py_version="$("$SYSTEM_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  printf 'py%s-%s' "$py_version" "$(sha256sum "$ROOT/requirements.txt" | cut -c1-12)"
}

setup_venv() {
  require_python
  local venv_dir stamp
  venv_dir="$CACHE/venv/$(venv_key)"
  stamp="$venv_dir/.goldstream-complete"
  if [[ ! -f "$stamp" ]]; then
    say "Building the Python venv from requirements.txt into $venv_dir (first time only; a few minutes)"
    rm -rf "$venv_dir"
    mkdir -p "$CACHE/venv" "$CACHE/pip"
    "$SYSTEM_PYTHON" -m venv "$venv_dir"
    PIP_CACHE_DIR="$CACHE/pip" "$venv_dir/bin/pip" install --progress-bar off --quiet \
      --upgrade pip setuptools wheel \
      || fail "pip could not upgrade itself in $venv_dir." "Check the network or pip's message above."
    PIP_CACHE_DIR="$CACHE/pip" "$venv_dir/bin/pip" install --progress-bar off \
      -r "$ROOT/requirements.txt" \
      || fail "pip could not install requirements.txt into $venv_dir." "See pip's message above."
    touch "$stamp"
  fi
  if [[ -L "$VENV_LINK" || ! -e "$VENV_LINK" ]]; then
    ln -sfn "$venv_dir" "$VENV_LINK"
  elif [[ "$(readlink -f "$VENV_LINK")" != "$(readlink -f "$venv_dir")" ]]; then
    fail "$VENV_LINK exists and is not goldstream's venv link." \
      "Move it aside (mv .venv .venv.old) and run this again."
  fi
  say "Python venv ready: .venv -> $venv_dir"
}

setup_lock() {
  mkdir -p "$CACHE"
  # One set-up at a time per cache: two clones (or two CI jobs) sharing it would otherwise
  # build into the same venv folder, each deleting the other's half-built copy.
  exec 9>"$CACHE/.setup.lock"
  if ! flock -n 9; then
    say "Another run_local.sh is setting up $CACHE; waiting for it (up to 30 minutes)"
    flock -w 1800 9 || fail "The set-up lock $CACHE/.setup.lock is still held after 30 minutes." \
      "Check for a stuck run_local.sh (ps aux | grep run_local), stop it, then run this again."
  fi
}

setup_unlock() {
  flock -u 9
  exec 9>&-
}

ensure_venv() {
  setup_lock
  setup_venv
  setup_unlock
}

cmd_setup() {  # the venv here (nothing runs Python before it); every other tool in Python
  ensure_venv
  local_processes setup
}

# ---------------------------------------------------------------------------------------------
# Background processes (the broker, Flink, Airflow, the live page): pipelines/local (broker.py,
# flink.py, airflow.py, live_page.py on process.py), once the venv and the tools they need exist

venv_python() { "$VENV_LINK/bin/python" "$@"; }

local_processes() {  # python -m pipelines.local <broker|flink|airflow|dashboard> <start|stop|status>
  (cd "$ROOT" && venv_python -m pipelines.local "$@")
}

cmd_process() {  # broker|flink|airflow start|stop|status: start sets up what it runs from
  ensure_venv
  local_processes "$@"
}

cmd_dashboard() {  # start|stop|status: pipelines/local/live_page.py; else in the foreground
  case "${1:-}" in
    start | stop | status) ensure_venv; local_processes dashboard "$1" ;;
    *)
      ensure_venv
      say "Live page for the pipeline on $KAFKA_BOOTSTRAP (Ctrl-C stops it)"
      cd "$ROOT" && exec "$VENV_LINK/bin/python" -m dashboard --brokers "$KAFKA_BOOTSTRAP" \
        --host "$DASHBOARD_HOST" --port "$DASHBOARD_PORT" "$@" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Lint, the test suite and the demo

run_lint() {  # every tool runs, so one run lists all there is to fix; fails if any found some
  local failed=()
  say "Lint: ruff check, ruff format --check, mypy (settings in pyproject.toml)"
  (cd "$ROOT" && "$VENV_LINK/bin/ruff" check --quiet .) \
    || failed+=("ruff check: fix what it lists (.venv/bin/ruff check --fix sorts imports)")
  (cd "$ROOT" && "$VENV_LINK/bin/ruff" format --check --quiet --output-format concise .) \
    || failed+=("ruff format --check: .venv/bin/ruff format rewrites the files it lists")
  (cd "$ROOT" && "$VENV_LINK/bin/mypy") \
    || failed+=("mypy: fix the types it lists (.venv/bin/mypy runs it again)")
  if ((${#failed[@]})); then
    fail "lint found problems:" "${failed[@]}"
  fi
  say "Lint clean"
}

cmd_lint() {
  ensure_venv
  run_lint
}

export_runtime_env() {
  export GOLDSTREAM_ROOT="$ROOT" GOLDSTREAM_CACHE="$CACHE" GOLDSTREAM_STATE_DIR="$STATE"
  export GOLDSTREAM_BROKERS="$KAFKA_BOOTSTRAP" GOLDSTREAM_KAFKA_PORT="$KAFKA_PORT"
}

cmd_test() {
  cmd_setup
  run_lint
  local stop_broker_after=0
  local_processes broker status >/dev/null || stop_broker_after=1
  if ((stop_broker_after)); then
    trap 'local_processes broker stop' EXIT
  fi
  local_processes broker start
  export_runtime_env
  say "Running the test suite (pytest $*)"
  local code=0
  (cd "$ROOT" && venv_python -m pytest "$@") || code=$?
  say "pytest exited with $code"
  return "$code"
}

cmd_demo() {
  local started=$SECONDS
  cmd_setup
  local_processes broker start
  local_processes dashboard start --group goldstream-demo
  export_runtime_env
  say "Demo: generated traffic -> the streaming pipeline (bounded, Prism) -> summary"
  local code=0
  (cd "$ROOT" && venv_python -m pipelines.demo --brokers "$KAFKA_BOOTSTRAP" \
    --workdir "$STATE/demo" --reports "$ROOT/reports" \
    --runner "${GOLDSTREAM_DEMO_RUNNER:-PrismRunner}") || code=$?
  cat <<EOF
Kafka broker   $(local_processes broker status || true); stop it with ./run_local.sh broker stop
live page      $(local_processes dashboard status || true); stop it with ./run_local.sh dashboard stop
demo files     $STATE/demo (ground truth, reference data, archive)
cache          $CACHE (venv, Kafka jars, Prism, Flink job server)
demo took      $((SECONDS - started)) s
EOF
  return "$code"
}

main() {
  local command="${1:-demo}"
  [[ $# -gt 0 ]] && shift
  case "$command" in
    demo) cmd_demo ;;
    setup) cmd_setup ;;
    test) cmd_test "$@" ;;
    lint) cmd_lint ;;
    broker | flink | airflow) cmd_process "$command" "$@" ;;
    dashboard) cmd_dashboard "$@" ;;
    help | -h | --help) usage ;;
    *) usage >&2; fail "unknown command '$command'." ;;
  esac
}

main "$@"
