#!/usr/bin/env bash
# The system tools the test suite drives (crash injection, QEMU's blklogwrites writer and
# qemu-img/qemu-io, libnbd's nbdinfo and nbdcopy, fio's nbd engine; later file systems). `npm test` runs this first, so a fresh machine gets them from Debian's
# packages; a test never skips because a tool is missing.
set -euo pipefail

# command → Debian package
tools=(
  "strace strace"
  "unshare util-linux"
  "qemu-io qemu-utils"
  "nbdinfo libnbd-bin"
  "fio fio"
)

missing=()
for entry in "${tools[@]}"; do
  read -r command package <<<"$entry"
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "the tests need these Debian packages: ${missing[*]} (install them as root: apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing test tools: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
