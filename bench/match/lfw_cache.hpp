#pragma once
// LFW descriptors for the matching benchmarks: computed once with the face engine (the same
// CentralDescriptor as bench/face/lfw_accuracy) and cached in a binary file.
// Format: "FPLFWD01", u32 count, u32 dim, then per image: u16 len + file name, u16 len +
// identity, dim floats (all zero when no descriptor could be made).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"  // bench/face
#include "face/engine.hpp"
#include "lfw.hpp"     // bench/face

namespace matchbench {

struct LfwSet {
  std::vector<std::string> files, ids;
  size_t dim = 0;
  std::vector<float> vec;  // files.size() * dim
  const float* row(size_t i) const { return vec.data() + i * dim; }
};

inline bool ReadCache(const std::string& path, LfwSet& s) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  char magic[8];
  uint32_t n = 0, dim = 0;
  f.read(magic, 8);
  f.read(reinterpret_cast<char*>(&n), 4);
  f.read(reinterpret_cast<char*>(&dim), 4);
  if (!f || std::string(magic, 8) != "FPLFWD01") return false;
  s.dim = dim;
  s.vec.resize(size_t(n) * dim);
  auto str = [&] {
    uint16_t len = 0;
    f.read(reinterpret_cast<char*>(&len), 2);
    std::string v(len, '\0');
    f.read(v.data(), len);
    return v;
  };
  for (uint32_t i = 0; i < n; ++i) {
    s.files.push_back(str());
    s.ids.push_back(str());
    f.read(reinterpret_cast<char*>(s.vec.data() + size_t(i) * dim), std::streamsize(dim * sizeof(float)));
  }
  return bool(f);
}

inline void WriteCache(const std::string& path, const LfwSet& s) {
  std::ofstream f(path, std::ios::binary);
  const uint32_t n = uint32_t(s.files.size()), dim = uint32_t(s.dim);
  f.write("FPLFWD01", 8);
  f.write(reinterpret_cast<const char*>(&n), 4);
  f.write(reinterpret_cast<const char*>(&dim), 4);
  auto str = [&](const std::string& v) {
    const uint16_t len = uint16_t(v.size());
    f.write(reinterpret_cast<const char*>(&len), 2);
    f.write(v.data(), len);
  };
  for (uint32_t i = 0; i < n; ++i) {
    str(s.files[i]);
    str(s.ids[i]);
    f.write(reinterpret_cast<const char*>(s.row(i)), std::streamsize(dim * sizeof(float)));
  }
}

// The 7,701 images of labels.csv, from the cache or computed (and then cached).
inline bool LoadLfw(const std::string& lfw_dir, const std::string& models, const std::string& cache, int threads,
                    LfwSet& s) {
  if (ReadCache(cache, s)) {
    std::printf("LFW descriptors: %zu from cache %s\n", s.files.size(), cache.c_str());
    return true;
  }
  std::ifstream f(lfw_dir + "/labels.csv");
  if (!f) {
    std::fprintf(stderr, "no %s/labels.csv\n", lfw_dir.c_str());
    return false;
  }
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
    s.files.push_back(line.substr(0, c1));
    s.ids.push_back(line.substr(c1 + 1, c2 - c1 - 1));
  }
  face::EngineOptions o;
  o.models_dir = models;
  auto engine = face::Engine::Create(o);
  if (!engine) {
    std::fprintf(stderr, "engine: %s\n", engine.error().log_detail.c_str());
    return false;
  }
  s.dim = 512;
  s.vec.assign(s.files.size() * s.dim, 0.f);
  std::atomic<size_t> next{0}, failed{0};
  const auto t0 = std::chrono::steady_clock::now();
  auto work = [&] {
    for (size_t i; (i = next++) < s.files.size();) {
      auto d = facebench::CentralDescriptor(**engine, facebench::ReadFile(lfw_dir + "/images/" + s.files[i]));
      if (!d || d->size() != s.dim) {
        ++failed;
        continue;
      }
      std::copy(d->begin(), d->end(), s.vec.begin() + long(i * s.dim));
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  std::printf("LFW descriptors: %zu computed in %.0f s (%zu failed), cached in %s\n", s.files.size(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), failed.load(),
              cache.c_str());
  WriteCache(cache, s);
  return true;
}

}  // namespace matchbench
