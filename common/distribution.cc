#include "common/distribution.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/client_text.h"
#include "common/utf8.h"

namespace parzen {
namespace {

using Json = nlohmann::json;

// Emulating Python's 28-digit decimal context needs more than 64 bits.
__extension__ typedef __int128 Int128;

// 2^63 is exactly representable as a double; int64 covers [-2^63, 2^63).
constexpr double kTwoPow63 = 9223372036854775808.0;

// Choices listed in error messages and FormatDistribution; a server must not
// echo an unbounded user list back into logs.
constexpr size_t kMaxListedChoices = 20;

bool FitsInt64(double v) { return v >= -kTwoPow63 && v < kTwoPow63; }

// Exact conversion of an integral double to int64, or nullopt.
std::optional<int64_t> ExactInt64(double v) {
  if (!std::isfinite(v) || std::trunc(v) != v || !FitsInt64(v)) return std::nullopt;
  return static_cast<int64_t>(v);
}

// --- Python float repr -------------------------------------------------------

// Shortest round-trip digits of |v| (no leading/trailing zeros except for
// 0) and the decimal exponent of the first digit: v = d.ddd x 10^exp.
struct ShortestDigits {
  bool negative = false;
  std::string digits;
  int exp = 0;
};

ShortestDigits ToShortestDigits(double v) {
  char buf[64];
  // Scientific form of the shortest round-trip representation, e.g. "-1.5e-07".
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  (void)ec;  // 64 bytes always suffice for a finite double.
  std::string_view s(buf, static_cast<size_t>(end - buf));
  ShortestDigits out;
  size_t i = 0;
  if (s[i] == '-') {
    out.negative = true;
    ++i;
  }
  for (; i < s.size() && s[i] != 'e'; ++i) {
    if (s[i] != '.') out.digits.push_back(s[i]);
  }
  ++i;  // 'e'
  int exp = 0;
  std::from_chars(s.data() + i + (s[i] == '+' ? 1 : 0), s.data() + s.size(), exp);
  out.exp = exp;
  return out;
}

// Python's repr(float), which json.dumps also uses: shortest round-trip
// digits; scientific notation when the exponent is < -4 or >= 16.
std::string PyFloatRepr(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  ShortestDigits d = ToShortestDigits(v);
  std::string out = d.negative ? "-" : "";
  if (d.exp < -4 || d.exp >= 16) {
    out += d.digits[0];
    if (d.digits.size() > 1) {
      out += '.';
      out.append(d.digits, 1);
    }
    out += d.exp < 0 ? "e-" : "e+";
    int abs_exp = d.exp < 0 ? -d.exp : d.exp;
    if (abs_exp < 10) out += '0';
    out += std::to_string(abs_exp);
  } else if (d.exp >= 0) {
    size_t int_len = static_cast<size_t>(d.exp) + 1;
    std::string digits = d.digits;
    if (digits.size() < int_len) digits.append(int_len - digits.size(), '0');
    out.append(digits, 0, int_len);
    out += '.';
    out += digits.size() > int_len ? digits.substr(int_len) : "0";
  } else {
    out += "0.";
    out.append(static_cast<size_t>(-d.exp - 1), '0');
    out += d.digits;
  }
  return out;
}

// --- Strings -------------------------------------------------------------------


void AppendU16Escape(uint32_t unit, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->append("\\u");
  for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(unit >> shift) & 0xF]);
}

// Python's json.dumps(s) with ensure_ascii=True: everything outside
// printable ASCII becomes \uXXXX (lowercase hex, UTF-16 surrogate pairs).
// Malformed UTF-8 (impossible after validation) becomes U+FFFD.
std::string PyJsonString(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    int32_t cp = DecodeUtf8(s, &i);
    if (cp < 0) cp = 0xFFFD;
    switch (cp) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (cp >= 0x20 && cp <= 0x7E) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x10000) {
      AppendU16Escape(static_cast<uint32_t>(cp), &out);
    } else {
      uint32_t v = static_cast<uint32_t>(cp) - 0x10000;
      AppendU16Escape(0xD800 + (v >> 10), &out);
      AppendU16Escape(0xDC00 + (v & 0x3FF), &out);
    }
  }
  out += '"';
  return out;
}

// --- Grid snapping -------------------------------------------------------------
//
// Optuna snaps a stepped float range with Python's decimal module on the
// shortest representations (Decimal(str(x))), so that e.g. [0, 1] with step
// 0.1 keeps high == 1.0 where binary floating point would give 0.9. The
// helpers below reproduce that arithmetic: the default context's 28
// significant digits, ROUND_HALF_EVEN, and DivisionImpossible once the
// integer quotient needs more than 28 digits.

constexpr int kDecimalPrecision = 28;

