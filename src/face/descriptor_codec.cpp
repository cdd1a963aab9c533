#include "face/descriptor_codec.hpp"

#include <bit>
#include <cstring>

namespace face {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::string EncodeDescriptor(const Descriptor& d) {
  std::string out;
  out.reserve(kDescriptorHeaderSize + 4 * d.values.size());
  out.append("dp\0\0", 4);
  PutU32(out, d.version);
  for (float f : d.values) PutU32(out, std::bit_cast<uint32_t>(f));
  return out;
}

core::Result<Descriptor> DecodeDescriptor(std::string_view bytes, uint32_t expected_version, size_t expected_size) {
  if (bytes.size() < kDescriptorHeaderSize || std::memcmp(bytes.data(), "dp\0\0", 4) != 0)
    return core::MakeError(core::Errc::DescriptorFormat, {"bad magic"});
  if (bytes.size() != kDescriptorHeaderSize + 4 * expected_size)
    return core::MakeError(core::Errc::DescriptorFormat,
                           {"size " + std::to_string(bytes.size()) + ", expected " +
                            std::to_string(kDescriptorHeaderSize + 4 * expected_size)});
  Descriptor d;
  d.version = GetU32(bytes.data() + 4);
  if (expected_version != 0 && d.version != expected_version)
    return core::MakeError(core::Errc::DescriptorVersionMismatch,
                           {std::to_string(d.version), std::to_string(expected_version)});
  d.values.resize(expected_size);
  for (size_t i = 0; i < expected_size; ++i)
    d.values[i] = std::bit_cast<float>(GetU32(bytes.data() + kDescriptorHeaderSize + 4 * i));
  return d;
}

}  // namespace face
