#!/usr/bin/env bash
# Makes a test certificate authority and certificates signed by it, for
# trying TLS and mutual TLS (not for production: no passphrase, 30 days):
#   DIR/ca.pem                  the CA's certificate (clients' --tls-ca,
#                               the server's --tls-client-ca)
#   DIR/server.pem, server.key  the server's (--tls-cert, --tls-key), for
#                               localhost, 127.0.0.1, ::1 and each HOST
#   DIR/client.pem, client.key  a client's (--tls-cert, --tls-key)
# Usage: scripts/make-test-ca.sh DIR [HOST...]
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [HOST...]" >&2
  exit 2
fi
dir=$1
shift
command -v openssl >/dev/null || { echo "make-test-ca: openssl is missing (apt install openssl)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
umask 077

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for host in "$@"; do
  if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then san+=",IP:$host"; else san+=",DNS:$host"; fi
done

# EC P-256 keys: small and fast to make.
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

newkey ca.key
openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=Parzen test CA $(date +%s%N)" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem

# sign NAME CN EXTENSIONS
sign() {
  newkey "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 30 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign server parzen-server "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san"
sign client parzen-client "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
rm -f ca.srl
# Certificates are public; keys stay private to their owner.
chmod 0644 ca.pem server.pem client.pem
echo "make-test-ca: CA and certificates in $(pwd) (server certificate for $san)"
