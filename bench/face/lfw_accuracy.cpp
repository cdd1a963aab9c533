// lfw_accuracy: LFW View-2 verification (10 folds), TAR at FAR 1e-3/1e-4/1e-5 over all
// impostor pairs of the images, rank-1 identification, and HSE gender accuracy on LFW labels.
//   lfw_accuracy [--models DIR] [--lfw DIR] [--threads N] [--flip] [--limit N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "common.hpp"
#include "face/engine.hpp"
#include "lfw.hpp"

int main(int argc, char** argv) {
  std::string models = "models", lfw = "../shared/data/faces/lfw_pairs";
  int threads = 1;
  bool flip = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--models") && i + 1 < argc) models = argv[++i];
    else if (!std::strcmp(argv[i], "--lfw") && i + 1 < argc) lfw = argv[++i];
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--flip")) flip = true;
  }
  face::EngineOptions o;
  o.models_dir = models;
  o.flip_augment = flip;
  auto engine = face::Engine::Create(o);
  if (!engine) {
    std::fprintf(stderr, "engine: %s\n", engine.error().log_detail.c_str());
    return 1;
  }
  // All images of labels.csv (the 7,701 images of the pairs).
  std::vector<std::string> files, ids;
  std::map<std::string, char> gender;
  {
    std::ifstream f(lfw + "/labels.csv");
    std::string line;
    std::getline(f, line);
    while (std::getline(f, line)) {
      const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
      files.push_back(line.substr(0, c1));
      ids.push_back(line.substr(c1 + 1, c2 - c1 - 1));
      const std::string g = line.substr(c2 + 1);
      gender[files.back()] = g.empty() ? '?' : g[0];
    }
  }
  const bool age_gender = (*engine)->HasEstimator("age_gender");
  std::vector<std::vector<float>> desc(files.size());
  std::vector<float> male(files.size(), -1.f);
  std::atomic<size_t> next{0}, failed{0};
  const auto t0 = std::chrono::steady_clock::now();
  auto work = [&] {
    for (size_t i; (i = next++) < files.size();) {
      const std::string bytes = facebench::ReadFile(lfw + "/images/" + files[i]);
      auto d = facebench::CentralDescriptor(**engine, bytes);
      if (!d) {
        ++failed;
        desc[i].assign(512, 0.f);
        continue;
      }
      desc[i] = std::move(*d);
      if (age_gender) {
        auto img = (*engine)->Decode(bytes, std::nullopt);
        auto faces = (*engine)->Detect(*img, 1);
        if (faces && !faces->empty()) {
          auto e = (*engine)->Estimate(*img, faces->front(), face::EstimateRequest{.age_gender = true});
          if (e) male[i] = e->age_gender->gender;
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("images %zu, failed %zu, %.1f s (%d threads, flip %d)\n", files.size(), failed.load(), secs, threads,
              int(flip));

  std::map<std::string, size_t> index;
  for (size_t i = 0; i < files.size(); ++i) index[files[i]] = i;
  const auto pairs = facebench::ReadLfwPairs(lfw + "/pairs.txt");
  std::vector<float> scores;
  for (const auto& p : pairs) scores.push_back(facebench::Dot(desc[index.at(p.a)], desc[index.at(p.b)]));
  const auto cv = facebench::CrossValidate(pairs, scores, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  std::printf("LFW View-2 accuracy: %.2f %% +- %.2f (10 folds, %zu pairs)\n", 100 * cv.mean, 100 * cv.stdev,
              pairs.size());
  const auto cv2 = facebench::CrossValidate(pairs, scores, {0, 1});
  std::printf("LFW folds 1-2 (the CTest subset): %.2f %%\n", 100 * cv2.mean);

  // All pairs: genuine = same identity, impostor = different.
  const size_t n = files.size();
  std::vector<float> genuine, impostor;
  impostor.reserve(n * (n - 1) / 2);
  std::vector<float> best(n, -2.f);
  std::vector<size_t> best_j(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const float s = facebench::Dot(desc[i], desc[j]);
      (ids[i] == ids[j] ? genuine : impostor).push_back(s);
      if (s > best[i]) best[i] = s, best_j[i] = j;
      if (s > best[j]) best[j] = s, best_j[j] = i;
    }
  std::printf("all pairs: %zu genuine, %zu impostor\n", genuine.size(), impostor.size());
  for (double far : {1e-3, 1e-4, 1e-5}) {
    const size_t k = size_t(far * double(impostor.size()));
    std::nth_element(impostor.begin(), impostor.begin() + long(k), impostor.end(), std::greater<float>());
    const float t = impostor[k];
    const size_t acc = size_t(std::count_if(genuine.begin(), genuine.end(), [&](float s) { return s > t; }));
    std::printf("TAR @ FAR %.0e: %.2f %% (cosine threshold %.3f)\n", far, 100.0 * acc / genuine.size(), t);
  }
  // Rank-1: every image whose identity has another image, against all other images.
  std::map<std::string, int> count;
  for (const auto& id : ids) ++count[id];
  size_t probes = 0, hits = 0;
  for (size_t i = 0; i < n; ++i)
    if (count[ids[i]] > 1) {
      ++probes;
      hits += ids[best_j[i]] == ids[i];
    }
  std::printf("rank-1: %.2f %% (%zu probes, %zu identities in gallery)\n", 100.0 * hits / probes, probes, count.size());
  double gsum = 0, isum = 0;
  for (float g : genuine) gsum += g;
  for (size_t i = 0; i < impostor.size(); i += 97) isum += impostor[i];
  std::printf("mean cosine: genuine %.3f, impostor %.3f\n", gsum / genuine.size(), isum / (impostor.size() / 97.0));
  if (age_gender) {
    size_t ok = 0, tot = 0;
    for (size_t i = 0; i < n; ++i) {
      const char g = gender[files[i]];
      if (g == '?' || male[i] < 0) continue;
      ++tot;
      ok += (male[i] > 0.5f) == (g == 'M');
    }
    std::printf("HSE gender on LFW labels: %.2f %% (%zu images)\n", 100.0 * ok / tot, tot);
  }
  return 0;
}