// value = coef * 10^exp; |coef| < 10^38.
struct Decimal {
  Int128 coef = 0;
  int exp = 0;
};

Int128 Pow10(int n) {  // REQUIRES: 0 <= n <= 38
  Int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

Int128 Abs(Int128 v) { return v < 0 ? -v : v; }

int NumDigits(Int128 v) {
  v = Abs(v);
  int n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

Decimal ToDecimal(double v) {
  ShortestDigits d = ToShortestDigits(v);
  Decimal out;
  for (char c : d.digits) out.coef = out.coef * 10 + (c - '0');
  if (d.negative) out.coef = -out.coef;
  out.exp = d.exp - static_cast<int>(d.digits.size() - 1);
  return out;
}

// Correctly rounded, like Python's float(Decimal).
double ToDouble(const Decimal& d) {
  std::string s;
  Int128 v = Abs(d.coef);
  do {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  if (d.coef < 0) s.push_back('-');
  s = std::string(s.rbegin(), s.rend()) + "e" + std::to_string(d.exp);
  double out = 0;
  std::from_chars(s.data(), s.data() + s.size(), out);
  return out;
}

// Rounds to the context precision, half to even.
Decimal Round(Decimal d) {
  int excess = NumDigits(d.coef) - kDecimalPrecision;
  if (excess <= 0) return d;
  const Int128 unit = Pow10(excess);
  Int128 q = d.coef / unit;
  const Int128 twice_rem = Abs(d.coef % unit) * 2;
  if (twice_rem > unit || (twice_rem == unit && q % 2 != 0)) q += d.coef < 0 ? -1 : 1;
  d.coef = q;
  d.exp += excess;
  if (NumDigits(d.coef) > kDecimalPrecision) {  // carried into a new digit: 10^28
    d.coef /= 10;
    ++d.exp;
  }
  return d;
}

// a + b rounded once, as Decimal addition does. Operands have at most 31
// digits. When their exponents are too far apart for 128 bits, the digits of
// the smaller one below the 36-digit working window only matter through a
// sticky digit, which still decides the rounding correctly: the result is
// rounded at least 5 digits above that window.
Decimal AddRounded(const Decimal& a, const Decimal& b) {
  if (a.coef == 0) return Round(b);
  if (b.coef == 0) return Round(a);
  constexpr int kWindow = 36;  // 2 * 10^37 stays below 1.7 * 10^38 after the sticky digit
  const int top = std::max(a.exp + NumDigits(a.coef), b.exp + NumDigits(b.coef));
  int e = std::min(a.exp, b.exp);
  if (top - e <= kWindow) {
    return Round({a.coef * Pow10(a.exp - e) + b.coef * Pow10(b.exp - e), e});
  }
  e = top - kWindow;
  Int128 sum = 0;
  int sticky = 0;
  for (const Decimal* d : {&a, &b}) {
    if (d->exp >= e) {
      sum += d->coef * Pow10(d->exp - e);
      continue;
    }
    const int shift = e - d->exp;
    const Int128 unit = shift > 38 ? 0 : Pow10(shift);
    const Int128 kept = unit == 0 ? 0 : d->coef / unit;
    sum += kept;
    if (kept * unit != d->coef) sticky = d->coef < 0 ? -1 : 1;
  }
  if (sticky == 0) return Round({sum, e});
  return Round({sum * 10 + sticky, e - 1});
}

// k * s rounded once. REQUIRES: 0 <= k < 10^28, 0 < s.coef < 10^17.
Decimal MulRounded(Int128 k, const Decimal& s) {
  if (k < Pow10(21)) return Round({k * s.coef, s.exp});
  // Split k so both partial products fit in 128 bits.
  const Int128 unit = Pow10(14);
  return AddRounded({k / unit * s.coef, s.exp + 14}, {k % unit * s.coef, s.exp});
}

struct Quotient {
  Int128 k = 0;        // floor(r / s)
  bool exact = false;  // r % s == 0
};

// Decimal's r // s and r % s. nullopt when the quotient needs more than 28
// digits (Python raises InvalidOperation). REQUIRES: r >= 0, s > 0, and at
// most 28 and 17 digits respectively.
std::optional<Quotient> DivMod(const Decimal& r, const Decimal& s) {
  Quotient q;
  if (r.exp <= s.exp) {
    const int shift = s.exp - r.exp;
    if (NumDigits(s.coef) + shift > 37) {
      q.exact = r.coef == 0;  // s >= 10^36 units of r's exponent > r
      return q;
    }
    const Int128 divisor = s.coef * Pow10(shift);
    q.k = r.coef / divisor;
    q.exact = r.coef % divisor == 0;
    return q;
  }
  // Long division: r's exponent contributes `shift` trailing zeros, fed in
  // chunks small enough that remainder * 10^chunk stays below 10^37.
  const Int128 limit = Pow10(kDecimalPrecision);
  q.k = r.coef / s.coef;
  Int128 rem = r.coef % s.coef;
  for (int shift = r.exp - s.exp; shift > 0;) {
    const int chunk = std::min(shift, 20);
    if (q.k >= Pow10(kDecimalPrecision - chunk)) return std::nullopt;
    rem *= Pow10(chunk);
    q.k = q.k * Pow10(chunk) + rem / s.coef;
    rem %= s.coef;
    shift -= chunk;
  }
  if (q.k >= limit) return std::nullopt;
  q.exact = rem == 0;
  return q;
}

struct GridFit {
  bool below_one_step = false;  // high - low < step
  double snapped_high = 0;      // low + floor((high - low) / step) * step
};

// Optuna's _adjust_discrete_uniform_high and the (high - low) < step test of
// FloatDistribution.single. nullopt when (high - low) / step has more than 28
// integer digits, where Optuna raises. REQUIRES: finite values, low <= high,
// step > 0.
std::optional<GridFit> FitToGrid(double low, double high, double step) {
  const Decimal l = ToDecimal(low);
  const Decimal s = ToDecimal(step);
  const Decimal range = AddRounded(ToDecimal(high), {-l.coef, l.exp});
  std::optional<Quotient> q = DivMod(range, s);
  if (!q.has_value()) return std::nullopt;
  GridFit fit;
  fit.below_one_step = q->k == 0;
  // An exact fit keeps the caller's double untouched, as Optuna does.
  fit.snapped_high = q->exact ? high : ToDouble(AddRounded(MulRounded(q->k, s), l));
  return fit;
}

// high - low without signed overflow; REQUIRES low <= high.
uint64_t IntRange(int64_t low, int64_t high) {
  return static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
}

// --- Categorical choices ---------------------------------------------------------

// Numbers compare by value across int64/double (Python's 1 == 1.0), exactly
// (no rounding of large int64). Bools stay distinct from numbers: JSON and
// the wire keep the type, and true matching choice 1 would be a surprise.
bool ChoiceEqual(const ParamValue& a, const ParamValue& b) {
  if (a.index() == b.index()) return a == b;
  const double* d = std::get_if<double>(&a);
  const int64_t* i = std::get_if<int64_t>(&b);
  if (d == nullptr) {
    d = std::get_if<double>(&b);
    i = std::get_if<int64_t>(&a);
  }
  if (d == nullptr || i == nullptr) return false;
  std::optional<int64_t> exact = ExactInt64(*d);
  return exact.has_value() && *exact == *i;
}

// A key under which equal choices (ChoiceEqual) collide.
using ChoiceKey = std::variant<bool, int64_t, double, std::string>;

ChoiceKey KeyOf(const ParamValue& v) {
  if (const double* d = std::get_if<double>(&v)) {
    if (std::optional<int64_t> exact = ExactInt64(*d)) return *exact;
    return *d;
  }
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  return std::get<std::string>(v);
}

std::string FormatChoices(const std::vector<ParamValue>& choices) {
  std::string out = "{";
  for (size_t i = 0; i < choices.size() && i < kMaxListedChoices; ++i) {
    if (i > 0) out += ", ";
    out += FormatValue(choices[i]);
  }
  if (choices.size() > kMaxListedChoices) {
    out += ", ... (" + std::to_string(choices.size() - kMaxListedChoices) + " more)";
  }
  return out + "}";
}

std::string_view KindName(const Distribution& d) {
  switch (d.index()) {
    case 0:
      return "FloatDistribution";
    case 1:
      return "IntDistribution";
    default:
      return "CategoricalDistribution";
  }
}

// --- Validation -----------------------------------------------------------------

constexpr double kMaxExactInteger = static_cast<double>(kMaxExactInt);

absl::Status ValidateFloat(FloatDistribution& d) {
  if (!std::isfinite(d.low)) {
    return absl::InvalidArgumentError("low (" + PyFloatRepr(d.low) + ") must be finite");
  }
  if (!std::isfinite(d.high)) {
    return absl::InvalidArgumentError("high (" + PyFloatRepr(d.high) + ") must be finite");
  }
  if (d.step.has_value() && !std::isfinite(*d.step)) {
    return absl::InvalidArgumentError("step (" + PyFloatRepr(*d.step) + ") must be finite");
  }
  if (d.log && d.step.has_value()) {
    return absl::InvalidArgumentError("step (" + PyFloatRepr(*d.step) +
                                      ") is not supported when log is true; drop the step or "
                                      "use a linear distribution");
  }
  if (d.low > d.high) {
    return absl::InvalidArgumentError("low (" + PyFloatRepr(d.low) + ") must be <= high (" +
                                      PyFloatRepr(d.high) + ")");
  }
  if (d.log && d.low <= 0) {
    return absl::InvalidArgumentError("low (" + PyFloatRepr(d.low) +
                                      ") must be > 0 when log is true");
  }
  if (d.step.has_value()) {
    if (*d.step <= 0) {
      return absl::InvalidArgumentError("step (" + PyFloatRepr(*d.step) + ") must be > 0");
    }
    std::optional<GridFit> fit = FitToGrid(d.low, d.high, *d.step);
    if (!fit.has_value()) {
      return absl::InvalidArgumentError(
          "step (" + PyFloatRepr(*d.step) + ") is too small for the range [" + PyFloatRepr(d.low) +
          ", " + PyFloatRepr(d.high) + "]: (high - low) / step must be below 1e+28");
    }
    d.high = fit->snapped_high;
    // Parameters travel as doubles: a grid finer than a double can index
    // could not be sampled exactly.
    if ((d.high - d.low) / *d.step > kMaxExactInteger) {
      return absl::InvalidArgumentError("step (" + PyFloatRepr(*d.step) +
                                        ") makes more than 2^53 grid points; use a larger step");
    }
  }
  if (!std::isfinite(d.high - d.low)) {
    return absl::InvalidArgumentError("the range [" + PyFloatRepr(d.low) + ", " +
                                      PyFloatRepr(d.high) + "] is wider than a double can hold");
  }
  return absl::OkStatus();
}

absl::Status ValidateInt(IntDistribution& d) {
  // Compared as integers: 2^53 + 1 becomes 2^53 as a double and would pass.
  if (d.low < -kMaxExactInt || d.low > kMaxExactInt || d.high < -kMaxExactInt ||
      d.high > kMaxExactInt) {
    return absl::InvalidArgumentError("int bounds must lie within +-2^53 (9007199254740992), got [" +
                                      std::to_string(d.low) + ", " + std::to_string(d.high) + "]");
  }
  if (d.log && d.step != 1) {
    return absl::InvalidArgumentError("step (" + std::to_string(d.step) +
                                      ") must be 1 when log is true");
  }
  if (d.low > d.high) {
    return absl::InvalidArgumentError("low (" + std::to_string(d.low) + ") must be <= high (" +
                                      std::to_string(d.high) + ")");
  }
  if (d.log && d.low < 1) {
    return absl::InvalidArgumentError("low (" + std::to_string(d.low) +
                                      ") must be >= 1 when log is true");
  }
  if (d.step <= 0) {
    return absl::InvalidArgumentError("step (" + std::to_string(d.step) + ") must be >= 1");
  }
  uint64_t range = IntRange(d.low, d.high);
  uint64_t step = static_cast<uint64_t>(d.step);
  d.high = static_cast<int64_t>(static_cast<uint64_t>(d.low) + range / step * step);
  return absl::OkStatus();
}

absl::Status ValidateCategorical(const CategoricalDistribution& d) {
  if (d.choices.empty()) {
    return absl::InvalidArgumentError("choices must contain at least one element");
  }
  std::map<ChoiceKey, size_t> seen;
  for (size_t i = 0; i < d.choices.size(); ++i) {
    const ParamValue& c = d.choices[i];
    const std::string where = "choices[" + std::to_string(i) + "]";
    if (const double* v = std::get_if<double>(&c); v != nullptr && !std::isfinite(*v)) {
      // NaN never equals itself, so it could not be mapped back to an index;
      // neither NaN nor infinity has a JSON representation.
      return absl::InvalidArgumentError(where + " (" + PyFloatRepr(*v) + ") must be finite");
    }
    if (const std::string* s = std::get_if<std::string>(&c); s != nullptr && !IsValidUtf8(*s)) {
      return absl::InvalidArgumentError(where + " is not valid UTF-8");
    }
    auto [it, inserted] = seen.emplace(KeyOf(c), i);
    if (!inserted) {
      const ParamValue& first = d.choices[it->second];
      return absl::InvalidArgumentError("choices must be distinct, but choices[" +
                                        std::to_string(it->second) + "] (" + FormatValue(first) +
                                        ") and " + where + " (" + FormatValue(c) + ") are equal");
    }
  }
  return absl::OkStatus();
}

// --- JSON parsing ---------------------------------------------------------------

absl::Status FieldError(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError("\"" + std::string(field) + "\" " + std::string(what));
}

absl::StatusOr<double> ReadDouble(const Json& j, std::string_view field) {
  if (!j.is_number()) {
    return FieldError(field, "must be a number, got " + std::string(j.type_name()));
  }
  return j.get<double>();
}

absl::StatusOr<int64_t> ReadInt(const Json& j, std::string_view field) {
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(field, "(" + std::to_string(v) + ") does not fit in a 64-bit integer");
    }
    return static_cast<int64_t>(v);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_float()) {
    // Python's int() accepts 16.0; only integral values are unambiguous.
    double v = j.get<double>();
    if (std::optional<int64_t> exact = ExactInt64(v)) return *exact;
    return FieldError(field, "must be an integer, got " + PyFloatRepr(v));
  }
  return FieldError(field, "must be an integer, got " + std::string(j.type_name()));
}

absl::StatusOr<bool> ReadBool(const Json& j, std::string_view field) {
  if (!j.is_boolean()) {
    return FieldError(field, "must be true or false, got " + std::string(j.type_name()));
  }
  return j.get<bool>();
}

absl::StatusOr<ParamValue> ReadChoice(const Json& j, size_t index) {
  const std::string field = "choices[" + std::to_string(index) + "]";
  if (j.is_string()) return ParamValue(j.get<std::string>());
  if (j.is_boolean()) return ParamValue(j.get<bool>());
  if (j.is_number_integer()) {
    PARZEN_ASSIGN_OR_RETURN(int64_t v, ReadInt(j, field));
    return ParamValue(v);
  }
  if (j.is_number_float()) return ParamValue(j.get<double>());
  return FieldError(field,
                    "must be a string, number or boolean, got " + std::string(j.type_name()));
}

absl::StatusOr<std::vector<ParamValue>> ReadChoices(const Json& j) {
  if (!j.is_array()) {
    return FieldError("choices", "must be an array, got " + std::string(j.type_name()));
  }
  std::vector<ParamValue> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    PARZEN_ASSIGN_OR_RETURN(ParamValue v, ReadChoice(j[i], i));
    out.push_back(std::move(v));
  }
  return out;
}

