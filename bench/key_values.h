// KeyValues: the fields of a line the Python references print
// ("optuna function=branin seed=3 best25=0.52"), by key; words without '='
// are skipped.
#ifndef PARZEN_BENCH_KEY_VALUES_H_
#define PARZEN_BENCH_KEY_VALUES_H_

#include <map>
#include <string>

namespace parzen::bench {

std::map<std::string, std::string> KeyValues(const std::string& line);

}  // namespace parzen::bench

#endif  // PARZEN_BENCH_KEY_VALUES_H_
