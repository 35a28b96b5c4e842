#ifndef HRM_OPS_TD
#define HRM_OPS_TD

include "compiler/dialect/HrmDialect.td"
include "compiler/dialect/HrmVjpInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

def Hrm_Tensor : RankedTensorOf<[F32, BF16, F64, I32]>;
def Hrm_FloatTensor : RankedTensorOf<[F32, BF16, F64]>;
def Hrm_TokenTensor : RankedTensorOf<[I32]>;

// Ops whose result type follows from operands and attributes; the verifier re-infers and compares.
class Hrm_InferredOp<string mnemonic, list<Trait> traits = []>
    : Hrm_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])>;

def Hrm_Vjp : DeclareOpInterfaceMethods<Hrm_VjpOpInterface>;

def Hrm_ConstantOp : Hrm_InferredOp<"constant"> {
  let summary = "A scalar constant (rank-0 tensor), broadcast by the op that uses it";
  let arguments = (ins F64Attr:$value);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
}

def Hrm_EmbeddingOp : Hrm_InferredOp<"embedding", [Hrm_Vjp]> {
  let summary = "Gather rows of a [V, d] table by token id: [T] -> [T, d] (HRM-TEXT.md §1.2)";
  let arguments = (ins Hrm_FloatTensor:$table, Hrm_TokenTensor:$tokens);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$table `[` $tokens `]` attr-dict `:` functional-type(operands, results)";
}

def Hrm_LinearOp : Hrm_InferredOp<"linear", [Hrm_Vjp]> {
  let summary = "x Wᵀ with W stored [out, in]: [..., in] -> [..., out]";
  let arguments = (ins Hrm_FloatTensor:$x, Hrm_FloatTensor:$weight);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x `,` $weight attr-dict `:` functional-type(operands, results)";
}

def Hrm_MatMulOp : Hrm_InferredOp<"matmul", [Hrm_Vjp]> {
  let summary = "a @ b: [..., k] x [k, n] -> [..., n]";
  let arguments = (ins Hrm_FloatTensor:$a, Hrm_FloatTensor:$b);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$a `,` $b attr-dict `:` functional-type(operands, results)";
}

class Hrm_BinaryOp<string mnemonic, string what> : Hrm_InferredOp<mnemonic, [Hrm_Vjp]> {
  let summary = "Element-wise " # what # " with broadcasting (trailing dimensions aligned, 1 broadcasts)";
  let arguments = (ins Hrm_FloatTensor:$lhs, Hrm_FloatTensor:$rhs);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}
def Hrm_AddOp : Hrm_BinaryOp<"add", "sum"> {
  // The gradient of a split arrives as a sum of zero-padded pieces: make that one concat.
  let hasCanonicalizer = 1;
}
def Hrm_SubOp : Hrm_BinaryOp<"sub", "difference">;
def Hrm_MulOp : Hrm_BinaryOp<"mul", "product">;
def Hrm_DivOp : Hrm_BinaryOp<"div", "quotient">;

class Hrm_UnaryOp<string mnemonic, string what> : Hrm_InferredOp<mnemonic, [Hrm_Vjp]> {
  let summary = what;
  let arguments = (ins Hrm_FloatTensor:$x);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}
def Hrm_NegOp : Hrm_UnaryOp<"neg", "-x">;
def Hrm_SigmoidOp : Hrm_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Hrm_SiluOp : Hrm_UnaryOp<"silu", "x * sigmoid(x)">;
def Hrm_ExpOp : Hrm_UnaryOp<"exp", "e^x">;
def Hrm_TanhOp : Hrm_UnaryOp<"tanh", "tanh(x)">;
def Hrm_SqrtOp : Hrm_UnaryOp<"sqrt", "square root">;
def Hrm_StopGradientOp : Hrm_UnaryOp<"stop_gradient", "x forward; no gradient flows back">;

