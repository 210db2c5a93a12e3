#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages barelb's build and tests need, only those that are missing.
set -eu
PKGS="gcc make pkg-config libnl-3-dev libnl-route-3-dev libpcap-dev libyaml-dev libcjson-dev
libcurl4-openssl-dev libevent-dev libcmocka-dev iproute2 bird2 arping ndisc6 tcpdump nftables curl
python3 clang libclang-rt-14-dev openssl iputils-ping procps keepalived strace"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; run as root or install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
