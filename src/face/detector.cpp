#include "face/detector.hpp"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "face/preprocess.hpp"

namespace face {

float Iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni <= 0 ? 0.f : inter / uni;
}

std::vector<Box> Nms(std::vector<Box> boxes, float iou) {
  std::sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) { return a.score > b.score; });
  std::vector<Box> kept;
  for (const Box& b : boxes) {
    bool keep = true;
    for (const Box& k : kept)
      if (Iou(b.rect, k.rect) > iou) {
        keep = false;
        break;
      }
    if (keep) kept.push_back(b);
  }
  return kept;
}

core::Status Detector::RunRegion(const cv::Mat& bgr, const cv::Rect& region, std::vector<Box>& out) const {
  const ModelEntry& e = model_.entry();
  const int mw = e.width(), mh = e.height();
  // Letterbox: pad the region right/bottom to the model's aspect ratio, then resize.
  float pw = float(region.width), ph = float(region.height);
  if (pw * mh > ph * mw)
    ph = pw * mh / mw;
  else
    pw = ph * mw / mh;
  const cv::Rect2f padded(float(region.x), float(region.y), pw, ph);
  cv::Mat input = CropResize(bgr(region), cv::Rect2f(0, 0, pw, ph), cv::Size(mw, mh));
  std::vector<float> tensor = ToTensor(input, e);
  auto r = model_.Run(tensor.data());
  if (!r) return std::move(r).error();
  const std::vector<float>& scores = (*r)[0];
  const std::vector<float>& boxes = (*r)[1];
  const size_t n = scores.size() / 2;
  if (boxes.size() != n * 4) return core::InternalError("detector: unexpected output sizes");
  for (size_t i = 0; i < n; ++i) {
    const float s = scores[2 * i + 1];
    if (s < options_.threshold) continue;
    const float* b = &boxes[4 * i];
    cv::Rect2f rect(padded.x + b[0] * pw, padded.y + b[1] * ph, (b[2] - b[0]) * pw, (b[3] - b[1]) * ph);
    if (rect.width <= 1 || rect.height <= 1) continue;
    out.push_back({rect, s});
  }
  return {};
}

core::Result<std::vector<Box>> Detector::Detect(const cv::Mat& bgr) const {
  try {
    std::vector<Box> all;
    const cv::Rect whole(0, 0, bgr.cols, bgr.rows);
    if (auto s = RunRegion(bgr, whole, all); !s) return std::move(s).error();
    std::vector<Box> found = Nms(std::move(all), options_.nms_iou);

    const int long_side = std::max(bgr.cols, bgr.rows);
    if (options_.tiles && long_side >= options_.tile_min_side) {
      // Tiles of 4:3 covering the image at about 2.4x the whole-image pass resolution
      // (the model sees a tile of 800x600 px per 320x240 input for a 1920 px photo).
      // Tiles overlap by a quarter of their size; tile detections larger than a fifth of
      // the tile are left to the whole-image pass, and ones touching an inner tile edge are
      // dropped (the overlapping neighbour sees them whole).
      const int tw = std::max(320, long_side * 5 / 12), th = tw * 3 / 4;
      const int sx = tw * 3 / 4, sy = th * 3 / 4;
      std::vector<Box> small;
      for (int y0 = 0;; y0 += sy) {
        const int y = std::min(y0, std::max(0, bgr.rows - th));
        for (int x0 = 0;; x0 += sx) {
          const int x = std::min(x0, std::max(0, bgr.cols - tw));
          const cv::Rect tile = cv::Rect(x, y, tw, th) & whole;
          std::vector<Box> tb;
          if (auto s = RunRegion(bgr, tile, tb); !s) return std::move(s).error();
          const float margin = 2.f;
          for (const Box& b : tb) {
            if (b.rect.width > tw / 5.f || b.score < options_.tile_threshold) continue;
            const bool left = tile.x > 0 && b.rect.x < tile.x + margin;
            const bool top = tile.y > 0 && b.rect.y < tile.y + margin;
            const bool right = tile.x + tile.width < bgr.cols && b.rect.x + b.rect.width > tile.x + tile.width - margin;
            const bool bottom = tile.y + tile.height < bgr.rows && b.rect.y + b.rect.height > tile.y + tile.height - margin;
            if (!(left || top || right || bottom)) small.push_back(b);
          }
          if (x + tw >= bgr.cols) break;
        }
        if (y + th >= bgr.rows) break;
      }
      small = Nms(std::move(small), options_.nms_iou);
      // Verify each tile-only face with one more pass on a region four times its size (the
      // face ~80 px wide at the model's input); keep it when that pass finds it again.
      std::vector<Box> verified;
      for (const Box& b : small) {
        const float rw = b.rect.width * 4, rh = rw * 3 / 4;
        const float cx = b.rect.x + b.rect.width / 2, cy = b.rect.y + b.rect.height / 2;
        const cv::Rect region = cv::Rect(int(cx - rw / 2), int(cy - rh / 2), int(rw), int(rh)) & whole;
        if (region.width < 8 || region.height < 8) continue;
        std::vector<Box> vb;
        if (auto s = RunRegion(bgr, region, vb); !s) return std::move(s).error();
        float best = 0;
        for (const Box& v : vb)
          if (Iou(v.rect, b.rect) > 0.4f) best = std::max(best, v.score);
        if (best >= options_.tile_threshold) verified.push_back({b.rect, std::min(b.score, best)});
      }
      small = std::move(verified);
      // Add tile faces that the whole-image pass did not already find.
      for (const Box& b : small) {
        bool dup = false;
        for (const Box& f : found) {
          const float inter = (b.rect & f.rect).area();
          if (Iou(b.rect, f.rect) > options_.nms_iou || inter > 0.5f * std::min(b.rect.area(), f.rect.area())) {
            dup = true;
            break;
          }
        }
        if (!dup) found.push_back(b);
      }
      std::sort(found.begin(), found.end(), [](const Box& a, const Box& b) { return a.score > b.score; });
    }
    return found;
  } catch (const std::exception& ex) {
    return core::InternalError(std::string("detector: ") + ex.what());
  }
}

}  // namespace face
