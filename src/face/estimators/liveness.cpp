#include <algorithm>

#include "face/estimators/estimators.hpp"
#include "face/preprocess.hpp"

namespace face {

core::Result<Liveness> LivenessEstimator::Estimate(const FaceView& f) const {
  try {
    const ModelEntry& e = model_.entry();
    // The box scaled 2.7x around its centre (less if the frame is smaller), shifted to stay
    // inside the frame: the model was trained on such wide crops of whole frames.
    const float iw = float(f.image.cols), ih = float(f.image.rows);
    const float scale = std::min({2.7f, (ih - 1) / f.box.height, (iw - 1) / f.box.width});
    const float w = f.box.width * scale, h = f.box.height * scale;
    const float cx = f.box.x + f.box.width / 2, cy = f.box.y + f.box.height / 2;
    float x = std::clamp(cx - w / 2, 0.f, std::max(0.f, iw - 1 - w));
    float y = std::clamp(cy - h / 2, 0.f, std::max(0.f, ih - 1 - h));
    std::vector<float> t =
        ToTensor(CropResize(f.image, cv::Rect2f(x, y, w, h), cv::Size(e.width(), e.height()), 1 /*INTER_LINEAR*/), e);
    auto out = model_.Run(t.data());
    if (!out) return std::move(out).error();
    std::vector<float>& v = (*out)[0];
    if (v.size() != 3) return core::InternalError("liveness: unexpected output size");
    SoftmaxInPlace(v.data(), v.size());
    return Liveness{v[0]};
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("liveness: ") + ex.what());
  }
}

}  // namespace face
