// Text that comes from clients (study and parameter names, worker ids,
// fail reasons, attribute keys) as the server shows it to its operator.
// Every log line that carries such text passes it through EscapeForLog,
// so no client can forge a log line, drive the operator's terminal with
// escape sequences, or reorder what the line shows with bidirectional
// overrides. Names refuse those characters outright (FindUnshowable).
#ifndef PARZEN_COMMON_CLIENT_TEXT_H_
#define PARZEN_COMMON_CLIENT_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace parzen {

// `text` with backslashes doubled, C0 controls, DEL and invalid UTF-8
// bytes as \xNN, and C1 controls and the other unshowable code points
// (below) as \u{xxxx} in lower-case hex: one line, safe for a terminal.
// Beyond `max_bytes` of input it stops and says how long the text was.
std::string EscapeForLog(std::string_view text, size_t max_bytes = 256);

// The byte offset of the first character a name may not hold: a C0 or C1
// control, DEL, a line or paragraph separator, a bidirectional control or
// an invisible format character (zero-width spaces and joiners, word
// joiner, byte order mark, tags), or a byte that is not UTF-8.
// std::string_view::npos when there is none.
size_t FindUnshowable(std::string_view text);

}  // namespace parzen

#endif  // PARZEN_COMMON_CLIENT_TEXT_H_
