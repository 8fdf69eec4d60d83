#!/usr/bin/env bash
# Makes sure a Docker engine answers on the default socket: starts dockerd when none does
# (no iptables, no bridge: kubeact containers use host networking on 127.0.0.0/8 only).
# Idempotent: does nothing when `docker info` already works. Exit 1 if the engine never answers.
set -uo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null; then
  echo "dockerd is not installed (apt-get install docker.io)" >&2
  exit 1
fi
log=${DOCKERD_LOG:-/tmp/kubeact-dockerd.log}
# A pid file left by a dockerd that is gone (machine restarted) would make the new one refuse to start.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
echo "starting dockerd (log: $log)"
nohup dockerd --iptables=false --ip6tables=false --bridge=none >"$log" 2>&1 &
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 0.5 # waiting on the engine's socket to answer, bounded to 60 s
done
echo "dockerd did not answer within 60 s; last lines of $log:" >&2
tail -20 "$log" >&2
exit 1
