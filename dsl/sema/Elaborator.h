#pragma once
// Internal to dsl/sema: the elaborator evaluates a model's declarations at compile time. Config and
// module parameters are compile-time scalars; tensors are symbolic (graph nodes). Evaluating the
// model's `forward` unrolls loops and inlines calls, so checking and graph building are one walk.
// Split across files by concern: Elaborator.cpp (names, expressions, calls), ElaborateStmt.cpp
// (statements and the recurrence), Builtins.cpp (primitive type rules), Instantiate.cpp (modules),
// Config.cpp (configuration and presets).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsl/sema/Sema.h"
#include "dsl/sema/Value.h"

namespace hrmc::dsl {

struct ElabLimits {
  static constexpr size_t kMaxNodes = 2'000'000;
  static constexpr size_t kMaxInstances = 200'000;
  static constexpr int64_t kMaxLoopCount = 1000;
  static constexpr size_t kMaxCallDepth = 200;
  static constexpr int64_t kMaxDim = int64_t(1) << 40;
};

// Thrown when a hard limit is hit; the elaborator stops and the error is already reported.
struct ElabAbort {};

class Elaborator {
 public:
  Elaborator(Program& program, DiagEngine& diags) : prog_(program), diags_(diags) {}

  // Config.cpp
  std::vector<ConfigValue> resolveConfig(const std::string& preset, const std::vector<ConfigOverride>& overrides);
  // Instantiate.cpp: instantiates the root file's model and elaborates its forward.
  std::optional<ModelGraph> elaborateModel();
  // Declaration checks for files without a model (libraries): unknown module and type names.
  void checkDeclarations();

 private:
  struct Var {
    Value value;
    bool isState = false;
    int loopDepth = 0;
    Loc loc;
    std::optional<DType> dtype;  // state declared with a dtype: every step must keep it
  };
  struct Scope {
    std::map<std::string, Var> vars;
    Scope* parent = nullptr;
  };
  struct Frame {
    std::string name;
    Loc callLoc;
    const ast::FnDecl* fn = nullptr;
    ModuleInstance* self = nullptr;
    bool returned = false;
    Value result;
  };

  // Evaluation context: which module instance, which file's names, which local scope.
  struct Ctx {
    ModuleInstance* self = nullptr;
    const FileScope* file = nullptr;
    Scope* scope = nullptr;
    // Unbound names in a function's parameter types become dimension variables, recorded here.
    std::map<std::string, Value>* dimVars = nullptr;
  };

  // --- Elaborator.cpp: expressions, names, calls
  Value eval(const ast::Expr& e);
  Value evalName(const ast::Expr& e);
  Value evalMember(const ast::Expr& e);
  Value evalCall(const ast::Expr& e);
  Value evalUnary(const ast::Expr& e);
  Value evalBinary(const ast::Expr& e);
  Value scalarBinary(const ast::Expr& e, const Value& a, const Value& b);
  Value tensorBinary(const ast::Expr& e, const Value& a, const Value& b);
  Value call(const Value& callee, const ast::Expr& at, std::vector<Value> pos,
             std::vector<std::pair<std::string, Value>> named, const std::vector<Loc>& argLocs);
  Value callFunction(const ast::FnDecl& fn, const FileScope* file, ModuleInstance* self, Loc at,
                     std::vector<Value> pos, std::vector<std::pair<std::string, Value>> named);
  Value callModule(ModuleInstance* m, Loc at, std::vector<Value> pos,
                   std::vector<std::pair<std::string, Value>> named);
  // With bindDims, unknown bare names become dimension variables (function parameter types only).
  std::optional<TensorType> evalTensorType(const ast::TensorType& t, bool bindDims = false);
  std::optional<DType> dtypeOf(const std::string& name, Loc loc);
  std::vector<std::string> namesInScope() const;
  bool lookupConfig(const std::string& name, Value& out) const;

