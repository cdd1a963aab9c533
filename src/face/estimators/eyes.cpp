#include <cmath>

#include "face/estimators/estimators.hpp"
#include "face/preprocess.hpp"

namespace face {

core::Result<Eyes> EyeEstimator::Estimate(const FaceView& f) const {
  try {
    const ModelEntry& e = model_.entry();
    auto dist = [](Point a, Point b) { return std::hypot(a.x - b.x, a.y - b.y); };
    const float interocular = dist(f.landmarks[0], f.landmarks[1]);
    float widths[2] = {0.42f * interocular, 0.42f * interocular};  // typical eye width without 68 points
    if (f.landmarks68.size() == 68) {
      widths[0] = dist(f.landmarks68[36], f.landmarks68[39]);
      widths[1] = dist(f.landmarks68[42], f.landmarks68[45]);
    }
    float open[2];
    for (int i = 0; i < 2; ++i) {
      const float side = std::max(4.f, 1.6f * widths[i]);
      const Point c = f.landmarks[size_t(i)];
      const cv::Rect2f r(c.x - side / 2, c.y - side / 2, side, side);
      std::vector<float> t = ToTensor(CropResize(f.image, r, cv::Size(e.width(), e.height())), e);
      auto out = model_.Run(t.data());
      if (!out) return std::move(out).error();
      std::vector<float>& v = (*out)[0];
      if (v.size() != 2) return core::InternalError("eyes: unexpected output size");
      SoftmaxInPlace(v.data(), 2);
      open[i] = v[1];  // class 0 = closed
    }
    return Eyes{open[0], open[1]};
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("eyes: ") + ex.what());
  }
}

}  // namespace face
