// Configuration: the root file's `config` entries resolved as default < preset < --set override.
// Defaults may be expressions over earlier entries (the SwiGLU width follows `hidden`), so an
// override of `hidden` changes every entry derived from it unless that entry is overridden too.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "dsl/sema/Elaborator.h"

namespace hrmc::dsl {

namespace {

std::string formatValue(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Int: return std::to_string(v.i);
    case Value::Kind::Float: {
      std::ostringstream ss;
      ss << v.f;
      return ss.str();
    }
    case Value::Kind::Bool: return v.b ? "true" : "false";
    case Value::Kind::Enum: return v.enumType->values[v.i];
    default: return "?";
  }
}

// Parses a --set value as the entry's type; returns an error message or "".
std::string parseOverride(const std::string& text, const std::string& type, const EnumType* e, Value& out) {
  if (type == "int") {
    errno = 0;
    char* end = nullptr;
    long long x = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end || errno == ERANGE) return "expected an int";
    out = Value::integer(x);
    return {};
  }
  if (type == "float") {
    errno = 0;
    char* end = nullptr;
    double x = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || errno == ERANGE || !std::isfinite(x)) return "expected a number";
    out = Value::real(x);
    return {};
  }
  if (type == "bool") {
    if (text == "true" || text == "1") out = Value::boolean(true);
    else if (text == "false" || text == "0") out = Value::boolean(false);
    else return "expected true or false";
    return {};
  }
  if (e) {
    int idx = e->indexOf(text);
    if (idx < 0) {
      std::string values;
      for (const std::string& x : e->values) values += (values.empty() ? "" : ", ") + x;
      return "expected one of " + values + didYouMean(text, e->values);
    }
    out.kind = Value::Kind::Enum;
    out.enumType = e;
    out.i = idx;
    return {};
  }
  return "unknown type";
}

}  // namespace

std::vector<ConfigValue> Elaborator::resolveConfig(const std::string& presetName,
                                                   const std::vector<ConfigOverride>& overrides) {
  const FileScope* root = prog_.root();
  const ast::File& file = *root->file;
  ctx_ = Ctx{nullptr, root, nullptr, nullptr};
  std::vector<std::string> keys;
  for (const ast::ConfigEntry& e : file.config) keys.push_back(e.name);

  const ast::PresetDecl* preset = nullptr;
  if (!presetName.empty()) {
    std::vector<std::string> names;
    for (const ast::PresetDecl& p : file.presets) {
      names.push_back(p.name);
      if (p.name == presetName) preset = &p;
    }
    if (!preset) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      error(Loc{}, "unknown preset '" + presetName + "'" + didYouMean(presetName, names),
            names.empty() ? prog_.sources().path(file.fileId) + " declares no presets"
                          : "presets in " + prog_.sources().path(file.fileId) + ": " + list);
      return {};
    }
    for (const ast::PresetDecl::Assignment& a : preset->assignments)
      if (std::find(keys.begin(), keys.end(), a.key) == keys.end())
        error(a.loc, "preset '" + preset->name + "' sets unknown config key '" + a.key + "'" + didYouMean(a.key, keys));
  }
  for (const ast::PresetDecl& p : file.presets)
    for (const ast::PresetDecl& q : file.presets)
      if (&q < &p && q.name == p.name) error(p.loc, "preset '" + p.name + "' is declared twice");
  for (const ConfigOverride& o : overrides)
    if (std::find(keys.begin(), keys.end(), o.key) == keys.end()) {
      std::string list;
      for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
      error(Loc{}, "--set " + o.key + ": unknown config key '" + o.key + "'" + didYouMean(o.key, keys),
            keys.empty() ? "this model has no config entries" : "config keys: " + list);
    }

  std::vector<ConfigValue> out;
  for (const ast::ConfigEntry& e : file.config) {
    if (config_.count(e.name)) {
      error(e.loc, "config key '" + e.name + "' is declared twice");
      continue;
    }
    const EnumType* enumType = nullptr;
    if (e.type != "int" && e.type != "float" && e.type != "bool") {
      enumType = prog_.findEnum(*root, e.type);
      if (!enumType) {
        std::vector<std::string> types{"int", "float", "bool"};
        for (const std::string& n : prog_.visibleNames(*root)) types.push_back(n);
        error(e.typeLoc, "unknown config type '" + e.type + "'" + didYouMean(e.type, types),
              "config types are int, float, bool or an enum name");
        continue;
      }
    }
    Value v;
    std::string source = "default";
    const ConfigOverride* over = nullptr;
    for (const ConfigOverride& o : overrides)
      if (o.key == e.name) over = &o;  // the last --set of a key wins
    const ast::PresetDecl::Assignment* fromPreset = nullptr;
    if (preset)
      for (const ast::PresetDecl::Assignment& a : preset->assignments)
        if (a.key == e.name) fromPreset = &a;
    if (over) {
      std::string err = parseOverride(over->value, e.type, enumType, v);
      if (!err.empty()) {
        error(Loc{}, "--set " + e.name + "=" + over->value + ": " + err,
              "'" + e.name + "' is " + (enumType ? "an enum " + e.type : e.type == "int" ? "an int" : "a " + e.type) + " (declared at " +
                  prog_.sources().path(file.fileId) + ":" + std::to_string(e.loc.line) + ")");
        continue;
      }
      source = "--set";
    } else if (fromPreset) {
      v = eval(*fromPreset->value);
      source = "preset " + preset->name;
    } else if (enumType && e.value->kind == ast::ExprKind::Name && enumType->indexOf(e.value->text) < 0 &&
               !config_.count(e.value->text)) {
      std::string values;
      for (const std::string& x : enumType->values) values += (values.empty() ? "" : ", ") + x;
      error(e.value->loc, "'" + e.value->text + "' is not a value of " + e.type + didYouMean(e.value->text, enumType->values),
            e.type + " values: " + values);
      continue;
    } else {
      v = eval(*e.value);
    }
    Value typed;
    if (!conformsScalar(v, e.type, over ? Loc{} : fromPreset ? fromPreset->value->loc : e.value->loc,
                        "config '" + e.name + "'", typed))
      continue;
    config_[e.name] = typed;
    configOrder_.push_back(e.name);
    ConfigValue cv;
    cv.name = e.name;
    cv.type = e.type;
    cv.text = formatValue(typed);
    cv.source = source;
    cv.number = typed.kind == Value::Kind::Bool ? typed.b : typed.number();
    cv.doc = e.doc;
    out.push_back(std::move(cv));
  }
  return out;
}

}  // namespace hrmc::dsl