// Rejects keys outside `allowed` (Python would raise TypeError for an
// unexpected keyword) and requires those in `required`.
absl::Status CheckKeys(const Json& obj, std::string_view context,
                       std::initializer_list<std::string_view> allowed,
                       std::initializer_list<std::string_view> required) {
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string expected;
      for (std::string_view a : allowed) {
        expected += expected.empty() ? "" : ", ";
        expected += a;
      }
      return absl::InvalidArgumentError("unknown key \"" + key + "\" in " + std::string(context) +
                                        " (expected " + expected + ")");
    }
  }
  for (std::string_view r : required) {
    if (!obj.contains(r)) {
      return absl::InvalidArgumentError("missing \"" + std::string(r) + "\" in " +
                                        std::string(context));
    }
  }
  return absl::OkStatus();
}

// Float fields shared by every float-valued class; `step_key` is "q" for
// DiscreteUniformDistribution. A null step means continuous.
absl::StatusOr<FloatDistribution> ReadFloat(const Json& obj, bool log, std::string_view step_key) {
  FloatDistribution d;
  PARZEN_ASSIGN_OR_RETURN(d.low, ReadDouble(obj.at("low"), "low"));
  PARZEN_ASSIGN_OR_RETURN(d.high, ReadDouble(obj.at("high"), "high"));
  d.log = log;
  if (obj.contains("log")) {
    PARZEN_ASSIGN_OR_RETURN(d.log, ReadBool(obj.at("log"), "log"));
  }
  const std::string key(step_key);
  if (!key.empty() && obj.contains(key) && !obj.at(key).is_null()) {
    PARZEN_ASSIGN_OR_RETURN(d.step, ReadDouble(obj.at(key), key));
  }
  return d;
}

