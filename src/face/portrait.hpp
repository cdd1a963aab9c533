#pragma once
// Portraits stored with descriptors (issue 4): the face's rectISO box cut from the
// full-resolution image and fitted into a square box (250 px by default) keeping its
// proportions, plus thumbnails whose longest side is 32, 64, 96 and 160 px. All JPEG.
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "face/types.hpp"

namespace face {

struct PortraitFiles {
  std::string portrait;                              // JPEG
  std::vector<std::pair<int, std::string>> thumbnails;  // (longest side, JPEG), in the order asked
};

// `full` must be a full-resolution image (scale 1). Parts of rect_iso outside the image are
// filled with black, so every portrait has the ISO proportions.
core::Result<PortraitFiles> MakePortraitFiles(const Image& full, const Rect& rect_iso, int box = 250,
                                              const std::vector<int>& thumbnail_sides = {32, 64, 96, 160},
                                              int jpeg_quality = 90);
// For a warped input (warped_image=1): the portrait is the image as sent; thumbnails from it.
core::Result<PortraitFiles> MakeWarpedPortraitFiles(const Image& warped, std::string sent_jpeg_or_empty,
                                                    const std::vector<int>& thumbnail_sides = {32, 64, 96, 160},
                                                    int jpeg_quality = 90);

}  // namespace face
