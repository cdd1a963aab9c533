// match_bench: matching benchmarks of issue 5 (results in docs/BENCHMARKS.md, "Matching").
//   1. machine: CPU, kernels chosen by CPUID, memory read bandwidth (STREAM-style sum, 1 and 2
//      threads, buffer far larger than the caches);
//   2. storage format by measurement on real LFW descriptors: fp32 vs fp16 vs int8 (per-vector
//      scale) vs int8 (one global scale): LFW View-2 accuracy, TAR at FAR, rank-1, and whether
//      each query's top-5 (over the other 7,700 images) keeps the fp32 order;
//   3. identify top-5 over 10k / 100k / 1M descriptors (random unit vectors, and the real LFW
//      descriptors topped up with random ones): p50/p99 per query on one thread, comparisons
//      per second per core, share of the measured bandwidth, two threads' throughput, memory
//      per descriptor, load time; the same queries through FAISS IndexFlatIP (fp32) when built
//      with FAISS; kernel variants side by side.
// Usage: match_bench [--models DIR] [--lfw DIR] [--cache FILE] [--sizes 10000,100000,1000000]
//                    [--threads N (descriptor extraction)] [--skip-quant] [--skip-speed] [--lists]
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "face/similarity.hpp"
#include "lfw_cache.hpp"
#include "match/index.hpp"
#include "match/kernels.hpp"
#include "match/quantize.hpp"

#include <time.h>

#ifdef FACEPORT_HAVE_FAISS
#include <faiss/IndexFlat.h>
#include <omp.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;
double Secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
// CPU time of the calling thread: what a query costs when the machine is shared (other
// developers build and test here concurrently, so wall time includes waiting for a core).
double ThreadCpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

std::string CpuModel() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "?";
}

size_t RssBytes() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return size_t(std::stoull(line.substr(6))) * 1024;
  return 0;
}

