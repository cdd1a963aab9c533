#pragma once
// uuid4 generation from the kernel CSPRNG (getrandom) and strict lowercase uuid4 checking.
#include <string>
#include <string_view>

namespace core {

std::string NewUuid4();
// True for a lowercase canonical uuid4: xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx.
bool IsUuid4(std::string_view s);
// Fills buf with cryptographically secure random bytes (aborts if the kernel cannot).
void SecureRandom(void* buf, std::size_t n);

}  // namespace core
