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
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

VENV_LINK="$ROOT/.venv"
KAFKA_HOME="$CACHE/kafka/${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}"
# Prism is built with infra/prism/*.patch applied; the folder names the patches' hash.
PRISM_PATCHES_KEY="$(cat "$ROOT"/infra/prism/*.patch | sha256sum | cut -c1-12)"
PRISM_BIN="$CACHE/prism/${BEAM_VERSION}-${PRISM_PATCHES_KEY}/prism"
FLINK_JOB_SERVER_HOME="$CACHE/flink-job-server/beam-${FLINK_RUNNER_BEAM_VERSION}-flink-${FLINK_MINOR}"
FLINK_JOB_SERVER_JAR="$FLINK_JOB_SERVER_HOME/goldstream-flink-job-server.jar"
FLINK_DIST_HOME="$CACHE/flink/${FLINK_VERSION}/dist"
CHROMIUM_BIN="${GOLDSTREAM_CHROMIUM:-/usr/bin/chromium}"
DASHBOARD_HOST="${GOLDSTREAM_DASHBOARD_HOST:-127.0.0.1}"
DASHBOARD_PORT="${GOLDSTREAM_DASHBOARD_PORT:-8050}"
APT_ARCHIVES="$CACHE/apt/archives"
AIRFLOW_REQUIREMENTS="$ROOT/infra/airflow/requirements.txt"
AIRFLOW_CONSTRAINTS="$ROOT/infra/airflow/constraints.txt"

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

