#ifndef HRM_VJP_INTERFACE_TD
#define HRM_VJP_INTERFACE_TD

include "mlir/IR/OpBase.td"

// Reverse-mode differentiation of one op: its vector-Jacobian product, written with hrm ops so that
// the backward pass is compiled, fused and inspected like the forward. The rule of each op lives in
// HrmOpsVjp.cpp, in the order of HrmOps.td. An op without this interface (the metric ops) has no
// derivative; the autodiff pass reports it if gradient would have to flow through it.
def Hrm_VjpOpInterface : OpInterface<"VjpOpInterface"> {
  let cppNamespace = "::hrmc::hrm";
  let methods = [
    InterfaceMethod<
      /*desc=*/[{Given the gradient of each result (null where none), appends to `operandGrads` the
                 gradient of each operand in order (null where none flows, e.g. token ids).}],
      /*retTy=*/"::llvm::LogicalResult",
      /*methodName=*/"buildVjp",
      /*args=*/(ins "::mlir::OpBuilder&":$b, "::mlir::ValueRange":$resultGrads,
                    "::llvm::SmallVectorImpl<::mlir::Value>&":$operandGrads)>,
  ];
}

#endif
