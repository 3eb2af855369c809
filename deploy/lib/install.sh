# Installs what the stack needs and is missing: Debian packages (compilers, libraries, Bazel,
# PostgreSQL, Java and Maven), a Go toolchain from the Go module proxy when the machine's Go is
# missing or too old, the Kafka broker jars from Maven Central, grpcurl and buf. Each step checks
# first and is quick when done, so a bare Debian 12 machine and a prepared one both work.
# shellcheck shell=bash

APT_PACKAGES=(
  # C++ libraries the services build against
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libsoci-dev libboost-dev libpq-dev librdkafka-dev libcurl4-openssl-dev nlohmann-json3-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev libspdlog-dev libcpp-httplib-dev
  # Bazel 4 and the rules the offline WORKSPACE points at
  bazel-bootstrap bazel-platforms bazel-rules-java bazel-rules-proto bazel-skylib
  # compilers Bazel drives; certificates for the Go module proxy and Maven Central
  g++ ca-certificates git
  # servers and clients used by the local stack; Java and Maven fetch and run the Kafka broker;
  # docker-compose (v1) validates docker-compose.yml without a Docker engine
  kcat docker-compose postgresql curl procps openjdk-17-jre-headless maven
  # the checks of the compose file, the alerts and the Grafana dashboard are Python with PyYAML
  python3 python3-yaml
  # the docs page test renders /docs in headless Chromium
  chromium
)

KAFKA_LIB_DIR="$LOCAL_DIR/kafka/lib"
KAFKA_POM="$REPO_ROOT/deploy/kafka/pom.xml"

# install_apt [--apt-get-option...] [package...]: the given packages, or APT_PACKAGES; leading
# options (e.g. --no-install-recommends) go to apt-get install.
install_apt() {
  local options=()
  while [[ "${1:-}" == -* ]]; do options+=("$1"); shift; done
  local missing=() pkg status wanted=("$@")
  ((${#wanted[@]})) || wanted=("${APT_PACKAGES[@]}")
  for pkg in "${wanted[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == installed ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  info "installing Debian packages: ${missing[*]}"
  local sudo=()
  if ! is_root; then
    command -v sudo >/dev/null || die "missing packages (${missing[*]}) and not root; install them"
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${options[@]}" "${missing[@]}"
  # Debian starts a default cluster on port 5432 when it installs postgresql; the stack runs its
  # own clusters, so that one is not needed (it is left as Debian set it up otherwise).
}

# The jars are resolved from the pom into a temporary folder and moved in place only when
# complete; a stamp with the pom's checksum tells whether they match the current pom.
install_kafka_jars() {
  local stamp="$KAFKA_LIB_DIR/.pom.sha256" want
  want="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the Kafka broker"
  command -v java >/dev/null || die "a Java runtime (17) is needed to run the Kafka broker"
  info "fetching the Kafka broker jars from Maven Central"
  local tmp="$LOCAL_DIR/kafka/lib.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local log="$LOCAL_DIR/kafka/mvn.log"
  if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" -DincludeScope=runtime >"$log" 2>&1; then
    rm -rf "$tmp"
    show_log_tail "$log"
    die "could not resolve the Kafka jars (deploy/kafka/pom.xml; log: $log)"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "no kafka_2.13 jar resolved"; }
  echo "$want" >"$tmp/.pom.sha256"
  rm -rf "$KAFKA_LIB_DIR"
  mv "$tmp" "$KAFKA_LIB_DIR"
}

# ensure_go: puts a Go of at least the version gateway/go.mod asks for first on PATH. It takes
# the first such Go of: the one on PATH, /usr/local/go, the one this script fetched before
# (.local/go). Otherwise it fetches the official toolchain GO_VERSION as an ordinary module
# (golang.org/toolchain) from the Go module proxy, using Debian's golang-go (Go 1.19, too old to
# switch toolchains by itself) only to download it.
GO_DIR="$LOCAL_DIR/go"

go_min_version() { sed -n 's/^go \([0-9][0-9.]*\)$/\1/p' "$REPO_ROOT/gateway/go.mod"; }

# go_version_of BIN: "1.26.8" for a Go binary, nothing if it does not run.
go_version_of() { GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null | sed -n 's/^go\([0-9][0-9.]*\).*/\1/p'; }

# version_at_least A B: true when version A >= B (dotted numbers).
version_at_least() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }

ensure_go() {
  local want candidate found='' v
  want="$(go_min_version)"
  [[ -n "$want" ]] || die "gateway/go.mod names no go version"
  for candidate in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$GO_DIR/bin/go"; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    v="$(go_version_of "$candidate")"
    if [[ -n "$v" ]] && version_at_least "$v" "$want"; then found="$candidate"; break; fi
  done
  if [[ -z "$found" ]]; then
    fetch_go_toolchain
    found="$GO_DIR/bin/go"
  fi
  case ":$PATH:" in
    "$(dirname "$found"):"*) ;;
    *) PATH="$(dirname "$found"):$PATH" ;;
  esac
  export PATH
  # Modules the gateway and the tests need come from the proxy; never let a newer go.mod make
  # this Go download yet another toolchain behind the scenes.
  export GOTOOLCHAIN=local
}