absl::StatusOr<IntDistribution> ReadIntDist(const Json& obj, bool log, bool null_step_ok) {
  IntDistribution d;
  PARZEN_ASSIGN_OR_RETURN(d.low, ReadInt(obj.at("low"), "low"));
  PARZEN_ASSIGN_OR_RETURN(d.high, ReadInt(obj.at("high"), "high"));
  d.log = log;
  if (obj.contains("log")) {
    PARZEN_ASSIGN_OR_RETURN(d.log, ReadBool(obj.at("log"), "log"));
  }
  if (obj.contains("step") && !(null_step_ok && obj.at("step").is_null())) {
    PARZEN_ASSIGN_OR_RETURN(d.step, ReadInt(obj.at("step"), "step"));
  }
  return d;
}

absl::StatusOr<Distribution> ParseNamed(const Json& root) {
  const Json& name_json = root.at("name");
  if (!name_json.is_string()) {
    return FieldError("name", "must be a string, got " + std::string(name_json.type_name()));
  }
  const std::string name = name_json.get<std::string>();
  if (!root.contains("attributes")) {
    return absl::InvalidArgumentError("missing \"attributes\" for " + name);
  }
  const Json& a = root.at("attributes");
  if (!a.is_object()) {
    return FieldError("attributes", "must be an object, got " + std::string(a.type_name()));
  }
  const std::string ctx = name + " attributes";
  if (name == "FloatDistribution") {
    PARZEN_RETURN_IF_ERROR(CheckKeys(a, ctx, {"low", "high", "log", "step"}, {"low", "high"}));
    return ReadFloat(a, false, "step");
  }
  if (name == "IntDistribution") {
    PARZEN_RETURN_IF_ERROR(CheckKeys(a, ctx, {"low", "high", "log", "step"}, {"low", "high"}));
    return ReadIntDist(a, false, false);
  }
  if (name == "CategoricalDistribution") {
    PARZEN_RETURN_IF_ERROR(CheckKeys(a, ctx, {"choices"}, {"choices"}));
    PARZEN_ASSIGN_OR_RETURN(std::vector<ParamValue> choices, ReadChoices(a.at("choices")));
    return CategoricalDistribution{std::move(choices)};
  }
  if (name == "UniformDistribution" || name == "LogUniformDistribution") {
    PARZEN_RETURN_IF_ERROR(CheckKeys(a, ctx, {"low", "high"}, {"low", "high"}));
    return ReadFloat(a, name == "LogUniformDistribution", "");
  }
  if (name == "DiscreteUniformDistribution") {
    PARZEN_RETURN_IF_ERROR(CheckKeys(a, ctx, {"low", "high", "q"}, {"low", "high", "q"}));
    if (a.at("q").is_null()) return FieldError("q", "must be a number, got null");
    return ReadFloat(a, false, "q");
  }
  if (name == "IntUniformDistribution" || name == "IntLogUniformDistribution") {
    PARZEN_RETURN_IF_ERROR(CheckKeys(a, ctx, {"low", "high", "step"}, {"low", "high"}));
    return ReadIntDist(a, name == "IntLogUniformDistribution", false);
  }
  return absl::InvalidArgumentError(
      "unknown distribution class \"" + name +
      "\" (expected FloatDistribution, IntDistribution, CategoricalDistribution or a legacy "
      "Uniform/LogUniform/DiscreteUniform/IntUniform/IntLogUniformDistribution)");
}

