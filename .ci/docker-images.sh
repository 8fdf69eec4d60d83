#!/usr/bin/env bash
# Builds the local test images with `docker import` from binaries on this machine; nothing is
# pulled from a registry. Idempotent: an image that exists is left alone.
#   kubeact-test/busybox:1  busybox-static with every applet linked in /bin, PATH=/bin, a /www page
#   kubeact-test/nats:1     nats-server (with the shared libraries it links) as the entrypoint
set -euo pipefail
BUSYBOX_IMAGE=${BUSYBOX_IMAGE:-kubeact-test/busybox:1}
NATS_IMAGE=${NATS_IMAGE:-kubeact-test/nats:1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Bump when the recipe changes: an image built by an older recipe is rebuilt.
RECIPE=2
have() { [ "$(docker image inspect -f '{{ index .Config.Labels "io.kubeact.test-image" }}' "$1" 2>/dev/null)" = "$RECIPE" ]; }

if ! have "$BUSYBOX_IMAGE"; then
  bb=/bin/busybox
  [ -x "$bb" ] || { echo "$bb not found (apt-get install busybox-static)" >&2; exit 1; }
  root="$tmp/busybox"
  mkdir -p "$root/bin" "$root/tmp" "$root/www" "$root/etc"
  cp "$bb" "$root/bin/busybox"
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  chmod 1777 "$root/tmp"
  echo 'hello from kubeact-test/busybox' >"$root/www/index.html"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -c . | docker import --change "LABEL io.kubeact.test-image=$RECIPE" --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$BUSYBOX_IMAGE" >/dev/null
  echo "imported $BUSYBOX_IMAGE"
fi

if ! have "$NATS_IMAGE"; then
  ns=$(command -v nats-server || true)
  [ -n "$ns" ] || { echo "nats-server not found (apt-get install nats-server)" >&2; exit 1; }
  root="$tmp/nats"
  mkdir -p "$root/tmp"
  cp "$ns" "$root/nats-server"
  # Debian's nats-server is linked against libc: the loader and libraries go along, same paths.
  for lib in $(ldd "$ns" | grep -oE '/[^ ]+' || true); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  chmod 1777 "$root/tmp"
  tar -C "$root" -c . | docker import --change "LABEL io.kubeact.test-image=$RECIPE" --change 'ENTRYPOINT ["/nats-server"]' - "$NATS_IMAGE" >/dev/null
  echo "imported $NATS_IMAGE"
fi
