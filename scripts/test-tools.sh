#!/usr/bin/env bash
# The system tools the test suite drives (crash injection, QEMU's blklogwrites writer and
# qemu-img/qemu-io, libnbd's nbdinfo, nbdcopy and nbdfuse, fio's nbd engine, a kernel file
# system with a database on top: loop devices, ext4, SQLite; openssl for the TLS tests'
# throwaway certificates, ip for their other hosts in network namespaces and nsenter to
# enter a remote machine's namespaces; OpenSSH's sshd,
# started by a test on loopback with throwaway keys, and nftables and tc for a remote site
# behind a lossy, partitioned or rate-limited link). `npm test`
# runs this first, so a fresh machine gets them from Debian's packages; a test never skips
# because a tool is missing.
set -euo pipefail

# command → Debian package
tools=(
  "strace strace"
  "unshare util-linux"
  "nsenter util-linux"
  "qemu-io qemu-utils"
  "nbdinfo libnbd-bin"
  "fio fio"
  "nbdfuse libnbd-bin"
  "fusermount3 fuse3"
  "losetup mount"
  "fsfreeze util-linux"
  "mke2fs e2fsprogs"
  "e2fsck e2fsprogs"
  "sqlite3 sqlite3"
  "openssl openssl"
  "ip iproute2"
  "nbdkit nbdkit"
  "sshd openssh-server"
  "ssh openssh-client"
  "ssh-keygen openssh-client"
  "nft nftables"
  "tc iproute2"
)

# npm puts node_modules/.bin first on PATH, and ava brings @vercel/nft's `nft` there:
# look for the system's tools only.
PATH=$(tr ':' '\n' <<<"$PATH" | grep -v node_modules | paste -sd: -)

missing=()
for entry in "${tools[@]}"; do
  read -r command package <<<"$entry"
  command -v "$command" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $package "* ]] || missing+=("$package")
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
