#include "face/landmarker.hpp"

#include <cmath>

#include "face/preprocess.hpp"

namespace face {

core::Result<std::vector<Point>> Landmarker::Estimate(const cv::Mat& bgr, const cv::Rect2f& box) const {
  try {
    const ModelEntry& e = model_.entry();
    const float side = box.height;
    const float cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    const cv::Rect2f sq(cx - side / 2, cy - side / 2, side, side);
    cv::Mat crop = CropResize(bgr, sq, cv::Size(e.width(), e.height()));
    std::vector<float> t = ToTensor(crop, e);
    auto r = model_.Run(t.data());
    if (!r) return std::move(r).error();
    const std::vector<float>& o = (*r)[0];
    if (o.size() != 136) return core::InternalError("landmarks: unexpected output size");
    std::vector<Point> pts(68);
    for (int i = 0; i < 68; ++i) pts[size_t(i)] = {sq.x + o[2 * i] * side, sq.y + o[2 * i + 1] * side};
    return pts;
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("landmarks: ") + ex.what());
  }
}

Landmarks5 FivePoints(const std::vector<Point>& p) {
  auto mean = [&](std::initializer_list<int> idx) {
    Point m;
    for (int i : idx) {
      m.x += p[size_t(i)].x;
      m.y += p[size_t(i)].y;
    }
    m.x /= float(idx.size());
    m.y /= float(idx.size());
    return m;
  };
  return {mean({37, 38, 40, 41}), mean({43, 44, 46, 47}), p[30], mean({48, 60}), mean({54, 64})};
}

Rect IsoRect(const Landmarks5& lm) {
  const float dx = lm[1].x - lm[0].x, dy = lm[1].y - lm[0].y;
  const float d = std::sqrt(dx * dx + dy * dy);
  const float mx = (lm[0].x + lm[1].x) / 2, my = (lm[0].y + lm[1].y) / 2;
  const float w = 4 * d, h = w / 0.75f;
  return {mx - w / 2, my - 0.6f * w, w, h};
}

}  // namespace face
