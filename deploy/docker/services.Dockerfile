# mds-api and mds-consumer: built with Debian 12's own Bazel 4 and libraries (the same packages the
# local stack uses), run on debian:12-slim with only the shared libraries the binary links.
#
#   docker build -f deploy/docker/services.Dockerfile -t mds-api .
#   docker build -f deploy/docker/services.Dockerfile \
#     --build-arg TARGET=//services/consumer:mds-consumer -t mds-consumer .
#
# The build context is the repository root.

# grpcurl answers the container health check (grpc.health.v1); its version is pinned in
# deploy/versions.env.
FROM golang:1.26-bookworm AS tools
COPY deploy/versions.env /tmp/versions.env
RUN . /tmp/versions.env \
 && CGO_ENABLED=0 GOBIN=/out go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@${GRPCURL_VERSION}"

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates g++ \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
      libsoci-dev libboost-dev libpq-dev librdkafka-dev libcurl4-openssl-dev nlohmann-json3-dev zlib1g-dev \
      libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev libspdlog-dev libcpp-httplib-dev \
      bazel-bootstrap bazel-platforms bazel-rules-java bazel-rules-proto bazel-skylib \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY WORKSPACE BUILD.bazel .bazelrc ./
COPY bazel/ bazel/
COPY third_party/ third_party/
COPY proto/ proto/
COPY services/ services/
ARG TARGET=//services/api:mds-api
# Local spawns: the Linux sandbox needs namespaces that image builds often do not grant.
# runtime-packages lists the Debian packages owning the shared libraries the binary links.
RUN bazel build --spawn_strategy=local --compilation_mode=opt --color=no --curses=no "${TARGET}" \
 && bin="bazel-bin/$(echo "${TARGET#//}" | tr : /)" \
 && mkdir -p /out/app \
 && cp "$bin" /out/app/service \
 && if [ -d "$bin.runfiles" ]; then cp -rL "$bin.runfiles" /out/app/service.runfiles; fi \
 && ldd /out/app/service | awk '$2 == "=>" && $3 ~ /^\// {print $3}' \
    | while read -r lib; do dpkg -S "*/$(basename "$lib")" 2>/dev/null | head -n1 | cut -d: -f1; done \
    | sort -u >/out/runtime-packages \
 && bazel shutdown

FROM debian:12-slim
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive xargs -a /tmp/runtime-packages \
      apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
COPY --from=tools /out/grpcurl /usr/local/bin/grpcurl
COPY --from=build /out/app/ /app/
USER 65532:65532
ENTRYPOINT ["/app/service"]
