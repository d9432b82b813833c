#!/bin/sh
# Build the Go peer: bench.go -> BUILD_DIR/go/bench
# Usage: build.sh [BUILD_DIR]        (default: <repo>/build/bench-peers)
# Needs Debian's package golang-go (Go >= 1.19); standard library only, so it
# builds offline. GOCACHE and GOPATH live under BUILD_DIR, so any user can build.
# Exit status: 0 built; 3 go is missing; 1 compile failed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build_dir=${1:-$repo/build/bench-peers}

if ! command -v go >/dev/null 2>&1; then
    echo "go peer: go not found, so the Go peer cannot be built." >&2
    echo "go peer: install it with: apt-get install -y golang-go" >&2
    exit 3
fi

mkdir -p "$build_dir/go"
build_dir=$(cd "$build_dir" && pwd)
out="$build_dir/go/bench"
rm -f "$out"
export GOCACHE="$build_dir/go/cache" GOPATH="$build_dir/go/gopath"
export GOFLAGS= GO111MODULE=on GOPROXY=off GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0
echo "go peer: go build bench.go -> $out ($(go version))"
if ! (cd "$here" && go build -trimpath -buildvcs=false -o "$out" .); then
    echo "go peer: compile failed" >&2
    exit 1
fi
echo "go peer: built $out"
