// Configuration: the root file's `config` entries, with those of the files it imports, resolved as
// default < preset < --set override.
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

// The root's configuration: the config entries and presets of the files it imports, in import order,
// then its own. A root entry of an imported key overrides that entry's default in place (later
// imported entries derived from it follow the new value); a root preset of an imported preset's
// name extends it, its assignments applied after the imported ones.
Elaborator::MergedConfig Elaborator::mergeConfig() {
  MergedConfig m;
  const FileScope* root = prog_.root();
  auto path = [&](const FileScope* f) { return prog_.sources().path(f->file->fileId); };
  auto find = [&](const std::string& key) -> MergedConfig::Entry* {
    for (MergedConfig::Entry& e : m.entries)
      if (e.decl->name == key) return &e;
    return nullptr;
  };
  std::vector<const FileScope*> files = root->imports;
  files.push_back(root);
  for (const FileScope* f : files) {
    const bool isRoot = f == root;
    for (const ast::ConfigEntry& e : f->file->config) {
      MergedConfig::Entry* prior = find(e.name);
      if (!prior) {
        m.entries.push_back({&e, f});
        continue;
      }
      if (prior->scope == f) {
        error(e.loc, "config key '" + e.name + "' is declared twice");
      } else if (!isRoot) {
        Diagnostic& d = error(e.loc, "config key '" + e.name + "' is declared in both '" + path(prior->scope) + "' and '" +
                                         path(f) + "'",
                              "declare it in one of them, or in the importing model, which overrides both");
        d.notes.push_back({prior->decl->loc, "the other declaration is here"});
      } else if (e.type != prior->decl->type) {
        Diagnostic& d = error(e.typeLoc, "config key '" + e.name + "' is " + e.type + " here but " + prior->decl->type +
                                             " in '" + path(prior->scope) + "'",
                              "an override keeps the imported entry's type");
        d.notes.push_back({prior->decl->loc, "imported here"});
      } else {
        *prior = {&e, f};  // the model's own default, at the imported entry's place
      }
    }
    for (const ast::PresetDecl& p : f->file->presets) {
      auto it = std::find_if(m.presets.begin(), m.presets.end(), [&](const MergedConfig::Preset& q) { return q.name == p.name; });
      if (it == m.presets.end()) {
        m.presets.push_back({p.name, {&p}, {f}});
      } else if (it->scopes.back() == f) {
        error(p.loc, "preset '" + p.name + "' is declared twice");
      } else if (!isRoot) {
        Diagnostic& d = error(p.loc, "preset '" + p.name + "' is declared in both '" + path(it->scopes.back()) + "' and '" +
                                         path(f) + "'",
                              "declare it in one of them; the importing model can extend it with its own `preset " +
                                  p.name + " { ... }`");
        d.notes.push_back({it->decls.back()->loc, "the other declaration is here"});
      } else {
        it->decls.push_back(&p);
        it->scopes.push_back(f);
      }
    }
  }
  return m;
}

std::vector<ConfigValue> Elaborator::resolveConfig(const std::string& presetName,
                                                   const std::vector<ConfigOverride>& overrides) {
  const FileScope* root = prog_.root();
  const ast::File& file = *root->file;
  ctx_ = Ctx{nullptr, root, nullptr, nullptr};
  const MergedConfig merged = mergeConfig();
  std::vector<std::string> keys;
  for (const MergedConfig::Entry& e : merged.entries) keys.push_back(e.decl->name);

  const MergedConfig::Preset* preset = nullptr;
  if (!presetName.empty()) {
    std::vector<std::string> names;
    for (const MergedConfig::Preset& p : merged.presets) {
      names.push_back(p.name);
      if (p.name == presetName) preset = &p;
    }
    if (!preset) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      error(Loc{}, "unknown preset '" + presetName + "'" + didYouMean(presetName, names),
            names.empty() ? prog_.sources().path(file.fileId) + " declares no presets"
                          : "presets in " + prog_.sources().path(file.fileId) + (root->imports.empty() ? "" : " and its imports") +
                                ": " + list);
      return {};
    }
    for (const ast::PresetDecl* decl : preset->decls)
      for (const ast::PresetDecl::Assignment& a : decl->assignments)
        if (std::find(keys.begin(), keys.end(), a.key) == keys.end())
          error(a.loc, "preset '" + preset->name + "' sets unknown config key '" + a.key + "'" + didYouMean(a.key, keys));
  }
  for (const ConfigOverride& o : overrides)
    if (std::find(keys.begin(), keys.end(), o.key) == keys.end()) {
      std::string list;
      for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
      error(Loc{}, "--set " + o.key + ": unknown config key '" + o.key + "'" + didYouMean(o.key, keys),
            keys.empty() ? "this model has no config entries" : "config keys: " + list);
    }

  std::vector<ConfigValue> out;
  resolvingConfig_ = true;
  for (const MergedConfig::Entry& entry : merged.entries) {
    const ast::ConfigEntry& e = *entry.decl;
    // Each entry is evaluated with its own file's names (an imported entry may use an enum the model
    // does not import itself).
    ctx_ = Ctx{nullptr, entry.scope, nullptr, nullptr};
    const ast::File& declFile = *entry.scope->file;
    const EnumType* enumType = nullptr;
    if (e.type != "int" && e.type != "float" && e.type != "bool") {
      enumType = prog_.findEnum(*entry.scope, e.type);
      if (!enumType) {
        std::vector<std::string> types{"int", "float", "bool"};
        for (const std::string& n : prog_.visibleNames(*entry.scope)) types.push_back(n);
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
    const FileScope* presetScope = nullptr;
    if (preset)
      for (size_t d = 0; d < preset->decls.size(); ++d)
        for (const ast::PresetDecl::Assignment& a : preset->decls[d]->assignments)
          if (a.key == e.name) {
            fromPreset = &a;  // the model's own preset is last, so it wins
            presetScope = preset->scopes[d];
          }
    if (over) {
      std::string err = parseOverride(over->value, e.type, enumType, v);
      if (!err.empty()) {
        error(Loc{}, "--set " + e.name + "=" + over->value + ": " + err,
              "'" + e.name + "' is " + (enumType ? "an enum " + e.type : e.type == "int" ? "an int" : "a " + e.type) + " (declared at " +
                  prog_.sources().path(declFile.fileId) + ":" + std::to_string(e.loc.line) + ")");
        continue;
      }
      source = "--set";
    } else if (fromPreset) {
      ctx_ = Ctx{nullptr, presetScope, nullptr, nullptr};
      v = eval(*fromPreset->value);
      ctx_ = Ctx{nullptr, entry.scope, nullptr, nullptr};
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
  resolvingConfig_ = false;
  ctx_ = Ctx{nullptr, root, nullptr, nullptr};
  return out;
}

}  // namespace hrmc::dsl
