#pragma once
// `faceport detect IMAGE [--attributes] [--quality] [--pose] [--emotions]` prints the faces of
// an image as the API's face objects (JSON, one document); `faceport compare A B` prints the
// similarity (API scale 0..1) and cosine of the best faces of two images.
#include <string>
#include <vector>

#include "core/settings.hpp"

namespace app {

int RunDetect(const std::vector<std::string>& args, const core::Settings& s);
int RunCompare(const std::vector<std::string>& args, const core::Settings& s);

}  // namespace app
