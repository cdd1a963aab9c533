#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "face/estimators/estimators.hpp"
#include "face/preprocess.hpp"

namespace face {

core::Result<Ethnicities> EthnicityEstimator::Estimate(const FaceView& f) const {
  try {
    const ModelEntry& e = model_.entry();
    cv::Mat in;
    cv::resize(f.aligned, in, cv::Size(e.width(), e.height()));
    std::vector<float> t = ToTensor(in, e);
    auto out = model_.Run(t.data());
    if (!out) return std::move(out).error();
    std::vector<float>& v = (*out)[0];
    if (v.size() != 4) return core::InternalError("ethnicities: the model must output 4 classes");
    SoftmaxInPlace(v.data(), 4);
    Ethnicities r;
    std::copy(v.begin(), v.end(), r.estimations.begin());
    r.predominant = int(std::max_element(v.begin(), v.end()) - v.begin());
    return r;
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("ethnicities: ") + ex.what());
  }
}

}  // namespace face
