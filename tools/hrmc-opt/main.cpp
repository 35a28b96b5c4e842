// hrmc-opt: MLIR's opt driver with the hrm dialect and hrmc's passes (compiler/Passes.h), for pass
// tests on small .mlir inputs:  hrmc-opt in.mlir --hrm-train-step=k=2 --hrm-partition=function=train_step_k2
#include "compiler/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char** argv) {
  mlir::registerTransformsPasses();  // canonicalize, cse, symbol-dce, ...
  hrmc::compiler::registerHrmPasses();
  mlir::DialectRegistry registry;
  hrmc::compiler::registerHrmDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "hrmc-opt: the hrm dialect and hrmc's passes\n", registry));
}
