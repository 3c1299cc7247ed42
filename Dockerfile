# hcp in a container: the image the Kubernetes Indexed Job
# (deploy/k8s/sweep-indexed-job.yaml) and any container-based scheduler run.
#
#   docker build -t hcp:$(git rev-parse --short=12 HEAD) .
#   docker run --rm -v "$PWD/out:/work/out" hcp:TAG sweep reference --replications 2 --out /work/out
#
# The built-in scenarios and every model parameter are compiled into the
# binary; the real series of data/ (replayed by ercot-2021-uri, read by
# `hcp validate`) are copied to the path the binary was built to read them
# from. .git is not sent to the build, so the Parquet metadata say
# hcp.git_revision = "unknown": run every shard of one sweep from the same
# image (the bytes then match whatever the number of shards).

FROM rust:1.95-bookworm AS build
WORKDIR /opt/hcp
COPY . .
RUN cargo build --release --locked --bin hcp \
 && install -m 0755 target/release/hcp /usr/local/bin/hcp \
 && rm -rf target

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 hcp \
 && useradd --system --uid 10001 --gid 10001 --home-dir /work --create-home --shell /usr/sbin/nologin hcp \
 && mkdir -p /opt/hcp/models
# hcp_models::data::default_data_dir() is /opt/hcp/models/../data.
COPY --from=build /opt/hcp/data /opt/hcp/data
COPY --from=build /usr/local/bin/hcp /usr/local/bin/hcp
USER 10001:10001
WORKDIR /work
# hcp is PID 1: it handles SIGTERM itself (a sweep stops cleanly and exits
# 143), and it starts no children to reap.
ENTRYPOINT ["/usr/local/bin/hcp"]
CMD ["--help"]
