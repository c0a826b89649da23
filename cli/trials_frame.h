// TrialsFrame: a study's trials laid out as Optuna's
// Study.trials_dataframe() lays them out, so a CSV written here reads back
// in pandas with the columns an Optuna user's code already names: number,
// value (values_0, values_1, ... for several objectives), datetime_start,
// datetime_complete, duration, params_<name>, user_attrs_<key>, on request
// system_attrs_<key>, and state; the nested columns in name order, each
// present when some trial has it. Cells keep their types, so CSV, JSON and
// the table print the same frame.
#ifndef PARZEN_CLI_TRIALS_FRAME_H_
#define PARZEN_CLI_TRIALS_FRAME_H_

#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/frozen_trial.h"
#include "common/status.h"

namespace parzen::cli {

// A missing cell is monostate (pandas' NaN / NaT / None). Datetimes and
// durations are text already, as pandas writes them.
using Cell = std::variant<std::monostate, double, int64_t, bool, std::string>;

struct TrialsFrame {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

struct FrameOptions {
  size_t objectives = 1;
  bool system_attrs = false;
  // Only these parameters / user attributes (names without the prefix);
  // empty: every one the trials have.
  std::vector<std::string> params, user_attrs;
};

TrialsFrame MakeTrialsFrame(const std::vector<FrozenTrial>& trials, const FrameOptions& options);

// Orders the rows by `spec`, a column name, ascending, or "NAME:desc";
// missing cells last either way, ties in number order. InvalidArgument for
// a column the frame does not have.
absl::Status SortFrame(TrialsFrame& frame, const std::string& spec);

// RFC 4180, a header line then a line per trial, as pandas' to_csv(index=False)
// writes the frame: floats in their shortest round-trip form, missing cells
// empty, True / False.
std::string FrameCsv(const TrialsFrame& frame);
// An array of objects, one per row, keyed by column; missing cells and
// values JSON cannot hold (NaN, inf) are null.
nlohmann::json FrameJson(const TrialsFrame& frame);
// For people: aligned columns, floats to 6 significant digits, times to
// the second.
std::string FrameTable(const TrialsFrame& frame);

}  // namespace parzen::cli

#endif  // PARZEN_CLI_TRIALS_FRAME_H_
