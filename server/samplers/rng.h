// Rng: the samplers' random numbers. Small, fast and seeded explicitly
// (xoshiro256** seeded through SplitMix64), so a sampler seeded by (study
// seed, trial number, purpose) draws the same numbers on every machine and
// shares no state with any other draw. Not thread-safe: one per draw.
#ifndef PARZEN_SERVER_SAMPLERS_RNG_H_
#define PARZEN_SERVER_SAMPLERS_RNG_H_

#include <cstdint>
#include <string_view>

namespace parzen {

// One step of SplitMix64: a well-mixed 64-bit word from `state`.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A 64-bit hash of (seed, trial number, name): the seed of one draw.
inline uint64_t DrawSeed(uint64_t seed, int64_t trial_number, std::string_view name) {
  // FNV-1a over the name, mixed with the seed and trial number through
  // SplitMix64 so nearby inputs give unrelated streams.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  uint64_t state = seed ^ (static_cast<uint64_t>(trial_number) * 0xd1b54a32d192ed03ULL) ^ h;
  return SplitMix64(state);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) word = SplitMix64(seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1), 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(Uniform() * static_cast<double>(n)); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SAMPLERS_RNG_H_
