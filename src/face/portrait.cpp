#include "face/portrait.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace face {
namespace {

cv::Mat MatView(const Image& img) {
  return cv::Mat(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.pixels->data()));
}

core::Result<std::string> Jpeg(const cv::Mat& m, int quality) {
  std::vector<uchar> buf;
  if (!cv::imencode(".jpg", m, buf, {cv::IMWRITE_JPEG_QUALITY, quality})) return core::InternalError("imencode failed");
  return std::string(buf.begin(), buf.end());
}

// Resize so that the longest side is `side` (never below 1 px). A portrait is a picture for
// people, not a model input, so speed wins over OpenCV's area filter at non-integer ratios
// (its slow general path showed up in perf profiles of POST /4/storage/descriptors): an
// integer-ratio area shrink (OpenCV's fast path: a plain box average) brings the image to
// within 2x of the target, and bilinear does the rest (at ratios >= 0.5 it reads every
// source pixel, so there is no aliasing). The portrait test compares the result with a
// one-step area resize.
cv::Mat FitLongest(const cv::Mat& m, int side) {
  const int longest = std::max(m.cols, m.rows);
  if (longest >= 2 * side) {
    const int k = longest / side;  // leaves a ratio in [0.5, 1) for the bilinear step
    cv::Mat pre;
    // Exact multiples of k, or OpenCV leaves its fast path (at most k-1 edge pixels dropped).
    const cv::Mat whole = m(cv::Rect(0, 0, std::max(k, m.cols / k * k), std::max(k, m.rows / k * k)) &
                            cv::Rect(0, 0, m.cols, m.rows));
    cv::resize(whole, pre, cv::Size(std::max(1, whole.cols / k), std::max(1, whole.rows / k)), 0, 0, cv::INTER_AREA);
    if (std::max(pre.cols, pre.rows) == side) return pre;
    return FitLongest(pre, side);
  }
  double f = double(side) / longest;
  cv::Size sz(std::max(1, int(std::lround(m.cols * f))), std::max(1, int(std::lround(m.rows * f))));
  cv::Mat out;
  cv::resize(m, out, sz, 0, 0, cv::INTER_LINEAR);
  return out;
}

core::Result<PortraitFiles> Finish(const cv::Mat& portrait, std::string portrait_jpeg, const std::vector<int>& sides,
                                   int quality) {
  PortraitFiles out;
  if (portrait_jpeg.empty()) {
    auto p = Jpeg(portrait, quality);
    if (!p) return std::move(p).error();
    out.portrait = std::move(*p);
  } else {
    out.portrait = std::move(portrait_jpeg);
  }
  // Each thumbnail is made from the next larger one (160 from the portrait, 96 from 160, ...),
  // so every step is a ratio in [0.5, 1) and reads fewer pixels.
  std::vector<int> order(sides);
  std::sort(order.begin(), order.end(), std::greater<>());
  cv::Mat source = portrait;
  std::map<int, std::string> made;
  for (int side : order) {
    if (made.count(side)) continue;
    cv::Mat thumb = FitLongest(source, side);
    auto t = Jpeg(thumb, quality);
    if (!t) return std::move(t).error();
    made.emplace(side, std::move(*t));
    if (std::max(thumb.cols, thumb.rows) == side) source = thumb;  // never chain from an upscale
  }
  for (int side : sides) out.thumbnails.emplace_back(side, made.at(side));  // the caller's order
  return out;
}

}  // namespace

core::Result<PortraitFiles> MakePortraitFiles(const Image& full, const Rect& r, int box,
                                              const std::vector<int>& sides, int quality) {
  if (full.empty() || r.width < 1 || r.height < 1) return core::InternalError("portrait: empty image or box");
  try {
    cv::Mat src = MatView(full);
    int x0 = int(std::floor(r.x)), y0 = int(std::floor(r.y));
    int w = std::max(1, int(std::lround(r.width))), h = std::max(1, int(std::lround(r.height)));
    // Copy the part of the box inside the image onto a black canvas of the box's size.
    cv::Mat crop(h, w, CV_8UC3, cv::Scalar(0, 0, 0));
    cv::Rect inside = cv::Rect(x0, y0, w, h) & cv::Rect(0, 0, src.cols, src.rows);
    if (inside.area() > 0) src(inside).copyTo(crop(cv::Rect(inside.x - x0, inside.y - y0, inside.width, inside.height)));
    return Finish(FitLongest(crop, box), "", sides, quality);
  } catch (const std::exception& e) {
    return core::InternalError(std::string("portrait: ") + e.what());
  }
}

core::Result<PortraitFiles> MakeWarpedPortraitFiles(const Image& warped, std::string sent_jpeg,
                                                    const std::vector<int>& sides, int quality) {
  if (warped.empty()) return core::InternalError("portrait: empty warped image");
  try {
    return Finish(MatView(warped).clone(), std::move(sent_jpeg), sides, quality);
  } catch (const std::exception& e) {
    return core::InternalError(std::string("portrait: ") + e.what());
  }
}

}  // namespace face
