#pragma once
// Landmarker: 68 points (fr_landmark) from a square crop of the detector box, reduced to the
// five points the aligner uses.
#include <opencv2/core.hpp>

#include <array>
#include <vector>

#include "core/result.hpp"
#include "face/onnx_model.hpp"
#include "face/types.hpp"

namespace face {

class Landmarker {
 public:
  explicit Landmarker(const OnnxModel& model) : model_(model) {}
  // 68 points in image coordinates.
  core::Result<std::vector<Point>> Estimate(const cv::Mat& bgr, const cv::Rect2f& box) const;

 private:
  const OnnxModel& model_;
};

// Eyes = means of the eyelid points (37,38,40,41 / 43,44,46,47), nose tip = 30,
// mouth corners = mean(48,60), mean(54,64) (0-based).
Landmarks5 FivePoints(const std::vector<Point>& p68);

// ISO/IEC 19794-5 token frontal geometry from the eye centres: width = 4 x eye distance,
// height = width / 0.75, eye midpoint at x = width / 2, y = 0.6 x width from the top.
Rect IsoRect(const Landmarks5& lm);

}  // namespace face
