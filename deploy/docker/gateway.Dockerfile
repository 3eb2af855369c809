# The REST gateway: a static Go binary on debian:12-slim (curl stays for the health check).
#
#   docker build -f deploy/docker/gateway.Dockerfile -t mds-gateway .
#
# The build context is the repository root; the generated code is committed in gateway/gen.
FROM golang:1.26-bookworm AS build
WORKDIR /src/gateway
COPY gateway/go.mod gateway/go.sum ./
RUN go mod download
COPY gateway/ ./
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags=-s -o /out/mds-gateway ./cmd/gateway

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/mds-gateway /usr/local/bin/mds-gateway
USER 65532:65532
ENV GATEWAY_LISTEN=:8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=6 CMD curl -fs http://127.0.0.1:8000/health || exit 1
ENTRYPOINT ["/usr/local/bin/mds-gateway"]