// ---------------------------------------------------------------- memory bandwidth
__attribute__((target("avx2"))) uint64_t SumAvx2(const uint64_t* p, size_t n) {
  __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
  for (size_t i = 0; i + 16 <= n; i += 16) {
    a = _mm256_add_epi64(a, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    b = _mm256_add_epi64(b, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    c = _mm256_add_epi64(c, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    d = _mm256_add_epi64(d, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  alignas(32) uint64_t t[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d)));
  return t[0] + t[1] + t[2] + t[3];
}

// Best of `reps` passes reading `bytes` (split over `threads`), in bytes/s.
// cpu_best: the same over the slowest thread's CPU time (time actually running).
double ReadBandwidth(size_t bytes, int threads, int reps, double* cpu_best = nullptr) {
  const size_t n = bytes / 8;
  uint64_t* buf = static_cast<uint64_t*>(std::aligned_alloc(64, n * 8));
  for (size_t i = 0; i < n; ++i) buf[i] = i;  // touch every page
  double best = 0;
  std::atomic<uint64_t> sink{0};
  for (int r = 0; r < reps; ++r) {
    std::vector<std::thread> pool;
    const auto t0 = Clock::now();
    std::atomic<double> cpu_max{0};
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const size_t per = n / threads / 16 * 16;
        const double c0 = ThreadCpu();
        sink += SumAvx2(buf + t * per, per);
        const double c = ThreadCpu() - c0;
        double m = cpu_max;
        while (c > m && !cpu_max.compare_exchange_weak(m, c)) {
        }
      });
    for (auto& t : pool) t.join();
    const double read = double(n / threads / 16 * 16 * threads * 8);
    best = std::max(best, read / Secs(t0, Clock::now()));
    if (cpu_best) *cpu_best = std::max(*cpu_best, read / cpu_max);
  }
  std::free(buf);
  if (sink == 42) std::printf(" ");
  return best;
}

// ---------------------------------------------------------------- storage formats on LFW
struct Format {
  std::string name;
  size_t bytes_per_vector;
  // scores of row q against every row (out[n]).
  std::function<void(size_t q, float* out)> scores;
};

void QuantisationStudy(const matchbench::LfwSet& lfw, const std::string& lfw_dir) {
  const size_t n = lfw.files.size(), dim = lfw.dim;
  const auto& K = match::ActiveKernels();
  std::vector<float> unit(n * dim, 0.f);
  std::vector<char> ok(n, 0);
  for (size_t i = 0; i < n; ++i) ok[i] = match::Normalize(lfw.row(i), dim, unit.data() + i * dim);
  // fp16 (IEEE half, round to nearest), dequantised for scoring.
  std::vector<float> half(n * dim);
  for (size_t i = 0; i < n * dim; ++i) half[i] = float(_Float16(unit[i]));
  // int8 per-vector scale (the index's format).
  std::vector<int8_t> c8(n * dim);
  std::vector<float> s8(n);
  for (size_t i = 0; i < n; ++i) s8[i] = match::QuantizeI8(unit.data() + i * dim, dim, c8.data() + i * dim);
  // int8 one global scale: the largest |x| of the whole set maps to 127.
  float gmax = 0;
  for (float v : unit) gmax = std::max(gmax, std::fabs(v));
  const float gs = gmax / 127.f;
  std::vector<int8_t> g8(n * dim);
  for (size_t i = 0; i < n * dim; ++i) g8[i] = int8_t(std::lround(unit[i] / gs));

  std::vector<Format> formats;
  formats.push_back({"fp32", dim * 4, [&](size_t q, float* out) {
                       K.dot_f32_strided(unit.data() + q * dim, unit.data(), dim, n, dim, out);
                     }});
  formats.push_back({"fp16", dim * 2, [&](size_t q, float* out) {
                       K.dot_f32_strided(half.data() + q * dim, half.data(), dim, n, dim, out);
                     }});
  formats.push_back({"int8 per-vector scale, int8 query", dim + 4, [&](size_t q, float* out) {
                       std::vector<int32_t> d(n);
                       K.dot_i8_strided(c8.data() + q * dim, c8.data(), dim, n, dim, d.data());
                       for (size_t j = 0; j < n; ++j) out[j] = float(d[j]) * (s8[q] * s8[j]);
                     }});
  // The index: int8 codes, re-scored with the float query (dequantised codes here, same values
  // up to float rounding).
  std::vector<float> deq(n * dim);
  for (size_t i = 0; i < n * dim; ++i) deq[i] = s8[i / dim] * float(c8[i]);
  formats.push_back({"int8 per-vector scale, float query (match::Index)", dim + 4, [&](size_t q, float* out) {
                       K.dot_f32_strided(unit.data() + q * dim, deq.data(), dim, n, dim, out);
                     }});
  formats.push_back({"int8 global scale", dim, [&](size_t q, float* out) {
                       std::vector<int32_t> d(n);
                       K.dot_i8_strided(g8.data() + q * dim, g8.data(), dim, n, dim, d.data());
                       for (size_t j = 0; j < n; ++j) out[j] = float(d[j]) * (gs * gs);
                     }});

  std::map<std::string, size_t> at;
  for (size_t i = 0; i < n; ++i) at[lfw.files[i]] = i;
  const auto pairs = facebench::ReadLfwPairs(lfw_dir + "/pairs.txt");
  std::map<std::string, int> per_id;
  for (const auto& id : lfw.ids) ++per_id[id];

  std::vector<std::array<uint32_t, 5>> ref_top(n);
  std::vector<float> ref_row(n), row(n);
  std::printf("\nStorage formats on LFW (%zu images, %zu failed), scores by the %s kernels:\n", n,
              size_t(std::count(ok.begin(), ok.end(), 0)), K.name);
  std::printf("| format | bytes/vector | LFW 10-fold acc | TAR@FAR 1e-3 / 1e-4 / 1e-5 (cosine thr; similarity thr) | rank-1 | "
              "top-5 same order | same set | max |cos - fp32| | worst swap gap (fp32) |\n|---|---|---|---|---|---|---|---|---|\n");
  for (size_t f = 0; f < formats.size(); ++f) {
    const auto& fm = formats[f];
    std::vector<float> genuine, impostor;
    impostor.reserve(n * (n - 1) / 2);
    size_t probes = 0, hits = 0, same_order = 0, same_set = 0, compared = 0;
    double max_err = 0, worst_gap = 0;
    for (size_t q = 0; q < n; ++q) {
      if (!ok[q]) continue;
      fm.scores(q, row.data());
      if (f > 0) formats[0].scores(q, ref_row.data());
      std::vector<std::pair<float, uint32_t>> cand;
      for (size_t j = 0; j < n; ++j) {
        if (j == q || !ok[j]) continue;
        cand.push_back({row[j], uint32_t(j)});
        if (j > q) (lfw.ids[j] == lfw.ids[q] ? genuine : impostor).push_back(row[j]);
        if (f > 0) max_err = std::max(max_err, double(std::fabs(row[j] - ref_row[j])));
      }
      std::partial_sort(cand.begin(), cand.begin() + 5, cand.end(),
                        [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
      std::array<uint32_t, 5> top;
      for (int i = 0; i < 5; ++i) top[i] = cand[i].second;
      if (per_id[lfw.ids[q]] > 1) {
        ++probes;
        hits += lfw.ids[top[0]] == lfw.ids[q];
      }
      if (f == 0) {
        ref_top[q] = top;
      } else {
        ++compared;
        same_order += top == ref_top[q];
        auto a = top, b = ref_top[q];
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        same_set += a == b;
        for (int i = 0; i < 5; ++i)
          if (top[i] != ref_top[q][i]) {  // how far apart (in fp32) the swapped entries were
            worst_gap = std::max(worst_gap, double(ref_row[ref_top[q][i]] - ref_row[top[i]]));
            break;
          }
      }
    }
    std::vector<float> pscores;
    for (const auto& p : pairs) {
      const size_t a = at.at(p.a), b = at.at(p.b);
      fm.scores(a, row.data());
      pscores.push_back(row[b]);
    }
    const auto cv = facebench::CrossValidate(pairs, pscores, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    std::string tar;
    for (double far : {1e-3, 1e-4, 1e-5}) {
      const size_t k = size_t(far * double(impostor.size()));
      std::nth_element(impostor.begin(), impostor.begin() + long(k), impostor.end(), std::greater<float>());
      const float t = impostor[k];
      const size_t acc = size_t(std::count_if(genuine.begin(), genuine.end(), [&](float s) { return s > t; }));
      // The threshold also on the API's 0..1 scale (docs/MATCHING.md takes its table from here).
      char b[96];
      std::snprintf(b, sizeof b, "%s%.2f %% (%.3f; sim %.3f)", tar.empty() ? "" : " / ", 100.0 * acc / genuine.size(), t,
                    double(face::SimilarityFromCosine(t)));
      tar += b;
    }
    if (f == 0)
      std::printf("| %s | %zu | %.3f %% | %s | %.2f %% | (reference) | | | |\n", fm.name.c_str(), fm.bytes_per_vector,
                  100 * cv.mean, tar.c_str(), 100.0 * hits / probes);
    else
      std::printf("| %s | %zu | %.3f %% | %s | %.2f %% | %zu / %zu | %zu / %zu | %.4f | %.4f |\n", fm.name.c_str(),
                  fm.bytes_per_vector, 100 * cv.mean, tar.c_str(), 100.0 * hits / probes, same_order, compared,
                  same_set, compared, max_err, worst_gap);
    std::fflush(stdout);
  }

  // The index itself (int8 per-vector) must give exactly the raw int8 top-5.
  match::Index idx;
  const match::Id acc = *match::ParseId("00000000-0000-4000-8000-000000000001");
  auto id_of = [](size_t i) {
    match::Id id;
    std::memcpy(id.bytes.data(), &i, sizeof i);
    id.bytes[15] = 0x80;
    return id;
  };
  for (size_t i = 0; i < n; ++i)
    if (ok[i]) (void)idx.Add(acc, id_of(i), std::nullopt, std::span<const float>(lfw.row(i), dim));
  size_t same = 0, total = 0;
  for (size_t q = 0; q < n; ++q) {
    if (!ok[q]) continue;
    auto r = idx.Match(acc, std::span<const float>(lfw.row(q), dim), match::Target::All(), 6);
    std::vector<size_t> got;
    for (const auto& c : *r) {
      size_t j;
      std::memcpy(&j, c.descriptor_id.bytes.data(), sizeof j);
      if (j != q) got.push_back(j);
    }
    got.resize(5);
    // the same format scored by brute force
    formats[3].scores(q, row.data());
    std::vector<std::pair<float, uint32_t>> cand;
    for (size_t j = 0; j < n; ++j)
      if (j != q && ok[j]) cand.push_back({row[j], uint32_t(j)});
    std::partial_sort(cand.begin(), cand.begin() + 5, cand.end(),
                      [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    bool eq = true;
    for (int i = 0; i < 5; ++i) eq &= got[i] == cand[i].second;
    same += eq;
    ++total;
  }
  std::printf("match::Index top-5 == brute-force top-5 of its format for %zu / %zu queries\n", same, total);
}

// ---------------------------------------------------------------- identify speed
uint64_t Mix(uint64_t& s) {
  s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
  return s * 0x2545F4914F6CDD1Dull;
}

void RandomUnit(uint64_t& s, float* out, size_t dim) {
  double sum = 0;
  for (size_t j = 0; j < dim; ++j) {
    // sum of two uniforms: cheap, symmetric, roughly bell-shaped
    const float v = float(int32_t(uint32_t(Mix(s)))) * 4.6566e-10f + float(int32_t(uint32_t(Mix(s)))) * 4.6566e-10f;
    out[j] = v;
    sum += double(v) * v;
  }
  const float inv = float(1 / std::sqrt(sum));
  for (size_t j = 0; j < dim; ++j) out[j] *= inv;
}

match::Id IdOf(uint64_t i) {
  match::Id id;
  std::memcpy(id.bytes.data(), &i, 8);
  id.bytes[15] = 0x80;
  return id;
}

struct Lat {
  double p50, p99, mean;
};
Lat Percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double m = 0;
  for (double x : v) m += x;
  return {v[v.size() / 2], v[std::min(v.size() - 1, size_t(double(v.size()) * 0.99))], m / double(v.size())};
}

void SpeedRun(size_t n, bool with_lfw, const matchbench::LfwSet& lfw, double bw1, double bw2, bool isa_compare) {
  const size_t dim = 512;
  const match::Id acc = *match::ParseId("00000000-0000-4000-8000-000000000001");
  // Data: n unit vectors (LFW first when with_lfw), queries: LFW images or fresh random ones.
  std::vector<float> data(n * dim);
  uint64_t seed = 0x9E3779B97F4A7C15ull ^ n;
  size_t real = 0;
  if (with_lfw)
    for (size_t i = 0; i < lfw.files.size() && real < n; ++i)
      if (match::Normalize(lfw.row(i), dim, data.data() + real * dim)) ++real;
  for (size_t i = real; i < n; ++i) RandomUnit(seed, data.data() + i * dim, dim);
  const size_t nq = n >= 1000000 ? 100 : n >= 100000 ? 300 : 1000;
  std::vector<float> queries(nq * dim);
  for (size_t q = 0; q < nq; ++q) {
    if (with_lfw)
      std::memcpy(queries.data() + q * dim, data.data() + ((q * 7919) % real) * dim, dim * 4);
    else
      RandomUnit(seed, queries.data() + q * dim, dim);
  }
  const char* set = with_lfw ? "lfw+random" : "random";

  // Load.
  const size_t rss0 = RssBytes();
  match::Index idx;
  const auto t0 = Clock::now();
  const double lc0 = ThreadCpu();
  for (size_t i = 0; i < n; ++i)
    if (!idx.Add(acc, IdOf(i), std::nullopt, std::span<const float>(data.data() + i * dim, dim)).ok()) std::abort();
  const double load_s = Secs(t0, Clock::now()), load_cpu = ThreadCpu() - lc0;
  const size_t rss = RssBytes() - rss0;
  const size_t est = idx.MemoryBytes(acc);

  std::vector<double> cpu;
  auto run = [&](const match::Index& ix, size_t count, std::vector<std::vector<match::Candidate>>* keep) {
    std::vector<double> lat;
    cpu.clear();
    for (size_t q = 0; q < count; ++q) {
      const double c0 = ThreadCpu();
      const auto a = Clock::now();
      auto r = ix.Match(acc, std::span<const float>(queries.data() + (q % nq) * dim, dim), match::Target::All(), 5);
      lat.push_back(Secs(a, Clock::now()));
      cpu.push_back(ThreadCpu() - c0);
      if (keep) keep->push_back(*r);
    }
    return Percentiles(lat);
  };
  run(idx, std::min<size_t>(nq, 5), nullptr);  // warm-up
  std::vector<std::vector<match::Candidate>> ours;
  const Lat l = run(idx, nq, &ours);
  const Lat lc = Percentiles(cpu);
  const double bytes = double(n) * 512;  // codes scanned per query
  std::printf("| %s | %zu | %.2f / %.2f | %.2f | %.1f M | %.1f GB/s (%.0f %%) |", set, n, l.p50 * 1e3, lc.p50 * 1e3,
              l.p99 * 1e3, double(n) / lc.p50 / 1e6, bytes / lc.p50 / 1e9, 100 * bytes / lc.p50 / bw1);
  // Two threads, throughput.
  {
    std::atomic<size_t> next{0};
    const size_t total = nq * 2;
    const auto a = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < 2; ++t)
      pool.emplace_back([&] {
        for (size_t q; (q = next++) < total;)
          (void)idx.Match(acc, std::span<const float>(queries.data() + (q % nq) * dim, dim), match::Target::All(), 5);
      });
    for (auto& t : pool) t.join();
    const double s = Secs(a, Clock::now());
    std::printf(" %.0f q/s, %.1f GB/s (%.0f %% of 2-thread) |", double(total) / s, bytes * double(total) / s / 1e9,
                100 * bytes * double(total) / s / bw2);
  }
  std::printf(" %.0f (est. %.0f) | %.2f s (cpu %.2f) |", double(rss) / double(n), double(est) / double(n), load_s,
              load_cpu);
#ifdef FACEPORT_HAVE_FAISS
  {
    faiss::IndexFlatIP flat(dim);
    flat.add(faiss::Index::idx_t(n), data.data());
    const size_t fq = n >= 1000000 ? 30 : nq;
    std::vector<double> lat;
    size_t agree1 = 0, agree5 = 0;
    std::vector<float> D(5);
    std::vector<faiss::Index::idx_t> I(5);
    flat.search(1, queries.data(), 5, D.data(), I.data());  // warm-up
    std::vector<double> fcpu;
    for (size_t q = 0; q < fq; ++q) {
      const double c0 = ThreadCpu();
      const auto a = Clock::now();
      flat.search(1, queries.data() + q * dim, 5, D.data(), I.data());
      lat.push_back(Secs(a, Clock::now()));
      fcpu.push_back(ThreadCpu() - c0);
      size_t top1;
      std::memcpy(&top1, ours[q][0].descriptor_id.bytes.data(), 8);
      agree1 += top1 == size_t(I[0]);
      std::set<size_t> a5, b5;
      for (int i = 0; i < 5; ++i) {
        size_t j;
        std::memcpy(&j, ours[q][i].descriptor_id.bytes.data(), 8);
        a5.insert(j);
        b5.insert(size_t(I[i]));
      }
      agree5 += a5 == b5;
    }
    const Lat f = Percentiles(lat), fc = Percentiles(fcpu);
    std::printf(" %.2f / %.2f / %.2f | %.1fx (cpu %.1fx) |", f.p50 * 1e3, fc.p50 * 1e3, f.p99 * 1e3, f.p50 / l.p50,
                fc.p50 / lc.p50);
    if (with_lfw)
      std::printf(" top-1 %zu/%zu, top-5 set %zu/%zu |", agree1, fq, agree5, fq);
    else
      std::printf(" |");
  }
#else
  std::printf(" (no FAISS) | | |");
#endif
  std::printf("\n");
  std::fflush(stdout);

  if (isa_compare) {
    std::printf("  kernels on %s %zu (p50 ms):", set, n);
    for (match::Isa isa : match::kAllIsas) {
      if (!match::IsaSupported(isa)) continue;
      match::Index alt(match::IndexOptions{.dim = dim, .kernels = &match::KernelsFor(isa)});
      for (size_t i = 0; i < n; ++i)
        (void)alt.Add(acc, IdOf(i), std::nullopt, std::span<const float>(data.data() + i * dim, dim));
      const size_t count = isa == match::Isa::kScalar ? std::min<size_t>(nq, 30) : nq;
      run(alt, 3, nullptr);
      const double wall = run(alt, count, nullptr).p50;
      std::printf(" %s %.2f (cpu %.2f);", match::KernelsFor(isa).name, wall * 1e3, Percentiles(cpu).p50 * 1e3);
    }
    // fp32 scan with our own kernel: what the same memory-bound scan costs at 4 bytes per value.
    std::vector<double> lat, lcpu;
    std::vector<float> out(n);
    for (size_t q = 0; q < std::min<size_t>(nq, 50); ++q) {
      const double c0 = ThreadCpu();
      const auto a = Clock::now();
      match::ActiveKernels().dot_f32_strided(queries.data() + q * dim, data.data(), dim, n, dim, out.data());
      lat.push_back(Secs(a, Clock::now()));
      lcpu.push_back(ThreadCpu() - c0);
    }
    std::printf(" fp32 scan (%s kernel, no top-k) %.2f (cpu %.2f)\n", match::ActiveKernels().name,
                Percentiles(lat).p50 * 1e3, Percentiles(lcpu).p50 * 1e3);
  }
}

}  // namespace

// Candidate restriction by list (--lists): n random descriptors, each attached to its own
// person, every person in one persons list and every descriptor in one descriptors list.
// A list scan (index.cpp: a list holding >= 1/8 of the account is scanned in row order with a
// membership check) against the same members given as an explicit id set, which always gathers
// the members' rows one by one (what a list cost before the row-order scan), and the whole
// account. One query at a time, p50 / p99 wall ms.
void ListRun(size_t n) {
  const size_t dim = 512;
  const match::Id acc = *match::ParseId("00000000-0000-4000-8000-000000000001");
  const match::Id plist = IdOf(uint64_t(1) << 60), dlist = IdOf((uint64_t(1) << 60) + 1);
  match::Index idx;
  uint64_t seed = 0x51ED270B27E3A1ull ^ n;
  std::vector<float> v(dim);
  std::vector<match::Id> persons, descs;
  for (size_t i = 0; i < n; ++i) {
    RandomUnit(seed, v.data(), dim);
    descs.push_back(IdOf(i));
    persons.push_back(IdOf(n + i));
    if (!idx.Add(acc, descs.back(), persons.back(), v).ok()) std::abort();
  }
  idx.CreateList(acc, plist, match::ListKind::kPersons);
  idx.CreateList(acc, dlist, match::ListKind::kDescriptors);
  if (!idx.AddToList(acc, plist, persons).ok() || !idx.AddToList(acc, dlist, descs).ok()) std::abort();
  const size_t nq = n >= 1000000 ? 30 : 100;
  std::vector<std::vector<float>> queries(nq, std::vector<float>(dim));
  for (auto& q : queries) RandomUnit(seed, q.data(), dim);
  struct Case {
    const char* name;
    match::Target target;
  };
  const Case cases[] = {{"whole account", match::Target::All()},
                        {"persons list (row-order scan)", match::Target::PersonsList(plist)},
                        {"same persons as person ids (gathered)", match::Target::PersonIds(persons)},
                        {"descriptors list (row-order scan)", match::Target::DescriptorsList(dlist)},
                        {"same descriptors as descriptor ids (gathered)", match::Target::DescriptorIds(descs)}};
  for (const auto& c : cases) {
    std::vector<double> lat;
    (void)idx.Match(acc, queries[0], c.target, 5);  // warm-up
    for (const auto& q : queries) {
      const auto a = Clock::now();
      auto r = idx.Match(acc, q, c.target, 5);
      lat.push_back(Secs(a, Clock::now()));
      if (!r || r->size() != 5) std::abort();
    }
    const Lat l = Percentiles(lat);
    std::printf("| %zu | %s | %.2f | %.2f |\n", n, c.name, l.p50 * 1e3, l.p99 * 1e3);
    std::fflush(stdout);
  }
}

int main(int argc, char** argv) {
  std::string models = "models", lfw_dir = "../shared/data/faces/lfw_pairs", cache = "build/lfw_descriptors.bin";
  std::vector<size_t> sizes{10000, 100000, 1000000};
  int threads = 2;
  bool quant = true, speed = true, lists = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--models" && i + 1 < argc) models = argv[++i];
    else if (a == "--lfw" && i + 1 < argc) lfw_dir = argv[++i];
    else if (a == "--cache" && i + 1 < argc) cache = argv[++i];
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--skip-quant") quant = false;
    else if (a == "--skip-speed") speed = false;
    else if (a == "--lists") lists = true;
    else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::string s = argv[++i];
      for (size_t p = 0; p < s.size();) {
        const size_t c = s.find(',', p);
        sizes.push_back(std::stoull(s.substr(p, c - p)));
        p = c == std::string::npos ? s.size() : c + 1;
      }
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::printf("CPU: %s, %u hardware threads; kernels: %s (CPUID)\n", CpuModel().c_str(),
              std::thread::hardware_concurrency(), match::ActiveKernels().name);
#ifdef FACEPORT_HAVE_FAISS
  omp_set_num_threads(1);  // nq = 1 searches run on one thread anyway; no spinning helpers
#endif
  double bw1_cpu = 0;
  const double bw1 = ReadBandwidth(size_t(2) << 30, 1, 5, &bw1_cpu), bw2 = ReadBandwidth(size_t(2) << 30, 2, 5);
  std::printf("memory read bandwidth (sum over 2 GiB, best of 5): 1 thread %.1f GB/s wall, %.1f GB/s per CPU second; "
              "2 threads %.1f GB/s wall\n", bw1 / 1e9, bw1_cpu / 1e9, bw2 / 1e9);
  matchbench::LfwSet lfw;
  if (!matchbench::LoadLfw(lfw_dir, models, cache, threads, lfw)) return 1;
  if (quant) QuantisationStudy(lfw, lfw_dir);
  if (speed) {
    std::printf("\nIdentify top-5 over all descriptors of one account, one query at a time:\n");
    std::printf("| set | descriptors | p50 ms wall / cpu | p99 ms wall | comparisons/s/core (cpu) | scan rate, cpu (%% of "
                "1-thread bw per CPU s) | 2 threads | bytes/descriptor RSS (estimate) | load | FAISS IndexFlatIP p50 "
                "wall / cpu / p99 ms | FAISS/ours p50 | agreement with FAISS |\n|---|---|---|---|---|---|---|---|---|---|"
                "---|---|\n");
    for (size_t n : sizes)
      for (bool with_lfw : {false, true}) SpeedRun(n, with_lfw, lfw, bw1_cpu, bw2, with_lfw && n == 100000);
  }
  if (lists) {
    std::printf("\nCandidates restricted by a list holding every descriptor / person of the account, top-5:\n"
                "| descriptors | candidates | p50 ms | p99 ms |\n|---|---|---|---|\n");
    for (size_t n : sizes) ListRun(n);
  }
  return 0;
}
