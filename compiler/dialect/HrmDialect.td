// The `hrm` dialect: one op per primitive of the .hrm language, on ranked tensors whose only dynamic
// dimension is T (packed tokens). Semantics of every op are defined by the reference executor
// (runtime/reference); HRM-TEXT.md section numbers are given where an op follows the reference model.
#ifndef HRM_DIALECT_TD
#define HRM_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Hrm_Dialect : Dialect {
  let name = "hrm";
  let cppNamespace = "::hrmc::hrm";
  let summary = "Hierarchical recurrent models: tensor primitives, recurrent steps, packed sequences";
  let useDefaultTypePrinterParser = 1;
}

def Hrm_PackedSeqType : TypeDef<Hrm_Dialect, "PackedSeq"> {
  let mnemonic = "packed_seq";
  let summary = "Packed-sequence metadata of a batch (HRM-TEXT.md §3.5)";
  let description = [{
    Position ids, prefix lengths, causal lengths and cu_seqlens of the samples packed into the T
    rows of a batch. rope reads the positions; attention reads the sample boundaries.
  }];
}

class Hrm_Op<string mnemonic, list<Trait> traits = []> : Op<Hrm_Dialect, mnemonic, traits>;

#endif
