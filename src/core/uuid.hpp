#pragma once
// uuid4 generation from the kernel CSPRNG (getrandom) and strict lowercase uuid4 checking.
#include <string>
#include <string_view>

namespace core {

std::string NewUuid4();
// A uuid4 for identifiers that are not secrets (request ids): the bytes come from the kernel
// CSPRNG too, but 4 KiB at a time into a per-thread buffer, so that a request costs no
// system call. Not for tokens: a buffer of future values in memory is a secret worth
// protecting, and a fork() would duplicate it.
std::string NewRequestUuid4();
// True for a lowercase canonical uuid4: xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx.
bool IsUuid4(std::string_view s);
// Fills buf with cryptographically secure random bytes (aborts if the kernel cannot).
void SecureRandom(void* buf, std::size_t n);

}  // namespace core
