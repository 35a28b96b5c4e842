#pragma once
// Collects the MLIR diagnostics (verifier and pass messages) emitted while it lives into a string, for
// the caller to report. Internal to compiler/ (includes MLIR).
#include <string>

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

namespace hrmc::compiler {

struct DiagnosticCapture {
  explicit DiagnosticCapture(mlir::MLIRContext& ctx) : handler(&ctx, [this](mlir::Diagnostic& d) {
    llvm::raw_string_ostream os(text);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  }) {}
  std::string text;
  mlir::ScopedDiagnosticHandler handler;
};

}  // namespace hrmc::compiler
