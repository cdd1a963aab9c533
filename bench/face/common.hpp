#pragma once
// Shared helpers of the face benchmarks (not part of the product).
#include <fstream>
#include <sstream>
#include <string>

namespace facebench {

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace facebench
