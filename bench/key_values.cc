#include "bench/key_values.h"

#include <sstream>

namespace parzen::bench {

std::map<std::string, std::string> KeyValues(const std::string& line) {
  std::map<std::string, std::string> fields;
  std::istringstream words(line);
  for (std::string word; words >> word;) {
    if (auto eq = word.find('='); eq != std::string::npos) fields[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return fields;
}

}  // namespace parzen::bench
