// face_detect_probe MODELS_DIR IMAGE...: prints the faces found on each image (developer tool:
// face counts, boxes, scores, timings). `faceport detect` is the product's CLI.
#include <chrono>
#include <cstdio>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common.hpp"
#include "face/engine.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODELS_DIR IMAGE...\n", argv[0]);
    return 2;
  }
  face::EngineOptions o;
  o.models_dir = argv[1];
  if (const char* t = std::getenv("FP_TILES")) o.tiles = std::atoi(t) != 0;
  if (const char* t = std::getenv("FP_THRESHOLD")) o.detect_threshold = float(std::atof(t));
  if (const char* t = std::getenv("FP_TILE_THRESHOLD")) o.tile_threshold = float(std::atof(t));
  const char* mosaic = std::getenv("FP_MOSAIC");  // "scale,cols,rows": tile each image, downscaled, into a mosaic
  auto engine = face::Engine::Create(o);
  if (!engine) {
    std::fprintf(stderr, "engine: %s\n", engine.error().log_detail.c_str());
    return 1;
  }
  face::EstimateRequest all{.age_gender = (*engine)->HasEstimator("age_gender"), .emotions = true, .pose = true,
                            .quality = true, .eyes = true, .ethnicities = false, .liveness = true};
  for (int i = 2; i < argc; ++i) {
    std::string bytes = facebench::ReadFile(argv[i]);
    if (mosaic) {
      double sc = 0.2;
      int cols = 5, rows = 4;
      std::sscanf(mosaic, "%lf,%d,%d", &sc, &cols, &rows);
      cv::Mat src = cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8UC1, bytes.data()), cv::IMREAD_COLOR);
      cv::Mat small;
      cv::resize(src, small, cv::Size(), sc, sc, cv::INTER_AREA);
      cv::Mat big(small.rows * rows, small.cols * cols, CV_8UC3);
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) small.copyTo(big(cv::Rect(c * small.cols, r * small.rows, small.cols, small.rows)));
      std::vector<uchar> buf;
      cv::imencode(".jpg", big, buf, {cv::IMWRITE_JPEG_QUALITY, 92});
      bytes.assign(buf.begin(), buf.end());
    }
    auto t0 = std::chrono::steady_clock::now();
    auto img = (*engine)->Decode(bytes, std::nullopt);
    auto t1 = std::chrono::steady_clock::now();
    if (!img) {
      std::printf("%s: error %d %s\n", argv[i], int(img.error().code), img.error().log_detail.c_str());
      continue;
    }
    face::ProcessOptions po;
    po.estimate = all;
    face::StageTimes st;
    auto faces = (*engine)->Process(*img, po, &st);
    if (!faces) {
      std::printf("%s: error %s\n", argv[i], faces.error().log_detail.c_str());
      continue;
    }
    std::printf("%s: %dx%d (decoded %dx%d) faces=%zu decode=%.1fms detect=%.1fms descr=%.1fms est=%.1fms\n", argv[i],
                img->source_width, img->source_height, img->width, img->height, faces->size(),
                std::chrono::duration<double, std::milli>(t1 - t0).count(), st.detect, st.descriptor, st.estimators);
    if (const char* draw = std::getenv("FP_DRAW")) {
      cv::Mat m = cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())), cv::IMREAD_COLOR);
      for (const auto& f : *faces) {
        const auto& r = f.detection.rect;
        cv::rectangle(m, cv::Rect(int(r.x), int(r.y), int(r.width), int(r.height)), cv::Scalar(0, 255, 0), 3);
        for (const auto& p : f.detection.landmarks) cv::circle(m, cv::Point(int(p.x), int(p.y)), 3, cv::Scalar(0, 0, 255), -1);
      }
      const double k = 900.0 / std::max(m.cols, m.rows);
      if (k < 1) cv::resize(m, m, cv::Size(), k, k, cv::INTER_AREA);
      cv::imwrite(std::string(draw) + std::to_string(i) + ".png", m);
    }
    for (const auto& f : *faces) {
      const auto& d = f.detection;
      const auto& e = f.estimations;
      std::printf("  rect %.0f,%.0f %.0fx%.0f score %.3f eyes(%.0f,%.0f)(%.0f,%.0f)", d.rect.x, d.rect.y, d.rect.width,
                  d.rect.height, d.score, d.landmarks[0].x, d.landmarks[0].y, d.landmarks[1].x, d.landmarks[1].y);
      if (e.pose) std::printf(" pose p%.1f y%.1f r%.1f", e.pose->pitch, e.pose->yaw, e.pose->roll);
      if (e.age_gender) std::printf(" age %.1f male %.2f", e.age_gender->age, e.age_gender->gender);
      if (e.emotions) std::printf(" emo %s", face::kEmotionNames[size_t(e.emotions->predominant)]);
      if (e.liveness) std::printf(" live %.2f", e.liveness->real);
      if (e.eyes) std::printf(" eyes %.2f/%.2f", e.eyes->left_open, e.eyes->right_open);
      if (e.quality)
        std::printf(" q L%.2f D%.2f S%.2f B%.2f", e.quality->light, e.quality->dark, e.quality->saturation,
                    e.quality->blurriness);
      std::printf("\n");
    }
  }
  return 0;
}
