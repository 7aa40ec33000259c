#!/bin/sh
# Builds the base image's root file system, a tarball, from the Debian mirror alone: bookworm
# (minbase, merged /usr, no Recommends, no docs) with python3.11 and a pip in /opt/python, for
# `deploy/Dockerfile --build-arg PYTHON_IMAGE=localhost/laboursight-debian:bookworm`.
#
#   deploy/containers/bootstrap-base.sh OUT.tar [MIRROR]
#
# The host's local CA certificates (/usr/local/share/ca-certificates) are added to the base's
# trust store, so that builds behind a TLS-inspecting proxy the host trusts reach PyPI.
set -eu
out=$1
mirror=${2:-http://deb.debian.org/debian}
security=$(dirname "$mirror")/debian-security

mmdebstrap --variant=minbase --format=tar \
  --include=python3.11,python3-venv,ca-certificates \
  --aptopt='APT::Install-Recommends "false"' \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='for c in /usr/local/share/ca-certificates/*.crt; do
      [ -f "$c" ] && cp "$c" "$1/usr/local/share/ca-certificates/"; done;
      chroot "$1" update-ca-certificates' \
  --customize-hook='chroot "$1" python3.11 -m venv /opt/python' \
  bookworm "$out" \
  "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
  "deb $security bookworm-security main"
