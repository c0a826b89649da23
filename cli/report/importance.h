// Parameter importance for the report: for each parameter, the share of
// the objective's variance that its binned mean explains (the correlation
// ratio Var(E[y | bin]) / Var(y), less what as many bins explain by chance:
// epsilon squared), which is the first-order term of a functional ANOVA,
// the quantity fANOVA reports, estimated from bins rather than from a
// random forest. Numeric parameters fall into equal-count bins (so a log
// scale makes no difference), categorical ones bin by choice. Normalised
// to sum to 1, as Optuna's importances are.
#ifndef PARZEN_CLI_REPORT_IMPORTANCE_H_
#define PARZEN_CLI_REPORT_IMPORTANCE_H_

#include <string>
#include <vector>

#include "common/frozen_trial.h"

namespace parzen::cli {

struct Importance {
  std::string name;
  double importance = 0;
};

// Over the COMPLETE trials' first objective; parameters a trial lacks are
// left out of that parameter's estimate. Most important first (ties by
// name). Empty with fewer than 2 COMPLETE trials or a constant objective.
std::vector<Importance> ParameterImportances(const std::vector<FrozenTrial>& trials);

}  // namespace parzen::cli

#endif  // PARZEN_CLI_REPORT_IMPORTANCE_H_
