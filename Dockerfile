# Airbyte source connector for AfterShip: multi-stage image.
#
# With a registry (the normal way, BuildKit, i.e. any Docker >= 23):
#     docker build -t airbyte/source-aftership:dev .
# builds the last stage, `runtime`: the `build` stage compiles the connector in
# rust:1-slim-bookworm and `runtime` copies the binary onto `runtime-base`
# (debian:bookworm-slim + CA certificates + user airbyte, uid 1000). This needs
# BuildKit, which builds only the stages `runtime` depends on; the classic builder
# (DOCKER_BUILDKIT=0) builds every stage before the target, `runtime-prebuilt` included,
# and fails there for want of a host-built binary.
#
# Offline (no registry, as on this project's build machines), scripts/build-image
# makes the image without pulling anything:
#     docker build --target runtime-prebuilt \
#         --build-arg BASE_IMAGE=local/debian:bookworm-slim -f Dockerfile CONTEXT
# where local/debian:bookworm-slim is a debootstrap'ed bookworm minbase rootfs
# (`docker import`ed, ca-certificates preinstalled) and CONTEXT holds only the binary
# compiled on the host, at build/docker/source-aftership. `runtime-prebuilt` is the same
# `runtime-base` stage plus the same COPY to the same path as `runtime`; only the origin
# of the binary differs. It works with the legacy builder too (Docker 20.10 without
# buildx), which builds the stages up to the target and so never touches `build`.
#
# The image follows Airbyte's conventions for running on Kubernetes: the platform
# ignores ENTRYPOINT and runs `sh -c 'eval "$AIRBYTE_ENTRYPOINT <verb> ..."'` as uid 1000,
# so the image keeps a shell, `sleep` and `mv`, and sets AIRBYTE_ENTRYPOINT.

ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim
ARG RUST_IMAGE=docker.io/library/rust:1-slim-bookworm

# ---------------------------------------------------------------------------------------
# Runtime base: everything but the binary.
FROM ${BASE_IMAGE} AS runtime-base

# CA bundle for HTTPS to api.aftership.com (installed only when the base lacks it), and
# the non-root user Airbyte's Kubernetes pods run as (uid/gid 1000, like Airbyte's own
# connector base image).
RUN set -eu; \
    if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then \
        apt-get update; \
        apt-get install -y --no-install-recommends ca-certificates; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --system --gid 1000 airbyte; \
    useradd --system --uid 1000 --gid 1000 --home-dir /airbyte --create-home --shell /bin/sh airbyte; \
    for tool in sh sleep mv; do command -v "$tool" >/dev/null; done

ENV AIRBYTE_ENTRYPOINT=/usr/local/bin/source-aftership
LABEL io.airbyte.name=airbyte/source-aftership \
      io.airbyte.version=0.2.0

WORKDIR /airbyte
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
ENTRYPOINT ["/usr/local/bin/source-aftership"]

# ---------------------------------------------------------------------------------------
# Offline variant: the binary compiled on the host (see scripts/build-image).
FROM runtime-base AS runtime-prebuilt
COPY build/docker/source-aftership /usr/local/bin/source-aftership

# ---------------------------------------------------------------------------------------
# Build stage: compile the release binary (rustls TLS, so no OpenSSL headers needed).
FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin source-aftership \
 && install -D -m 0755 target/release/source-aftership /usr/local/bin/source-aftership

# ---------------------------------------------------------------------------------------
# Default target.
FROM runtime-base AS runtime
COPY --from=build /usr/local/bin/source-aftership /usr/local/bin/source-aftership
