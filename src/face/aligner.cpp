#include "face/aligner.hpp"

#include <cmath>
#include <opencv2/imgproc.hpp>

namespace face {

Landmarks5 DescriptorTemplate() {
  return {Point{38.2946f, 51.6963f}, Point{73.5318f, 51.5014f}, Point{56.0252f, 71.7366f}, Point{41.5493f, 92.3655f},
          Point{70.7299f, 92.2041f}};
}

Landmarks5 WarpTemplate() {
  Landmarks5 t = DescriptorTemplate();
  for (Point& p : t) {
    p.x = 35.4f + 1.6f * p.x;
    p.y = 22.4f + 1.6f * p.y;
  }
  return t;
}

cv::Matx23d SimilarityTransform(const Landmarks5& src, const Landmarks5& dst) {
  // Umeyama 1991 for 2-D with uniform scale.
  const int n = 5;
  double msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (int i = 0; i < n; ++i) {
    msx += src[i].x; msy += src[i].y; mdx += dst[i].x; mdy += dst[i].y;
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;
  double a = 0, b = 0, var = 0;  // covariance terms: a = sum(sx*dx + sy*dy), b = sum(sx*dy - sy*dx)
  for (int i = 0; i < n; ++i) {
    const double sx = src[i].x - msx, sy = src[i].y - msy, dx = dst[i].x - mdx, dy = dst[i].y - mdy;
    a += sx * dx + sy * dy;
    b += sx * dy - sy * dx;
    var += sx * sx + sy * sy;
  }
  if (var < 1e-9) return cv::Matx23d(1, 0, mdx - msx, 0, 1, mdy - msy);
  const double r = std::sqrt(a * a + b * b);
  const double scale = r / var;
  const double c = a / r, s = b / r;  // rotation
  const double m00 = scale * c, m01 = -scale * s, m10 = scale * s, m11 = scale * c;
  return cv::Matx23d(m00, m01, mdx - (m00 * msx + m01 * msy), m10, m11, mdy - (m10 * msx + m11 * msy));
}

cv::Mat AlignFace(const cv::Mat& bgr, const Landmarks5& lm, const Landmarks5& dst, int size) {
  cv::Matx23d m = SimilarityTransform(lm, dst);
  const double scale = std::sqrt(m(0, 0) * m(0, 0) + m(0, 1) * m(0, 1));
  cv::Mat out;
  if (scale < 0.5) {
    // Shrinking a lot: pre-scale the face region with area averaging to avoid aliasing.
    const double f = std::min(1.0, scale * 1.25);
    float minx = 1e9f, miny = 1e9f, maxx = -1e9f, maxy = -1e9f;
    for (const Point& p : lm) {
      minx = std::min(minx, p.x); miny = std::min(miny, p.y); maxx = std::max(maxx, p.x); maxy = std::max(maxy, p.y);
    }
    const float ext = 1.5f * std::max(maxx - minx, maxy - miny) + 2;
    cv::Rect roi(int(minx - ext), int(miny - ext), int(maxx - minx + 2 * ext), int(maxy - miny + 2 * ext));
    roi &= cv::Rect(0, 0, bgr.cols, bgr.rows);
    if (roi.width > 4 && roi.height > 4) {
      cv::Mat small;
      cv::resize(bgr(roi), small, cv::Size(), f, f, cv::INTER_AREA);
      const double fx = double(small.cols) / roi.width, fy = double(small.rows) / roi.height;
      Landmarks5 l2;
      for (int i = 0; i < 5; ++i) l2[i] = {float((lm[i].x - roi.x) * fx), float((lm[i].y - roi.y) * fy)};
      cv::warpAffine(small, out, SimilarityTransform(l2, dst), cv::Size(size, size), cv::INTER_LINEAR,
                     cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
      return out;
    }
  }
  cv::warpAffine(bgr, out, m, cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
  return out;
}

Landmarks5 ScaleLandmarks(const Landmarks5& lm, float scale) {
  Landmarks5 out = lm;
  for (Point& p : out) {
    p.x *= scale;
    p.y *= scale;
  }
  return out;
}

}  // namespace face
