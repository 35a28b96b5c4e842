#include "dsl/ast/AstPrinter.h"

#include <ostream>
#include <sstream>

namespace hrmc::dsl {

namespace {

std::string args(const std::vector<ast::Arg>& as) {
  std::string s = "(";
  for (size_t i = 0; i < as.size(); ++i) {
    if (i) s += ", ";
    if (!as[i].name.empty()) s += as[i].name + " = ";
    s += printExpr(*as[i].value);
  }
  return s + ")";
}

std::string tensorType(const ast::TensorType& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.dims.size(); ++i) s += (i ? ", " : "") + printExpr(*t.dims[i]);
  s += "]";
  if (!t.dtype.empty()) s += " " + t.dtype;
  return s;
}

std::string params(const std::vector<ast::Param>& ps) {
  std::string s = "(";
  for (size_t i = 0; i < ps.size(); ++i) {
    const ast::Param& p = ps[i];
    s += (i ? ", " : "") + p.name + ": " + (p.type.isTensor ? tensorType(p.type.tensor) : p.type.scalar);
    if (p.defaultValue) s += " = " + printExpr(*p.defaultValue);
  }
  return s + ")";
}

class Printer {
 public:
  Printer(std::ostream& os, const SourceManager& sm) : os_(os), sm_(sm) {}

  void line(int depth, const std::string& text, Loc loc) {
    os_ << std::string(depth * 2, ' ') << text;
    if (loc.valid()) os_ << "  @" << loc.line << ":" << loc.col;
    os_ << "\n";
  }

  void block(int depth, const ast::Block& b) {
    for (const ast::StmtPtr& s : b.stmts) stmt(depth, *s);
  }

  void stmt(int d, const ast::Stmt& s) {
    switch (s.kind) {
      case ast::StmtKind::State:
        line(d, "State " + s.names[0] + (s.type ? ": " + tensorType(*s.type) : "") + " = " + printExpr(*s.value), s.loc);
        break;
      case ast::StmtKind::Assign:
        line(d, "Assign " + s.names[0] + (s.type ? ": " + tensorType(*s.type) : "") + " = " + printExpr(*s.value), s.loc);
        break;
      case ast::StmtKind::Destructure: {
        std::string names;
        for (const std::string& n : s.names) names += (names.empty() ? "" : ", ") + n;
        line(d, "Unpack " + names + " = " + printExpr(*s.value), s.loc);
        break;
      }
      case ast::StmtKind::Return: line(d, "Return " + printExpr(*s.value), s.loc); break;
      case ast::StmtKind::Loop: {
        const std::string head = s.spelling == ast::LoopSpelling::Slow   ? "SlowLoop"
                                 : s.spelling == ast::LoopSpelling::Fast ? "FastLoop"
                                                                         : "Level " + s.level;
        line(d, head + " x " + printExpr(*s.value), s.loc);
        block(d + 1, s.body);
        break;
      }
      case ast::StmtKind::If:
        line(d, "If " + printExpr(*s.value), s.loc);
        block(d + 1, s.body);
        if (s.elseBody) {
          line(d, "Else", Loc{});
          block(d + 1, *s.elseBody);
        }
        break;
    }
  }

  void fn(int d, const ast::FnDecl& f) {
    line(d, "Fn " + f.name + params(f.params) + (f.result ? " -> " + tensorType(*f.result) : ""), f.loc);
    block(d + 1, f.body);
  }

