#include "face/portrait.hpp"

#include <algorithm>
#include <cmath>
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

// Resize so that the longest side is `side` (never upscales beyond it, never below 1 px).
cv::Mat FitLongest(const cv::Mat& m, int side) {
  double f = double(side) / std::max(m.cols, m.rows);
  cv::Size sz(std::max(1, int(std::lround(m.cols * f))), std::max(1, int(std::lround(m.rows * f))));
  cv::Mat out;
  cv::resize(m, out, sz, 0, 0, f < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
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
  for (int side : sides) {
    auto t = Jpeg(FitLongest(portrait, side), quality);
    if (!t) return std::move(t).error();
    out.thumbnails.emplace_back(side, std::move(*t));
  }
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
