#!/bin/sh
# Starts `deepcluster host` in a container. It writes the node's configuration, /tmp/node.conf, which includes the
# shipped file named by DEEPCLUSTER_CONFIG (coordinator.conf or worker.conf in /app/config) and sets what only the
# container knows:
#   DEEPCLUSTER_HOSTNAME   the address other nodes reach this one at (default: this container's IP address); the
#                          seed nodes' addresses must use the same name (the coordinator: its service name)
#   DEEPCLUSTER_JOURNAL    the PostgreSQL connection string (Npgsql's form or a postgres:// URL)
#   DEEPCLUSTER_SHARED     the shared folder (experiments, the API token), the same on every node (default /shared)
#   DEEPCLUSTER_TLS_CERTIFICATE, DEEPCLUSTER_TLS_PASSWORD
#                          a PKCS#12 file (mounted) for Akka.Remote TLS and the API's HTTPS; without it the node
#                          listens in clear on the compose network (allow-insecure = on): keep that network private
#                          and publish only the API port, on 127.0.0.1
# Arguments are passed on to `deepcluster host` (--port, --seed-nodes, --roles, --api-port).
set -eu
config=${DEEPCLUSTER_CONFIG:-/app/config/worker.conf}
hostname=${DEEPCLUSTER_HOSTNAME:-$(hostname -i | cut -d' ' -f1)}
shared=${DEEPCLUSTER_SHARED:-/shared}
: "${DEEPCLUSTER_JOURNAL:?set DEEPCLUSTER_JOURNAL to the PostgreSQL connection string}"
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
{
  echo "include $(quote "$config")"
  echo "deepcluster.journal { provider = postgresql, connection-string = $(quote "$DEEPCLUSTER_JOURNAL") }"
  echo "deepcluster.host {"
  echo "  hostname = $(quote "$hostname")"
  echo "  experiments = $(quote "$shared/experiments")"
  echo "  api { bind = \"0.0.0.0\", token-file = $(quote "$shared/api.token") }"
  if [ -n "${DEEPCLUSTER_TLS_CERTIFICATE:-}" ]; then
    echo "  tls { certificate = $(quote "$DEEPCLUSTER_TLS_CERTIFICATE"), password = $(quote "${DEEPCLUSTER_TLS_PASSWORD:-}") }"
    echo "  api { certificate = $(quote "$DEEPCLUSTER_TLS_CERTIFICATE"), certificate-password = $(quote "${DEEPCLUSTER_TLS_PASSWORD:-}") }"
  else
    echo "  allow-insecure = on"
  fi
  echo "}"
} > /tmp/node.conf
chmod 600 /tmp/node.conf
mkdir -p "$shared/experiments"
exec /app/deepcluster host --config /tmp/node.conf "$@"
