#pragma once
// Model input tensors from BGR images, as the manifest entry says (channels, mean/std, layout).
#include <opencv2/core.hpp>

#include <vector>

#include "face/manifest.hpp"

namespace face {

// `bgr` must already be entry.width() x entry.height(), CV_8UC3. Appends one batch item.
void AppendTensor(const cv::Mat& bgr, const ModelEntry& entry, std::vector<float>& out);
inline std::vector<float> ToTensor(const cv::Mat& bgr, const ModelEntry& entry) {
  std::vector<float> v;
  AppendTensor(bgr, entry, v);
  return v;
}

// Crops rect (may leave the image; outside is filled with `fill`) and resizes to size.
cv::Mat CropResize(const cv::Mat& img, const cv::Rect2f& rect, cv::Size size, int interpolation = -1,
                   cv::Scalar fill = cv::Scalar(0, 0, 0));

void SoftmaxInPlace(float* v, size_t n);

}  // namespace face
