// liveness_eval: the verdicts of POST /4/liveness on the labelled photos, computed with the
// same steps as the endpoint (src/api/liveness.cpp: decode, best face by detector score,
// warped-sample check, liveness + quality estimators on the whole frame), per file:
//   - liveness_samples/: 2 spoofs (printed photo, phone screen) and 1 real (labels.csv);
//   - deepface_unit/: 64 real photos (every one must be called real);
//   - the warped samples (Engine::Warp) of the three liveness samples, which must be refused.
// Prints one line per file and a summary (docs/BENCHMARKS.md "Liveness"). Exit status 1 when
// a verdict is wrong.
//   liveness_eval [--models DIR] [--shared DIR] [--threshold 0.5] [--max-side 8192]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "common.hpp"
#include "face/engine.hpp"

namespace fs = std::filesystem;

namespace {
struct Verdict {
  bool ok = false;        // estimated (false: the endpoint would answer an error for it)
  std::string error;
  double probability = 0, quality = 0;
};

// deepface_unit/img47.jpg is a WebP file under a .jpg name (no LUNA content type; the service
// answers 3001): measured as the JPEG a client would send.
std::string AsJpeg(const std::string& bytes) {
  if (bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WEBP") != 0) return bytes;
  cv::Mat m = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data())),
                           cv::IMREAD_COLOR);
  std::vector<uchar> out;
  cv::imencode(".jpg", m, out, {cv::IMWRITE_JPEG_QUALITY, 95});
  return std::string(out.begin(), out.end());
}

Verdict Estimate(const face::Engine& e, const std::string& bytes) {
  Verdict v;
  auto img = e.Decode(bytes, std::nullopt);
  if (!img) return v.error = "decode", v;
  auto faces = e.Detect(*img, 1);
  if (!faces || faces->empty()) return v.error = "no face", v;
  if (e.IsWarpedSample(*img, faces->front())) return v.error = "warped sample", v;
  face::EstimateRequest want;
  want.liveness = true;
  want.quality = true;
  auto est = e.Estimate(*img, faces->front(), want);
  if (!est) return v.error = "estimate", v;
  const auto& q = *est->quality;
  v.ok = true;
  v.probability = est->liveness->real;
  v.quality = std::min({q.light, q.dark, q.saturation, q.blurriness});
  return v;
}
}  // namespace

int main(int argc, char** argv) {
  std::string models = "models", shared = "../shared";
  double threshold = 0.5;
  int max_side = 8192;  // two deepface photos are wider than the default 4096 (setting image_max_side)
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--models")) models = argv[i + 1];
    else if (!std::strcmp(argv[i], "--shared")) shared = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threshold")) threshold = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--max-side")) max_side = std::atoi(argv[i + 1]);
  }
  face::EngineOptions o;
  o.models_dir = models;
  o.max_side = max_side;
  auto engine = face::Engine::Create(o);
  if (!engine) {
    std::fprintf(stderr, "engine: %s\n", engine.error().log_detail.c_str());
    return 2;
  }
  const face::Engine& e = **engine;
  int wrong = 0;

  std::printf("# liveness_samples (threshold %.2f)\n", threshold);
  const std::string samples = shared + "/data/faces/liveness_samples/";
  std::ifstream labels(samples + "labels.csv");
  std::string line;
  std::getline(labels, line);
  while (std::getline(labels, line)) {
    const auto comma = line.find(',');
    const std::string file = line.substr(0, comma), label = line.substr(comma + 1);
    const std::string bytes = facebench::ReadFile(samples + file);
    Verdict v = Estimate(e, bytes);
    const bool real = v.ok && v.probability >= threshold;
    const bool right = v.ok && real == (label == "real");
    wrong += !right;
    std::printf("%-16s label=%-5s probability=%.4f quality=%.3f -> %s %s\n", file.c_str(), label.c_str(),
                v.probability, v.quality, v.ok ? (real ? "real" : "spoof") : v.error.c_str(), right ? "OK" : "WRONG");
    // The warped sample of the same frame: the endpoint refuses it.
    auto img = e.Decode(bytes, std::nullopt, false, true);
    auto faces = e.Detect(*img, 1);
    if (faces && !faces->empty()) {
      auto w = e.Warp(*img, faces->front());
      Verdict ws = Estimate(e, *e.EncodeJpeg(*w));
      const bool refused = !ws.ok && ws.error == "warped sample";
      wrong += !refused;
      std::printf("%-16s warped sample -> %s %s\n", file.c_str(), ws.ok ? "estimated" : ws.error.c_str(),
                  refused ? "OK" : "WRONG");
    }
  }

  std::printf("# deepface_unit (all real)\n");
  std::vector<std::pair<double, std::string>> probs;
  int errors = 0;
  for (const auto& entry : fs::directory_iterator(shared + "/data/faces/deepface_unit")) {
    if (entry.path().extension() != ".jpg") continue;
    Verdict v = Estimate(e, AsJpeg(facebench::ReadFile(entry.path())));
    if (!v.ok) {
      ++errors;
      ++wrong;
      std::printf("%-28s %s WRONG\n", entry.path().filename().c_str(), v.error.c_str());
      continue;
    }
    probs.emplace_back(v.probability, entry.path().filename());
    if (v.probability < threshold) ++wrong;
  }
  std::sort(probs.begin(), probs.end());
  int real = 0;
  for (const auto& [p, f] : probs) real += p >= threshold;
  std::printf("photos=%zu real=%d errors=%d min=%.4f (%s) p10=%.4f median=%.4f\n", probs.size() + errors, real,
              errors, probs.empty() ? 0 : probs.front().first, probs.empty() ? "" : probs.front().second.c_str(),
              probs.empty() ? 0 : probs[probs.size() / 10].first, probs.empty() ? 0 : probs[probs.size() / 2].first);
  for (std::size_t i = 0; i < std::min<std::size_t>(5, probs.size()); ++i)
    std::printf("  lowest %zu: %s %.4f\n", i + 1, probs[i].second.c_str(), probs[i].first);
  std::printf("%s\n", wrong ? "SOME VERDICTS WRONG" : "all verdicts right");
  return wrong ? 1 : 0;
}
