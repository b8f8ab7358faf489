#!/bin/sh
# Idempotent set-up of a fresh Debian 12 for building, running and testing
# Stills: Debian packages (FFmpeg 5.1 libraries and CLI, protoc, a C
# toolchain) and pinned Go tools in <repo>/.tools/bin (versitygw,
# nats-server, protoc-gen-go). Installs only what is missing, prints what it
# installs, and does nothing (fast) when everything is there. Run as root or
# as a user with sudo (apt-get only); Go must be installed (/usr/local/go).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
tools="$repo/.tools/bin"
stamp="$repo/.tools/versions"

# Debian packages.
pkgs="ffmpeg libavcodec-dev libavformat-dev libavfilter-dev libavutil-dev libswscale-dev
libswresample-dev libavdevice-dev pkg-config protobuf-compiler libprotobuf-dev gcc make git
ca-certificates"

if command -v dpkg-query >/dev/null 2>&1; then
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $pkgs 2>/dev/null | awk '$2 == "installed" { print $1 }') || true
	missing=""
	for p in $pkgs; do
		case " $(echo $installed) " in
		*" $p "*) ;;
		*) missing="$missing $p" ;;
		esac
	done
	if [ -n "$missing" ]; then
		echo "setup: installing Debian packages:$missing"
		sudo=""
		if [ "$(id -u)" -ne 0 ]; then
			sudo="sudo"
		fi
		$sudo apt-get update -qq
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
	fi
else
	echo "setup: no dpkg-query (not Debian?); make sure these are installed: $(echo $pkgs)" >&2
fi

# Go.
if ! command -v go >/dev/null 2>&1; then
	PATH="/usr/local/go/bin:$PATH"
	export PATH
fi
if ! command -v go >/dev/null 2>&1; then
	echo "setup: go not found (install Go 1.26 into /usr/local/go)" >&2
	exit 1
fi

# Pinned Go tools: name, package@version, module (as `go version -m` names it).
mkdir -p "$tools"
touch "$stamp"
install_tool() {
	name=$1 pkg=$2 mod=$3
	version=${pkg##*@}
	bin="$tools/$name"
	want="$name $pkg"
	if [ -x "$bin" ] && grep -qxF "$want" "$stamp"; then
		return
	fi
	# A binary installed before the stamp existed: trust its build info.
	if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]]*$mod[[:space:]]*$version[[:space:]]"; then
		:
	else
		echo "setup: installing $pkg into $tools"
		(cd / && GOWORK=off GOFLAGS= GOBIN="$tools" go install "$pkg")
	fi
	grep -v "^$name " "$stamp" >"$stamp.tmp" || true
	echo "$want" >>"$stamp.tmp"
	mv "$stamp.tmp" "$stamp"
}
install_tool versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0 github.com/versity/versitygw
install_tool nats-server github.com/nats-io/nats-server/v2@v2.15.2 github.com/nats-io/nats-server/v2
install_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12 google.golang.org/protobuf
