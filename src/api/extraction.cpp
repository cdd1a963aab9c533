#include "api/extraction.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "api/query.hpp"
#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "face/descriptor_codec.hpp"
#include "face/exif.hpp"
#include "face/portrait.hpp"

namespace api {
namespace json = boost::json;
using core::Errc;

namespace {
const std::vector<int> kThumbnailSides = {32, 64, 96, 160};

core::Status Flag(const http::Request& req, const char* name, bool def, bool& out) {
  auto r = FlagParam(req, name, def);
  if (!r) return std::move(r).error();
  out = *r;
  return {};
}

// Angle thresholds: a non-number is 12012; outside 0..180 it is ignored (the reference).
core::Status Angle(const http::Request& req, const char* name, std::optional<double>& out) {
  auto r = NumberParam(req, name);
  if (!r) return std::move(r).error();
  if (*r && **r >= 0 && **r <= 180) out = **r;
  return {};
}

double Round(double v, double scale) { return std::round(v * scale) / scale; }

json::object RectJson(const face::Rect& r) {
  return json::object{{"x", std::lround(r.x)},
                      {"y", std::lround(r.y)},
                      {"width", std::lround(r.width)},
                      {"height", std::lround(r.height)}};
}
}  // namespace

core::Result<ExtractionParams> ParseExtractionParams(const http::Request& req, bool allow_no_descriptor) {
  ExtractionParams p;
  bool head_pose = false;
  for (auto [name, def, out] : std::initializer_list<std::tuple<const char*, bool, bool*>>{
           {"estimate_attributes", false, &p.estimate.age_gender},
           {"estimate_emotions", false, &p.estimate.emotions},
           {"estimate_ethnicities", false, &p.estimate.ethnicities},
           {"estimate_quality", false, &p.estimate.quality},
           {"estimate_head_pose", false, &head_pose},
           {"warped_image", false, &p.warped},
           {"extract_descriptor", true, &p.extract_descriptor},
           {"extract_exif", false, &p.extract_exif}}) {
    if (auto st = Flag(req, name, def, *out); !st) return std::move(st).error();
  }
  bool no_cache = false;  // accepted for compatibility: faceport has no descriptor cache
  if (auto st = Flag(req, "no_cache", false, no_cache); !st) return std::move(st).error();
  if (!allow_no_descriptor && !p.extract_descriptor) return core::Error(Errc::UnsupportedParam, {"extract_descriptor"});
  auto score = NumberParam(req, "score_threshold");
  if (!score) return std::move(score).error();
  if (*score) {
    if (**score < 0 || **score > 1) return core::Error(Errc::BadQueryParam, {"score_threshold"});
    p.score_threshold = **score;
  }
  for (auto [name, out] : {std::pair{"pitch__lt", &p.pitch_lt}, std::pair{"yaw__lt", &p.yaw_lt},
                           std::pair{"roll__lt", &p.roll_lt}})
    if (auto st = Angle(req, name, *out); !st) return std::move(st).error();
  p.report_head_pose = head_pose || p.pitch_lt || p.yaw_lt || p.roll_lt;
  p.estimate.pose = p.report_head_pose;
  return p;
}

std::string RequestMediaType(const http::Request& req) {
  const std::string* ct = req.Header("Content-Type");
  if (!ct) return {};
  std::string m = ct->substr(0, ct->find(';'));
  while (!m.empty() && (m.back() == ' ' || m.back() == '\t')) m.pop_back();
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return m;
}

core::Result<ImageBody> ReadImageBody(const http::Request& req) {
  const std::string* ct = req.Header("Content-Type");
  if (!ct) return core::MakeError(Errc::BadContentType);
  auto type = face::ParseImageContentType(*ct);
  if (!type) return core::MakeError(Errc::BadContentType);
  ImageBody out{req.body, type->format};
  if (type->base64) {
    auto raw = core::Base64Decode(req.body);
    if (!raw) return core::MakeError(Errc::Base64Decode);
    out.bytes = std::move(*raw);
  }
  return out;
}

core::Result<Extraction> ExtractAndPrepare(const ExtractionContext& ctx, const std::string& account_id,
                                           const ImageBody& body, const ExtractionParams& params, int max_faces,
                                           bool single_face, std::vector<store::Descriptor>& rows) {
  rows.clear();
  if (params.estimate.ethnicities && !ctx.engine.HasEstimator("ethnicities"))
    return core::Error(Errc::EstimatorUnavailable, {"estimate_ethnicities"});
  auto image = ctx.engine.Decode(body.bytes, body.format);
  if (!image) return std::move(image).error();

  face::ProcessOptions po;
  po.estimate = params.estimate;
  po.extract_descriptor = params.extract_descriptor;
  po.warped = params.warped;
  auto faces = ctx.engine.Process(*image, po);
  if (!faces) return std::move(faces).error();
  if (faces->empty()) return core::MakeError(Errc::NoFaces);

  Extraction out;
  for (auto& f : *faces) {
    if (f.detection.score < params.score_threshold) continue;
    if (const auto& pose = f.estimations.pose) {
      if ((params.pitch_lt && std::fabs(pose->pitch) >= *params.pitch_lt) ||
          (params.yaw_lt && std::fabs(pose->yaw) >= *params.yaw_lt) ||
          (params.roll_lt && std::fabs(pose->roll) >= *params.roll_lt))
        continue;
    }
    out.faces.push_back(ExtractedFace{std::move(f), std::nullopt});
    if (max_faces > 0 && static_cast<int>(out.faces.size()) >= max_faces) break;
  }
  if (out.faces.empty()) return core::MakeError(Errc::FacesFilteredOut);
  if (single_face && out.faces.size() > 1) return core::MakeError(Errc::TooManyFaces);
  if (params.extract_exif) out.exif = face::ReadExifTags(body.bytes);
  if (!params.extract_descriptor) return out;

  // Portraits need full resolution: a DCT-reduced JPEG is decoded again once.
  face::Image full = *image;
  if (!params.warped && image->scale < 0.999f) {
    auto f = ctx.engine.Decode(body.bytes, body.format, false, true);
    if (!f) return std::move(f).error();
    full = std::move(*f);
  }
  int64_t now = core::NowMillis();
  for (auto& ef : out.faces) {
    if (!ef.face.descriptor) return core::InternalError("engine returned a face without a descriptor");
    auto files = params.warped
                     ? face::MakeWarpedPortraitFiles(full, body.format == face::ImageFormat::Jpeg ? body.bytes : "",
                                                     kThumbnailSides)
                     : face::MakePortraitFiles(full, ef.face.detection.rect_iso, 250, kThumbnailSides);
    if (!files) {
      RemovePortraits(ctx, rows);
      rows.clear();
      return std::move(files).error();
    }
    std::string id = core::NewUuid4();
    std::vector<std::pair<std::string, std::string>> named{{"", std::move(files->portrait)}};
    for (auto& [side, jpeg] : files->thumbnails) named.emplace_back("_" + std::to_string(side), std::move(jpeg));
    if (auto st = ctx.portraits.Put(id, named); !st) {
      RemovePortraits(ctx, rows);
      rows.clear();
      return std::move(st).error();
    }
    store::Descriptor d;
    d.id = id;
    d.account_id = account_id;
    d.version = ef.face.descriptor->version;
    d.values = ef.face.descriptor->values;
    d.has_portrait = true;
    d.create_time_ms = d.last_update_ms = now;
    rows.push_back(std::move(d));
    ef.descriptor_id = id;
  }
  return out;
}

void RemovePortraits(const ExtractionContext& ctx, const std::vector<store::Descriptor>& rows) {
  for (const auto& d : rows)
    if (d.has_portrait) (void)ctx.portraits.Remove(d.id);
}

core::Result<Extraction> ExtractAndStore(const ExtractionContext& ctx, const std::string& account_id,
                                         const ImageBody& body, const ExtractionParams& params, int max_faces,
                                         bool single_face) {
  std::vector<store::Descriptor> rows;
  auto out = ExtractAndPrepare(ctx, account_id, body, params, max_faces, single_face, rows);
  if (!out) return out;
  if (auto st = ctx.store.CreateDescriptors(rows); !st) {
    // The rows are absent: their files are orphans now; remove them (start-up would too).
    RemovePortraits(ctx, rows);
    return std::move(st).error();
  }
  return out;
}

core::Result<store::Descriptor> StoreUploadedDescriptor(const ExtractionContext& ctx, const std::string& account_id,
                                                        const std::string& body, bool base64) {
  auto d = DecodeUploadedDescriptor(ctx, account_id, body, base64);
  if (!d) return d;
  if (auto st = ctx.store.CreateDescriptors({*d}); !st) return std::move(st).error();
  return d;
}

core::Result<store::Descriptor> DecodeUploadedDescriptor(const ExtractionContext& ctx, const std::string& account_id,
                                                         const std::string& body, bool base64) {
  std::string raw = body;
  if (base64) {
    auto d = core::Base64Decode(body);
    if (!d) return core::MakeError(Errc::Base64Decode);
    raw = std::move(*d);
  }
  auto desc = face::DecodeDescriptor(raw, ctx.engine.descriptor_version(), ctx.engine.descriptor_size());
  if (!desc) return std::move(desc).error();
  store::Descriptor d;
  d.id = core::NewUuid4();
  d.account_id = account_id;
  d.version = desc->version;
  d.values = std::move(desc->values);
  d.create_time_ms = d.last_update_ms = core::NowMillis();
  return d;
}

json::object FaceJson(const ExtractedFace& ef, const ExtractionParams& params) {
  const auto& f = ef.face;
  json::object o;
  if (ef.descriptor_id) o["id"] = *ef.descriptor_id;
  o["rect"] = RectJson(f.detection.rect);
  o["rectISO"] = RectJson(f.detection.rect_iso);
  o["score"] = Round(f.detection.score, 1e5);
  const auto& e = f.estimations;
  if (params.estimate.quality && e.quality) {
    o["quality"] = json::object{{"light", Round(e.quality->light, 1e4)},
                                {"dark", Round(e.quality->dark, 1e4)},
                                {"saturation", Round(e.quality->saturation, 1e4)},
                                {"blurriness", Round(e.quality->blurriness, 1e4)}};
  }
  json::object attrs;
  if (params.estimate.age_gender && e.age_gender) {
    attrs["age"] = Round(e.age_gender->age, 10);
    attrs["gender"] = Round(e.age_gender->gender, 1e4);
  }
  if (params.estimate.emotions && e.emotions) {
    json::object est;
    for (std::size_t i = 0; i < face::kEmotionNames.size(); ++i) {
      std::string name = face::kEmotionNames[i];
      est[name] = Round(e.emotions->estimations[i], 1e4);
    }
    attrs["emotions"] = json::object{{"estimations", std::move(est)},
                                     {"predominant_emotion", face::kEmotionNames[e.emotions->predominant]}};
  }
  if (params.estimate.ethnicities && e.ethnicities) {
    static const char* kNames[] = {"asian", "caucasian", "african_american", "indian"};
    json::object est;
    for (int i = 0; i < 4; ++i) est[kNames[i]] = Round(e.ethnicities->estimations[i], 1e4);
    attrs["ethnicities"] = json::object{{"estimations", std::move(est)},
                                        {"predominant_ethnicity", kNames[e.ethnicities->predominant]}};
  }
  if (params.report_head_pose && e.pose) {
    attrs["head_pose"] = json::object{
        {"pitch", Round(e.pose->pitch, 100)}, {"yaw", Round(e.pose->yaw, 100)}, {"roll", Round(e.pose->roll, 100)}};
  }
  if (!attrs.empty()) o["attributes"] = std::move(attrs);
  return o;
}

json::object ExifJson(const std::vector<std::pair<std::string, std::string>>& exif) {
  json::object o;
  for (const auto& [k, v] : exif) o[k] = v;
  return o;
}

}  // namespace api
