#include "dsl/sema/Program.h"

#include <algorithm>
#include <filesystem>

#include "dsl/parse/ParseFile.h"

namespace fs = std::filesystem;

namespace hrmc::dsl {

namespace {
constexpr size_t kMaxImportDepth = 32;
constexpr size_t kMaxFiles = 256;
}  // namespace

int EnumType::indexOf(const std::string& v) const {
  auto it = std::find(values.begin(), values.end(), v);
  return it == values.end() ? -1 : static_cast<int>(it - values.begin());
}

Program::Program(SourceManager& sm, DiagEngine& diags, std::vector<std::string> stdlibDirs)
    : sm_(sm), diags_(diags), stdlibDirs_(std::move(stdlibDirs)) {
  // Built-in enums: the attention mask kind, the credit-window split (HRM-TEXT.md §2, §3.6) and the
  // float types `cast` converts to.
  for (auto [name, values] : {std::pair<const char*, std::vector<std::string>>{"Mask", {"prefixlm", "causal", "full"}},
                              {"Split", {"h_first"}},
                              {"Float", {"f32", "bf16"}}}) {
    auto e = std::make_unique<EnumType>();
    e->name = name;
    e->values = values;
    builtinEnums_.push_back(e.get());
    enums_.push_back(std::move(e));
  }
  maskEnum_ = builtinEnums_[0];
}

bool Program::load(const std::string& path) {
  std::string error;
  auto id = sm_.load(path, error);
  if (!id) {
    diags_.error(Loc{}, path + ": " + error);
    rootUnreadable_ = true;
    return false;
  }
  std::vector<std::string> stack;
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(path, ec);
  stack.push_back(ec ? path : canon.string());
  root_ = loadFile(*id, stack);
  if (root_ && !ec) byPath_[canon.string()] = const_cast<FileScope*>(root_);
  return root_ != nullptr;
}

bool Program::loadText(const std::string& name, const std::string& text) {
  std::string error;
  auto id = sm_.addBuffer(name, text, error);
  if (!id) {
    diags_.error(Loc{}, name + ": " + error);
    rootUnreadable_ = true;
    return false;
  }
  std::vector<std::string> stack{name};
  root_ = loadFile(*id, stack);
  return root_ != nullptr;
}

FileScope* Program::loadFile(uint32_t fileId, std::vector<std::string>& stack) {
  std::unique_ptr<ast::File> file = parseFile(sm_, fileId, diags_);
  if (!file) return nullptr;
  auto scope = std::make_unique<FileScope>();
  scope->file = file.get();
  files_.push_back(std::move(file));
  FileScope* s = scope.get();
  scopes_.push_back(std::move(scope));
  declare(*s);
  for (const ast::Import& imp : s->file->imports) {
    if (FileScope* dep = importFile(imp.path, sm_.path(fileId), imp.loc, stack)) {
      if (std::find(s->imports.begin(), s->imports.end(), dep) == s->imports.end()) s->imports.push_back(dep);
    }
  }
  // Names declared in two imported files are ambiguous for this file.
  std::map<std::string, const FileScope*> seen;
  for (const FileScope* dep : s->imports) {
    auto note = [&](const std::string& name) {
      auto [it, fresh] = seen.emplace(name, dep);
      if (!fresh && it->second != dep && !s->modules.count(name) && !s->fns.count(name) && !s->enums.count(name))
        diags_.error(s->file->imports.front().loc,
                     "'" + name + "' is declared in both '" + sm_.path(it->second->file->fileId) + "' and '" +
                         sm_.path(dep->file->fileId) + "'",
                     "rename one of them");
    };
    for (const auto& [n, _] : dep->modules) note(n);
    for (const auto& [n, _] : dep->fns) note(n);
    for (const auto& [n, _] : dep->enums) note(n);
  }
  return s;
}

FileScope* Program::importFile(const std::string& spec, const std::string& fromPath, Loc at,
                               std::vector<std::string>& stack) {
  std::vector<fs::path> candidates{fs::path(fromPath).parent_path() / spec};
  for (const std::string& d : stdlibDirs_) candidates.push_back(fs::path(d) / spec);
  fs::path found;
  for (const fs::path& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) {
      found = fs::weakly_canonical(c, ec);
      break;
    }
  }
  if (found.empty()) {
    std::string where = "looked in '" + fs::path(fromPath).parent_path().string() + "'";
    for (const std::string& d : stdlibDirs_) where += ", '" + d + "'";
    diags_.error(at, "cannot find imported file '" + spec + "'", where);
    return nullptr;
  }
  const std::string key = found.string();
  if (std::find(stack.begin(), stack.end(), key) != stack.end()) {
    std::string cycle;
    for (auto it = std::find(stack.begin(), stack.end(), key); it != stack.end(); ++it)
      cycle += fs::path(*it).filename().string() + " -> ";
    diags_.error(at, "cyclic import of '" + spec + "'", "import chain: " + cycle + found.filename().string());
    return nullptr;
  }
  if (auto it = byPath_.find(key); it != byPath_.end()) return it->second;
  if (stack.size() >= kMaxImportDepth || scopes_.size() >= kMaxFiles) {
    diags_.error(at, "too many imported files", "imports are limited to " + std::to_string(kMaxFiles) +
                                                    " files and " + std::to_string(kMaxImportDepth) + " levels");
    return nullptr;
  }
  std::string error;
  // Shown in diagnostics: relative to the working folder when the file is below it.
  std::error_code ec;
  fs::path rel = fs::relative(found, fs::current_path(ec), ec);
  const bool below = !ec && !rel.empty() && *rel.begin() != "..";
  auto id = sm_.load(below ? rel.string() : key, error);
  if (!id) {
    diags_.error(at, "cannot import '" + spec + "': " + error);
    return nullptr;
  }
  stack.push_back(key);
  FileScope* s = loadFile(*id, stack);
  stack.pop_back();
  if (s) byPath_[key] = s;
  return s;
}

