#include "app/face_cli.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "api/errors.hpp"
#include "api/extraction.hpp"
#include "app/wiring.hpp"
#include "face/similarity.hpp"

namespace app {
namespace {

bool Has(const std::vector<std::string>& v, const char* s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::unique_ptr<face::Engine> LoadEngine(const core::Settings& s) {
  auto e = face::Engine::Create(EngineOptionsFrom(s));
  if (!e) {
    std::string what = e.error().log_detail;
    for (const auto& a : e.error().args) what += " [" + a + "]";
    std::fprintf(stderr, "faceport: cannot load the models: %s\n", what.c_str());
    return nullptr;
  }
  return std::move(*e);
}

// Reads a file and decodes it, reporting errors with the API's words (error code + detail).
std::optional<face::Image> LoadImage(const face::Engine& engine, const std::string& path, std::string* bytes_out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "faceport: cannot read %s\n", path.c_str());
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  auto img = engine.Decode(bytes, std::nullopt);  // format from the magic bytes
  if (!img) {
    const auto& row = api::RowFor(img.error().code);
    std::fprintf(stderr, "faceport: %s: %d %s\n", path.c_str(), row.error_code,
                 api::FormatDetail(row, img.error().args).c_str());
    return std::nullopt;
  }
  if (bytes_out) *bytes_out = std::move(bytes);
  return std::move(*img);
}

}  // namespace

int RunDetect(const std::vector<std::string>& args, const core::Settings& s) {
  std::vector<std::string> paths, flags;
  for (const auto& a : args) (a.rfind("--", 0) == 0 ? flags : paths).push_back(a);
  if (paths.size() != 1) {
    std::fputs("usage: faceport detect IMAGE [--attributes] [--quality] [--pose] [--emotions]\n", stderr);
    return 2;
  }
  auto engine = LoadEngine(s);
  if (!engine) return 1;
  auto img = LoadImage(*engine, paths[0], nullptr);
  if (!img) return 1;
  api::ExtractionParams p;
  p.estimate.age_gender = Has(flags, "--attributes");
  p.estimate.emotions = Has(flags, "--emotions") || Has(flags, "--attributes");
  p.estimate.quality = Has(flags, "--quality");
  p.estimate.pose = p.report_head_pose = Has(flags, "--pose");
  p.extract_descriptor = false;
  face::ProcessOptions po;
  po.estimate = p.estimate;
  po.extract_descriptor = false;
  auto faces = engine->Process(*img, po);
  if (!faces) {
    std::fprintf(stderr, "faceport: %s\n", std::string(core::ErrcName(faces.error().code)).c_str());
    return 1;
  }
  boost::json::array out;
  for (auto& f : *faces) out.push_back(api::FaceJson(api::ExtractedFace{std::move(f), std::nullopt}, p));
  std::printf("%s\n", boost::json::serialize(boost::json::object{{"faces", std::move(out)}}).c_str());
  return 0;
}

int RunCompare(const std::vector<std::string>& args, const core::Settings& s) {
  if (args.size() != 2) {
    std::fputs("usage: faceport compare IMAGE_A IMAGE_B\n", stderr);
    return 2;
  }
  auto engine = LoadEngine(s);
  if (!engine) return 1;
  auto a = LoadImage(*engine, args[0], nullptr);
  auto b = LoadImage(*engine, args[1], nullptr);
  if (!a || !b) return 1;
  auto sim = engine->CompareBest(*a, *b);
  if (!sim) {
    std::fprintf(stderr, "faceport: %s\n",
                 sim.error().code == core::Errc::NoFaces ? "no face found in one of the images" : "comparison failed");
    return 1;
  }
  std::printf("{\"similarity\":%.5f,\"cosine\":%.5f}\n", *sim, face::CosineFromSimilarity(*sim));
  return 0;
}

}  // namespace app
