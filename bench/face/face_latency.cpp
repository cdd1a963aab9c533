// face_latency: per-stage latency of the face engine (decode, detect, landmarks, align +
// descriptor, each estimator), p50/p95 in ms, with 1 thread and with N threads (throughput).
//   face_latency [--models DIR] [--shared DIR] [--threads N] [--lfw-count N]
// Sets: LFW 150x150 crops, deepface_unit full-size photos, a 640x480 single-face JPEG made
// from an LFW crop (the image-to-descriptor target), and the six group photos.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "common.hpp"
#include "face/engine.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

struct Stats {
  std::vector<double> v;
  void Add(double x) { v.push_back(x); }
  double P(double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(q * double(v.size())))];
  }
};

// One image through every stage; stage times added to `st` (by name).
void RunOnce(const face::Engine& e, const std::string& bytes, std::map<std::string, Stats>& st, bool estimators) {
  auto t0 = Clock::now();
  auto img = e.Decode(bytes, std::nullopt);
  auto t1 = Clock::now();
  if (!img) return;
  auto faces = e.Detect(*img, 1);  // detector + landmarks of the best face
  auto t2 = Clock::now();
  if (!faces || faces->empty()) return;
  auto d = e.Extract(*img, faces->front());
  auto t3 = Clock::now();
  st["decode"].Add(Ms(t0, t1));
  st["detect+landmarks"].Add(Ms(t1, t2));
  st["align+descriptor"].Add(Ms(t2, t3));
  st["image->descriptor"].Add(Ms(t0, t3));
  if (!estimators) return;
  const std::pair<const char*, face::EstimateRequest> est[] = {
      {"est:age_gender", {.age_gender = true}}, {"est:emotions", {.emotions = true}}, {"est:pose", {.pose = true}},
      {"est:quality", {.quality = true}},       {"est:eyes", {.eyes = true}},         {"est:liveness", {.liveness = true}}};
  for (const auto& [name, req] : est) {
    if (!e.HasEstimator(std::string_view(name).substr(4))) continue;
    auto a = Clock::now();
    auto r = e.Estimate(*img, faces->front(), req);
    auto b = Clock::now();
    if (r) st[name].Add(Ms(a, b));
  }
}

void Report(const char* set, std::map<std::string, Stats>& st) {
  for (auto& [name, s] : st)
    std::printf("  %-28s %-18s n=%4zu  p50 %7.2f ms  p95 %7.2f ms\n", set, name.c_str(), s.v.size(), s.P(0.5), s.P(0.95));
}

// Images per second of wall time; *cpu_ms = process CPU time per image (equal for 1 and N
// threads means no lock or cache contention: the speed-up is then bounded by free cores only).
double Throughput(const face::Engine& e, const std::vector<std::string>& images, int threads, int rounds,
                  double* cpu_ms) {
  std::atomic<size_t> next{0};
  const size_t total = images.size() * size_t(rounds);
  const std::clock_t c0 = std::clock();
  auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      std::map<std::string, Stats> st;
      for (size_t i; (i = next++) < total;) RunOnce(e, images[i % images.size()], st, false);
    });
  for (auto& t : pool) t.join();
  *cpu_ms = 1000.0 * double(std::clock() - c0) / CLOCKS_PER_SEC / double(total);
  return double(total) / std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string models = "models", shared = "../shared", testdata = ".deps/testdata";
  int threads = 2, lfw_count = 300;
  bool throughput_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--models") && i + 1 < argc) models = argv[++i];
    else if (!std::strcmp(argv[i], "--shared") && i + 1 < argc) shared = argv[++i];
    else if (!std::strcmp(argv[i], "--testdata") && i + 1 < argc) testdata = argv[++i];
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--lfw-count") && i + 1 < argc) lfw_count = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--throughput-only")) throughput_only = true;
  }
  face::EngineOptions o;
  o.models_dir = models;
  auto engine = face::Engine::Create(o);
  if (!engine) {
    std::fprintf(stderr, "engine: %s\n", engine.error().log_detail.c_str());
    return 1;
  }
  const face::Engine& e = **engine;
  std::map<std::string, std::vector<std::string>> sets;
  {
    std::vector<std::string> lfw;
    const std::string dir = shared + "/data/faces/lfw_pairs/images";
    if (fs::exists(dir)) {
      std::vector<std::string> names;
      for (auto& f : fs::directory_iterator(dir)) names.push_back(f.path().string());
      std::sort(names.begin(), names.end());
      for (size_t i = 0; i < names.size() && int(lfw.size()) < lfw_count; i += names.size() / size_t(lfw_count) + 1)
        lfw.push_back(facebench::ReadFile(names[i]));
      sets["lfw 150x150"] = lfw;
      // 640x480 single-face JPEGs: LFW crops scaled to 360 px high on a 640x480 grey frame.
      std::vector<std::string> vga;
      for (size_t i = 0; i < lfw.size() && vga.size() < 100; ++i) {
        cv::Mat m = cv::imdecode(cv::Mat(1, int(lfw[i].size()), CV_8UC1, lfw[i].data()), cv::IMREAD_COLOR), s;
        cv::resize(m, s, cv::Size(360, 360), 0, 0, cv::INTER_CUBIC);
        cv::Mat frame(480, 640, CV_8UC3, cv::Scalar(110, 120, 130));
        s.copyTo(frame(cv::Rect(140, 60, 360, 360)));
        std::vector<uchar> buf;
        cv::imencode(".jpg", frame, buf, {cv::IMWRITE_JPEG_QUALITY, 90});
        vga.emplace_back(buf.begin(), buf.end());
      }
      sets["640x480 single face"] = vga;
    }
    std::vector<std::string> full;
    const std::string ddir = shared + "/data/faces/deepface_unit";
    if (fs::exists(ddir))
      for (auto& f : fs::directory_iterator(ddir))
        if (f.path().extension() == ".jpg") full.push_back(facebench::ReadFile(f.path().string()));
    if (!full.empty()) sets["deepface_unit full-size"] = full;
    std::vector<std::string> group;
    for (int i = 1; i <= 6; ++i) {
      const std::string p = testdata + "/sample" + std::to_string(i) + ".jpg";
      if (fs::exists(p)) group.push_back(facebench::ReadFile(p));
    }
    if (!group.empty()) sets["group 1920px"] = group;
  }
  if (!throughput_only) std::printf("single thread, one face per image (best score):\n");
  for (auto& [name, imgs] : sets) {
    if (throughput_only) break;
    std::map<std::string, Stats> st;
    for (const auto& b : imgs) RunOnce(e, b, st, name == "lfw 150x150" || name == "640x480 single face");
    Report(name.c_str(), st);
  }
  std::printf("throughput image->descriptor (images/s):\n");
  for (auto& [name, imgs] : sets) {
    const int rounds = name == "lfw 150x150" ? 1 : 2;
    double c1 = 0, cn = 0;
    const double t1 = Throughput(e, imgs, 1, rounds, &c1);
    const double tn = Throughput(e, imgs, threads, rounds, &cn);
    std::printf("  %-28s 1 thread %7.1f/s (cpu %.1f ms/img)   %d threads %7.1f/s (cpu %.1f ms/img)   speed-up %.2fx\n",
                name.c_str(), t1, c1, threads, tn, cn, tn / t1);
  }
  return 0;
}