def Hrm_RmsNormOp : Hrm_InferredOp<"rms_norm", [Hrm_Vjp]> {
  let summary = "x / sqrt(mean(x²) + eps) over the last axis, no weight (HRM-TEXT.md §1.3)";
  let description = [{
    `magicnorm` marks the norm at the exit of a recurrent module, applied after every step (§1.6).
  }];
  let arguments = (ins Hrm_FloatTensor:$x, F64Attr:$eps, UnitAttr:$magicnorm);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def Hrm_RopeOp : Hrm_InferredOp<"rope", [Hrm_Vjp]> {
  let summary = "Rotate-half rotary embedding at the packed positions, in fp32 (HRM-TEXT.md §1.4)";
  let description = [{ With `inverse` it rotates by the negative angle: the transpose, used by the VJP. }];
  let arguments = (ins Hrm_FloatTensor:$x, Hrm_PackedSeqType:$seq, F64Attr:$theta, UnitAttr:$inverse);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x `,` $seq attr-dict `:` type($x)";
}

def Hrm_AttentionOp : Hrm_InferredOp<"attention", [AllTypesMatch<["q", "k", "v"]>, Hrm_Vjp]> {
  let summary = "Softmax attention over packed samples with a mask kind (HRM-TEXT.md §3.6)";
  let description = [{
    q, k, v: [T, heads, head_dim]. prefixlm: bidirectional inside each sample's prefix, causal in
    the response (which sees the whole prefix); causal: causal everywhere; full: bidirectional inside
    each sample. Nothing crosses samples; padding rows produce zeros. Scale 1/sqrt(head_dim).
  }];
  let arguments = (ins Hrm_FloatTensor:$q, Hrm_FloatTensor:$k, Hrm_FloatTensor:$v, Hrm_PackedSeqType:$seq,
                       StrAttr:$mask);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$q `,` $k `,` $v `,` $seq attr-dict `:` type($q)";
}

class Hrm_AxisOp<string mnemonic, string what, list<Trait> traits = []> : Hrm_InferredOp<mnemonic, traits> {
  let summary = what;
  let arguments = (ins Hrm_FloatTensor:$x, I64Attr:$axis);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
}
def Hrm_SoftmaxOp : Hrm_AxisOp<"softmax", "Softmax along an axis", [Hrm_Vjp]>;
def Hrm_SumOp : Hrm_AxisOp<"sum", "Sum over an axis, which is removed", [Hrm_Vjp]>;
def Hrm_MeanOp : Hrm_AxisOp<"mean", "Mean over an axis, which is removed", [Hrm_Vjp]>;
def Hrm_MaxOp : Hrm_AxisOp<"max", "Maximum over an axis, which is removed", [Hrm_Vjp]>;

def Hrm_ReshapeOp : Hrm_Op<"reshape", [Pure, Hrm_Vjp]> {
  let summary = "Same elements, new static shape (T stays the leading dimension)";
  let arguments = (ins Hrm_Tensor:$x);
  let results = (outs Hrm_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Hrm_ConvertOp : Hrm_Op<"convert", [Pure, Hrm_Vjp]> {
  let summary = "The same values in another float type: f32 → bf16 rounds to nearest even, bf16 → f32 is exact";
  let description = [{
    Made by the bf16 precision pass (compiler/precision/): each fp32 master weight is converted to its
    bf16 copy where the function starts, and bf16 results return as f32. Its gradient is the gradient
    converted back; autodiff accumulates the gradient of a narrowing convert in the wider type, so a
    weight used by several steps sums their contributions in fp32 (HRM-TEXT.md §1.12).
  }];
  let arguments = (ins Hrm_FloatTensor:$x);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Hrm_BroadcastOp : Hrm_Op<"broadcast", [Pure, Hrm_Vjp]> {
  let summary = "Broadcast to a larger shape (trailing dimensions aligned, 1 broadcasts)";
  let arguments = (ins Hrm_Tensor:$x);
  let results = (outs Hrm_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Hrm_SliceOp : Hrm_InferredOp<"slice", [Hrm_Vjp]> {
  let summary = "Elements [offset, offset + size) along an axis";
  let arguments = (ins Hrm_Tensor:$x, I64Attr:$axis, I64Attr:$offset, I64Attr:$size);
  let results = (outs Hrm_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
}

def Hrm_ConcatOp : Hrm_InferredOp<"concat", [Hrm_Vjp]> {
  let summary = "Join tensors along an axis";
  let arguments = (ins Variadic<Hrm_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Hrm_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  // A concat of a concat along the same axis is one concat.
  let hasCanonicalizer = 1;
}

def Hrm_CrossEntropyOp : Hrm_InferredOp<"cross_entropy", [Hrm_Vjp]> {
  let summary = "Per-token cross entropy in fp32: [T, V] logits, [T] labels -> [T]; label -100 gives 0";
  let arguments = (ins Hrm_FloatTensor:$logits, Hrm_TokenTensor:$labels);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def Hrm_ArgmaxMatchOp : Hrm_InferredOp<"argmax_match"> {
  let summary = "1 where argmax(logits) equals a valid label, else 0: [T, V], [T] -> [T] (§3.7)";
  let arguments = (ins Hrm_FloatTensor:$logits, Hrm_TokenTensor:$labels);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def Hrm_LabelMeanOp : Hrm_InferredOp<"label_mean", [Hrm_Vjp]> {
  let summary = "Sum of per-token values over valid labels (!= -100) divided by their count (§3.7)";
  let arguments = (ins Hrm_FloatTensor:$values, Hrm_TokenTensor:$labels);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$values `,` $labels attr-dict `:` functional-type(operands, results)";
}

def Hrm_ExactMatchOp : Hrm_InferredOp<"exact_match"> {
  let summary = "Fraction of samples with ≥1 valid label whose valid labels all match (§3.7)";
  let arguments = (ins Hrm_FloatTensor:$match, Hrm_TokenTensor:$labels, Hrm_PackedSeqType:$seq);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$match `,` $labels `,` $seq attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Ops that only appear in backward passes (built by the VJP rules).
//===----------------------------------------------------------------------===//

def Hrm_OuterSumOp : Hrm_InferredOp<"outer_sum"> {
  let summary = "Σ over leading dimensions of a[..., m] ⊗ b[..., n] -> [m, n] (a weight gradient)";
  let arguments = (ins Hrm_FloatTensor:$a, Hrm_FloatTensor:$b);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$a `,` $b attr-dict `:` functional-type(operands, results)";
}

def Hrm_EmbeddingGradOp : Hrm_InferredOp<"embedding_grad"> {
  let summary = "Scatter-add of [T, d] gradients into a [vocab, d] table by token id";
  let arguments = (ins Hrm_TokenTensor:$tokens, Hrm_FloatTensor:$grad, I64Attr:$vocab);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$tokens `,` $grad attr-dict `:` functional-type(operands, results)";
}

def Hrm_RmsNormGradOp : Hrm_InferredOp<"rms_norm_grad", [AllTypesMatch<["x", "grad"]>]> {
  let summary = "dx of y = x / rms(x): r·(g − x·r²·mean(g·x)), r = 1/sqrt(mean(x²) + eps)";
  let arguments = (ins Hrm_FloatTensor:$x, Hrm_FloatTensor:$grad, F64Attr:$eps);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x `,` $grad attr-dict `:` type($x)";
}

def Hrm_AttentionGradOp : Hrm_Op<"attention_grad", [Pure, AllTypesMatch<["q", "k", "v", "grad", "dq", "dk", "dv"]>]> {
  let summary = "dq, dk, dv of attention, recomputing the probabilities from q and k (flash-style)";
  let arguments = (ins Hrm_FloatTensor:$q, Hrm_FloatTensor:$k, Hrm_FloatTensor:$v, Hrm_FloatTensor:$grad,
                       Hrm_PackedSeqType:$seq, StrAttr:$mask);
  let results = (outs Hrm_FloatTensor:$dq, Hrm_FloatTensor:$dk, Hrm_FloatTensor:$dv);
  let assemblyFormat = "$q `,` $k `,` $v `,` $grad `,` $seq attr-dict `:` type($q)";
}

def Hrm_CrossEntropyGradOp : Hrm_InferredOp<"cross_entropy_grad"> {
  let summary = "dlogits = (softmax(logits) − onehot(label)) · g[t] on valid rows, 0 elsewhere";
  let arguments = (ins Hrm_FloatTensor:$logits, Hrm_TokenTensor:$labels, Hrm_FloatTensor:$grad);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$logits `,` $labels `,` $grad attr-dict `:` functional-type(operands, results)";
}

def Hrm_LabelMeanGradOp : Hrm_InferredOp<"label_mean_grad"> {
  let summary = "d values of label_mean: g / #valid on valid labels, 0 elsewhere ([T])";
  let arguments = (ins Hrm_TokenTensor:$labels, Hrm_FloatTensor:$grad);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$labels `,` $grad attr-dict `:` functional-type(operands, results)";
}

def Hrm_UnbroadcastOp : Hrm_Op<"unbroadcast", [Pure]> {
  let summary = "Sum over the dimensions a broadcast expanded: the transpose of hrm.broadcast";
  let arguments = (ins Hrm_FloatTensor:$x);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Hrm_MaxGradOp : Hrm_InferredOp<"max_grad"> {
  let summary = "dx of max over an axis: g at the first maximal element along the axis, 0 elsewhere";
  let arguments = (ins Hrm_FloatTensor:$x, Hrm_FloatTensor:$grad, I64Attr:$axis);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x `,` $grad attr-dict `:` functional-type(operands, results)";
}

def Hrm_PadOp : Hrm_InferredOp<"pad"> {
  let summary = "Zeros of `size` along an axis with x placed at `offset`: the transpose of hrm.slice";
  let arguments = (ins Hrm_FloatTensor:$x, I64Attr:$axis, I64Attr:$offset, I64Attr:$size);
  let results = (outs Hrm_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
}

def Hrm_YieldOp : Hrm_Op<"yield", [Pure, Terminator, HasParent<"StepOp">]> {
  let summary = "The new value of the state a step updates";
  let arguments = (ins Hrm_Tensor:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Hrm_StepOp : Hrm_Op<"step", [SingleBlock, RecursiveMemoryEffects]> {
  let summary = "One recurrent step: an update of recurrent state at one level of the hierarchy";
  let description = [{
    `level` names the recurrence level the step belongs to ("H" for a slow loop, "L" for a fast
    loop, or a level the model names); `index` counts steps of that level over the whole
    recurrence; `iters` are the iterations of the enclosing recurrence loops, outermost first.
    The credit window (HRM-TEXT.md §2) selects steps by level and index, splitting K over the levels
    in the order of the module's `hrm.credit_split` attribute (H, then L, without one); a step
    outside it runs forward-only. The body computes the new state value and yields it.
  }];
  let arguments = (ins StrAttr:$level, I64Attr:$index, DenseI64ArrayAttr:$iters, StrAttr:$state,
                       StrAttr:$callee);
  let results = (outs Hrm_Tensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$level $index attr-dict `:` type($result) $body";
  let hasVerifier = 1;
}

#endif
