#include "services/storage/sql_params.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace marketdata {
namespace {

void AppendQuoted(std::string* out, absl::string_view value) {
  out->push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

std::string FloatText(double v) { return absl::StrFormat("%.17g", v); }

template <typename T, typename Element>
std::string ArrayLiteral(const std::vector<T>& values, Element element) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    element(&out, values[i]);
  }
  out.push_back('}');
  return out;
}

}  // namespace

std::string SqlTimeText(absl::Time t) {
  // Four digits of year, always: PostgreSQL reads "56-09-22" as 2056 or refuses it, not 0056.
  return absl::FormatTime("%E4Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseSqlTime(absl::string_view text) {
  // "2026-01-05 14:03:07.120391+00" (fraction optional); the zone is always +00 here.
  absl::string_view body = text;
  if (!absl::ConsumeSuffix(&body, "+00")) {
    return absl::InvalidArgumentError(absl::StrCat("not a UTC timestamp: ", text));
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S", body, absl::UTCTimeZone(), &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat("not a timestamp: ", text, " (", err, ")"));
  }
  return t;
}

SqlParams& SqlParams::Text(absl::string_view value) {
  values_.emplace_back(std::string(value));
  return *this;
}
SqlParams& SqlParams::Int(int64_t value) {
  values_.emplace_back(absl::StrCat(value));
  return *this;
}
SqlParams& SqlParams::Float(double value) {
  values_.emplace_back(FloatText(value));
  return *this;
}
SqlParams& SqlParams::Time(absl::Time value) {
  values_.emplace_back(SqlTimeText(value));
  return *this;
}
SqlParams& SqlParams::Null() {
  values_.emplace_back(std::nullopt);
  return *this;
}
SqlParams& SqlParams::OptionalFloat(const std::optional<double>& value) {
  return value.has_value() ? Float(*value) : Null();
}
SqlParams& SqlParams::OptionalInt(const std::optional<int64_t>& value) {
  return value.has_value() ? Int(*value) : Null();
}
SqlParams& SqlParams::OptionalTime(const std::optional<absl::Time>& value) {
  return value.has_value() ? Time(*value) : Null();
}
SqlParams& SqlParams::OptionalText(const std::optional<std::string>& value) {
  return value.has_value() ? Text(*value) : Null();
}

SqlParams& SqlParams::TextArray(const std::vector<std::string>& values) {
  values_.emplace_back(ArrayLiteral(
      values, [](std::string* out, const std::string& v) { AppendQuoted(out, v); }));
  return *this;
}
SqlParams& SqlParams::IntArray(const std::vector<int64_t>& values) {
  values_.emplace_back(
      ArrayLiteral(values, [](std::string* out, int64_t v) { absl::StrAppend(out, v); }));
  return *this;
}
SqlParams& SqlParams::FloatArray(const std::vector<double>& values) {
  values_.emplace_back(
      ArrayLiteral(values, [](std::string* out, double v) { out->append(FloatText(v)); }));
  return *this;
}
SqlParams& SqlParams::OptionalFloatArray(const std::vector<std::optional<double>>& values) {
  values_.emplace_back(ArrayLiteral(values, [](std::string* out, const std::optional<double>& v) {
    out->append(v.has_value() ? FloatText(*v) : "NULL");
  }));
  return *this;
}
SqlParams& SqlParams::TimeArray(const std::vector<absl::Time>& values) {
  values_.emplace_back(ArrayLiteral(values, [](std::string* out, absl::Time v) {
    AppendQuoted(out, SqlTimeText(v));
  }));
  return *this;
}
SqlParams& SqlParams::OptionalTimeArray(const std::vector<std::optional<absl::Time>>& values) {
  values_.emplace_back(
      ArrayLiteral(values, [](std::string* out, const std::optional<absl::Time>& v) {
        if (v.has_value()) {
          AppendQuoted(out, SqlTimeText(*v));
        } else {
          out->append("NULL");
        }
      }));
  return *this;
}
SqlParams& SqlParams::Bytes(absl::string_view value) {
  values_.emplace_back(absl::StrCat("\\x", absl::BytesToHexString(value)));
  return *this;
}

}  // namespace marketdata
