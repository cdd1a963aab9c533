# cmake -DINPUT=<file> -DOUTPUT=<cpp> -DSYMBOL=<name> -P embed.cmake
# Writes a .cpp defining `extern const std::string_view <SYMBOL>` with the file's bytes,
# as a hex array so any content (quotes, ")", NULs) survives.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" n)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," body "${hex}")
file(WRITE "${OUTPUT}.tmp" "#include <string_view>\nnamespace embedded {\nstatic const char data_[] = {${body} 0};\nextern const std::string_view ${SYMBOL}(data_, sizeof(data_) - 1);\n}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
