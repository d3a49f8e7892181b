#!/usr/bin/env bash
# The installed package, as a consumer sees it. MODE static installs the build tree BUILD;
# MODE shared first builds the libraries alone with BUILD_SHARED_LIBS=ON in
# BUILD/package-shared. Each installed tree must keep its headers and exported targets free
# of the private dependencies; then the example service (docs/examples/service) is built
# against it twice, with find_package(clause) and with `pkg-config clause`, and each build
# runs the example requests, with a reload, against the expected output.
# Usage: check_consumer.sh BUILD static|shared [COMPILER_LAUNCHER]
set -euo pipefail
build="$1"
mode="$2"
launcher="${3:-}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
# Fixed paths under the build tree (not mktemp), so that a compiler cache sees the same
# commands on each run.
work="$build/package-test/$mode"
rm -rf "$work"
mkdir -p "$work"
fail() { echo "package.$mode: $*" >&2; exit 1; }

case "$mode" in
  static) cmake --install "$build" --prefix "$work/prefix" >/dev/null ;;
  shared)
    shared="$build/package-shared"
    cmake -S "$root" -B "$shared" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
      -DCLAUSE_BUILD_TESTS=OFF -DCLAUSE_BUILD_TOOLS=OFF \
      ${CXX:+-DCMAKE_CXX_COMPILER="$CXX"} -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" >/dev/null
    cmake --build "$shared" -j2 >/dev/null
    cmake --install "$shared" --prefix "$work/prefix" >/dev/null ;;
  *) fail "unknown mode '$mode' (static or shared)" ;;
esac
prefix="$work/prefix"
pc="$(find "$prefix" -name clause.pc)"
[ -n "$pc" ] || fail "no clause.pc installed"
libdir="$(dirname "$(dirname "$pc")")"

# The installed headers include none of the private dependencies, and the exported targets
# name none of the header-only ones (a shared build: none at all).
if grep -rEn '#include <(fmt|nlohmann|tao|openssl|sqlite|zlib)' "$prefix/include"; then
  fail "an installed header includes a private dependency"
fi
private='pegtl|nlohmann'
[ "$mode" = shared ] && private='pegtl|nlohmann|fmt|OpenSSL|ZLIB|Threads'
# (IMPORTED_LINK_DEPENDENT_LIBRARIES, the shared libraries' own fmt, is only a hint for the
# linker's -rpath-link, which CMake drops when the consumer has no such target.)
if grep -En "$private" "$libdir"/cmake/clause/clauseTargets*.cmake |
  grep -v IMPORTED_LINK_DEPENDENT_LIBRARIES; then
  fail "the installed CMake targets name a private dependency"
fi
if [ "$mode" = shared ] && ! grep -qx 'set(_clause_shared ON)' "$libdir/cmake/clause/clauseConfig.cmake"; then
  fail "the installed package config of a shared build looks for dependencies"
fi
if [ "$mode" = shared ]; then
  soname="$(readelf -d "$libdir/libclause_engine.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
  [ "$soname" = libclause_engine.so.0.1 ] || fail "soname '$soname', not libclause_engine.so.0.1"
fi

cp "$root/policies/privacy.policy" "$work/live.policy"
{
  for f in "$root"/policies/examples/0[1-3]*.json; do tr -d '\n' <"$f"; echo; done
  echo '{"data":{"category":"nothing"},"requester":{"kind":"user"},"action":"access"}'
  echo reload
} >"$work/requests.jsonl"
first="$(head -1 "$work/requests.jsonl")"

# Runs one build of the service (DECIDE) on the requests; its output is in $work/actual.txt.
run_service() {
  local decide="$1"
  cp "$root/policies/privacy.policy" "$work/live.policy"
  "$decide" "$work/live.policy" <"$work/requests.jsonl" >"$work/actual.txt"
  # A broken file on reload keeps the old policy: the file breaks after the first decision.
  cp "$root/policies/privacy.policy" "$work/live.policy"
  {
    echo "$first"
    sleep 1
    echo 'policy "broken"' >"$work/live.policy"
    echo reload
    echo "$first"
  } | "$decide" "$work/live.policy" >>"$work/actual.txt"
  if [ "${CLAUSE_UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$work/actual.txt" "$root/tests/package/service.expected"
  fi
  diff "$root/tests/package/service.expected" "$work/actual.txt"
}

# CMake: find_package(clause) and clause::engine.
cmake -S "$root/docs/examples/service" -B "$work/service" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release ${CXX:+-DCMAKE_CXX_COMPILER="$CXX"} \
  -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" >/dev/null
cmake --build "$work/service" >/dev/null
run_service "$work/service/decide"

# pkg-config: the flags it gives are all a compiler needs (with --static for static
# libraries; a shared build finds its libraries at run time by the rpath given here).
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
if [ "$mode" = static ]; then
  flags="$(pkg-config --cflags --libs --static clause)"
else
  flags="$(pkg-config --cflags --libs clause) -Wl,-rpath,$(pkg-config --variable=libdir clause)"
fi
# shellcheck disable=SC2086 # the flags are words
$launcher "${CXX:-c++}" -std=c++20 -O2 -o "$work/decide-pc" "$root/docs/examples/service/service.cpp" $flags
run_service "$work/decide-pc"
