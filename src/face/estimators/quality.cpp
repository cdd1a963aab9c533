// Quality from image statistics of the 112x112 aligned face (formulas: docs/FACE_ENGINE.md).
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "face/estimators/estimators.hpp"

namespace face {
namespace {
float Clamp01(float v) { return std::clamp(v, 0.f, 1.f); }
}  // namespace

core::Result<Quality> QualityEstimator::Estimate(const FaceView& f) const {
  try {
    // Inner face region of the aligned crop (skips borders that may be padding).
    const cv::Rect inner(24, 28, 64, 72);
    cv::Mat face = f.aligned(inner & cv::Rect(0, 0, f.aligned.cols, f.aligned.rows));
    cv::Mat gray;
    cv::cvtColor(face, gray, cv::COLOR_BGR2GRAY);
    const int n = gray.rows * gray.cols;
    int over = 0, under = 0, clipped = 0;
    double sum = 0;
    for (int y = 0; y < gray.rows; ++y) {
      const uchar* g = gray.ptr<uchar>(y);
      const uchar* c = face.ptr<uchar>(y);
      for (int x = 0; x < gray.cols; ++x, c += 3) {
        sum += g[x];
        over += g[x] >= 245;
        under += g[x] <= 15;
        clipped += (c[0] >= 254 || c[1] >= 254 || c[2] >= 254 || c[0] <= 1 || c[1] <= 1 || c[2] <= 1);
      }
    }
    const float mean = float(sum / n);
    Quality q;
    q.light = std::min(Clamp01((230.f - mean) / 50.f), 1.f - Clamp01(float(over) / n / 0.25f));
    q.dark = std::min(Clamp01((mean - 35.f) / 50.f), 1.f - Clamp01(float(under) / n / 0.25f));
    q.saturation = 1.f - Clamp01(float(clipped) / n / 0.3f);
    // Sharpness: variance of the Laplacian of the gray aligned face, normalised by the
    // face's contrast (std of gray levels) so that dim faces are not called blurred.
    cv::Mat lap;
    cv::Laplacian(gray, lap, CV_32F, 3);
    cv::Scalar lm, ls, gm, gs;
    cv::meanStdDev(lap, lm, ls);
    cv::meanStdDev(gray, gm, gs);
    const double contrast = std::max(8.0, gs[0]);
    const double sharp = ls[0] / contrast;  // ~unitless
    q.blurriness = Clamp01(float((sharp - kBlurLow) / (kBlurHigh - kBlurLow)));
    return q;
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("quality: ") + ex.what());
  }
}

}  // namespace face
