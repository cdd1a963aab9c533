#include "face/extractor.hpp"

#include <cmath>
#include <opencv2/core.hpp>

#include "face/preprocess.hpp"

namespace face {

void L2Normalize(std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  const float inv = s > 0 ? float(1.0 / std::sqrt(s)) : 0.f;
  for (float& x : v) x *= inv;
}

core::Result<std::vector<std::vector<float>>> Extractor::Extract(const std::vector<cv::Mat>& aligned) const {
  try {
    const ModelEntry& e = model_.entry();
    const bool batchable = e.input_shape[0] <= 0;  // a dynamic batch dimension in the manifest
    std::vector<std::vector<float>> out;
    out.reserve(aligned.size());
    auto run = [&](const std::vector<cv::Mat>& imgs) -> core::Status {
      std::vector<float> t;
      t.reserve(imgs.size() * model_.input_size());
      for (const cv::Mat& m : imgs) AppendTensor(m, e, t);
      auto r = model_.Run(t.data(), int64_t(imgs.size()));
      if (!r) return std::move(r).error();
      const std::vector<float>& o = (*r)[0];
      const size_t dim = o.size() / imgs.size();
      for (size_t i = 0; i < imgs.size(); ++i) out.emplace_back(o.begin() + i * dim, o.begin() + (i + 1) * dim);
      return {};
    };
    for (size_t i = 0; i < aligned.size();) {
      const size_t n = batchable ? aligned.size() - i : 1;
      std::vector<cv::Mat> chunk(aligned.begin() + i, aligned.begin() + i + n);
      if (auto s = run(chunk); !s) return std::move(s).error();
      i += n;
    }
    if (flip_) {
      std::vector<std::vector<float>> plain = std::move(out);
      out.clear();
      std::vector<cv::Mat> flipped(aligned.size());
      for (size_t i = 0; i < aligned.size(); ++i) cv::flip(aligned[i], flipped[i], 1);
      for (size_t i = 0; i < flipped.size();) {
        const size_t n = batchable ? flipped.size() - i : 1;
        std::vector<cv::Mat> chunk(flipped.begin() + i, flipped.begin() + i + n);
        if (auto s = run(chunk); !s) return std::move(s).error();
        i += n;
      }
      for (size_t i = 0; i < plain.size(); ++i)
        for (size_t k = 0; k < plain[i].size(); ++k) plain[i][k] += out[i][k];
      out = std::move(plain);
    }
    for (auto& v : out) L2Normalize(v);
    return out;
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("extractor: ") + ex.what());
  }
}

}  // namespace face
