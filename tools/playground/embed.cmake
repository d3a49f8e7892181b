# Writes a C++ header holding files as byte arrays, so that `clause serve --playground`
# serves its page from the binary. Run as a script:
#   cmake -DOUT=assets.hpp -DINPUTS="a.html|b.js" -P embed.cmake
# Each file is served under its base name.
string(REPLACE "|" ";" inputs "${INPUTS}")
set(body "")
set(table "")
set(n 0)
foreach(input IN LISTS inputs)
  get_filename_component(name "${input}" NAME)
  file(READ "${input}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # A trailing zero keeps an empty file a valid array; the size leaves it out.
  string(APPEND body "inline constexpr unsigned char asset_${n}[] = {${bytes}0x00};\n")
  string(APPEND table "    Asset{\"${name}\", asset_${n}, sizeof asset_${n} - 1},\n")
  math(EXPR n "${n} + 1")
endforeach()
set(text "// Generated at build time by tools/playground/embed.cmake; edit the sources instead.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace clause::cli::playground {

struct Asset {
  std::string_view name;
  const unsigned char* data;
  std::size_t size;
};

${body}
inline constexpr std::array<Asset, ${n}> assets = {
${table}};

}  // namespace clause::cli::playground
")
# Rewrite only on change, so that an unchanged page does not rebuild the tool.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${text}")
