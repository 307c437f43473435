#!/usr/bin/env bash
# Install the named Debian packages when their commands are missing.
# As root it runs apt-get; otherwise it says exactly what to install and fails.
set -euo pipefail

declare -A command_of=([ffmpeg]=ffprobe [espeak-ng]=espeak-ng [chromium]=chromium
                       [default-jre-headless]=java [npm]=npm)
missing=()
for package in "$@"; do
  command -v "${command_of[$package]:-$package}" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "Installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "Installing Debian packages with sudo: ${missing[*]}" >&2
  sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them, then run make again:  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
