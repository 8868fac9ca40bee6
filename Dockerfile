# otpd as the entrypoint of a multi-process container.
#
#   docker build -t otpd .
#   docker run --rm otpd                                  # the bundled example
#   docker run --rm -v $PWD/my.yaml:/etc/otpd/otpd.yaml otpd
#
# otpd runs as PID 1: it reaps every orphan in the container, stops the tree
# in reverse order on SIGTERM (docker stop) within each child's shutdown
# time, and exits 0 after an orderly stop, 1 when the tree failed, or, with
# auto_shutdown, as the significant child that ended the tree did.
# For an image of one's own with otpd as its entrypoint, see
# examples/container/Dockerfile and the README.

FROM debian:12 AS build
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      g++ meson ninja-build pkg-config \
      libboost1.81-dev \
      libyaml-cpp-dev nlohmann-json3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --buildtype=release -Dstrip=true -Dtests=false -Dbenchmarks=false \
 && ninja -C /build daemon/otpd cli/otpctl \
 && strip /build/daemon/otpd /build/cli/otpctl

FROM debian:12-slim
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/daemon/otpd /usr/sbin/otpd
COPY --from=build /build/cli/otpctl /usr/bin/otpctl
COPY config/examples/container.yaml /etc/otpd/otpd.yaml
# otpctl inside the container finds otpd here (`docker exec ... otpctl status`).
ENV OTPD_SOCKET=/run/otpd/otpd.sock
STOPSIGNAL SIGTERM
# Healthy while otpd answers and its root supervisor runs. Name the
# children the container cannot do without to have their state count too:
#   HEALTHCHECK CMD ["otpctl", "--timeout", "3s", "is-active", "--quiet", "app", "heartbeat"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s \
  CMD ["otpctl", "--timeout", "3s", "is-active", "--quiet", "/"]
ENTRYPOINT ["/usr/sbin/otpd", "--config", "/etc/otpd/otpd.yaml"]
