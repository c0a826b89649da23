// UTF-8 as the server reads it from clients: code point by code point,
// malformed input reported rather than replaced.
#ifndef PARZEN_COMMON_UTF8_H_
#define PARZEN_COMMON_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parzen {

// Decodes the code point at s[*i] and advances *i past it. Returns -1 and
// advances one byte for malformed input, overlong forms and surrogates.
int32_t DecodeUtf8(std::string_view s, size_t* i);

// True when `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace parzen

#endif  // PARZEN_COMMON_UTF8_H_
