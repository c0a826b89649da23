// Which parameters TPE samples jointly: Optuna's intersection search space
// (the parameters every finished trial holds, with the same distribution)
// and its group decomposition for conditional spaces (parameters that
// always appear together form a group). Pure functions: thread-safe.
#ifndef PARZEN_SERVER_SAMPLERS_TPE_SEARCH_SPACE_GROUPS_H_
#define PARZEN_SERVER_SAMPLERS_TPE_SEARCH_SPACE_GROUPS_H_

#include <vector>

#include "common/search_space.h"
#include "common/study_history.h"

namespace parzen::tpe {

// The parts of `space` to sample jointly, each in name order, from the
// COMPLETE and PRUNED trials of `study`: one part, their intersection, or
// with `group` one per group of parameters that always appear together.
// A parameter is left out (sampled on its own) when the Ask names it with
// another distribution than the trials hold it with, or when it has a
// single value.
std::vector<SearchSpace> RelativeSearchSpaces(const StudyHistory& study, const SearchSpace& space,
                                              bool group);

}  // namespace parzen::tpe

#endif  // PARZEN_SERVER_SAMPLERS_TPE_SEARCH_SPACE_GROUPS_H_
