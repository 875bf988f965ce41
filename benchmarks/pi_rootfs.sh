#!/usr/bin/env bash
# Build, once, an arm64 Debian 12 "Bookworm" root filesystem (the base of Raspberry Pi OS
# 64-bit) that runs on an x86-64 host through qemu-user-static; later calls reuse it.
#
#   benchmarks/pi_rootfs.sh            # prints the rootfs path on its last line
#   EDGEDET_PI_CACHE=/some/dir benchmarks/pi_rootfs.sh
#
# Needs root, debootstrap and qemu-user-static (apt-get install -y debootstrap qemu-user-static)
# and Debian's mirror (EDGEDET_PI_MIRROR, default deb.debian.org). Debian's own python3 (3.11),
# python3-venv and python3-numpy (1.24, what Raspberry Pi OS's system packages are built
# against) come from --include; everything else is pip-installed by benchmarks/pi_emulated.py.
set -euo pipefail

CACHE="${EDGEDET_PI_CACHE:-$HOME/.cache/edgedet-pi}"
ROOTFS="$CACHE/rootfs-bookworm-arm64"
MIRROR="${EDGEDET_PI_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="python3,python3-venv,python3-numpy,ca-certificates"
STAMP="$ROOTFS/.edgedet-rootfs-complete"
QEMU="$(command -v qemu-aarch64-static || true)"
BINFMT=/proc/sys/fs/binfmt_misc

die() { echo "pi_rootfs.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and binfmt_misc registration)"
[ -n "$QEMU" ] || die "qemu-aarch64-static not found: apt-get install -y qemu-user-static"
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install -y debootstrap"

# binfmt_misc lets the kernel hand aarch64 ELF files to qemu, so `chroot` runs arm64 programs.
# The F flag opens the interpreter now, so it need not exist inside the rootfs.
register_binfmt() {
    [ -e "$BINFMT/register" ] || mount -t binfmt_misc binfmt_misc "$BINFMT" 2>/dev/null \
        || die "cannot mount binfmt_misc (a container without that privilege); arm64 programs cannot run"
    if [ ! -e "$BINFMT/qemu-aarch64" ]; then
        local magic='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
        local mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
        echo ":qemu-aarch64:M::${magic}:${mask}:${QEMU}:F" > "$BINFMT/register" \
            || die "cannot register qemu-aarch64 with binfmt_misc"
    fi
    grep -q '^enabled' "$BINFMT/qemu-aarch64" || die "binfmt_misc entry qemu-aarch64 is disabled"
}

register_binfmt
if [ -e "$STAMP" ]; then
    echo "$ROOTFS"
    exit 0
fi

rm -rf "$ROOTFS"
mkdir -p "$CACHE"
# --foreign + --second-stage inside the chroot: the arm64 maintainer scripts run under qemu.
debootstrap --arch=arm64 --variant=minbase --foreign --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR"
chroot "$ROOTFS" /debootstrap/debootstrap --second-stage
chroot "$ROOTFS" apt-get clean
chroot "$ROOTFS" python3 -c 'import sys, platform, numpy; print(platform.machine(), sys.version.split()[0], "numpy", numpy.__version__)'
date -u +%FT%TZ > "$STAMP"
echo "$ROOTFS"