void Program::declare(FileScope& s) {
  std::map<std::string, Loc> declared;
  auto add = [&](const std::string& name, Loc loc, const char* what) {
    auto [it, fresh] = declared.emplace(name, loc);
    if (!fresh) {
      Diagnostic& d = diags_.error(loc, std::string(what) + " '" + name + "' is already declared in this file");
      d.notes.push_back({it->second, "previous declaration is here"});
      return false;
    }
    return true;
  };
  for (const ast::EnumDecl& e : s.file->enums) {
    if (!add(e.name, e.loc, "enum")) continue;
    auto t = std::make_unique<EnumType>();
    t->name = e.name;
    t->values = e.values;
    t->loc = e.loc;
    for (size_t i = 0; i < e.values.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (e.values[i] == e.values[j]) diags_.error(e.valueLocs[i], "enum value '" + e.values[i] + "' is listed twice");
    s.enums[e.name] = t.get();
    enums_.push_back(std::move(t));
  }
  for (const ast::ModuleDecl& m : s.file->modules)
    if (add(m.name, m.loc, m.isModel ? "model" : "module")) s.modules[m.name] = &m;
  for (const ast::FnDecl& f : s.file->fns)
    if (add(f.name, f.loc, "function")) s.fns[f.name] = &f;
  if (s.file->configLocs.size() > 1) {
    Diagnostic& d = diags_.error(s.file->configLocs[1], "a file has at most one 'config' block",
                                 "merge the entries into the first block");
    d.notes.push_back({s.file->configLocs[0], "first 'config' block is here"});
  }
}

const ast::ModuleDecl* Program::findModule(const FileScope& s, const std::string& name) const {
  if (auto it = s.modules.find(name); it != s.modules.end()) return it->second;
  for (const FileScope* d : s.imports)
    if (auto it = d->modules.find(name); it != d->modules.end()) return it->second;
  return nullptr;
}

const ast::FnDecl* Program::findFn(const FileScope& s, const std::string& name) const {
  if (auto it = s.fns.find(name); it != s.fns.end()) return it->second;
  for (const FileScope* d : s.imports)
    if (auto it = d->fns.find(name); it != d->fns.end()) return it->second;
  return nullptr;
}

const EnumType* Program::findEnum(const FileScope& s, const std::string& name) const {
  for (const EnumType* e : builtinEnums_)
    if (e->name == name) return e;
  if (auto it = s.enums.find(name); it != s.enums.end()) return it->second;
  for (const FileScope* d : s.imports)
    if (auto it = d->enums.find(name); it != d->enums.end()) return it->second;
  return nullptr;
}

std::vector<std::string> Program::visibleNames(const FileScope& s) const {
  std::vector<std::string> out;
  auto addScope = [&](const FileScope& x) {
    for (const auto& [n, _] : x.modules) out.push_back(n);
    for (const auto& [n, _] : x.fns) out.push_back(n);
    for (const auto& [n, e] : x.enums) {
      out.push_back(n);
      for (const std::string& v : e->values) out.push_back(v);
    }
  };
  addScope(s);
  for (const FileScope* d : s.imports) addScope(*d);
  for (const EnumType* e : builtinEnums_) {
    out.push_back(e->name);
    for (const std::string& v : e->values) out.push_back(v);
  }
  return out;
}

const FileScope* Program::scopeOf(const ast::ModuleDecl* d) const {
  for (const auto& s : scopes_)
    for (const ast::ModuleDecl& m : s->file->modules)
      if (&m == d) return s.get();
  return nullptr;
}

const FileScope* Program::scopeOf(const ast::FnDecl* d) const {
  for (const auto& s : scopes_)
    for (const ast::FnDecl& f : s->file->fns)
      if (&f == d) return s.get();
  return nullptr;
}

}  // namespace hrmc::dsl
