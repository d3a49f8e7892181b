# The WebAssembly build (preset `wasm`, emscripten's toolchain): only the front end, the
# engine and the playground's binding, into build-wasm/playground/ (docs/playground.md).
# The header-only dependencies come from the host's /usr/include through links of their
# own folders only, since the host's C library headers must not be seen by emscripten.
set(CLAUSE_WASM_DEPS ${CMAKE_BINARY_DIR}/deps/include)
file(MAKE_DIRECTORY ${CLAUSE_WASM_DEPS})
foreach(dir tao nlohmann fmt)
  find_path(_clause_dep_${dir} ${dir} PATHS /usr/include NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
  if(NOT _clause_dep_${dir})
    message(FATAL_ERROR "the wasm build needs /usr/include/${dir} (tao-pegtl-dev, nlohmann-json3-dev, libfmt-dev)")
  endif()
  file(CREATE_LINK ${_clause_dep_${dir}}/${dir} ${CLAUSE_WASM_DEPS}/${dir} SYMBOLIC)
endforeach()
foreach(target fmt::fmt taocpp::pegtl nlohmann_json::nlohmann_json Threads::Threads)
  add_library(${target} INTERFACE IMPORTED)
  target_include_directories(${target} SYSTEM INTERFACE ${CLAUSE_WASM_DEPS})
endforeach()
target_compile_definitions(fmt::fmt INTERFACE FMT_HEADER_ONLY)
# No OpenSSL: the engine hashes with src/core/sha256_portable.cpp here. No zlib: only the
# decision log's shipping gzips, and the service is left out below.
add_library(OpenSSL::Crypto INTERFACE IMPORTED)
add_library(ZLIB::ZLIB INTERFACE IMPORTED)

# Only the static libraries are made here; their soname is not used.
set(CLAUSE_SOVERSION ${PROJECT_VERSION_MAJOR})
include(GNUInstallDirs)

# emscripten builds its system libraries into EM_CACHE on first use: a folder of this build,
# however the build is started, since Debian's own cache folder is not writable and its
# configuration freezes it (EM_FROZEN_CACHE empty lifts that). Its JavaScript optimizer
# needs Debian's node-acorn, which a Node.js other than Debian's finds only by NODE_PATH.
set(CLAUSE_EM_CACHE ${CMAKE_BINARY_DIR}/em-cache)
set(CLAUSE_EM_ENV ${CMAKE_COMMAND} -E env EM_CACHE=${CLAUSE_EM_CACHE} EM_FROZEN_CACHE=
  NODE_PATH=/usr/share/nodejs)
set(CMAKE_CXX_COMPILER_LAUNCHER ${CLAUSE_EM_ENV})
list(JOIN CLAUSE_EM_ENV " " _clause_em_env)
set_property(GLOBAL PROPERTY RULE_LAUNCH_LINK "${_clause_em_env}")

add_library(clause_flags INTERFACE)
target_compile_options(clause_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
if(CLAUSE_WERROR)
  target_compile_options(clause_flags INTERFACE -Werror)
endif()
# The parser reports errors by exceptions: WebAssembly's own, smaller and faster than
# emscripten's JavaScript ones (Chromium 95, Firefox 100, Safari 15.2 and later).
add_compile_options(-fwasm-exceptions -Os)
add_link_options(-fwasm-exceptions -Os)
set(CMAKE_CXX_FLAGS_RELEASE "")

add_subdirectory(dsl)
add_subdirectory(engine)
# Only what the page calls is compiled: not the service (HTTP store, decision log,
# AuthZEN), the benchmarks' workloads (glibc's mallinfo2), SQL filters, diffs, analyses or
# verification, which would cost CI minutes and link to nothing.
get_target_property(_clause_engine_sources clause_engine SOURCES)
list(FILTER _clause_engine_sources EXCLUDE REGEX "src/service/|/workload|/sql|/diff|/analyze|/verify")
set_target_properties(clause_engine PROPERTIES SOURCES "${_clause_engine_sources}")
add_subdirectory(tools/wasm)
