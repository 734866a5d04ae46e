#!/usr/bin/env bash
# Starts the machine's services that the tests use, if they are down:
# PostgreSQL (127.0.0.1:5432), NATS with JetStream (127.0.0.1:4222), Redis (127.0.0.1:6379).
set -uo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  echo "services: starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 4222 && [ -x /usr/sbin/nats-server ]; then
  echo "services: starting NATS" >&2
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
fi
if ! up 6379 && command -v redis-server >/dev/null; then
  echo "services: starting Redis" >&2
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for i in $(seq 1 50); do up 5432 && up 4222 && up 6379 && exit 0; sleep 0.2; done
echo "services: warning: not every service answered (PostgreSQL 5432, NATS 4222, Redis 6379)" >&2
exit 0
