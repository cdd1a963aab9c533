// attributes_accuracy: estimators against labelled data in ../shared/data/faces.
//   age/gender on utkface_sample, emotions on expressions_sample, liveness on
//   liveness_samples, head pose and quality statistics on LFW crops, and quality on
//   blurred / over- / under-exposed copies of them (calibration of docs/FACE_ENGINE.md).
//   attributes_accuracy [--models DIR] [--shared DIR] [--lfw-count N]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "common.hpp"
#include "face/engine.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<std::vector<std::string>> Csv(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cols.push_back(c);
    rows.push_back(cols);
  }
  return rows;
}

// The best face of an image, or a face on the central box when the detector finds none.
std::optional<std::pair<face::Image, face::DetectedFace>> BestFace(const face::Engine& e, const std::string& bytes) {
  auto img = e.Decode(bytes, std::nullopt);
  if (!img) return std::nullopt;
  auto faces = e.Detect(*img, 1);
  if (!faces) return std::nullopt;
  if (!faces->empty()) return std::make_pair(*img, faces->front());
  const float w = img->source_width * 0.8f, h = img->source_height * 0.8f;
  auto f = e.FaceAt(*img, face::Rect{img->source_width * 0.1f, img->source_height * 0.1f, w, h});
  if (!f) return std::nullopt;
  return std::make_pair(*img, *f);
}

std::string Jpeg(const cv::Mat& m) {
  std::vector<uchar> buf;
  cv::imencode(".jpg", m, buf, {cv::IMWRITE_JPEG_QUALITY, 95});
  return std::string(buf.begin(), buf.end());
}

}  // namespace

