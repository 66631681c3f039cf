# One image, two binaries: `collector` (migrate | serve | relay | worker | all | dlq) and
# `fake-core` (the stand-in core loan system) and `fake-skypay` (SkyPay's stand-in).
# docker-compose.yml runs every service from it.
#
#   docker build -t collector:local .
#   docker run --rm collector:local --help
#
# No secret is baked in: DATABASE_URL, AMQP_URL, ADMIN_TOKEN, SKYPAY_CREDENTIALS, … come from
# the environment at run time (.env is excluded from the build context by .dockerignore).

############################ builder ############################
FROM rust:1-bookworm AS builder
WORKDIR /build

# 1. Dependencies only: the manifests with stub sources, so that this (slow) layer is reused
#    for as long as the manifests and Cargo.lock do not change. Every workspace member's
#    manifest must be here for cargo to read the workspace (bench is not built).
COPY Cargo.toml Cargo.lock ./
COPY workers/Cargo.toml workers/Cargo.toml
COPY bench/Cargo.toml bench/Cargo.toml
RUN mkdir -p src workers/src/bin bench/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs workers/src/lib.rs \
 && echo 'fn main() {}' > workers/src/bin/fake-core.rs \
 && echo 'fn main() {}' > bench/src/main.rs \
 && cargo build --release --locked -p collector -p workers --bins \
 && rm -rf src workers/src \
    target/release/.fingerprint/collector-* target/release/.fingerprint/workers-* \
    target/release/deps/collector-* target/release/deps/libcollector-* \
    target/release/deps/fake_core-* target/release/deps/workers-* target/release/deps/libworkers-*

# 2. The real sources. `sqlx::migrate!("./migrations")` embeds migrations/ at compile time, so
#    it must be in place before this build.
COPY migrations migrations
COPY src src
COPY workers/src workers/src
# COPY keeps the context's modification times, which may be older than the stub build:
# touch the crate roots so cargo recompiles both local crates for certain.
RUN touch src/main.rs src/lib.rs workers/src/lib.rs workers/src/bin/fake-core.rs \
 && cargo build --release --locked -p collector -p workers --bins \
 && install -m 0755 target/release/collector target/release/fake-core target/release/fake-skypay /usr/local/bin/

############################ runtime ############################
FROM debian:bookworm-slim AS runtime

# ca-certificates: TLS to Postgres/RabbitMQ/the core loan system; curl: health checks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 collector \
 && useradd --system --uid 10001 --gid collector --home-dir /app --no-create-home \
    --shell /usr/sbin/nologin collector \
 && mkdir -p /app && chown collector:collector /app

COPY --from=builder /usr/local/bin/collector /usr/local/bin/collector
COPY --from=builder /usr/local/bin/fake-core /usr/local/bin/fake-core
COPY --from=builder /usr/local/bin/fake-skypay /usr/local/bin/fake-skypay

WORKDIR /app
USER collector:collector

# SkyPay API (LISTEN_ADDR, default 0.0.0.0:8080) and admin API (ADMIN_LISTEN_ADDR; its
# default 127.0.0.1:9090 is unreachable from outside the container: set 0.0.0.0:9090 and
# publish it on a private address only, as docker-compose.yml does).
EXPOSE 8080 9090

ENTRYPOINT ["collector"]
CMD ["serve"]
