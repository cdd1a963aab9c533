#include "face/estimators/estimators.hpp"
#include "face/preprocess.hpp"

namespace face {

core::Result<HeadPose> PoseEstimator::Estimate(const FaceView& f) const {
  try {
    const ModelEntry& e = model_.entry();
    const float dx = f.box.width / 4, dy = f.box.height / 4;
    const cv::Rect2f r(f.box.x - dx, f.box.y - dy, f.box.width + 2 * dx, f.box.height + 2 * dy);
    std::vector<float> t = ToTensor(CropResize(f.image, r, cv::Size(e.width(), e.height())), e);
    auto out = model_.Run(t.data());
    if (!out) return std::move(out).error();
    if (out->size() != 3) return core::InternalError("pose: expected three heads");
    float deg[3];
    for (int h = 0; h < 3; ++h) {
      std::vector<float>& v = (*out)[size_t(h)];
      SoftmaxInPlace(v.data(), v.size());
      double s = 0;
      for (size_t i = 0; i < v.size(); ++i) s += double(v[i]) * double(i);
      deg[h] = float(s * 3 - 99);
    }
    // Heads in manifest order: yaw, pitch, roll.
    return HeadPose{deg[1] + kPitchBias, deg[0], deg[2]};
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("pose: ") + ex.what());
  }
}

}  // namespace face
