# Turns an HTML file into a C++ source defining it as one NUL-terminated raw string literal.
#   cmake -DIN=live_page.html -DOUT=live_page.cc -DSYMBOL=live_page_html -P embed_page.cmake
# Run at build time by server/CMakeLists.txt, so editing the page rebuilds kairo.
foreach(v IN ITEMS IN OUT SYMBOL)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "embed_page.cmake: -D${v}=... is required")
  endif()
endforeach()
set(delim "kairo_page")
file(READ "${IN}" content)
string(FIND "${content}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw string delimiter )${delim}\" at byte ${clash}: change it there")
endif()
set(text "// Generated from ${IN} by server/admin/embed_page.cmake: edit the .html, not this.
#include \"server/admin/live_page.h\"

namespace server::admin {

extern const char ${SYMBOL}[] = R\"${delim}(${content})${delim}\";

}  // namespace server::admin
")
file(WRITE "${OUT}" "${text}")
