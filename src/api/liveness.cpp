// Family V: liveness, POST /4/liveness (API.md §4 V, §5; reference "predict liveness"; limits
// and what the model can and cannot detect: docs/HANDLERS.md "Liveness").
//
// Input, by Content-Type:
//  - an image content type (or its -base64 variant): one image, filename "";
//  - multipart/form-data (http/multipart.hpp, strict): every part with an image content type is
//    an image whatever its name, filename from its Content-Disposition ("" when absent); a part
//    named "meta" is the JSON meta; any other part is refused (12025);
//  - application/json {"images": [base64, …], "meta"?: {…}}: filename = the index ("0", "1", …).
// The meta object is checked to be a JSON object and is otherwise unused (the model takes only
// pixels, like the vendor's Liveness V2).
// Per image: decode, best face by detector score, refuse warped samples, estimate. A failure of
// one image (undecodable, no face, sample) is that image's error entry; the others go on.
// Request-level errors: content type 12017, JSON 12002/12022, malformed multipart 12025, more
// than liveness_max_images images or one over liveness_max_image_bytes 413/23001.
#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "api/api.hpp"
#include "api/errors.hpp"
#include "api/extraction.hpp"
#include "api/json_schema.hpp"
#include "api/query.hpp"
#include "api/respond.hpp"
#include "core/base64.hpp"
#include "http/multipart.hpp"

namespace api {
namespace json = boost::json;
namespace s = schema;
using core::Errc;

namespace {

struct LivenessImage {
  std::string filename;
  std::string bytes;                        // base64 already decoded
  std::optional<face::ImageFormat> format;  // nullopt: from the magic bytes (JSON input)
  std::optional<core::Error> error;         // set when the image could not even be read
};

const s::NodePtr& JsonBodySchema() {
  static const s::NodePtr n = [] {
    auto meta = std::make_shared<s::Node>();  // any object: the meta's keys are the client's
    meta->type = s::Type::Object;
    meta->additional_properties = true;
    return s::Object({
        {"images", s::Array(s::String(), 1), true},
        {"meta", meta, false},
    });
  }();
  return n;
}

// {"error_code","detail"} of an error, as the error table renders it.
json::object ErrorJson(const core::Error& e, const http::Request& req) {
  http::Response r = ErrorResponse(e, &req);
  json::value v = json::parse(r.body);
  return v.as_object();
}

core::Error TooMany(std::size_t got, std::size_t max) {
  return core::Error(Errc::LimitExceeded, {std::to_string(got) + " images, at most " + std::to_string(max) + " allowed"});
}
core::Error TooLarge(const std::string& filename, std::size_t max) {
  return core::Error(Errc::LimitExceeded,
                     {"image '" + filename + "' is larger than " + std::to_string(max) + " bytes"});
}

LivenessImage FromBytes(std::string filename, std::string_view bytes, std::optional<face::ImageFormat> format,
                        bool base64) {
  LivenessImage im{std::move(filename), {}, format, std::nullopt};
  if (!base64) {
    im.bytes = std::string(bytes);
    return im;
  }
  auto raw = core::Base64Decode(bytes);
  if (!raw) im.error = core::MakeError(Errc::Base64Decode);
  else im.bytes = std::move(*raw);
  return im;
}

struct Images {
  std::vector<LivenessImage> images;
};

core::Result<Images> ReadImages(const http::Request& req, std::size_t max_images, std::size_t max_bytes) {
  const std::string mime = RequestMediaType(req);
  Images out;
  if (mime == "multipart/form-data") {
    auto boundary = http::MultipartBoundary(*req.Header("Content-Type"));
    if (!boundary) return std::move(boundary).error();
    http::MultipartLimits limits;
    limits.max_parts = max_images + 1;  // + meta
    limits.max_part_bytes = max_bytes;
    auto parts = http::ParseMultipart(req.body, *boundary, limits);
    if (!parts) {
      // The part limit is the image limit (+ the meta part): say so in those words.
      if (parts.error().code == Errc::LimitExceeded && !parts.error().args.empty() &&
          parts.error().args.front().rfind("more than", 0) == 0)
        return core::Error(Errc::LimitExceeded, {"more than " + std::to_string(max_images) + " images"});
      return std::move(parts).error();
    }
    bool meta_seen = false;
    for (const auto& p : *parts) {
      auto type = face::ParseImageContentType(p.content_type);
      if (type) {
        out.images.push_back(FromBytes(p.filename.value_or(""), p.body, type->format, type->base64));
      } else if (p.name == "meta" && !meta_seen && (p.content_type.empty() || p.content_type == "application/json")) {
        meta_seen = true;
        boost::system::error_code ec;
        json::value meta = json::parse(p.body, ec);
        if (ec || !meta.is_object()) return core::Error(Errc::JsonValidation, {"meta", "meta must be object"});
      } else {
        return core::Error(Errc::MalformedMultipart, {"part '" + p.name + "' is neither an image nor the meta"});
      }
    }
    if (out.images.empty()) return core::Error(Errc::MalformedMultipart, {"no image part"});
  } else if (mime == "application/json") {
    auto body = s::ParseBody(req, *JsonBodySchema());
    if (!body) return std::move(body).error();
    const json::array& arr = body->as_object().at("images").as_array();
    if (arr.size() > max_images) return TooMany(arr.size(), max_images);
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const json::string& b64 = arr[i].as_string();
      if (b64.size() > max_bytes) return TooLarge(std::to_string(i), max_bytes);
      out.images.push_back(FromBytes(std::to_string(i), b64, std::nullopt, true));
    }
  } else {
    const std::string* ct = req.Header("Content-Type");
    auto type = ct ? face::ParseImageContentType(*ct) : std::nullopt;
    if (!type) return core::MakeError(Errc::BadContentType);
    if (req.body.size() > max_bytes) return TooLarge("", max_bytes);
    out.images.push_back(FromBytes("", req.body, type->format, type->base64));
  }
  if (out.images.size() > max_images) return TooMany(out.images.size(), max_images);
  return out;
}

double Round4(double v) { return std::round(v * 1e4) / 1e4; }

struct Estimate {
  double probability = 0, quality = 0;
};

// The liveness of the image's best face; the error is the image's own.
core::Result<Estimate> EstimateImage(const face::Engine& engine, const LivenessImage& im) {
  if (im.error) return *im.error;
  auto image = engine.Decode(im.bytes, im.format);
  if (!image) return std::move(image).error();
  auto faces = engine.Detect(*image, 1);
  if (!faces) return std::move(faces).error();
  if (faces->empty()) return core::MakeError(Errc::NoFaces);
  const face::DetectedFace& f = faces->front();
  if (engine.IsWarpedSample(*image, f)) return core::MakeError(Errc::LivenessOnSample);
  face::EstimateRequest want;
  want.liveness = true;
  want.quality = true;
  auto e = engine.Estimate(*image, f, want);
  if (!e) return std::move(e).error();
  if (!e->liveness || !e->quality) return core::InternalError("liveness: the engine returned no estimation");
  const face::Quality& q = *e->quality;
  // Quality: the weakest of the four image-quality estimates of the face (1 = good), so a
  // dark, overexposed, unsaturated or blurred face reads as a less trustworthy estimation.
  return Estimate{e->liveness->real, std::min({q.light, q.dark, q.saturation, q.blurriness})};
}

json::object LivenessJson(const Estimate& e, double threshold) {
  return json::object{{"prediction", e.probability >= threshold ? 1 : 0},
                      {"estimations", json::object{{"probability", Round4(e.probability)}, {"quality", Round4(e.quality)}}}};
}

}  // namespace

