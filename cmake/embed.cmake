# Embeds one file into the build as a C++ header (run as cmake -P; see CMakeLists.txt):
#   cmake -DINPUT=FILE -DOUTPUT=HEADER -DNAME=kName -DNAMESPACE=ns -P cmake/embed.cmake
# HEADER declares `inline constexpr std::string_view NAME` in NAMESPACE holding FILE's bytes
# exactly (hex escapes: any byte, no tool beyond CMake).
foreach(var INPUT OUTPUT NAME NAMESPACE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed.cmake: -D${var}=... is missing")
  endif()
endforeach()

file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR size "${digits} / 2")
get_filename_component(base "${INPUT}" NAME)

set(body "")
set(pos 0)
while(pos LESS digits)
  string(SUBSTRING "${hex}" ${pos} 64 chunk)   # 32 bytes per line
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" chunk "${chunk}")
  string(APPEND body "    \"${chunk}\"\n")
  math(EXPR pos "${pos} + 64")
endwhile()
if(body STREQUAL "")
  set(body "    \"\"\n")
endif()

file(WRITE "${OUTPUT}" "// Generated from ${base} by cmake/embed.cmake at build time: edit ${base}, not this.
#pragma once

#include <string_view>

namespace ${NAMESPACE} {

inline constexpr std::string_view ${NAME}{
${body}    , ${size}};

}  // namespace ${NAMESPACE}
")
