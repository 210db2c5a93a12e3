#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# gencerts.sh DIR: a throwaway CA, a server certificate for 127.0.0.1/localhost signed by it, a
# client certificate (CN=barelb-test) for client-certificate auth, and a second, unrelated CA for
# the "wrong CA" test. Everything is generated fresh per test run and lives in DIR only.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
q() { "$@" >/dev/null 2>&1 || { echo "gencerts: failed: $*" >&2; exit 1; }; }
for ca in ca otherca; do
	q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=barelb-test-$ca" -keyout "$ca.key" -out "$ca.crt"
done
cat >server.ext <<'X'
subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth
X
q openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=fakeapi" \
	-keyout server.key -out server.csr
q openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
	-extfile server.ext -out server.crt
printf 'extendedKeyUsage=clientAuth\n' >client.ext
q openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=barelb-test" \
	-keyout client.key -out client.csr
q openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
	-extfile client.ext -out client.crt
