#pragma once
// LFW View-2 helpers shared by the accuracy benchmark and the CTest LFW subset test.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "face/engine.hpp"

namespace facebench {

struct LfwPair {
  int fold = 0;
  std::string a, b;  // file names under images/
  bool same = false;
};

inline std::string LfwFile(const std::string& name, int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "_%04d.jpg", n);
  return name + buf;
}

// pairs.txt: "10 300", then per fold 300 genuine "name n1 n2" and 300 impostor "n1 i n2 j".
inline std::vector<LfwPair> ReadLfwPairs(const std::string& path) {
  std::ifstream f(path);
  int folds = 0, per = 0;
  f >> folds >> per;
  std::vector<LfwPair> out;
  std::string line;
  std::getline(f, line);
  for (int fold = 0; fold < folds; ++fold) {
    for (int i = 0; i < 2 * per && std::getline(f, line); ++i) {
      std::istringstream ss(line);
      std::vector<std::string> w;
      for (std::string t; ss >> t;) w.push_back(t);
      LfwPair p;
      p.fold = fold;
      if (w.size() == 3) {
        p.same = true;
        p.a = LfwFile(w[0], std::stoi(w[1]));
        p.b = LfwFile(w[0], std::stoi(w[2]));
      } else if (w.size() == 4) {
        p.a = LfwFile(w[0], std::stoi(w[1]));
        p.b = LfwFile(w[2], std::stoi(w[3]));
      } else {
        continue;
      }
      out.push_back(p);
    }
  }
  return out;
}

// Descriptor of the face nearest the image centre; when the detector finds none (tight
// crops), the landmarks run on the central box the LFW crop is made around.
inline core::Result<std::vector<float>> CentralDescriptor(const face::Engine& engine, const std::string& bytes) {
  auto img = engine.Decode(bytes, std::nullopt);
  if (!img) return std::move(img).error();
  auto faces = engine.Detect(*img, 8);
  if (!faces) return std::move(faces).error();
  const float cx = img->source_width / 2.f, cy = img->source_height / 2.f;
  face::DetectedFace best;
  if (faces->empty()) {
    const float w = img->source_width * 0.6f, h = img->source_height * 0.7f;
    auto f = engine.FaceAt(*img, face::Rect{cx - w / 2, cy - h / 2, w, h});
    if (!f) return std::move(f).error();
    best = std::move(*f);
  } else {
    float best_d = 1e30f;
    for (const auto& f : *faces) {
      const float fx = f.rect.x + f.rect.width / 2, fy = f.rect.y + f.rect.height / 2;
      const float d = std::hypot(fx - cx, fy - cy) - 0.5f * f.rect.width;
      if (d < best_d) {
        best_d = d;
        best = f;
      }
    }
  }
  auto d = engine.Extract(*img, best);
  if (!d) return std::move(d).error();
  return std::move(d->values);
}

inline float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Best accuracy threshold on the given (score, same) pairs.
inline float BestThreshold(std::vector<std::pair<float, bool>> v) {
  std::sort(v.begin(), v.end());
  size_t pos_above = 0;
  for (auto& p : v) pos_above += p.second;
  size_t neg_below = 0;
  size_t best_correct = pos_above;  // threshold below everything
  float best_t = v.empty() ? 0.f : v.front().first - 1e-3f;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].second)
      --pos_above;
    else
      ++neg_below;
    const size_t correct = pos_above + neg_below;
    if (correct > best_correct) {
      best_correct = correct;
      best_t = i + 1 < v.size() ? (v[i].first + v[i + 1].first) / 2 : v[i].first + 1e-3f;
    }
  }
  return best_t;
}

struct FoldResult {
  std::vector<double> accuracy;  // per evaluated fold
  double mean = 0, stdev = 0;
};

// Cross-validated accuracy over `folds`: for each, the threshold is fitted on the others.
inline FoldResult CrossValidate(const std::vector<LfwPair>& pairs, const std::vector<float>& scores,
                                const std::vector<int>& folds) {
  FoldResult r;
  for (int f : folds) {
    std::vector<std::pair<float, bool>> train;
    for (size_t i = 0; i < pairs.size(); ++i)
      if (pairs[i].fold != f && std::find(folds.begin(), folds.end(), pairs[i].fold) != folds.end())
        train.push_back({scores[i], pairs[i].same});
    const float t = BestThreshold(train);
    size_t ok = 0, n = 0;
    for (size_t i = 0; i < pairs.size(); ++i)
      if (pairs[i].fold == f) {
        ++n;
        ok += (scores[i] >= t) == pairs[i].same;
      }
    r.accuracy.push_back(n ? double(ok) / n : 0);
  }
  for (double a : r.accuracy) r.mean += a;
  r.mean /= double(r.accuracy.size());
  for (double a : r.accuracy) r.stdev += (a - r.mean) * (a - r.mean);
  r.stdev = std::sqrt(r.stdev / double(r.accuracy.size()));
  return r;
}

}  // namespace facebench
