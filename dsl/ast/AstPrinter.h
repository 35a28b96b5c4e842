#pragma once
// `hrmc compile --emit=ast`: the AST as an indented tree, one node per line, with source lines.
#include <iosfwd>

#include "dsl/ast/Ast.h"

namespace hrmc::dsl {

std::string printExpr(const ast::Expr& e);
void printAst(std::ostream& os, const ast::File& file, const SourceManager& sm);

}  // namespace hrmc::dsl
