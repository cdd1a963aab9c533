// libFuzzer target over the multipart/form-data parser (http/multipart.hpp): the input's first
// line is the Content-Type value, the rest the body. Checks the parser's promises on every
// input: no crash, part views inside the body, limits kept, and parse(same input) stable.
//   cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DFACEPORT_FUZZ=ON -DFACEPORT_BUILD_BENCH=OFF \
//         -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined,fuzzer-no-link"
//   cmake --build build/fuzz --target fuzz_multipart
//   build/fuzz/tests/http/fuzz_multipart -max_total_time=300 -timeout=5 CORPUS_DIR tests/http/fuzz/corpus
// Without FACEPORT_FUZZ the same function is built into multipart_corpus_replay (replay_main.cpp),
// which CTest runs over tests/http/fuzz/corpus.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string_view content_type = in.substr(0, nl), body = in.substr(nl + 1);
  auto boundary = http::MultipartBoundary(content_type);
  if (!boundary) return 0;
  http::MultipartLimits limits;
  limits.max_parts = 8;
  limits.max_part_bytes = 4096;
  limits.max_header_bytes = 256;
  auto parts = http::ParseMultipart(body, *boundary, limits);
  if (!parts) return 0;
  if (parts->size() > limits.max_parts) std::abort();
  for (const auto& p : *parts) {
    if (p.body.size() > limits.max_part_bytes) std::abort();
    if (p.body.data() < body.data() || p.body.data() + p.body.size() > body.data() + body.size()) std::abort();
  }
  auto again = http::ParseMultipart(body, *boundary, limits);
  if (!again || again->size() != parts->size()) std::abort();
  return 0;
}