  void member(int d, const ast::Member& m) {
    switch (m.kind) {
      case ast::MemberKind::Param: line(d, "Param " + m.name + ": " + tensorType(m.type) + " = " + printExpr(*m.value), m.loc); break;
      case ast::MemberKind::Buffer: line(d, "Buffer " + m.name + ": " + tensorType(m.type) + " = " + printExpr(*m.value), m.loc); break;
      case ast::MemberKind::Stack: line(d, "Stack " + m.name + " = " + printExpr(*m.value) + " x " + m.module + args(m.args), m.loc); break;
      case ast::MemberKind::Submodule: line(d, "Submodule " + m.name + " = " + m.module + args(m.args), m.loc); break;
      case ast::MemberKind::Let: line(d, "Let " + m.name + " = " + printExpr(*m.value), m.loc); break;
      case ast::MemberKind::MagicNorm: line(d, "MagicNorm" + args(m.args) + (m.value ? " if " + printExpr(*m.value) : ""), m.loc); break;
      case ast::MemberKind::Objective: line(d, "Objective " + m.name, m.loc); break;
      case ast::MemberKind::Mask: line(d, "Mask " + printExpr(*m.value), m.loc); break;
      case ast::MemberKind::Credit: line(d, "Credit" + args(m.args), m.loc); break;
      case ast::MemberKind::Fn: fn(d, *m.fn); break;
    }
  }

  void file(const ast::File& f) {
    line(0, "File " + sm_.path(f.fileId), Loc{});
    for (const ast::Import& i : f.imports) line(1, "Import \"" + i.path + "\"", i.loc);
    for (const ast::EnumDecl& e : f.enums) {
      std::string vals;
      for (const std::string& v : e.values) vals += (vals.empty() ? "" : ", ") + v;
      line(1, "Enum " + e.name + " {" + vals + "}", e.loc);
    }
    if (!f.config.empty()) line(1, "Config", f.configLocs.empty() ? Loc{} : f.configLocs[0]);
    for (const ast::ConfigEntry& c : f.config) line(2, c.name + ": " + c.type + " = " + printExpr(*c.value), c.loc);
    for (const ast::PresetDecl& p : f.presets) {
      std::string as;
      for (const auto& a : p.assignments) as += (as.empty() ? "" : ", ") + a.key + " = " + printExpr(*a.value);
      line(1, "Preset " + p.name + " {" + as + "}", p.loc);
    }
    for (const ast::ModuleDecl& m : f.modules) {
      line(1, std::string(m.isModel ? "Model " : "Module ") + m.name + (m.isModel ? "" : params(m.params)), m.loc);
      for (const ast::Member& mem : m.members) member(2, mem);
    }
    for (const ast::FnDecl& fd : f.fns) fn(1, fd);
  }

 private:
  std::ostream& os_;
  const SourceManager& sm_;
};

}  // namespace

std::string printExpr(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::Int: return std::to_string(e.intValue);
    case ast::ExprKind::Float: {
      std::ostringstream ss;
      ss << e.floatValue;
      std::string s = ss.str();
      if (s.find_first_of(".e") == std::string::npos) s += ".0";
      return s;
    }
    case ast::ExprKind::String: return "\"" + e.text + "\"";
    case ast::ExprKind::Bool: return e.boolValue ? "true" : "false";
    case ast::ExprKind::Name: return e.text;
    case ast::ExprKind::Member: return printExpr(*e.lhs) + "." + e.text;
    case ast::ExprKind::Call: return printExpr(*e.lhs) + args(e.args);
    case ast::ExprKind::Unary: return std::string(ast::spell(e.unaryOp)) + printExpr(*e.lhs);
    case ast::ExprKind::Binary: return "(" + printExpr(*e.lhs) + " " + ast::spell(e.binaryOp) + " " + printExpr(*e.rhs) + ")";
    case ast::ExprKind::Cond: return "(" + printExpr(*e.cond) + " ? " + printExpr(*e.lhs) + " : " + printExpr(*e.rhs) + ")";
    case ast::ExprKind::List: {
      std::string s = "[";
      for (size_t i = 0; i < e.elems.size(); ++i) s += (i ? ", " : "") + printExpr(*e.elems[i]);
      return s + "]";
    }
  }
  return "?";
}

void printAst(std::ostream& os, const ast::File& file, const SourceManager& sm) { Printer(os, sm).file(file); }

}  // namespace hrmc::dsl
