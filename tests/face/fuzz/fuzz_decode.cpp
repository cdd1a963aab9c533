// libFuzzer target over the image decoding entry point (magic sniffing, header parsing,
// limits, JPEG/GIF/OpenCV decoders, EXIF). The first byte picks the declared format and
// whether the rest is base64 text, as Engine::Decode would get them from a request.
//   cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DFACEPORT_FUZZ=ON \
//         -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="-fsanitize=address,fuzzer-no-link"
//   cmake --build build/fuzz --target fuzz_decode
//   build/fuzz/tests/face/fuzz_decode -max_total_time=600 -rss_limit_mb=2048 CORPUS_DIR
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/base64.hpp"
#include "face/image_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  std::optional<face::ImageFormat> declared;
  if ((mode & 7) < 6) declared = static_cast<face::ImageFormat>(mode & 7);
  std::string decoded;
  if (mode & 0x80) {
    auto d = core::Base64Decode(bytes);
    if (!d) return 0;
    decoded = std::move(*d);
    bytes = decoded;
  }
  face::DecodeLimits limits;
  limits.max_side = 2048;  // keeps each run small
  limits.full_resolution = (mode & 0x40) != 0;
  auto r = face::DecodeImageBytes(bytes, declared, limits);
  if (r.ok() && (r->bgr.empty() || r->bgr.type() != CV_8UC3)) __builtin_trap();
  return 0;
}
