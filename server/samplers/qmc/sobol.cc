#include "server/samplers/qmc/sobol.h"

#include <bit>

#include "server/samplers/rng.h"

namespace parzen::qmc {
namespace {

struct DirectionRow {
  uint32_t poly;
  std::vector<uint32_t> m;
};

const DirectionRow kDirections[] = {
#include "server/samplers/qmc/sobol_directions.inc"
};
static_assert(std::size(kDirections) == kMaxSobolDims - 1);

// Direction numbers of one dimension before scaling (Bratley and Fox,
// Algorithm 659, as SciPy's _initialize_v).
void Initialize(const DirectionRow& row, uint32_t* v) {
  const int degree = std::bit_width(row.poly) - 1;
  for (int j = 0; j < degree; ++j) v[j] = row.m[j];
  for (int j = degree; j < kSobolBits; ++j) {
    uint32_t next = v[j - degree];
    uint32_t pow2 = 1;
    for (int k = 0; k < degree; ++k) {
      pow2 <<= 1;
      if ((row.poly >> (degree - 1 - k)) & 1) next ^= pow2 * v[j - k - 1];
    }
    v[j] = next;
  }
}

}  // namespace

SobolSequence::SobolSequence(int dims, std::optional<uint64_t> scramble_seed)
    : dims_(dims), v_(static_cast<size_t>(dims) * kSobolBits), shift_(dims, 0) {
  for (int d = 0; d < dims; ++d) {
    uint32_t* v = &v_[static_cast<size_t>(d) * kSobolBits];
    if (d == 0) {
      for (int j = 0; j < kSobolBits; ++j) v[j] = 1;
    } else {
      Initialize(kDirections[d - 1], v);
    }
    // Column j carries weight 2^-(j+1): shift into place.
    for (int j = 0; j < kSobolBits; ++j) v[j] <<= (kSobolBits - 1 - j);
    if (!scramble_seed) continue;
    Rng rng(DrawSeed(*scramble_seed, d, "sobol scramble"));
    // Output bit k (k = 0 the most significant) is the parity of the input
    // bits 0..k picked by row k of a random unit lower-triangular matrix.
    uint32_t rows[kSobolBits];
    for (int k = 0; k < kSobolBits; ++k) {
      const uint32_t at_k = 1u << (kSobolBits - 1 - k);
      const uint32_t above = ~((at_k << 1) - 1) & ((1u << kSobolBits) - 1);  // bits 0..k-1
      rows[k] = (static_cast<uint32_t>(rng.Next()) & above) | at_k;
    }
    for (int j = 0; j < kSobolBits; ++j) {
      uint32_t scrambled = 0;
      for (int k = 0; k < kSobolBits; ++k) {
        if (std::popcount(v[j] & rows[k]) & 1) scrambled |= 1u << (kSobolBits - 1 - k);
      }
      v[j] = scrambled;
    }
    shift_[d] = static_cast<uint32_t>(rng.Next()) & ((1u << kSobolBits) - 1);
  }
}

uint32_t SobolSequence::Coordinate(uint64_t index, int dim) const {
  const uint64_t gray = index ^ (index >> 1);
  const uint32_t* v = &v_[static_cast<size_t>(dim) * kSobolBits];
  uint32_t x = shift_[dim];
  for (int j = 0; j < kSobolBits && (gray >> j) != 0; ++j) {
    if ((gray >> j) & 1) x ^= v[j];
  }
  return x;
}

}  // namespace parzen::qmc
