# Installs what the stack needs and is missing: Debian packages, the Kafka broker jars from Maven
# Central, and grpcurl from the Go module proxy. Each step checks first and is quick when done.
# shellcheck shell=bash

APT_PACKAGES=(
  # C++ libraries the services build against
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libsoci-dev libboost-dev libpq-dev librdkafka-dev libcurl4-openssl-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev libspdlog-dev libcpp-httplib-dev
  # Bazel 4 and the rules the offline WORKSPACE points at
  bazel-bootstrap bazel-platforms bazel-rules-java bazel-rules-proto bazel-skylib
  # servers and clients used by the local stack
  kcat docker-compose postgresql curl
)

KAFKA_LIB_DIR="$LOCAL_DIR/kafka/lib"
KAFKA_POM="$REPO_ROOT/deploy/kafka/pom.xml"

# install_apt [package...]: the given packages, or APT_PACKAGES.
install_apt() {
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
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
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

# Go is preinstalled on the machines this runs on, not always on PATH.
ensure_go() {
  if ! command -v go >/dev/null; then
    [[ -x /usr/local/go/bin/go ]] || die "Go is needed (gateway, grpcurl) and was not found"
    PATH="$PATH:/usr/local/go/bin"
    export PATH
  fi
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

install_grpcurl() {
  install_go_tool grpcurl github.com/fullstorydev/grpcurl \
    github.com/fullstorydev/grpcurl/cmd/grpcurl "$GRPCURL_VERSION"
}

# Load generators for ./deploy/dev bench only.
install_bench_tools() {
  install_apt wrk nghttp2-client
}

install_all() {
  install_apt
  ensure_go
  install_kafka_jars
  install_grpcurl
}
