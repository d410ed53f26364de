#!/usr/bin/env bash
# Make this machine a libvirt + QEMU node for tests and the demo. Idempotent; run as root.
# PID 1 is not systemd here, so the daemons are started by hand.
set -euo pipefail

PACKAGES=(libvirt-dev pkg-config libvirt0 qemu-system-x86 qemu-utils libvirt-daemon-system
          libvirt-daemon-system-sysv dnsmasq-base chromium postgresql-client)
POOL_NAME=default
POOL_DIR=/var/lib/libvirt/images

say() { echo "setup-libvirt: $*"; }

# --packages-only: install the packages (enough to build the Python binding and run the demo's in-process
# test hypervisor) without starting daemons.
PACKAGES_ONLY=0
[[ ${1:-} == --packages-only ]] && PACKAGES_ONLY=1

if [[ $(id -u) -ne 0 ]]; then
    say "must run as root" >&2
    exit 1
fi

# 1. Packages: install only what is missing.
missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    say "packages present"
fi

if ((PACKAGES_ONLY)); then
    exit 0
fi

# 2. /dev/kvm is root-only without udev; libvirt then re-probes QEMU on every call.
if [[ -e /dev/kvm && $(stat -c '%G %a' /dev/kvm) != "kvm 660" ]]; then
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
    say "fixed /dev/kvm permissions"
fi

# 3. Daemons: start each one unless its pid file points at a live process of that name.
running() {  # name
    local pid
    pid=$(cat "/run/$1.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        return 0
    fi
    pgrep -x "$1" >/dev/null
}
for daemon in virtlogd libvirtd; do
    if running "$daemon"; then
        say "$daemon already running"
    else
        "$daemon" -d
        say "started $daemon"
    fi
done

# 4. Wait (bounded) until the daemon answers.
for _ in $(seq 1 40); do
    if virsh -c qemu:///system version >/dev/null 2>&1; then
        break
    fi
    sleep 0.5
done
if ! version=$(virsh -c qemu:///system version 2>&1); then
    say "libvirtd does not answer on qemu:///system: $version" >&2
    exit 1
fi

# 5. The storage pool guest disks and images live in.
if ! virsh -c qemu:///system pool-info "$POOL_NAME" >/dev/null 2>&1; then
    mkdir -p "$POOL_DIR"
    virsh -q -c qemu:///system pool-define-as "$POOL_NAME" dir --target "$POOL_DIR" >/dev/null
    virsh -q -c qemu:///system pool-autostart "$POOL_NAME" >/dev/null
    say "defined storage pool $POOL_NAME at $POOL_DIR"
fi
pool_state=$(virsh -c qemu:///system pool-info "$POOL_NAME" 2>/dev/null || true)
if [[ $pool_state != *"running"* ]]; then
    virsh -q -c qemu:///system pool-start "$POOL_NAME" >/dev/null
    say "started storage pool $POOL_NAME"
fi

say "ready ($(virsh -c qemu:///system version --daemon 2>/dev/null | sed -n 's/^Running hypervisor: //p'))"
