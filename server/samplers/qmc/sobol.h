// SobolSequence: the Sobol low-discrepancy sequence with Joe and Kuo's
// direction numbers, in SciPy's Gray-code order, optionally scrambled as
// SciPy's scramble=True does (a random lower-triangular matrix per
// dimension, then a random digital shift), which keeps its net structure.
// Immutable after construction: thread-safe.
#ifndef PARZEN_SERVER_SAMPLERS_QMC_SOBOL_H_
#define PARZEN_SERVER_SAMPLERS_QMC_SOBOL_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace parzen::qmc {

inline constexpr int kSobolBits = 30;
inline constexpr int kMaxSobolDims = 1024;

class SobolSequence {
 public:
  // REQUIRES: 1 <= dims <= kMaxSobolDims. `scramble_seed`: nullopt for
  // the plain sequence, whose point 0 is the origin.
  SobolSequence(int dims, std::optional<uint64_t> scramble_seed);

  int dims() const { return dims_; }
  // Coordinate `dim` of point `index` as a kSobolBits-bit fraction: the
  // point is Coordinate / 2^kSobolBits, in [0, 1). REQUIRES: index < 2^30.
  uint32_t Coordinate(uint64_t index, int dim) const;

 private:
  int dims_;
  std::vector<uint32_t> v_;  // dims x kSobolBits direction numbers
  std::vector<uint32_t> shift_;
};

}  // namespace parzen::qmc

#endif  // PARZEN_SERVER_SAMPLERS_QMC_SOBOL_H_