  // --- Config.cpp: the config entries and presets of the root and its imports, merged
  struct MergedConfig {
    struct Entry {
      const ast::ConfigEntry* decl;
      const FileScope* scope;  // the file that declares it
    };
    struct Preset {
      std::string name;
      std::vector<const ast::PresetDecl*> decls;  // imported first, the model's own last
      std::vector<const FileScope*> scopes;
    };
    std::vector<Entry> entries;  // in resolution order
    std::vector<Preset> presets;
  };
  MergedConfig mergeConfig();

  // --- ElaborateStmt.cpp: statements, state and the recurrence levels
  void execBlock(const ast::Block& b);
  void exec(const ast::Stmt& s);
  void execAssign(const ast::Stmt& s);
  void execLoop(const ast::Stmt& s);
  // The loop counts inside a body that does not run (a loop of count 0), checked all the same.
  void checkNestedLoopCounts(const ast::Block& b);
  // Where a loop may stand: slow outermost, no level inside itself, each level at one depth.
  bool checkLoopNesting(const ast::Stmt& s);
  static std::string loopWord(const ast::Stmt& s);  // "slow loop", "level G loop"
  Var* findVar(const std::string& name);
  // `dtypeWritten`: the declaration names a dtype, which must then be the value's.
  Value coerceToType(const Value& v, const TensorType& want, bool dtypeWritten, Loc loc, const std::string& what);

  // --- Builtins.cpp
  bool isBuiltin(const std::string& name) const;
  static const std::vector<std::string>& builtinNames();
  Value callBuiltin(const std::string& name, Loc at, std::vector<Value> pos,
                    std::vector<std::pair<std::string, Value>> named, const std::vector<Loc>& argLocs);

  // --- Instantiate.cpp
  ModuleInstance* instantiate(const ast::ModuleDecl& decl, ModuleInstance* parent, const std::string& name,
                              Loc at, std::vector<Value> pos, std::vector<std::pair<std::string, Value>> named);
  bool bindParams(const std::vector<ast::Param>& params, const std::string& owner, Loc at,
                  std::vector<Value> pos, std::vector<std::pair<std::string, Value>> named,
                  std::map<std::string, Value>& env, bool tensorsAllowed);
  bool conformsScalar(const Value& v, const std::string& type, Loc loc, const std::string& what, Value& out);
  void applyModelMember(const ast::Member& m);
  void creditSplitOrder(const ast::Expr& list);  // `split = [G, H, L]`
  void finishRecurrence();   // the levels in order; level and index of every step
  void checkCreditWindow();  // the declared window against the unrolled recurrence

  // --- graph building (Elaborator.cpp)
  int addNode(Node n);
  const TensorType& typeOf(const Value& v) const { return graph_.nodes[v.node].type; }
  Value constant(double v, Loc loc);
  Value broadcastTo(const Value& v, const TensorType& t, Loc loc);

  // --- diagnostics
  Diagnostic& error(Loc loc, std::string message, std::string hint = {});
  bool expectTensor(const Value& v, Loc loc, const std::string& what);
  bool expectInt(const Value& v, Loc loc, const std::string& what, int64_t& out);

  Program& prog_;
  DiagEngine& diags_;
  Ctx ctx_;
  std::vector<Frame> frames_;
  std::vector<LoopPosition> loops_;  // the enclosing recurrence loops and their current iterations
  std::vector<const ast::ModuleDecl*> instStack_;
  std::vector<std::pair<Loc, std::string>> contextNotes_;  // "in instantiation of ..." chain

  // Resolved config of the root file (name → value), and which entries are resolved so far.
  std::map<std::string, Value> config_;
  std::vector<std::string> configOrder_;

  ModelGraph graph_;
  std::unique_ptr<ModuleInstance> root_;
  size_t instances_ = 0;
  int currentStep_ = -1;
  size_t stepFrameDepth_ = 0;
  std::map<std::string, std::pair<size_t, Loc>> levelDepth_;  // each level's nesting depth, where first seen
  std::vector<std::string> levelOrder_;                       // levels in order of first appearance
  bool modelMaskSet_ = false;
  bool resolvingConfig_ = false;  // imported config entries and presets see the config too
};

}  // namespace hrmc::dsl
