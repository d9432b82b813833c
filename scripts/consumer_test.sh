#!/bin/sh
# kin as a dependency. Usage: scripts/consumer_test.sh BUILD_DIR
#
# Installs the built kin from BUILD_DIR into a temporary prefix, then builds
# tests/consumer out of tree twice against the shared library:
#   1. with `pkg-config --cflags --libs kin`;
#   2. with CMake's find_package(kin);
# and runs both. Also checks the shared library's soname
# (libkin.so.MAJOR.MINOR) and that kin_version(), the header, kin.pc and the
# CMake package agree on the version. Exits non-zero on any failure.
# CC picks the compiler for the pkg-config build (default cc).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
CC=${CC:-cc}

fail() {
    echo "consumer_test: FAILED: $*" >&2
    exit 1
}

if ! command -v pkg-config >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing pkgconf"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pkgconf >/dev/null ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -qq pkgconf >/dev/null; } ||
            fail "could not install pkgconf"
    else
        fail "pkg-config not found (Debian: apt-get install -y pkgconf)"
    fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
prefix="$tmp/prefix"

echo "== cmake --install $build --prefix <tmp>"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "cmake --install"; }

pc=$(find "$prefix" -name kin.pc | head -n 1)
[ -n "$pc" ] || fail "kin.pc was not installed"
libdir=$(dirname "$(dirname "$pc")")
[ -f "$prefix/include/kin.h" ] || fail "kin.h was not installed"
[ -f "$libdir/libkin.a" ] || fail "libkin.a was not installed"
[ -e "$libdir/libkin.so" ] || fail "libkin.so was not installed"

# ---- Versions and soname ------------------------------------------------------
version=$(sed -n 's/^#define KIN_VERSION_STRING "\(.*\)"$/\1/p' "$prefix/include/kin.h")
major_minor=$(echo "$version" | cut -d. -f1,2)
soname=$(readelf -d "$libdir/libkin.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
echo "   header $version, soname $soname"
[ "$soname" = "libkin.so.$major_minor" ] ||
    fail "soname is '$soname', expected libkin.so.$major_minor"
[ -e "$libdir/$soname" ] || fail "$soname was not installed"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
pc_version=$(pkg-config --modversion kin) || fail "pkg-config does not find kin"
[ "$pc_version" = "$version" ] ||
    fail "kin.pc says $pc_version, kin.h says $version"

# Runs a consumer binary: it must need the shared library and exit 0.
check_binary() {
    exe=$1
    readelf -d "$exe" | grep -q "(NEEDED).*\[$soname\]" ||
        fail "$exe does not link $soname"
    LD_LIBRARY_PATH="$libdir" "$exe" || fail "$exe exited with $?"
}

# ---- 1. pkg-config ---------------------------------------------------------------
echo "== pkg-config --cflags --libs kin: $(pkg-config --cflags --libs kin)"
# shellcheck disable=SC2046 # the flags are words
$CC -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer-pc" \
    "$root/tests/consumer/main.c" \
    -DKIN_PACKAGE_VERSION="\"$pc_version\"" \
    $(pkg-config --cflags --libs kin) || fail "build with pkg-config"
check_binary "$tmp/consumer-pc"

# ---- 2. CMake find_package(kin) --------------------------------------------------------
echo "== cmake find_package(kin)"
cmake -S "$root/tests/consumer" -B "$tmp/cmake-build" \
    -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cmake.log" 2>&1 ||
    { cat "$tmp/cmake.log"; fail "configure with find_package(kin)"; }
cmake --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1 ||
    { cat "$tmp/cmake.log"; fail "build with find_package(kin)"; }
check_binary "$tmp/cmake-build/consumer"

echo "consumer_test: ok (pkg-config and find_package, soname $soname, version $version)"
