#pragma once
// Image bytes -> 8-bit BGR cv::Mat. Internal to fp_face (uses OpenCV); Engine::Decode wraps it.
#include <opencv2/core.hpp>

#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "face/types.hpp"

namespace face {

struct DecodeLimits {
  int min_side = 96;
  int max_side = 4096;
  int target_side = 1024;       // JPEG DCT scaling keeps the longer side >= this
  bool full_resolution = false; // no DCT scaling
};

struct HeaderInfo {
  ImageFormat format;
  int width = 0, height = 0;
};

// Format from the magic bytes; nullopt when none matches.
std::optional<ImageFormat> SniffFormat(std::string_view bytes);
// Dimensions from the header only (no pixel decoding). ImageDecode when unreadable.
core::Result<HeaderInfo> ReadHeader(std::string_view bytes, ImageFormat format);

struct DecodedPixels {
  cv::Mat bgr;             // oriented (EXIF applied), maybe DCT-scaled
  int source_width = 0;    // full resolution, oriented
  int source_height = 0;
  int denom = 1;           // DCT scale 1/denom
  int orientation = 1;     // EXIF orientation applied
};

// Bytes (already base64-decoded) -> pixels: sniff, match the declared format, check the
// header's size against limits, decode, orient.
core::Result<DecodedPixels> DecodeImageBytes(std::string_view bytes, std::optional<ImageFormat> declared,
                                             const DecodeLimits& limits);

// Applies an EXIF orientation value (1..8) to an image.
cv::Mat ApplyOrientation(const cv::Mat& img, int orientation);

}  // namespace face
