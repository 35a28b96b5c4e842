#pragma once
// Source text → AST. Syntax errors go to the DiagEngine; the result is null only when the file could
// not be parsed into anything usable. The ANTLR parse tree never leaves ParseFile.cpp.
#include <memory>

#include "dsl/ast/Ast.h"
#include "dsl/diag/Diagnostics.h"

namespace hrmc::dsl {

// Limits that keep hostile input from exhausting the stack: deeper nesting is reported as an error.
struct ParseLimits {
  static constexpr int kMaxBracketDepth = 128;   // ( [ { nesting
  static constexpr int kMaxChainPerStatement = 64;  // `?:` chains and runs of unary operators
  static constexpr int kMaxExprDepth = 256;      // depth of one expression tree
};

std::unique_ptr<ast::File> parseFile(const SourceManager& sm, uint32_t fileId, DiagEngine& diags);

}  // namespace hrmc::dsl
