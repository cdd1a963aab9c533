#include <opencv2/imgproc.hpp>

#include "face/estimators/estimators.hpp"
#include "face/preprocess.hpp"

namespace face {

core::Result<AgeGender> AgeGenderEstimator::Estimate(const FaceView& f) const {
  try {
    const ModelEntry& e = model_.entry();
    cv::Mat in;
    cv::resize(f.aligned, in, cv::Size(e.width(), e.height()), 0, 0, cv::INTER_LINEAR);
    std::vector<float> t = ToTensor(in, e);
    auto r = model_.Run(t.data());
    if (!r) return std::move(r).error();
    const std::vector<float>& g = (*r)[0];
    const std::vector<float>& a = (*r)[1];
    if (g.size() != 1 || a.size() < 3) return core::InternalError("age_gender: unexpected outputs");
    const int n = int(a.size());
    int i = int(std::max_element(a.begin(), a.end()) - a.begin());
    float age = float(i);
    const float lo = i > 0 ? a[size_t(i - 1)] : 0.f, hi = i + 1 < n ? a[size_t(i + 1)] : 0.f;
    age += hi > lo ? 10.f * hi : -10.f * lo;
    return AgeGender{std::max(0.f, age), g[0]};
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("age_gender: ") + ex.what());
  }
}

}  // namespace face
