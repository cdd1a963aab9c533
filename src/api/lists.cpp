// (being written)
#include "api/api.hpp"

namespace api {
void Api::AddListRoutes() {}
}  // namespace api