absl::StatusOr<Distribution> ParseAbbreviated(const Json& root) {
  const Json& type_json = root.at("type");
  if (!type_json.is_string()) {
    return FieldError("type", "must be a string, got " + std::string(type_json.type_name()));
  }
  const std::string type = type_json.get<std::string>();
  const std::string ctx = "\"" + type + "\" distribution";
  if (type == "categorical") {
    PARZEN_RETURN_IF_ERROR(CheckKeys(root, ctx, {"type", "choices"}, {"choices"}));
    PARZEN_ASSIGN_OR_RETURN(std::vector<ParamValue> choices, ReadChoices(root.at("choices")));
    return CategoricalDistribution{std::move(choices)};
  }
  if (type == "float") {
    PARZEN_RETURN_IF_ERROR(
        CheckKeys(root, ctx, {"type", "low", "high", "step", "log"}, {"low", "high"}));
    return ReadFloat(root, false, "step");
  }
  if (type == "int") {
    PARZEN_RETURN_IF_ERROR(
        CheckKeys(root, ctx, {"type", "low", "high", "step", "log"}, {"low", "high"}));
    return ReadIntDist(root, false, true);
  }
  return absl::InvalidArgumentError("unknown distribution type \"" + type +
                                    "\" (expected float, int or categorical)");
}

