#pragma once
// Binary form of a descriptor: "dp\0\0", little-endian uint32 version, then the payload:
// the float32 values, little-endian. Total 8 + 4 * size bytes (2056 for 512 values).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "face/types.hpp"

namespace face {

inline constexpr size_t kDescriptorHeaderSize = 8;

std::string EncodeDescriptor(const Descriptor& d);
// DescriptorFormat {what} for a bad magic or a size that is not header + 4 * expected_size;
// DescriptorVersionMismatch {got, expected} when expected_version != 0 and differs.
core::Result<Descriptor> DecodeDescriptor(std::string_view bytes, uint32_t expected_version, size_t expected_size);

}  // namespace face