void Api::AddLivenessRoutes() {
  Route("POST", "/4/liveness", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    if (!engine_) return core::InternalError("the face engine is not loaded (see models_failed at start-up)");
    if (!engine_->HasEstimator("liveness")) return core::Error(Errc::EstimatorUnavailable, {"liveness"});
    auto aggregate = FlagParam(c.req, "aggregate", false);
    if (!aggregate) return std::move(aggregate).error();
    auto in = ReadImages(c.req, opt_.liveness_max_images, opt_.liveness_max_image_bytes);
    if (!in) return std::move(in).error();

    json::array images;
    double sum_p = 0, sum_q = 0;
    std::size_t ok = 0;
    for (const auto& im : in->images) {
      auto e = EstimateImage(*engine_, im);
      if (!e) {
        if (e.error().code == Errc::Internal) return std::move(e).error();  // not the image's fault
        images.push_back(json::object{{"filename", im.filename}, {"status", 0}, {"error", ErrorJson(e.error(), c.req)}});
        continue;
      }
      ++ok;
      sum_p += e->probability;
      sum_q += e->quality;
      images.push_back(json::object{
          {"filename", im.filename}, {"status", 1}, {"liveness", LivenessJson(*e, opt_.liveness_threshold)}});
    }
    json::object out{{"images", std::move(images)}};
    if (*aggregate) {
      // The mean over the images that were estimated; null when none was.
      json::value agg = nullptr;
      if (ok) agg = LivenessJson(Estimate{sum_p / ok, sum_q / ok}, opt_.liveness_threshold);
      out["aggregate_estimations"] = json::object{{"liveness", std::move(agg)}};
    }
    return Json(200, out);
  });
}

}  // namespace api
