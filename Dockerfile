# SPDX-License-Identifier: Apache-2.0
# barelb image: barelb-controller, barelb-speaker and barelbctl on Debian 12.
#
#   docker build -t barelb/barelb:0.1.0 .      then: kubectl apply -k conf/deploy
#
# Docker cannot run on the machines where barelb is developed and tested, so this file is not
# built in CI. What CI does check (test/cli/test_manifests.sh): the build stage is Debian 12 and
# runs make, every runtime package below exists in Debian 12, and together they hold every shared
# library the release binaries link.

# ---------- build: the same packages as `make deps` needs for the build, then `make` ----------
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev \
      libnl-3-dev libnl-route-3-dev libpcap-dev libyaml-dev libcjson-dev \
      libcurl4-openssl-dev libevent-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY include/ include/
COPY lib/ lib/
COPY controller/ controller/
COPY speaker/ speaker/
COPY cli/ cli/
RUN make -j"$(nproc)" all

# ---------- runtime: only the shared libraries the binaries load ----------
# (libpcap0.8: the Makefile links -lpcap for every program; the linker may drop it, the package
# is small and keeps the image right whichever way the binaries were linked.)
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libyaml-0-2 libevent-2.1-7 libcjson1 libcurl4 \
      libnl-3-200 libnl-route-3-200 libpcap0.8 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/bin/barelb-controller /src/bin/barelb-speaker /src/bin/barelbctl \
     /usr/local/bin/
COPY conf/config.yaml /etc/barelb/config.yaml
# The controller runs as nobody (its Deployment says so too); the speaker's DaemonSet sets uid 0
# with only NET_RAW and NET_ADMIN, as Kubernetes grants added capabilities to root only.
USER 65534:65534
EXPOSE 7472
ENTRYPOINT ["/usr/local/bin/barelb-controller"]
