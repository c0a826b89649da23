#include "common/client_text.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "common/utf8.h"

namespace parzen {
namespace {

bool IsUnshowable(int32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||  // C0, DEL, C1 (U+0085 is NEL)
         cp == 0x061C ||                              // Arabic letter mark
         cp == 0x180E ||                              // Mongolian vowel separator
         (cp >= 0x200B && cp <= 0x200F) ||            // zero widths, LRM, RLM
         (cp >= 0x2028 && cp <= 0x202E) ||            // separators, embeddings, overrides
         (cp >= 0x2060 && cp <= 0x206F) ||            // word joiner, isolates, deprecated
         cp == 0xFEFF ||                              // byte order mark
         (cp >= 0xFFF9 && cp <= 0xFFFB) ||            // interlinear annotation
         (cp >= 0xE0000 && cp <= 0xE007F);            // tags
}

}  // namespace

std::string EscapeForLog(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 16);
  size_t i = 0;
  while (i < text.size() && i < max_bytes) {
    const size_t start = i;
    const int32_t cp = DecodeUtf8(text, &i);
    char escaped[16];
    if (cp < 0 || cp < 0x20 || cp == 0x7F) {
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(text[start]));
      out += escaped;
    } else if (IsUnshowable(cp)) {
      std::snprintf(escaped, sizeof(escaped), "\\u{%04x}", static_cast<unsigned>(cp));
      out += escaped;
    } else if (cp == '\\') {
      out += "\\\\";
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  if (i < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

size_t FindUnshowable(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t start = i;
    const int32_t cp = DecodeUtf8(text, &i);
    if (cp < 0 || IsUnshowable(cp)) return start;
  }
  return std::string_view::npos;
}

}  // namespace parzen
