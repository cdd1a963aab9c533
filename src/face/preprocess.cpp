#include "face/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace face {

void AppendTensor(const cv::Mat& bgr, const ModelEntry& e, std::vector<float>& out) {
  const int w = bgr.cols, h = bgr.rows;
  const size_t plane = size_t(w) * h;
  const size_t base = out.size();
  if (e.channels == "GRAY") {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    out.resize(base + plane);
    const float m = e.mean[0], s = 1.f / e.std[0];
    for (int y = 0; y < h; ++y) {
      const uchar* p = gray.ptr<uchar>(y);
      for (int x = 0; x < w; ++x) out[base + size_t(y) * w + x] = (p[x] - m) * s;
    }
    return;
  }
  out.resize(base + 3 * plane);
  const bool rgb = e.channels == "RGB";
  const bool nhwc = e.layout == "NHWC";
  const float inv[3] = {1.f / e.std[0], 1.f / e.std[1], 1.f / e.std[2]};
  float* o = out.data() + base;
  for (int y = 0; y < h; ++y) {
    const uchar* p = bgr.ptr<uchar>(y);
    for (int x = 0; x < w; ++x, p += 3) {
      for (int c = 0; c < 3; ++c) {
        const float v = (p[rgb ? 2 - c : c] - e.mean[c]) * inv[c];
        const size_t idx = size_t(y) * w + x;
        if (nhwc)
          o[idx * 3 + c] = v;
        else
          o[c * plane + idx] = v;
      }
    }
  }
}

cv::Mat CropResize(const cv::Mat& img, const cv::Rect2f& r, cv::Size size, int interpolation, cv::Scalar fill) {
  // Affine map from the rect to the output, so out-of-image parts become `fill`.
  const double sx = size.width / std::max(1e-3f, r.width), sy = size.height / std::max(1e-3f, r.height);
  if (interpolation < 0) interpolation = (sx < 1 || sy < 1) ? cv::INTER_AREA : cv::INTER_LINEAR;
  cv::Rect ir(int(std::floor(r.x)), int(std::floor(r.y)), int(std::ceil(r.width)) + 1, int(std::ceil(r.height)) + 1);
  cv::Rect inside = ir & cv::Rect(0, 0, img.cols, img.rows);
  if (inside == ir && interpolation == cv::INTER_AREA) {
    cv::Mat out;
    cv::resize(img(cv::Rect(int(r.x), int(r.y), std::max(1, int(r.width)), std::max(1, int(r.height))) &
                   cv::Rect(0, 0, img.cols, img.rows)),
               out, size, 0, 0, cv::INTER_AREA);
    return out;
  }
  cv::Mat m = (cv::Mat_<double>(2, 3) << sx, 0, -r.x * sx, 0, sy, -r.y * sy);
  cv::Mat out;
  cv::warpAffine(img, out, m, size, interpolation == cv::INTER_AREA ? cv::INTER_LINEAR : interpolation,
                 cv::BORDER_CONSTANT, fill);
  return out;
}

void SoftmaxInPlace(float* v, size_t n) {
  float mx = *std::max_element(v, v + n), sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (v[i] = std::exp(v[i] - mx));
  for (size_t i = 0; i < n; ++i) v[i] /= sum;
}

}  // namespace face
