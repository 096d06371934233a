# Airbyte source connector for AfterShip: multi-stage image.
#
# With a registry (the normal way):
#     docker build -t airbyte/source-aftership:dev .
# The `build` stage compiles the connector in rust:1-slim-bookworm (fetching its crates
# from crates.io, as `cargo build --locked` does anywhere) and the last stage, `runtime`,
# copies the binary onto `runtime-base` (debian:bookworm-slim + CA certificates + user
# airbyte, uid 1000). It works with BuildKit and with the classic builder alike: there is
# no stage that only one of them can skip. scripts/check-docker-build runs exactly this
# command on a machine without a registry, with local images under those two names.
#
# Offline (no registry, as on this project's build machines), scripts/build-image
# makes the same image from a binary compiled on the host:
#     docker build --build-arg BASE_IMAGE=local/debian:bookworm-slim \
#                  --build-arg RUST_IMAGE=local/debian:bookworm-slim -f Dockerfile CONTEXT
# where local/debian:bookworm-slim is a debootstrap'ed bookworm minbase rootfs
# (`docker import`ed, ca-certificates preinstalled) and CONTEXT holds only that binary,
# at build/docker/source-aftership. The `build` stage then installs it instead of
# compiling (the repository's .dockerignore leaves `build/` out of a normal context, so a
# plain build always compiles). Same stages, same paths; only the binary's origin differs.
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
# Build stage: compile the release binary (rustls TLS, so no OpenSSL headers needed), or
# take the one scripts/build-image put in an offline context.
FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN set -eu; \
    if [ -f build/docker/source-aftership ]; then \
        install -D -m 0755 build/docker/source-aftership /usr/local/bin/source-aftership; \
    else \
        cargo build --release --locked --bin source-aftership; \
        install -D -m 0755 target/release/source-aftership /usr/local/bin/source-aftership; \
        rm -rf target; \
    fi

# ---------------------------------------------------------------------------------------
# Default target.
FROM runtime-base AS runtime
COPY --from=build /usr/local/bin/source-aftership /usr/local/bin/source-aftership