absl::StatusOr<Distribution> ParseJson(std::string_view json) {
  Json root = Json::parse(json.begin(), json.end());
  if (!root.is_object()) {
    return absl::InvalidArgumentError("expected an object, got " + std::string(root.type_name()));
  }
  // Like Optuna, "name" wins when both forms' keys are present.
  if (root.contains("name")) return ParseNamed(root);
  if (root.contains("type")) return ParseAbbreviated(root);
  return absl::InvalidArgumentError(
      "expected \"name\" and \"attributes\", or the abbreviated form with \"type\"");
}

}  // namespace

absl::StatusOr<Distribution> ValidateDistribution(Distribution d) {
  absl::Status s;
  if (auto* f = std::get_if<FloatDistribution>(&d)) {
    s = ValidateFloat(*f);
  } else if (auto* i = std::get_if<IntDistribution>(&d)) {
    s = ValidateInt(*i);
  } else {
    s = ValidateCategorical(std::get<CategoricalDistribution>(d));
  }
  if (!s.ok()) return s;
  return d;
}

absl::Status ValidateParamName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("parameter name must not be empty");
  if (name.size() > kMaxParamNameLength) {
    return absl::InvalidArgumentError("parameter name is " + std::to_string(name.size()) +
                                      " bytes long; the limit is " +
                                      std::to_string(kMaxParamNameLength));
  }
  if (const size_t at = FindUnshowable(name); at != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "parameter name " + PyJsonString(name) + " contains a control character at byte " +
        std::to_string(at) +
        " (line separators and invisible or bidirectional format characters are refused too)");
  }
  return absl::OkStatus();
}

