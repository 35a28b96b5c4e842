#pragma once
// The abstract syntax tree of a .hrm file: what the parser produces and sema consumes.
// Plain data: nodes own their children; every node carries the Loc it came from.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsl/source/SourceManager.h"

namespace hrmc::dsl::ast {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind { Int, Float, String, Bool, Name, Member, Call, Unary, Binary, Cond, List };
enum class UnaryOp { Neg, Not };
enum class BinaryOp { Add, Sub, Mul, Div, Mod, MatMul, Lt, Le, Gt, Ge, Eq, Ne, And, Or };

const char* spell(UnaryOp op);
const char* spell(BinaryOp op);

// A call argument, positional (name empty) or named (`eps = 1e-6`).
struct Arg {
  std::string name;
  Loc nameLoc;
  ExprPtr value;
};

struct Expr {
  ExprKind kind;
  Loc loc;
  int64_t intValue = 0;        // Int
  double floatValue = 0;       // Float
  bool boolValue = false;      // Bool
  std::string text;            // Name: the name; Member: the field; String: the unescaped text
  UnaryOp unaryOp = UnaryOp::Neg;
  BinaryOp binaryOp = BinaryOp::Add;
  ExprPtr lhs;                 // Unary operand, Binary left, Member object, Call callee, Cond "then"
  ExprPtr rhs;                 // Binary right, Cond "else"
  ExprPtr cond;                // Cond condition
  std::vector<Arg> args;       // Call
  std::vector<ExprPtr> elems;  // List
};

// `[T, hidden] bf16`: dimensions are expressions; the dtype name is optional.
struct TensorType {
  Loc loc;
  std::vector<ExprPtr> dims;
  std::string dtype;
  Loc dtypeLoc;
};

// A declared parameter type: a scalar type name (int, float, bool, an enum) or a tensor type.
struct TypeRef {
  Loc loc;
  bool isTensor = false;
  std::string scalar;
  TensorType tensor;
};

struct Param {
  std::string name;
  Loc loc;
  TypeRef type;
  ExprPtr defaultValue;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct Block {
  Loc loc;
  std::vector<StmtPtr> stmts;
};

enum class StmtKind { State, Assign, Destructure, Return, Loop, If };
// How a recurrence loop was written: `slow(n)` is level H, `fast(n)` level L, `level G(n)` names its own.
enum class LoopSpelling { Slow, Fast, Named };

struct Stmt {
  StmtKind kind;
  Loc loc;
  std::vector<std::string> names;  // State/Assign: one; Destructure: several
  std::vector<Loc> nameLocs;
  std::optional<TensorType> type;  // State/Assign annotation
  ExprPtr value;                   // State/Assign/Destructure/Return value, Loop count, If condition
  std::string level;               // Loop: the level's name ("H" for slow, "L" for fast)
  Loc levelLoc;                    // Loop: where the name is written (the keyword for slow/fast)
  LoopSpelling spelling = LoopSpelling::Named;  // Loop
  Block body;                      // Loop body, If "then"
  std::optional<Block> elseBody;   // If: `else { }`; an `else if` is an else block with one If
};

struct FnDecl {
  std::string name;
  Loc loc;
  std::string doc;
  std::vector<Param> params;
  std::optional<TensorType> result;
  Block body;
};

enum class MemberKind { Param, Buffer, Stack, Submodule, Let, MagicNorm, Objective, Mask, Credit, Fn };

struct Member {
  MemberKind kind;
  Loc loc;
  std::string name;       // Param/Buffer/Stack/Submodule/Let name; Objective value
  Loc nameLoc;
  std::string doc;
  TensorType type;        // Param/Buffer
  ExprPtr value;          // Param/Buffer initializer, Let value, Stack count, Mask kind, MagicNorm `if`
  std::string module;     // Stack/Submodule: the module instantiated
  Loc moduleLoc;
  std::vector<Arg> args;  // Stack/Submodule/MagicNorm/Credit arguments
  std::unique_ptr<FnDecl> fn;
};

struct ModuleDecl {
  std::string name;
  Loc loc;
  std::string doc;
  bool isModel = false;
  std::vector<Param> params;
  std::vector<Member> members;
};

struct EnumDecl {
  std::string name;
  Loc loc;
  std::string doc;
  std::vector<std::string> values;
  std::vector<Loc> valueLocs;
};

struct ConfigEntry {
  std::string name;
  Loc loc;
  std::string type;
  Loc typeLoc;
  ExprPtr value;
  std::string doc;
};

struct PresetDecl {
  std::string name;
  Loc loc;
  std::string doc;
  struct Assignment {
    std::string key;
    Loc loc;
    ExprPtr value;
  };
  std::vector<Assignment> assignments;
};

struct Import {
  std::string path;
  Loc loc;
};

struct File {
  uint32_t fileId = Loc::kNoFile;
  std::vector<Import> imports;
  std::vector<EnumDecl> enums;
  std::vector<ConfigEntry> config;
  std::vector<Loc> configLocs;  // every `config { }` block, to report duplicates
  std::vector<PresetDecl> presets;
  std::vector<ModuleDecl> modules;  // modules and models, in source order
  std::vector<FnDecl> fns;
};

}  // namespace hrmc::dsl::ast
