#pragma once
// Compile-time values of the elaborator: config scalars, dimensions, tensors (graph nodes),
// module instances and callables. Everything a .hrm expression can evaluate to.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dsl/sema/ModelGraph.h"
#include "dsl/sema/Program.h"

namespace hrmc::dsl {

struct ModuleInstance;

struct Value {
  enum class Kind { Error, None, Int, Float, Bool, Enum, String, DimT, Tensor, Module, Tuple, List, Init, Callable };
  Kind kind = Kind::None;
  int64_t i = 0;                       // Int; Enum index
  double f = 0;                        // Float; Init stddev
  bool b = false;                      // Bool
  const EnumType* enumType = nullptr;  // Enum
  std::string s;                       // String; Int: the name it was written with; Callable: builtin name
  int node = -1;                       // Tensor: graph node id
  ModuleInstance* module = nullptr;    // Module; Callable: the receiver of a method
  std::vector<Value> elems;            // Tuple, List
  InitKind init = InitKind::TruncNormal;
  const ast::FnDecl* fn = nullptr;     // Callable: a user function or method (null: builtin `s`)

  static Value error() { return Value{}.as(Kind::Error); }
  static Value none() { return Value{}; }
  static Value integer(int64_t v, std::string label = {}) {
    Value x = Value{}.as(Kind::Int);
    x.i = v;
    x.s = std::move(label);
    return x;
  }
  static Value real(double v) {
    Value x = Value{}.as(Kind::Float);
    x.f = v;
    return x;
  }
  static Value boolean(bool v) {
    Value x = Value{}.as(Kind::Bool);
    x.b = v;
    return x;
  }
  static Value tensor(int node) {
    Value x = Value{}.as(Kind::Tensor);
    x.node = node;
    return x;
  }
  bool isError() const { return kind == Kind::Error; }
  bool isScalarNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double number() const { return kind == Kind::Int ? static_cast<double>(i) : f; }

 private:
  Value as(Kind k) && {
    kind = k;
    return std::move(*this);
  }
};

// A short description of a value's kind for messages: "an int", "a tensor [T, 128] f32".
std::string describeKind(Value::Kind k);

struct ModuleInstance {
  const ast::ModuleDecl* decl = nullptr;
  const FileScope* scope = nullptr;
  std::string path;                  // "model.H_level"; "" for the model itself
  Loc loc;                           // where it was instantiated
  std::map<std::string, Value> env;  // parameters, lets, weights and submodules by name
  std::vector<std::unique_ptr<ModuleInstance>> children;
  bool isStack = false;              // a `stack(n)`: items are applied in sequence
  std::vector<ModuleInstance*> items;
  bool magicnorm = false;            // MagicNorm: RMSNorm at the exit of every call
  double magicEps = 1e-6;
  Loc magicLoc;
  std::string typeName() const;
};

}  // namespace hrmc::dsl