bool IsSingle(const Distribution& d) {
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    if (f->low == f->high) return true;
    if (!f->step.has_value() || !std::isfinite(f->low) || !std::isfinite(f->high) ||
        !std::isfinite(*f->step) || !(f->low < f->high) || !(*f->step > 0)) {
      return false;
    }
    std::optional<GridFit> fit = FitToGrid(f->low, f->high, *f->step);
    return fit.has_value() && fit->below_one_step;
  }
  if (const auto* i = std::get_if<IntDistribution>(&d)) {
    if (i->low == i->high) return true;
    if (i->log || i->low > i->high || i->step <= 0) return false;
    return IntRange(i->low, i->high) < static_cast<uint64_t>(i->step);
  }
  return std::get<CategoricalDistribution>(d).choices.size() == 1;
}

bool Contains(const Distribution& d, double internal) {
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    if (!(f->low <= internal && internal <= f->high)) return false;
    if (!f->step.has_value()) return true;
    // On the grid up to rounding: (v - low) / step carries a relative error
    // of a few ulps of max(|v|, |low|) / step, so an offset range with a
    // small step needs more slack than Optuna's bare 1e-8 steps.
    const double k = (internal - f->low) / *f->step;
    const double slack =
        1e-8 + 8 * std::numeric_limits<double>::epsilon() *
                   (std::max(std::fabs(internal), std::fabs(f->low)) / *f->step + std::fabs(k));
    return std::fabs(k - std::round(k)) <= slack;
  }
  if (const auto* i = std::get_if<IntDistribution>(&d)) {
    std::optional<int64_t> v = ExactInt64(internal);
    if (!v.has_value() || *v < i->low || *v > i->high || i->step <= 0) return false;
    return IntRange(i->low, *v) % static_cast<uint64_t>(i->step) == 0;
  }
  std::optional<int64_t> index = ExactInt64(internal);
  const auto& choices = std::get<CategoricalDistribution>(d).choices;
  return index.has_value() && *index >= 0 && static_cast<uint64_t>(*index) < choices.size();
}

absl::StatusOr<double> ToInternal(const Distribution& d, const ParamValue& value) {
  if (const auto* c = std::get_if<CategoricalDistribution>(&d)) {
    for (size_t i = 0; i < c->choices.size(); ++i) {
      if (ChoiceEqual(value, c->choices[i])) return static_cast<double>(i);
    }
    return absl::InvalidArgumentError(FormatValue(value) + " is not one of the choices " +
                                      FormatChoices(c->choices));
  }
  const bool is_float = std::holds_alternative<FloatDistribution>(d);
  const std::string kind = is_float ? "a float" : "an int";
  double v;
  if (const double* dv = std::get_if<double>(&value)) {
    v = *dv;
  } else if (const int64_t* iv = std::get_if<int64_t>(&value)) {
    v = static_cast<double>(*iv);
  } else {
    return absl::InvalidArgumentError(FormatValue(value) + " is not a valid value for " + kind +
                                      " parameter; a number is expected");
  }
  if (!std::isfinite(v)) {
    return absl::InvalidArgumentError(FormatValue(value) + " is not a valid value for " + kind +
                                      " parameter; it must be finite");
  }
  if (!is_float && std::trunc(v) != v) {
    return absl::InvalidArgumentError(FormatValue(value) +
                                      " is not a valid value for an int parameter; it must be "
                                      "integral");
  }
  const bool log = is_float ? std::get<FloatDistribution>(d).log : std::get<IntDistribution>(d).log;
  if (log && v <= 0) {
    return absl::InvalidArgumentError(FormatValue(value) + " is not a valid value for " + kind +
                                      " parameter with log=true; it must be > 0");
  }
  return v;
}

