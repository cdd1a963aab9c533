#include "api/errors.hpp"

#include <array>
#include <boost/json.hpp>

#include "core/log.hpp"

namespace api {
using core::Errc;

namespace {
// Keep in the order of core::Errc; tests/unit/errors_test.cpp checks every kind has one row.
constexpr std::array kTable = {
    ErrorRow{Errc::Internal, 1, 500, "internal server error"},
    ErrorRow{Errc::ImageDecode, 3001, 400, "Failed to decode image data"},
    ErrorRow{Errc::ImageTooSmall, 3002, 400,
             "Incorrect image size. Detail: Image size ({}x{}) is lower than minimum allowed ({}x{})."},
    ErrorRow{Errc::ImageTooLarge, 3002, 400,
             "Incorrect image size. Detail: Image size ({}x{}) is greater than maximum allowed ({}x{})."},
    ErrorRow{Errc::NoFaces, 4003, 400, "No faces found."},
    ErrorRow{Errc::BadCredentials, 11002, 401, "Account corresponding login/password not found"},
    ErrorRow{Errc::AccountSuspended, 11004, 403, "Account is suspended"},
    ErrorRow{Errc::EmailExists, 11011, 409, "An account with given email already exists"},
    ErrorRow{Errc::TooManyFaces, 11012, 400, "Too many faces found"},
    ErrorRow{Errc::DescriptorAlreadyAttached, 11016, 409, "This descriptor is already attached to the person"},
    ErrorRow{Errc::DescriptorNotFound, 11018, 404, "Descriptor with id '{}' not found."},
    ErrorRow{Errc::DescriptorNotFoundRef, 11018, 400, "Descriptor with id '{}' not found."},
    ErrorRow{Errc::ObjectsNotFound, 11020, 400, "One or more {} not found"},
    ErrorRow{Errc::TokenNotFound, 11022, 404, "Token not found"},
    ErrorRow{Errc::PortraitNotFound, 11024, 404, "Portrait not found"},
    ErrorRow{Errc::FacesFilteredOut, 11027, 400, "No faces found. Detail: all faces were filtered out by thresholds"},
    ErrorRow{Errc::AuthTokenNotUuid, 12001, 401,
             "Object in query is not UUID4, format: xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"},
    ErrorRow{Errc::NoJson, 12002, 400, "Request does not contain json"},
    ErrorRow{Errc::NoAuthHeaders, 12010, 401, "This resource need \"{}\" authorization headers"},
    ErrorRow{Errc::BadQueryParam, 12012, 400, "Bad query parameters '{}'"},
    ErrorRow{Errc::PageNotFound, 12013, 404, "Page not found"},
    ErrorRow{Errc::MissingQueryParam, 12014, 400, "Required parameters '{}' not found"},
    ErrorRow{Errc::BadContentType, 12017, 400, "Bad content type"},
    ErrorRow{Errc::UnsupportedParam, 12018, 400, "Unsupported param '{}'"},
    ErrorRow{Errc::MethodNotAllowed, 12021, 405, "Method not allowed"},
    ErrorRow{Errc::JsonValidation, 12022, 400, "Failed to validate input json. Path: '{}', message: '{}'"},
    ErrorRow{Errc::UnsupportedMediaType, 12024, 415, "Unsupported media type"},
    ErrorRow{Errc::ContentTypeMismatch, 12025, 400, "Specified content type does not match data type"},
    ErrorRow{Errc::XpkParse, 12026, 400, "Failed to parse XPK"},
    ErrorRow{Errc::Base64Decode, 18001, 400, "Failed convert data from base64 to bytes"},
    ErrorRow{Errc::FaceNotFound, 22002, 404, "Face not found"},
    ErrorRow{Errc::ListNotFound, 22003, 404, "List not found"},
    ErrorRow{Errc::ListNotFoundRef, 22003, 400, "List not found"},
    ErrorRow{Errc::PersonNotFound, 22007, 404, "Person not found"},
    ErrorRow{Errc::PersonNotFoundRef, 22007, 400, "Person not found"},
    ErrorRow{Errc::WrongListType, 22010, 400, "Wrong list type: expected a {} list"},
    ErrorRow{Errc::BodyTooLarge, 23001, 413, "Request body is too large"},
    ErrorRow{Errc::DescriptorVersionMismatch, 12022, 400,
             "Failed to validate input json. Path: 'descriptor', message: 'descriptor version {} is not supported, expected version {}'"},
    ErrorRow{Errc::DescriptorFormat, 12022, 400, "Failed to validate input json. Path: 'descriptor', message: '{}'"},
    ErrorRow{Errc::EstimatorUnavailable, 12018, 400, "Unsupported param '{}'. Detail: no model is configured for this estimator"},
    ErrorRow{Errc::TooManyRequests, 11002, 429,
             "Account corresponding login/password not found. Detail: too many failed attempts, retry later"},
    ErrorRow{Errc::HealthCheckFailed, 1, 502, "Health check failed: {}"},
    ErrorRow{Errc::BadHttpRequest, 1, 400, "Malformed HTTP request"},
    ErrorRow{Errc::MalformedMultipart, 12025, 400, "Specified content type does not match data type. Detail: {}"},
    ErrorRow{Errc::LimitExceeded, 23001, 413, "Request body is too large. Detail: {}"},
    ErrorRow{Errc::LivenessOnSample, 12018, 400,
             "Unsupported param 'image'. Detail: liveness is not estimated on samples (warped images); send the whole frame"},
};
static_assert(kTable.size() == static_cast<std::size_t>(core::kErrcCount), "one row per core::Errc");
}  // namespace

std::span<const ErrorRow> ErrorTable() { return kTable; }

const ErrorRow& RowFor(Errc kind) {
  for (const auto& r : kTable)
    if (r.kind == kind) return r;
  return kTable[0];
}

std::string FormatDetail(const ErrorRow& row, const std::vector<std::string>& args) {
  std::string out;
  std::string_view t = row.detail_template;
  std::size_t next = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '{' && i + 1 < t.size() && t[i + 1] == '}') {
      if (next < args.size()) out += args[next++];
      ++i;
    } else {
      out.push_back(t[i]);
    }
  }
  return out;
}

http::Response ErrorResponse(const core::Error& error, const http::Request* req) {
  const ErrorRow& row = RowFor(error.code);
  if (error.code == Errc::Internal || !error.log_detail.empty()) {
    core::Log(error.code == Errc::Internal ? core::LogLevel::Error : core::LogLevel::Warn, "request_error",
              {{"request_id", req ? req->request_id : std::string()},
               {"kind", core::ErrcName(error.code)},
               {"detail", error.log_detail}});
  }
  http::Response res;
  res.status = row.http_status;
  boost::json::object body;
  body["error_code"] = row.error_code;
  body["detail"] = FormatDetail(row, error.args);
  res.body = boost::json::serialize(body);
  res.Set("Content-Type", "application/json");
  if (row.http_status == 401) res.Set("WWW-Authenticate", "Basic realm=\"login:password\" or token");
  return res;
}

}  // namespace api
