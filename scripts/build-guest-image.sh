#!/usr/bin/env bash
# Build the tiny bootable guest (decision 0021) into the libvirt pool directory and refresh the pool.
# Idempotent: a second run with unchanged packages does nothing. Run as root (CI and `make` do).
set -euo pipefail
cd "$(dirname "$0")/.."

POOL_NAME=default

if [[ $(id -u) -ne 0 ]]; then
    echo "build-guest-image: must run as root" >&2
    exit 1
fi

"${PYTHON:-python3}" scripts/build_guest_image.py "$@"

# A running libvirtd lists new files only after a refresh; without one (the demo on the in-process test
# hypervisor) there is nothing to refresh.
if virsh -q -c qemu:///system pool-refresh "$POOL_NAME" >/dev/null 2>&1; then
    echo "build-guest-image: refreshed storage pool $POOL_NAME"
fi
