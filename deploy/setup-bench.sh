#!/bin/sh
# Idempotent set-up for `make bench-gateway`: the load tool (wrk) and the
# reference web server (nginx-light) from Debian. Does nothing when both
# are present. Not needed by make test/run.
set -eu
missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
[ -z "$missing" ] && exit 0
echo "setup-bench: installing Debian packages:$missing"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
# The package starts a system nginx on port 80; the bench runs its own.
if command -v systemctl >/dev/null 2>&1; then
	$sudo systemctl disable --now nginx >/dev/null 2>&1 || true
fi