ParamValue ToExternal(const Distribution& d, double internal) {
  if (std::holds_alternative<FloatDistribution>(d)) return internal;
  if (const auto* i = std::get_if<IntDistribution>(&d)) {
    // Samplers may hand back 2.9999999 for 3; saturate rather than overflow.
    if (std::isnan(internal)) return i->low;
    if (internal >= kTwoPow63) return std::numeric_limits<int64_t>::max();
    if (internal < -kTwoPow63) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(std::llround(internal));
  }
  const auto& choices = std::get<CategoricalDistribution>(d).choices;
  if (choices.empty()) return internal;
  // Out-of-contract indexes are clamped instead of reading out of bounds.
  double clamped =
      std::isnan(internal) ? 0 : std::clamp(internal, 0.0, static_cast<double>(choices.size() - 1));
  return choices[static_cast<size_t>(clamped)];
}

absl::Status CheckCompatible(const Distribution& stored, const Distribution& requested) {
  const std::string both = " (stored " + FormatDistribution(stored) + ", requested " +
                           FormatDistribution(requested) + ")";
  if (stored.index() != requested.index()) {
    return absl::InvalidArgumentError("a parameter's distribution cannot change from " +
                                      std::string(KindName(stored)) + " to " +
                                      std::string(KindName(requested)) + " within a study" + both);
  }
  if (const auto* c = std::get_if<CategoricalDistribution>(&stored)) {
    const auto& other = std::get<CategoricalDistribution>(requested).choices;
    bool same = c->choices.size() == other.size();
    for (size_t i = 0; same && i < other.size(); ++i) same = ChoiceEqual(c->choices[i], other[i]);
    if (!same) {
      return absl::InvalidArgumentError(
          "CategoricalDistribution choices cannot change within a study" + both);
    }
    return absl::OkStatus();
  }
  bool stored_log = stored.index() == 0 ? std::get<FloatDistribution>(stored).log
                                        : std::get<IntDistribution>(stored).log;
  bool requested_log = requested.index() == 0 ? std::get<FloatDistribution>(requested).log
                                              : std::get<IntDistribution>(requested).log;
  if (stored_log != requested_log) {
    return absl::InvalidArgumentError(
        std::string("log cannot change from ") + (stored_log ? "true" : "false") + " to " +
        (requested_log ? "true" : "false") + " within a study" + both);
  }
  return absl::OkStatus();
}

std::string DistributionToJson(const Distribution& d) {
  // Key order is Optuna's attribute assignment order in each __init__.
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    return std::string("{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": ") +
           (f->step.has_value() ? PyFloatRepr(*f->step) : "null") +
           ", \"low\": " + PyFloatRepr(f->low) + ", \"high\": " + PyFloatRepr(f->high) +
           ", \"log\": " + (f->log ? "true" : "false") + "}}";
  }
  if (const auto* i = std::get_if<IntDistribution>(&d)) {
    return std::string("{\"name\": \"IntDistribution\", \"attributes\": {\"log\": ") +
           (i->log ? "true" : "false") + ", \"step\": " + std::to_string(i->step) +
           ", \"low\": " + std::to_string(i->low) + ", \"high\": " + std::to_string(i->high) + "}}";
  }
  std::string out = "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [";
  const auto& choices = std::get<CategoricalDistribution>(d).choices;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += ", ";
    out += FormatValue(choices[i]);  // FormatValue is json.dumps for every choice type
  }
  return out + "]}}";
}

absl::StatusOr<Distribution> DistributionFromJson(std::string_view json) {
  absl::StatusOr<Distribution> parsed;
  // nlohmann reports malformed input and wrong types by throwing; nothing
  // may cross this boundary.
  try {
    parsed = ParseJson(json);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(std::string("invalid distribution JSON: ") + e.what());
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("distribution JSON too large to parse");
  } catch (const std::exception& e) {
    return absl::InternalError(std::string("parsing distribution JSON: ") + e.what());
  }
  if (!parsed.ok()) {
    return absl::InvalidArgumentError("invalid distribution JSON: " +
                                      std::string(parsed.status().message()));
  }
  return ValidateDistribution(*std::move(parsed));
}

std::string FormatValue(const ParamValue& v) {
  if (const double* d = std::get_if<double>(&v)) return PyFloatRepr(*d);
  if (const int64_t* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return PyJsonString(std::get<std::string>(v));
}

std::string FormatDistribution(const Distribution& d) {
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    std::string out = "float[" + PyFloatRepr(f->low) + ", " + PyFloatRepr(f->high) + "]";
    if (f->log) out += " log";
    if (f->step.has_value()) out += " step " + PyFloatRepr(*f->step);
    return out;
  }
  if (const auto* i = std::get_if<IntDistribution>(&d)) {
    std::string out = "int[" + std::to_string(i->low) + ", " + std::to_string(i->high) + "]";
    if (i->log) out += " log";
    if (i->step != 1) out += " step " + std::to_string(i->step);
    return out;
  }
  return "categorical" + FormatChoices(std::get<CategoricalDistribution>(d).choices);
}

}  // namespace parzen