require_java() {
  require_command java "a Java 17+ JDK (e.g. Debian: apt-get install openjdk-17-jdk-headless)"
  require_command jar "a full JDK, not only a JRE (the 'jar' tool is part of the JDK)"
  local version major
  version="$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
  major="${version%%.*}"
  if [[ -z "$major" || "$major" -lt 17 ]]; then
    fail "Java ${version:-unknown} found; Kafka ${KAFKA_VERSION} needs Java 17 or newer." \
      "Install a JDK 17+ and put it first on PATH (or set JAVA_HOME and PATH accordingly)."
  fi
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

airflow_venv_dir() {  # the cache folder of Airflow's venv: its version, Python, pins
  local py_version key
  py_version="$("$SYSTEM_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  key="$(cat "$AIRFLOW_REQUIREMENTS" "$AIRFLOW_CONSTRAINTS" | sha256sum | cut -c1-12)"
  printf '%s/airflow/%s-py%s-%s' "$CACHE" "$AIRFLOW_VERSION" "$py_version" "$key"
}

setup_airflow() {  # Airflow in a venv of its own (see infra/airflow/requirements.txt)
  require_python
  local venv_dir stamp
  venv_dir="$(airflow_venv_dir)"
  stamp="$venv_dir/.goldstream-complete"
  if [[ -f "$stamp" ]]; then
    say "Airflow ${AIRFLOW_VERSION} venv ready: $venv_dir"
    return
  fi
  say "Building Airflow ${AIRFLOW_VERSION}'s venv from infra/airflow/ into $venv_dir (first time only; a minute or two)"
  rm -rf "$venv_dir"
  mkdir -p "$(dirname "$venv_dir")" "$CACHE/pip"
  "$SYSTEM_PYTHON" -m venv "$venv_dir"
  PIP_CACHE_DIR="$CACHE/pip" "$venv_dir/bin/pip" install --progress-bar off --quiet \
    --upgrade pip setuptools wheel \
    || fail "pip could not upgrade itself in $venv_dir." "Check the network or pip's message above."
  PIP_CACHE_DIR="$CACHE/pip" "$venv_dir/bin/pip" install --progress-bar off --quiet \
    -r "$AIRFLOW_REQUIREMENTS" -c "$AIRFLOW_CONSTRAINTS" \
    || fail "pip could not install infra/airflow/requirements.txt into $venv_dir." \
      "See pip's message above."
  "$venv_dir/bin/airflow" version >/dev/null 2>&1 \
    || fail "Airflow was installed into $venv_dir but 'airflow version' fails." \
      "Delete $venv_dir and run this again."
  touch "$stamp"
  say "Airflow ${AIRFLOW_VERSION} venv ready: $venv_dir ($(du -sh "$venv_dir" | cut -f1))"
}

maven_copy_dependencies() {  # pom, output dir, extra -D flags...
  local pom="$1" out="$2"
  shift 2
  require_command mvn "Apache Maven 3.8+ (e.g. Debian: apt-get install maven)"
  mvn -B -q -Dstyle.color=never -f "$pom" -Dmaven.repo.local="$CACHE/m2" "$@" \
    "$DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$out" \
    || fail "Maven could not resolve the dependencies of $pom." \
      "Read Maven's message above; check that Maven Central is reachable."
}

setup_kafka() {
  require_java
  if [[ -f "$KAFKA_HOME/.goldstream-complete" ]]; then
    say "Kafka ${KAFKA_VERSION} jars ready: $KAFKA_HOME/libs"
    return
  fi
  say "Fetching Apache Kafka ${KAFKA_VERSION} (kafka_${KAFKA_SCALA_VERSION}) through Maven into $KAFKA_HOME"
  rm -rf "$KAFKA_HOME"
  mkdir -p "$KAFKA_HOME"
  maven_copy_dependencies "$ROOT/infra/kafka/pom.xml" "$KAFKA_HOME/libs" \
    -Dkafka.version="$KAFKA_VERSION" -Dkafka.scala.version="$KAFKA_SCALA_VERSION"
  touch "$KAFKA_HOME/.goldstream-complete"
}

setup_prism() {  # Prism from the pinned Go module's source with infra/prism/*.patch applied
  if [[ -x "$PRISM_BIN" ]]; then
    say "Prism ${BEAM_VERSION} ready: $PRISM_BIN"
    return
  fi
  require_command go "Go 1.24+ (https://go.dev/doc/install, or Debian: apt-get install golang)"
  say "Building Prism ${BEAM_VERSION} (patched: infra/prism) from the Go module proxy into $PRISM_BIN (first time only; a few minutes)"
  local build_dir="${PRISM_BIN%/prism}.building" module="github.com/apache/beam/sdks/v2@v${BEAM_VERSION}"
  local source_dir patch
  rm -rf "$build_dir"
  mkdir -p "$build_dir"
  export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS=-modcacherw
  source_dir="$(cd "$build_dir" && go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" \
    || fail "go mod download of $module failed." "Read Go's message above; the Go module proxy must be reachable."
  [[ -d "$source_dir" ]] || fail "go mod download did not say where $module is."
  cp -R "$source_dir" "$build_dir/src"
  chmod -R u+w "$build_dir/src"
  for patch in "$ROOT"/infra/prism/*.patch; do
    patch --quiet --forward --strip=1 --directory="$build_dir/src" <"$patch" \
      || fail "$patch does not apply to Prism ${BEAM_VERSION}." \
        "If the pinned Beam has the fix, delete the patch (infra/prism/README.md)."
  done
  (cd "$build_dir/src" && go build -o "$build_dir/prism" ./go/cmd/prism) \
    || fail "go build of Prism v${BEAM_VERSION} failed." "Read Go's message above."
  mkdir -p "$(dirname "$PRISM_BIN")"
  mv "$build_dir/prism" "$PRISM_BIN.tmp"
  mv "$PRISM_BIN.tmp" "$PRISM_BIN"
  rm -rf "$build_dir"
}

write_manifest() {  # file, main class, class path (space-separated); lines wrap at 72 bytes
  {
    printf 'Manifest-Version: 1.0\n'
    printf 'Main-Class: %s\n' "$2"
    printf 'Class-Path: %s\n' "$3" | fold -w 71 | sed '2,$s/^/ /'
  } >"$1"
}

setup_flink_job_server() {
  require_java
  if [[ -f "$FLINK_JOB_SERVER_HOME/.goldstream-complete" ]]; then
    say "Flink ${FLINK_MINOR} job server ready: $FLINK_JOB_SERVER_JAR"
    return
  fi
  say "Fetching Beam's Flink ${FLINK_MINOR} runner ${FLINK_RUNNER_BEAM_VERSION} through Maven into $FLINK_JOB_SERVER_HOME"
  rm -rf "$FLINK_JOB_SERVER_HOME"
  mkdir -p "$FLINK_JOB_SERVER_HOME"
  maven_copy_dependencies "$ROOT/infra/flink/pom.xml" "$FLINK_JOB_SERVER_HOME/libs" \
    -Dbeam.version="$FLINK_RUNNER_BEAM_VERSION" -Dflink.minor="$FLINK_MINOR"
  local class_path manifest
  class_path="$(cd "$FLINK_JOB_SERVER_HOME" && find libs -name '*.jar' | sort | tr '\n' ' ')"
  manifest="$FLINK_JOB_SERVER_HOME/MANIFEST.MF"
  write_manifest "$manifest" org.apache.beam.runners.flink.FlinkJobServerDriver "${class_path% }"
  (cd "$FLINK_JOB_SERVER_HOME" && jar --create --file "$FLINK_JOB_SERVER_JAR" --manifest "$manifest")
  touch "$FLINK_JOB_SERVER_HOME/.goldstream-complete"
}

setup_flink_dist() {  # Flink's distribution jars, from PyPI (flink-dist is not served through Maven here)
  require_java
  local flink_home="${FLINK_DIST_HOME%/dist}"
  if [[ -f "$FLINK_DIST_HOME/.goldstream-complete" ]]; then
    say "Flink ${FLINK_VERSION} distribution ready: $FLINK_DIST_HOME"
    return
  fi
  [[ -x "$VENV_LINK/bin/pip" ]] || setup_venv
  say "Fetching apache-flink-libraries ${FLINK_VERSION} from PyPI into $flink_home (first time only; ~230 MB)"
  local download="$flink_home/download" unpack="$flink_home/unpack"
  rm -rf "$download" "$unpack" "$FLINK_DIST_HOME"
  mkdir -p "$download" "$unpack" "$FLINK_DIST_HOME"
  PIP_CACHE_DIR="$CACHE/pip" "$VENV_LINK/bin/pip" download --quiet --progress-bar off --no-deps \
    --dest "$download" "apache-flink-libraries==${FLINK_VERSION}" \
    || fail "pip could not download apache-flink-libraries ${FLINK_VERSION}." \
      "Read pip's message above; PyPI must be reachable."
  # The 1.19 release is an sdist (jars under <name>/deps/); a wheel would carry pyflink/lib etc.
  local archive
  archive="$(find "$download" -maxdepth 1 -name 'apache[-_]flink[-_]libraries-*' | head -n1)"
  case "$archive" in
    *.tar.gz)
      tar -xzf "$archive" -C "$unpack" --wildcards '*/deps/lib/*' '*/deps/bin/*' \
        || fail "could not unpack $archive." "Delete $flink_home and run this again."
      mv "$unpack"/*/deps/lib "$unpack"/*/deps/bin "$FLINK_DIST_HOME/" ;;
    *.whl)
      unzip -q "$archive" 'pyflink/lib/*' 'pyflink/bin/*' -d "$unpack" \
        || fail "could not unpack $archive." "Delete $flink_home and run this again."
      mv "$unpack/pyflink/lib" "$unpack/pyflink/bin" "$FLINK_DIST_HOME/" ;;
    *) fail "pip downloaded no apache-flink-libraries archive into $download." ;;
  esac
  [[ -f "$FLINK_DIST_HOME/lib/flink-dist-${FLINK_VERSION}.jar" && -f "$FLINK_DIST_HOME/bin/bash-java-utils.jar" ]] \
    || fail "apache-flink-libraries ${FLINK_VERSION} lacks lib/flink-dist-${FLINK_VERSION}.jar or bin/bash-java-utils.jar."
  rm -rf "$download" "$unpack"
  touch "$FLINK_DIST_HOME/.goldstream-complete"
}

setup_chromium() {  # Debian's chromium, which the test of report.html runs headless
  if [[ -x "$CHROMIUM_BIN" ]]; then
    say "Chromium ready: $CHROMIUM_BIN"
    return
  fi
  if [[ -n "${GOLDSTREAM_CHROMIUM:-}" ]]; then
    fail "GOLDSTREAM_CHROMIUM is $CHROMIUM_BIN, which is not an executable file." \
      "Point it at a Chromium binary, or unset it to use (and install) Debian's /usr/bin/chromium."
  fi
  local by_hand="apt-get install -y --no-install-recommends chromium"
  command -v apt-get >/dev/null 2>&1 \
    || fail "Chromium is not installed ($CHROMIUM_BIN is missing) and there is no apt-get to install it." \
      "Install Chromium and set GOLDSTREAM_CHROMIUM to its binary (on Debian: $by_hand)."
  local as_root=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [[ -t 0 ]]; }; then
      as_root=(sudo)
    else
      fail "Chromium is not installed ($CHROMIUM_BIN is missing); installing it needs root, and sudo is not usable here." \
        "As root, run: $by_hand" "(or set GOLDSTREAM_CHROMIUM to a Chromium binary), then run this again."
    fi
  fi
  say "Installing Debian's chromium with apt-get (first time only; the .debs stay in $APT_ARCHIVES)"
  mkdir -p "$APT_ARCHIVES/partial"
  # The .debs go to the cache, not /var/cache/apt (which Debian images empty after each install),
  # so a re-install downloads nothing. Another apt-get holding the lock is waited for, 5 minutes.
  # When user _apt cannot reach the cache (under /root), apt warns that it downloads unsandboxed.
  local apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
    -o "Dir::Cache::archives=$APT_ARCHIVES" -o DPkg::Lock::Timeout=300)
  local updated=0
  if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [^(]'; then
    "${apt[@]}" update || fail "apt-get update failed; chromium is not in the package lists." \
      "Read apt's message above, fix the sources, then run this again (or by hand: $by_hand)."
    updated=1
  fi
  if ! "${apt[@]}" install --no-install-recommends chromium; then
    # Package lists older than the mirror name .debs it no longer has: refresh them once.
    if ((updated)) || ! { "${apt[@]}" update && "${apt[@]}" install --no-install-recommends chromium; }; then
      fail "apt-get could not install chromium." \
        "Read apt's message above, then run this again (or by hand: $by_hand)."
    fi
  fi
  [[ -x "$CHROMIUM_BIN" ]] || fail "apt-get installed chromium, yet $CHROMIUM_BIN is missing."
  say "Chromium ready: $CHROMIUM_BIN ($("$CHROMIUM_BIN" --version 2>/dev/null || echo 'version unknown'))"
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

cmd_setup() {
  local started=$SECONDS
  setup_lock
  setup_venv
  setup_airflow
  setup_kafka
  setup_prism
  setup_flink_job_server
  setup_flink_dist
  setup_chromium
  setup_unlock
  say "Set-up done in $((SECONDS - started)) s (cache: $CACHE)"
}

# ---------------------------------------------------------------------------------------------
# Background processes (the broker, Flink, Airflow, the live page): pipelines/local (broker.py,
# flink.py, airflow.py, live_page.py on process.py), once the venv and the tools they need exist

venv_python() { "$VENV_LINK/bin/python" "$@"; }

local_processes() {  # python -m pipelines.local <broker|flink|airflow|dashboard> <start|stop|status>
  (cd "$ROOT" && venv_python -m pipelines.local "$@")
}

cmd_broker() {
  if [[ "${1:-}" == start ]]; then
    setup_venv
    setup_kafka
  elif [[ ! -x "$VENV_LINK/bin/python" ]]; then
    setup_venv
  fi
  local_processes broker "$@"
}

cmd_flink() {
  if [[ "${1:-}" == start ]]; then
    setup_flink_dist  # builds the venv first when there is none
  elif [[ ! -x "$VENV_LINK/bin/python" ]]; then
    setup_venv
  fi
  local_processes flink "$@"
}

cmd_airflow() {  # pipelines/local/airflow.py, once the venvs exist
  if [[ "${1:-}" == start ]]; then
    setup_venv
    setup_airflow
  elif [[ ! -x "$VENV_LINK/bin/python" ]]; then
    setup_venv
  fi
  local_processes airflow "$@"
}

cmd_dashboard() {  # start|stop|status: pipelines/local/live_page.py; else in the foreground
  case "${1:-}" in
    start) setup_venv; local_processes dashboard start ;;
    stop | status)
      [[ -x "$VENV_LINK/bin/python" ]] || setup_venv
      local_processes dashboard "$1" ;;
    *)
      setup_venv
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
  setup_lock
  setup_venv
  setup_unlock
  run_lint
}

export_runtime_env() {
  export GOLDSTREAM_ROOT="$ROOT" GOLDSTREAM_CACHE="$CACHE" GOLDSTREAM_STATE_DIR="$STATE"
  export GOLDSTREAM_BROKERS="$KAFKA_BOOTSTRAP" GOLDSTREAM_KAFKA_PORT="$KAFKA_PORT"
  export GOLDSTREAM_PRISM_BIN="$PRISM_BIN" GOLDSTREAM_FLINK_JOB_SERVER_JAR="$FLINK_JOB_SERVER_JAR"
  export GOLDSTREAM_CHROMIUM="$CHROMIUM_BIN"
  GOLDSTREAM_AIRFLOW_BIN="$(airflow_venv_dir)/bin/airflow"
  export GOLDSTREAM_AIRFLOW_BIN
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
    broker) cmd_broker "$@" ;;
    flink) cmd_flink "$@" ;;
    dashboard) cmd_dashboard "$@" ;;
    airflow) cmd_airflow "$@" ;;
    help | -h | --help) usage ;;
    *) usage >&2; fail "unknown command '$command'." ;;
  esac
}

main "$@"
