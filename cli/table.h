// Table: left-aligned text columns sized to their widest cell, for the
// CLI's listings.
#ifndef PARZEN_CLI_TABLE_H_
#define PARZEN_CLI_TABLE_H_

#include <string>
#include <vector>

namespace parzen::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  // Missing cells print empty; extra cells are dropped.
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string ToString() const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

}  // namespace parzen::cli

#endif  // PARZEN_CLI_TABLE_H_
