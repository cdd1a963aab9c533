#pragma once
// Result<T>: a value or an Error{kind, args}. Modules return these instead of throwing;
// third-party exceptions are caught at the module that calls the library.
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/errc.hpp"

namespace core {

struct Error {
  Errc code = Errc::Internal;
  std::vector<std::string> args;  // fill the {} placeholders of the detail template, in order
  std::string log_detail;         // for the log only (never sent to clients)

  Error() = default;
  explicit Error(Errc c, std::vector<std::string> a = {}, std::string log = {})
      : code(c), args(std::move(a)), log_detail(std::move(log)) {}
};

inline Error MakeError(Errc c, std::vector<std::string> args = {}) { return Error(c, std::move(args)); }
inline Error InternalError(std::string log_detail) { return Error(Errc::Internal, {}, std::move(log_detail)); }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(implicit)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT(implicit)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace core
