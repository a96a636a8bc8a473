#!/usr/bin/env bash
# Makes the test PKI of crates/server/tests/tls.rs: a throw-away CA and a leaf certificate for
# `localhost` (and 127.0.0.1) that it signed, ECDSA P-256, valid for 100 years. The keys are
# test keys, published on purpose; nothing trusts this CA outside that test.
#   bash crates/server/tests/tls/make.sh
set -euo pipefail
cd "$(dirname "$0")"
openssl ecparam -name prime256v1 -genkey -noout -out ca.key.tmp
openssl pkcs8 -topk8 -nocrypt -in ca.key.tmp -out ca.key && rm ca.key.tmp
openssl req -x509 -new -key ca.key -sha256 -days 36500 -subj "/CN=Schooltas test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
openssl ecparam -name prime256v1 -genkey -noout -out localhost.key.tmp
openssl pkcs8 -topk8 -nocrypt -in localhost.key.tmp -out localhost.key && rm localhost.key.tmp
openssl req -new -key localhost.key -subj "/CN=localhost" -out localhost.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' > localhost.ext
openssl x509 -req -in localhost.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 36500 -sha256 \
    -extfile localhost.ext -out localhost.pem
cat localhost.pem ca.pem > localhost-chain.pem
rm -f localhost.csr localhost.ext ca.srl ca.key localhost.pem
