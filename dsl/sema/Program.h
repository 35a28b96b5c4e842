#pragma once
// A root .hrm file and everything it imports, parsed, with one declaration scope per file.
// Imports resolve against the importing file's folder first, then the stdlib folders.
// An import makes the imported file's own declarations visible (not its imports: no transitivity).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dsl/ast/Ast.h"
#include "dsl/diag/Diagnostics.h"

namespace hrmc::dsl {

struct EnumType {
  std::string name;
  std::vector<std::string> values;
  Loc loc;
  int indexOf(const std::string& v) const;
};

struct FileScope {
  const ast::File* file = nullptr;
  std::map<std::string, const ast::ModuleDecl*> modules;
  std::map<std::string, const ast::FnDecl*> fns;
  std::map<std::string, const EnumType*> enums;
  std::vector<const FileScope*> imports;
};

class Program {
 public:
  Program(SourceManager& sm, DiagEngine& diags, std::vector<std::string> stdlibDirs);

  // Loads and parses `path` and its imports. Returns false if the root could not be read.
  bool load(const std::string& path);
  // Same, from in-memory text (tests, the fuzzer); imports still resolve against the stdlib folders.
  bool loadText(const std::string& name, const std::string& text);

  const FileScope* root() const { return root_; }
  // True when the root file itself could not be read (missing, unreadable, binary, too large).
  bool rootUnreadable() const { return rootUnreadable_; }
  const std::vector<std::unique_ptr<FileScope>>& scopes() const { return scopes_; }
  // Every name a file can see: its own declarations and those of its imports.
  const ast::ModuleDecl* findModule(const FileScope& s, const std::string& name) const;
  const ast::FnDecl* findFn(const FileScope& s, const std::string& name) const;
  const EnumType* findEnum(const FileScope& s, const std::string& name) const;
  std::vector<std::string> visibleNames(const FileScope& s) const;
  // The scope a declaration lives in (to evaluate its body with its own file's names).
  const FileScope* scopeOf(const ast::ModuleDecl* d) const;
  const FileScope* scopeOf(const ast::FnDecl* d) const;
  const EnumType& maskEnum() const { return *maskEnum_; }
  const std::vector<const EnumType*>& builtinEnums() const { return builtinEnums_; }

  SourceManager& sources() { return sm_; }
  DiagEngine& diags() { return diags_; }

 private:
  FileScope* loadFile(uint32_t fileId, std::vector<std::string>& stack);
  FileScope* importFile(const std::string& spec, const std::string& fromPath, Loc at,
                        std::vector<std::string>& stack);
  void declare(FileScope& s);

  SourceManager& sm_;
  DiagEngine& diags_;
  std::vector<std::string> stdlibDirs_;
  std::vector<std::unique_ptr<ast::File>> files_;
  std::vector<std::unique_ptr<FileScope>> scopes_;
  std::vector<std::unique_ptr<EnumType>> enums_;
  std::map<std::string, FileScope*> byPath_;  // canonical path → scope (each file parsed once)
  std::vector<const EnumType*> builtinEnums_;
  const EnumType* maskEnum_ = nullptr;
  const FileScope* root_ = nullptr;
  bool rootUnreadable_ = false;
};

}  // namespace hrmc::dsl
