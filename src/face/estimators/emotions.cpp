#include <algorithm>

#include "face/estimators/estimators.hpp"
#include "face/preprocess.hpp"

namespace face {

core::Result<Emotions> EmotionEstimator::Estimate(const FaceView& f) const {
  try {
    const ModelEntry& e = model_.entry();
    const cv::Rect2f r(f.box.x, f.box.y, f.box.width * 1.2f, f.box.height * 1.2f);
    std::vector<float> t = ToTensor(CropResize(f.image, r, cv::Size(e.width(), e.height())), e);
    auto out = model_.Run(t.data());
    if (!out) return std::move(out).error();
    std::vector<float>& v = (*out)[0];
    if (v.size() != 7) return core::InternalError("emotions: unexpected output size");
    SoftmaxInPlace(v.data(), v.size());
    Emotions em;
    std::copy(v.begin(), v.end(), em.estimations.begin());
    em.predominant = int(std::max_element(v.begin(), v.end()) - v.begin());
    return em;
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("emotions: ") + ex.what());
  }
}

}  // namespace face
