# Production image: the release binary (LTO, stripped) on a slim Debian with libpq.
# Evidence files live in /var/lib/hazard-registry: mount a volume there (docker-compose.yml does).
FROM rust:1-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY reference ./reference
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/hazard-registry --create-home hazreg
COPY --from=build /src/target/release/hazard-registry /usr/local/bin/hazard-registry
USER 10001
WORKDIR /var/lib/hazard-registry
VOLUME ["/var/lib/hazard-registry"]
ENV HAZREG_BIND=0.0.0.0:8080 \
    HAZREG_DATA_DIR=/var/lib/hazard-registry \
    HAZREG_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"]
ENTRYPOINT ["hazard-registry"]
CMD ["serve"]