int main(int argc, char** argv) {
  std::string models = "models", shared = "../shared";
  int lfw_count = 300;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--models") && i + 1 < argc) models = argv[++i];
    else if (!std::strcmp(argv[i], "--shared") && i + 1 < argc) shared = argv[++i];
    else if (!std::strcmp(argv[i], "--lfw-count") && i + 1 < argc) lfw_count = std::atoi(argv[++i]);
  }
  face::EngineOptions o;
  o.models_dir = models;
  auto engine = face::Engine::Create(o);
  if (!engine) {
    std::fprintf(stderr, "engine: %s\n", engine.error().log_detail.c_str());
    return 1;
  }
  const face::Engine& e = **engine;
  const std::string faces = shared + "/data/faces/";

  // --- age / gender on UTKFace -------------------------------------------------------------
  if (e.HasEstimator("age_gender")) {
    double abs_err = 0;
    int n = 0, gender_ok = 0;
    std::map<std::string, std::pair<int, int>> by_race;
    for (const auto& r : Csv(faces + "utkface_sample/labels.csv")) {
      auto bf = BestFace(e, facebench::ReadFile(faces + "utkface_sample/images/" + r[0]));
      if (!bf) continue;
      auto est = e.Estimate(bf->first, bf->second, {.age_gender = true});
      if (!est) continue;
      ++n;
      abs_err += std::abs(est->age_gender->age - std::stof(r[1]));
      const bool ok = (est->age_gender->gender > 0.5f) == (r[2] == "M");
      gender_ok += ok;
      by_race[r[3]].first += ok;
      by_race[r[3]].second += 1;
    }
    std::printf("UTKFace (%d faces): age MAE %.2f years, gender accuracy %.2f %%\n", n, abs_err / n, 100.0 * gender_ok / n);
    for (auto& [race, c] : by_race) std::printf("  gender accuracy %-7s %.1f %% (%d)\n", race.c_str(), 100.0 * c.first / c.second, c.second);
  }

  // --- emotions ---------------------------------------------------------------------------------
  {
    std::map<std::string, std::pair<int, int>> per;
    int n = 0, ok = 0;
    for (const auto& r : Csv(faces + "expressions_sample/labels.csv")) {
      if (r.size() < 2 || r[1] == "contempt") continue;  // no such class in the model
      auto bf = BestFace(e, facebench::ReadFile(faces + "expressions_sample/images/" + r[0]));
      if (!bf) continue;
      auto est = e.Estimate(bf->first, bf->second, {.emotions = true});
      if (!est) continue;
      const bool hit = face::kEmotionNames[size_t(est->emotions->predominant)] == r[1];
      ++n, ok += hit;
      per[r[1]].first += hit;
      per[r[1]].second += 1;
    }
    std::printf("expressions_sample (%d faces, contempt excluded): emotion accuracy %.1f %%\n", n, 100.0 * ok / n);
    for (auto& [k, c] : per) std::printf("  %-10s %.1f %% (%d)\n", k.c_str(), 100.0 * c.first / c.second, c.second);
  }

  // --- liveness ---------------------------------------------------------------------------------
  for (const auto& r : Csv(faces + "liveness_samples/labels.csv")) {
    auto bf = BestFace(e, facebench::ReadFile(faces + "liveness_samples/" + r[0]));
    if (!bf) continue;
    auto est = e.Estimate(bf->first, bf->second, {.liveness = true});
    if (est) std::printf("liveness %s (%s): real %.3f\n", r[0].c_str(), r[1].c_str(), est->liveness->real);
  }

  // --- pose and quality on LFW, and quality on degraded copies ------------------------------------
  std::vector<std::string> lfw;
  for (auto& f : fs::directory_iterator(faces + "lfw_pairs/images")) lfw.push_back(f.path().string());
  std::sort(lfw.begin(), lfw.end());
  const std::vector<std::string> variants = {"original", "blur s=1.5", "blur s=3", "gain x2.2", "gain x0.3",
                                             "desaturate+clip"};
  std::map<std::string, std::vector<face::Quality>> q;
  std::vector<face::HeadPose> poses;
  int live_real = 0, live_n = 0;
  for (size_t i = 0; i < lfw.size() && int(poses.size()) < lfw_count; i += lfw.size() / size_t(lfw_count) + 1) {
    const std::string bytes = facebench::ReadFile(lfw[i]);
    cv::Mat m = cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())), cv::IMREAD_COLOR);
    auto bf = BestFace(e, bytes);
    if (!bf) continue;
    auto est = e.Estimate(bf->first, bf->second, {.pose = true, .liveness = true});
    if (!est) continue;
    poses.push_back(*est->pose);
    ++live_n, live_real += est->liveness->real > 0.5f;
    for (const auto& v : variants) {
      cv::Mat d = m.clone();
      if (v == "blur s=1.5") cv::GaussianBlur(m, d, cv::Size(0, 0), 1.5);
      if (v == "blur s=3") cv::GaussianBlur(m, d, cv::Size(0, 0), 3);
      if (v == "gain x2.2") m.convertTo(d, -1, 2.2, 0);
      if (v == "gain x0.3") m.convertTo(d, -1, 0.3, 0);
      if (v == "desaturate+clip") m.convertTo(d, -1, 3.0, -200);
      auto img = e.Decode(Jpeg(d), face::ImageFormat::Jpeg);
      if (!img) continue;
      // Same face geometry as the original (degradations may fool the detector).
      auto qe = e.Estimate(*img, bf->second, {.quality = true});
      if (qe) q[v].push_back(*qe->quality);
    }
  }
  double sp = 0, sy = 0, sr = 0;
  for (auto& p : poses) sp += p.pitch, sy += p.yaw, sr += p.roll;
  std::printf("LFW (%zu faces): mean pitch %.1f (bias-corrected), yaw %.1f, roll %.1f degrees; liveness real %.1f %%\n",
              poses.size(), sp / poses.size(), sy / poses.size(), sr / poses.size(), 100.0 * live_real / live_n);
  std::printf("quality on LFW copies (median light / dark / saturation / blurriness):\n");
  for (const auto& v : variants) {
    auto& qs = q[v];
    auto med = [&](auto get) {
      std::vector<float> x;
      for (auto& k : qs) x.push_back(get(k));
      std::sort(x.begin(), x.end());
      return x.empty() ? 0.f : x[x.size() / 2];
    };
    std::printf("  %-16s n=%3zu  light %.2f  dark %.2f  saturation %.2f  blurriness %.2f\n", v.c_str(), qs.size(),
                med([](auto& k) { return k.light; }), med([](auto& k) { return k.dark; }),
                med([](auto& k) { return k.saturation; }), med([](auto& k) { return k.blurriness; }));
  }
  return 0;
}