fetch_go_toolchain() {
  local arch bootstrap tmp module
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) die "no Go toolchain for $(uname -m); install Go >= $(go_min_version) by hand" ;;
  esac
  module="golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch"
  bootstrap="$(command -v go 2>/dev/null || true)"
  if [[ -z "$bootstrap" ]]; then
    install_apt golang-go
    bootstrap=/usr/bin/go
  fi
  info "fetching Go $GO_VERSION from the Go module proxy into ${GO_DIR#"$REPO_ROOT"/}"
  tmp="$(mktemp -d)"
  if ! (cd "$tmp" && "$bootstrap" mod init fetch-go >/dev/null 2>&1 &&
        GOFLAGS=-mod=mod GOPATH="$tmp/gopath" GOTOOLCHAIN=local "$bootstrap" mod download "$module"); then
    chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"
    die "could not download $module from the Go module proxy"
  fi
  mkdir -p "$LOCAL_DIR"
  rm -rf "$GO_DIR.tmp"
  cp -r "$tmp/gopath/pkg/mod/$module/." "$GO_DIR.tmp"
  # The module cache is read-only by design.
  chmod -R u+w "$tmp"; rm -rf "$tmp"
  chmod -R u+w "$GO_DIR.tmp"
  # The module cache keeps no exec bits.
  chmod +x "$GO_DIR.tmp"/bin/* "$GO_DIR.tmp"/pkg/tool/*/*
  rm -rf "$GO_DIR"
  mv "$GO_DIR.tmp" "$GO_DIR"
  ok "Go $(go_version_of "$GO_DIR/bin/go") in ${GO_DIR#"$REPO_ROOT"/}"
}

# install_go_tool NAME MODULE PACKAGE VERSION: `go install PACKAGE@VERSION` into .local/bin,
# unless the binary there was already built from MODULE at VERSION.
install_go_tool() {
  local name=$1 module=$2 package=$3 version=$4 bin="$LOCAL_BIN/$1"
  if [[ -x "$bin" ]] &&
     go version -m "$bin" 2>/dev/null | grep -q "mod[[:space:]]*$module[[:space:]]*$version"; then
    return 0
  fi
  info "installing $name $version"
  mkdir -p "$LOCAL_BIN"
  (cd "$REPO_ROOT" && GOBIN="$LOCAL_BIN" GOFLAGS=-buildvcs=false go install "$package@$version") ||
    die "go install $package@$version failed"
}

# download_go_modules DIR...: the modules of the Go module in each folder, into the module cache
# (GOMODCACHE), so that a test running `go test` there, such as //deploy/k8s:manifests_test,
# finds them; quick when they are there already. Needs ensure_go first.
download_go_modules() {
  local dir
  for dir in "$@"; do
    (cd "$REPO_ROOT/$dir" && go mod download) || die "go mod download in $dir failed"
  done
}

install_grpcurl() {
  install_go_tool grpcurl github.com/fullstorydev/grpcurl \
    github.com/fullstorydev/grpcurl/cmd/grpcurl "$GRPCURL_VERSION"
}

# buf lints the protos and checks them against the last release (//proto:buf_test); pinned here,
# installed like grpcurl. The test finds it as MDS_BUF_BIN or .local/bin/buf.
BUF_VERSION="${BUF_VERSION:-v1.75.0}"

install_buf() {
  install_go_tool buf github.com/bufbuild/buf github.com/bufbuild/buf/cmd/buf "$BUF_VERSION"
}

# Load generators for ./deploy/dev bench only.
install_bench_tools() {
  install_apt wrk nghttp2-client
}

# Fuzzing tools for ./deploy/dev fuzz and ./deploy/dev schemathesis only (not in install_all):
# clang 14 with libFuzzer and the sanitizer runtimes from Debian; schemathesis from PyPI in a
# virtualenv under .local/venv (Debian's python3 with python3-venv).
FUZZ_VENV="$LOCAL_DIR/venv"
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"

install_fuzz_tools() {
  install_apt clang-14 libclang-rt-14-dev protobuf-compiler libprotobuf-dev libabsl-dev \
    nlohmann-json3-dev libgrpc++-dev
}

install_schemathesis() {
  install_apt python3 python3-venv
  if [[ -x "$FUZZ_VENV/bin/schemathesis" ]] &&
     "$FUZZ_VENV/bin/python" -c 'import schemathesis' >/dev/null 2>&1; then
    return 0
  fi
  info "installing schemathesis $SCHEMATHESIS_VERSION into ${FUZZ_VENV#"$REPO_ROOT"/}"
  [[ -x "$FUZZ_VENV/bin/python" ]] || /usr/bin/python3 -m venv "$FUZZ_VENV" ||
    die "could not create a virtualenv in $FUZZ_VENV"
  "$FUZZ_VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" || die "pip install schemathesis failed"
}

# promtool (checks and unit-tests the alerts of deploy/prometheus) ships only in Debian's
# `prometheus` package. Without its recommends, which add node-exporter and disk tools; on a
# machine run by systemd the package also starts a Prometheus server on :9090, left as Debian
# sets it up (as with PostgreSQL's default cluster).
install_promtool() {
  install_apt --no-install-recommends prometheus
}

install_all() {
  install_apt
  install_promtool
  ensure_go
  download_go_modules deploy/k8s/check
  install_kafka_jars
  install_grpcurl
  install_buf
}
