#!/bin/sh
# Install the Debian packages named as arguments that are not installed yet.
# As root this runs apt-get; otherwise it prints the apt-get line to run and
# fails, so that nothing is built against missing libraries.
set -eu

missing=""
for package in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in
        *"ok installed"*) ;;
        *) missing="$missing $package" ;;
    esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "mailsim needs these Debian packages:$missing" >&2
    echo "Install them as root with:" >&2
    echo "    apt-get update && apt-get install -y$missing" >&2
    exit 1
fi

echo "Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # the package list is meant to split into words
apt-get install -y -qq --no-install-recommends $missing
