#include "compiler/codegen/cuda/CudaCPrinter.h"

#include <cstdio>
#include <sstream>

#include "compiler/kernels/KernelPartition.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallBitVector.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

namespace hrmc::compiler {

namespace {

using mlir::Value;

constexpr int64_t kMaxSharedBytes = 48 * 1024;  // static shared memory every sm_80+ block may use
constexpr int64_t kReductionScratchBytes = 32 * 4;  // hrm_block_reduce's per-warp partials

// An extent (a size, a number of elements): static, or a multiple of T, the only dynamic dimension.
struct Extent {
  int64_t c = 0;
  bool perT = false;
  std::string str() const { return perT ? (c == 1 ? "T" : "(" + std::to_string(c) + "LL * T)") : std::to_string(c) + "LL"; }
};

// A memref as the printed code addresses it: element pointer, sizes, strides (static: T is always the
// leading dimension, so it never enters a stride) and offset.
struct View {
  std::string base;
  mlir::Type element;
  std::vector<Extent> sizes;
  std::vector<int64_t> strides;
  int64_t offset = 0;
  int root = -1;  // the kernel argument it views, or -1 for a temporary
};

std::string hexFloat(double v, bool single) {
  if (v != v) return single ? "hrm_f32_bits(0x7fc00000u)" : "(0.0/0.0)";
  if (v == __builtin_inf()) return single ? "hrm_f32_bits(0x7f800000u)" : "__builtin_inf()";
  if (v == -__builtin_inf()) return single ? "hrm_f32_bits(0xff800000u)" : "(-__builtin_inf())";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return std::string(buf) + (single ? "f" : "");
}

// One kernel function → CUDA C.
class KernelPrinter {
 public:
  explicit KernelPrinter(mlir::func::FuncOp fn) : fn_(fn) {}

  bool print(std::string& text, CudaKernelShape& shape, std::string& error) {
    shape.name = fn_.getName().str();
    rowParallel_ = fn_->hasAttr(kRowParallelAttr);
    if (!bindArguments()) return fail(error);
    // The loop nests, in order; everything else defines views, extents and constants they use.
    for (mlir::Operation& op : fn_.front().without_terminator())
      if (mlir::isa<mlir::linalg::LinalgOp>(op)) nests_.push_back(&op);
    chooseMapping();
    shape.mapping = mapping_;
    std::ostringstream& os = body_;
    for (mlir::Operation& op : fn_.front().without_terminator())
      if (!mlir::isa<mlir::linalg::LinalgOp>(op) && !define(&op)) return fail(error);
    const char* indent = mapping_ == CudaMapping::Rows ? "    " : "  ";
    for (size_t i = 0; i < nests_.size(); ++i) {
      if (!printNest(nests_[i], indent, os)) return fail(error);
      if (mapping_ != CudaMapping::Elements && i + 1 < nests_.size()) os << indent << "hrm_sync();\n";
    }
    if (sharedBytes_ > kMaxSharedBytes) {
      error_ = "needs " + std::to_string(sharedBytes_) + " bytes of shared memory (the limit is " +
               std::to_string(kMaxSharedBytes) + ")";
      return fail(error);
    }
    shape.threads = threads();
    shape.sharedBytes = sharedBytes_;
    shape.pointers = static_cast<int>(fn_.getNumArguments());
    shape.workPerToken = workPerToken_;
    shape.workFixed = workFixed_;

    std::ostringstream k;
    k << "// " << shape.name << ": " << nests_.size() << (nests_.size() == 1 ? " loop nest" : " loop nests")
      << ", mapped to " << spell(mapping_) << "\n";
    k << "HRM_KERNEL void __launch_bounds__(" << shape.threads << ") " << shape.name << "(";
    for (unsigned i = 0; i < fn_.getNumArguments(); ++i) k << params_[i] << ", ";
    k << "long long T) {\n" << prologue_.str();
    if (mapping_ == CudaMapping::Rows) {
      k << "  for (long long row = hrm_block(); row < T; row += hrm_blocks()) {\n" << os.str();
      // Row temporaries in shared memory are rewritten by the next row.
      if (sharedBytes_ > 0) k << "    hrm_sync();\n";
      k << "  }\n";
    } else {
      k << os.str();
    }
    k << "}\n";
    // The host emulation's entry: the same kernel run by the header's fibers.
    k << "HRM_HOST_ENTRY(" << shape.name << ", ";
    for (unsigned i = 0; i < fn_.getNumArguments(); ++i) k << "(" << paramTypes_[i] << ")args[" << i << "], ";
    k << "*(const long long*)args[" << fn_.getNumArguments() << "])\n";
    text = k.str();
    return true;
  }

 private:
  bool fail(std::string& error) {
    error = "cannot print kernel " + fn_.getName().str() + " as CUDA C: " + error_;
    return false;
  }
  bool unsupported(mlir::Operation* op, const std::string& why = "") {
    error_ = "unsupported op " + op->getName().getStringRef().str() + (why.empty() ? "" : " (" + why + ")");
    return false;
  }

  std::string fresh(const char* prefix) { return prefix + std::to_string(next_++); }

  static bool cType(mlir::Type t, std::string& out) {
    if (t.isF32()) out = "float";
    else if (t.isBF16()) out = "hrm_bf16";
    else if (t.isF64()) out = "double";
    else if (t.isIndex() || t.isInteger(64)) out = "long long";
    else if (t.isInteger(32)) out = "int";
    else if (t.isInteger(1)) out = "bool";
    else if (t.isInteger(8)) out = "signed char";
    else return false;
    return true;
  }

  // A dense row-major buffer of type `t` at `base` (a dynamic leading dimension is T).
  static View rowMajor(mlir::MemRefType t, std::string base) {
    View v;
    v.base = std::move(base);
    v.element = t.getElementType();
    v.sizes.resize(t.getRank());
    v.strides.resize(t.getRank());
    int64_t stride = 1;
    for (int64_t d = t.getRank() - 1; d >= 0; --d) {
      const bool dynamic = mlir::ShapedType::isDynamic(t.getDimSize(d));
      v.sizes[d] = dynamic ? Extent{1, true} : Extent{t.getDimSize(d), false};
      v.strides[d] = stride;
      if (!dynamic) stride *= t.getDimSize(d);
    }
    return v;
  }

  // A view derived from `source`'s (a subview or reshape): `out` starts as a copy without dimensions.
  bool derived(mlir::Operation* op, Value source, View& out) {
    auto it = views_.find(source);
    if (it == views_.end()) return unsupported(op, "source");
    out = it->second;
    out.sizes.clear();
    out.strides.clear();
    return true;
  }

  // Kernel arguments: contiguous row-major buffers; those a loop nest writes are not const.
  bool bindArguments() {
    std::vector<bool> written(fn_.getNumArguments(), false);
    for (unsigned i = 0; i < fn_.getNumArguments(); ++i) {
      auto t = mlir::dyn_cast<mlir::MemRefType>(fn_.getArgument(i).getType());
      if (!t || !t.getLayout().isIdentity()) {
        error_ = "argument " + std::to_string(i) + " is not an identity-layout memref";
        return false;
      }
      for (int64_t d = 1; d < t.getRank(); ++d)
        if (mlir::ShapedType::isDynamic(t.getDimSize(d))) {
          error_ = "argument " + std::to_string(i) + " has a dynamic dimension other than the first";
          return false;
        }
      View v = rowMajor(t, "a" + std::to_string(i));
      v.root = static_cast<int>(i);
      views_[fn_.getArgument(i)] = v;
    }
    // Which arguments the kernel writes: the roots of the loop nests' outputs.
    fn_.walk([&](mlir::linalg::LinalgOp op) {
      for (mlir::OpOperand& o : op.getDpsInitsMutable())
        if (auto arg = mlir::dyn_cast<mlir::BlockArgument>(rootOf(o.get()))) written[arg.getArgNumber()] = true;
    });
    for (unsigned i = 0; i < fn_.getNumArguments(); ++i) {
      std::string elem;
      if (!cType(views_[fn_.getArgument(i)].element, elem)) {
        error_ = "argument " + std::to_string(i) + " has an unsupported element type";
        return false;
      }
      paramTypes_.push_back((written[i] ? "" : "const ") + elem + "*");
      params_.push_back(paramTypes_.back() + " __restrict__ a" + std::to_string(i));
    }
    return true;
  }

  static Value rootOf(Value v) {
    while (mlir::Operation* def = v.getDefiningOp())
      if (mlir::isa<mlir::memref::SubViewOp, mlir::memref::ExpandShapeOp, mlir::memref::CollapseShapeOp>(def))
        v = def->getOperand(0);
      else
        break;
    return v;
  }

  // Rows when the partition says each row stands alone; otherwise Elements when no nest reads what an
  // earlier one wrote (no barrier needed), else one block with barriers between the nests.
  void chooseMapping() {
    if (rowParallel_) {
      mapping_ = CudaMapping::Rows;
      return;
    }
    llvm::DenseSet<Value> writtenSoFar;
    bool independent = true;
    for (mlir::Operation* op : nests_) {
      auto l = mlir::cast<mlir::linalg::LinalgOp>(op);
      for (mlir::OpOperand* in : l.getDpsInputOperands())
        if (writtenSoFar.count(rootOf(in->get()))) independent = false;
      for (mlir::OpOperand& o : l.getDpsInitsMutable()) {
        Value r = rootOf(o.get());
        if (!mlir::isa<mlir::BlockArgument>(r)) independent = false;  // a temporary
        writtenSoFar.insert(r);
      }
    }
    mapping_ = independent ? CudaMapping::Elements : CudaMapping::OneBlock;
  }

  int threads() const {
    if (mapping_ != CudaMapping::Rows) return 256;
    int64_t t = 32;
    while (t < maxRowWork_ && t < 256) t *= 2;
    return static_cast<int>(t);
  }

  // Views, extents, temporaries and constants, printed into the prologue where they need code.
  bool define(mlir::Operation* op) {
    if (auto c = mlir::dyn_cast<mlir::arith::ConstantOp>(op)) return constant(c, prologue_, "  ");
    if (auto d = mlir::dyn_cast<mlir::memref::DimOp>(op)) {
      std::optional<int64_t> i = d.getConstantIndex();
      auto it = views_.find(d.getSource());
      if (!i || it == views_.end()) return unsupported(op, "dimension not constant");
      scalars_[d.getResult()] = it->second.sizes[*i].str();
      return true;
    }
    if (mlir::isa<mlir::memref::DeallocOp>(op)) return true;
    if (auto a = mlir::dyn_cast<mlir::memref::AllocOp>(op)) return temporary(a);
    if (auto g = mlir::dyn_cast<mlir::memref::GetGlobalOp>(op)) return global(g);
    if (auto s = mlir::dyn_cast<mlir::memref::SubViewOp>(op)) return subview(s);
    if (auto e = mlir::dyn_cast<mlir::memref::ExpandShapeOp>(op)) return expand(e);
    if (auto c = mlir::dyn_cast<mlir::memref::CollapseShapeOp>(op)) return collapse(c);
    return unsupported(op);
  }

  bool constant(mlir::arith::ConstantOp c, std::ostringstream& os, const char* indent) {
    mlir::Attribute v = c.getValue();
    if (c.getType().isIndex()) {
      scalars_[c.getResult()] = std::to_string(mlir::cast<mlir::IntegerAttr>(v).getInt()) + "LL";
      return true;
    }
    std::string type, value;
    if (!cType(c.getType(), type)) return unsupported(c, "type");
    if (auto f = mlir::dyn_cast<mlir::FloatAttr>(v)) {
      if (c.getType().isBF16())
        value = "hrm_bf16(" + std::to_string(f.getValue().bitcastToAPInt().getZExtValue()) + "u)";
      else
        value = hexFloat(f.getValueAsDouble(), c.getType().isF32());
    } else if (auto i = mlir::dyn_cast<mlir::IntegerAttr>(v)) {
      value = c.getType().isInteger(1) ? (i.getValue().getBoolValue() ? "true" : "false")
                                       : std::to_string(i.getValue().getSExtValue());
    } else {
      return unsupported(c, "a tensor constant");
    }
    const std::string name = fresh("c");
    os << indent << "const " << type << " " << name << " = " << value << ";\n";
    scalars_[c.getResult()] = name;
    return true;
  }

  // A temporary: in Rows mapping one row of it in shared memory, otherwise the whole of it (static).
  bool temporary(mlir::memref::AllocOp a) {
    mlir::MemRefType t = a.getType();
    View v;
    v.element = t.getElementType();
    v.base = fresh("t");
    std::string elem;
    if (!cType(v.element, elem)) return unsupported(a, "element type");
    int64_t stride = 1;
    v.sizes.resize(t.getRank());
    v.strides.resize(t.getRank());
    for (int64_t d = t.getRank() - 1; d >= 0; --d) {
      const bool dynamic = mlir::ShapedType::isDynamic(t.getDimSize(d));
      if (dynamic && !(d == 0 && mapping_ == CudaMapping::Rows))
        return unsupported(a, "a temporary over T outside a row-wise kernel");
      v.sizes[d] = dynamic ? Extent{1, true} : Extent{t.getDimSize(d), false};
      v.strides[d] = dynamic ? 0 : stride;  // every row uses the same shared row
      if (!dynamic) stride *= t.getDimSize(d);
    }
    if (mapping_ == CudaMapping::Elements) return unsupported(a, "a temporary in an element-wise kernel");
    const int64_t bytes = stride * (v.element.getIntOrFloatBitWidth() / 8);
    sharedBytes_ += (bytes + 15) / 16 * 16;
    prologue_ << "  HRM_SHARED __align__(16) " << elem << " " << v.base << "[" << stride << "];\n";
    views_[a.getResult()] = v;
    return true;
  }

  bool global(mlir::memref::GetGlobalOp g) {
    auto module = g->getParentOfType<mlir::ModuleOp>();
    auto decl = module.lookupSymbol<mlir::memref::GlobalOp>(g.getName());
    mlir::ElementsAttr init = decl ? decl.getConstantInitValue() : nullptr;
    mlir::MemRefType t = g.getType();
    std::string elem;
    if (!init || !t.hasStaticShape() || !cType(t.getElementType(), elem) || !t.getElementType().isF32())
      return unsupported(g, "only constant f32 globals");
    const View v = rowMajor(t, fresh("g"));
    prologue_ << "  const float " << v.base << "[" << std::max<int64_t>(t.getNumElements(), 1) << "] = {";
    int64_t i = 0;
    for (llvm::APFloat f : init.getValues<llvm::APFloat>()) prologue_ << (i++ ? ", " : "") << hexFloat(f.convertToDouble(), true);
    prologue_ << "};\n";
    views_[g.getResult()] = v;
    return true;
  }

  bool subview(mlir::memref::SubViewOp s) {
    View v;
    if (!derived(s, s.getSource(), v)) return false;
    const View& src = views_[s.getSource()];
    llvm::ArrayRef<int64_t> offsets = s.getStaticOffsets(), strides = s.getStaticStrides();
    llvm::SmallBitVector dropped = s.getDroppedDims();
    for (size_t d = 0; d < offsets.size(); ++d) {
      if (mlir::ShapedType::isDynamic(offsets[d]) || mlir::ShapedType::isDynamic(strides[d]))
        return unsupported(s, "dynamic offset or stride");
      v.offset += offsets[d] * src.strides[d];
      if (dropped.test(d)) continue;
      const int64_t size = s.getStaticSizes()[d];
      v.sizes.push_back(mlir::ShapedType::isDynamic(size) ? src.sizes[d] : Extent{size, false});
      v.strides.push_back(src.strides[d] * strides[d]);
    }
    views_[s.getResult()] = v;
    return true;
  }

  bool expand(mlir::memref::ExpandShapeOp e) {
    View v;
    if (!derived(e, e.getSrc(), v)) return false;
    const View& src = views_[e.getSrc()];
    llvm::ArrayRef<int64_t> out = e.getResultType().getShape();
    for (auto [d, group] : llvm::enumerate(e.getReassociationIndices())) {
      int64_t staticProduct = 1;
      for (int64_t r : group)
        if (!mlir::ShapedType::isDynamic(out[r])) staticProduct *= out[r];
      std::vector<Extent> sizes;
      for (int64_t r : group)
        sizes.push_back(mlir::ShapedType::isDynamic(out[r]) ? Extent{src.sizes[d].c / staticProduct, src.sizes[d].perT}
                                                            : Extent{out[r], false});
      int64_t stride = src.strides[d];
      std::vector<int64_t> strides(group.size());
      for (int64_t j = static_cast<int64_t>(group.size()) - 1; j >= 0; --j) {
        strides[j] = stride;
        if (j > 0) {
          if (sizes[j].perT) return unsupported(e, "T split below its outermost part");
          stride *= sizes[j].c;
        }
      }
      v.sizes.insert(v.sizes.end(), sizes.begin(), sizes.end());
      v.strides.insert(v.strides.end(), strides.begin(), strides.end());
    }
    views_[e.getResult()] = v;
    return true;
  }

  bool collapse(mlir::memref::CollapseShapeOp c) {
    View v;
    if (!derived(c, c.getSrc(), v)) return false;
    const View& src = views_[c.getSrc()];
    for (const auto& group : c.getReassociationIndices()) {
      Extent size{1, false};
      for (int64_t r : group) {
        if (size.perT && src.sizes[r].perT) return unsupported(c, "T twice");
        size = {size.c * src.sizes[r].c, size.perT || src.sizes[r].perT};
      }
      v.sizes.push_back(size);
      v.strides.push_back(src.strides[group.back()]);
    }
    views_[c.getResult()] = v;
    return true;
  }

  // The C expression of element `indices` (C expressions) of `v`.
  static std::string element(const View& v, const std::vector<std::string>& indices) {
    std::string e = v.offset != 0 ? std::to_string(v.offset) + "LL" : "";
    for (size_t d = 0; d < indices.size(); ++d)
      if (v.strides[d] != 0)
        e += (e.empty() ? "" : " + ") + indices[d] + (v.strides[d] == 1 ? "" : " * " + std::to_string(v.strides[d]) + "LL");
    return v.base + "[" + (e.empty() ? "0" : e) + "]";
  }

  // One loop nest (a linalg op) → a block of C: its parallel iterations spread over the threads as the
  // mapping says, its reductions serial per thread, or over the block when a row reduces to one value.
  bool printNest(mlir::Operation* op, const char* indent, std::ostringstream& os) {
    auto l = mlir::cast<mlir::linalg::LinalgOp>(op);
    const unsigned loops = l.getNumLoops();
    std::vector<Extent> extent(loops);
    std::vector<bool> known(loops, false);
    llvm::SmallVector<mlir::AffineMap> maps = l.getIndexingMapsArray();
    std::vector<const View*> operandViews;
    for (mlir::OpOperand& o : op->getOpOperands()) {
      auto it = views_.find(o.get());
      const bool scalar = !mlir::isa<mlir::MemRefType>(o.get().getType());
      if (scalar) {
        operandViews.push_back(nullptr);
        continue;
      }
      if (it == views_.end()) return unsupported(op, "operand without a view");
      operandViews.push_back(&it->second);
      mlir::AffineMap m = maps[o.getOperandNumber()];
      for (unsigned r = 0; r < m.getNumResults(); ++r)
        if (auto d = mlir::dyn_cast<mlir::AffineDimExpr>(m.getResult(r)); d && !known[d.getPosition()]) {
          extent[d.getPosition()] = it->second.sizes[r];
          known[d.getPosition()] = true;
        }
    }
    for (unsigned d = 0; d < loops; ++d)
      if (!known[d]) return unsupported(op, "a loop without an extent");
    auto iterators = l.getIteratorTypesArray();
    int rowDim = -1;
    std::vector<unsigned> parallel, reduction;
    for (unsigned d = 0; d < loops; ++d) {
      if (mapping_ == CudaMapping::Rows && extent[d].perT && rowDim < 0 &&
          iterators[d] == mlir::utils::IteratorType::parallel) {
        if (extent[d].c != 1) return unsupported(op, "a row dimension that is not T");
        rowDim = static_cast<int>(d);
        continue;
      }
      if (mapping_ == CudaMapping::Rows && extent[d].perT) return unsupported(op, "T twice in a row-wise kernel");
      (iterators[d] == mlir::utils::IteratorType::reduction ? reduction : parallel).push_back(d);
    }
    auto product = [&](const std::vector<unsigned>& dims) {
      Extent e{1, false};
      for (unsigned d : dims) e = {e.c * extent[d].c, e.perT || extent[d].perT};
      return e;
    };
    const Extent work = product(parallel), reduce = product(reduction);
    std::vector<std::string> index(loops);
    for (unsigned d = 0; d < loops; ++d) index[d] = static_cast<int>(d) == rowDim ? "row" : "i" + std::to_string(d);

    os << indent << "{  // " << op->getName().getStringRef().str() << "\n";
    const std::string in = std::string(indent) + "  ";
    // A row (or the whole block's work) that reduces to one value: the block shares the reduction.
    mlir::arith::AtomicRMWKind combine;
    const bool blockReduce = mapping_ != CudaMapping::Elements && !reduction.empty() && !work.perT && work.c == 1 &&
                             sharedReduction(op, combine);
    if (blockReduce) return printBlockReduction(op, index, parallel, reduction, extent, combine, in, os) && close(indent, os);

    if (mapping_ == CudaMapping::Rows) maxRowWork_ = std::max(maxRowWork_, work.c);
    if (mapping_ == CudaMapping::Elements) {
      if (work.perT) workPerToken_ = std::max(workPerToken_, work.c);
      else workFixed_ = std::max(workFixed_, work.c);
    }
    const std::string start = mapping_ == CudaMapping::Elements ? "hrm_block() * hrm_threads() + hrm_thread()" : "hrm_thread()";
    const std::string step = mapping_ == CudaMapping::Elements ? "hrm_blocks() * hrm_threads()" : "hrm_threads()";
    os << in << "for (long long p = " << start << "; p < " << work.str() << "; p += " << step << ") {\n";
    const std::string in2 = in + "  ";
    decompose("p", parallel, extent, index, in2, os);
    if (reduction.empty()) {
      if (!printBody(op, index, {}, in2, os)) return false;
    } else {
      // Accumulators start at the outputs' values; the reduction loops run serially.
      std::vector<std::string> acc;
      for (mlir::OpOperand& o : l.getDpsInitsMutable()) {
        const View& v = *operandViews[o.getOperandNumber()];
        std::string type;
        cType(v.element, type);
        acc.push_back(fresh("acc"));
        os << in2 << type << " " << acc.back() << " = " << element(v, indices(maps[o.getOperandNumber()], index)) << ";\n";
      }
      os << in2 << "for (long long r = 0; r < " << reduce.str() << "; ++r) {\n";
      decompose("r", reduction, extent, index, in2 + "  ", os);
      if (!printBody(op, index, acc, in2 + "  ", os)) return false;
      os << in2 << "}\n";
      for (mlir::OpOperand& o : l.getDpsInitsMutable()) {
        const View& v = *operandViews[o.getOperandNumber()];
        os << in2 << element(v, indices(maps[o.getOperandNumber()], index)) << " = "
           << acc[o.getOperandNumber() - l.getNumDpsInputs()] << ";\n";
      }
    }
    os << in << "}\n";
    return close(indent, os);
  }

  static bool close(const char* indent, std::ostringstream& os) {
    os << indent << "}\n";
    return true;
  }

  // Splits the flat counter `flat` into the indices of `dims` (the last one fastest).
  void decompose(const std::string& flat, const std::vector<unsigned>& dims, const std::vector<Extent>& extent,
                 const std::vector<std::string>& index, const std::string& indent, std::ostringstream& os) {
    std::string rest = flat;
    for (size_t k = dims.size(); k-- > 0;) {
      const unsigned d = dims[k];
      if (k == 0) {
        os << indent << "const long long " << index[d] << " = " << rest << ";\n";
      } else {
        os << indent << "const long long " << index[d] << " = " << rest << " % " << extent[d].str() << ";\n";
        rest = "(" + rest + " / " + extent[d].str() + ")";
      }
    }
  }

  static std::vector<std::string> indices(mlir::AffineMap m, const std::vector<std::string>& index) {
    std::vector<std::string> out;
    for (mlir::AffineExpr e : m.getResults()) {
      if (auto d = mlir::dyn_cast<mlir::AffineDimExpr>(e)) out.push_back(index[d.getPosition()]);
      else out.push_back(std::to_string(mlir::cast<mlir::AffineConstantExpr>(e).getValue()) + "LL");
    }
    return out;
  }

  // Whether the op is a single-output reduction `out = combine(out, f(inputs))` with an associative
  // combine the block can share (sums and maxima).
  static bool sharedReduction(mlir::Operation* op, mlir::arith::AtomicRMWKind& kind) {
    auto l = mlir::cast<mlir::linalg::LinalgOp>(op);
    if (l.getNumDpsInits() != 1 || !l.getBlock()) return false;
    auto yield = l.getBlock()->getTerminator();
    mlir::BlockArgument out = l.getBlock()->getArguments().back();
    mlir::Operation* def = yield->getOperand(0).getDefiningOp();
    if (!def || !out.hasOneUse() || def->getNumOperands() != 2 || !out.getType().isF32()) return false;
    if (def->getOperand(0) != out && def->getOperand(1) != out) return false;
    if (mlir::isa<mlir::arith::AddFOp>(def)) kind = mlir::arith::AtomicRMWKind::addf;
    else if (mlir::isa<mlir::arith::MaximumFOp>(def)) kind = mlir::arith::AtomicRMWKind::maximumf;
    else return false;
    return true;
  }

  bool printBlockReduction(mlir::Operation* op, std::vector<std::string>& index, const std::vector<unsigned>& parallel,
                           const std::vector<unsigned>& reduction, const std::vector<Extent>& extent,
                           mlir::arith::AtomicRMWKind kind, const std::string& in, std::ostringstream& os) {
    auto l = mlir::cast<mlir::linalg::LinalgOp>(op);
    Extent reduce{1, false};
    for (unsigned d : reduction) reduce = {reduce.c * extent[d].c, reduce.perT || extent[d].perT};
    if (mapping_ == CudaMapping::Rows) maxRowWork_ = std::max(maxRowWork_, reduce.c);
    const bool sum = kind == mlir::arith::AtomicRMWKind::addf;
    // hrm_block_sum and hrm_block_max each keep one float per warp in shared memory.
    if (!(sum ? usesBlockSum_ : usesBlockMax_)) sharedBytes_ += kReductionScratchBytes;
    (sum ? usesBlockSum_ : usesBlockMax_) = true;
    for (unsigned d : parallel) os << in << "const long long " << index[d] << " = 0;\n";
    const std::string acc = fresh("acc");
    os << in << "float " << acc << " = " << (sum ? "0.0f" : "hrm_f32_bits(0xff800000u)") << ";\n";
    os << in << "for (long long r = hrm_thread(); r < " << reduce.str() << "; r += hrm_threads()) {\n";
    decompose("r", reduction, extent, index, in + "  ", os);
    if (!printBody(op, index, {acc}, in + "  ", os)) return false;
    os << in << "}\n";
    os << in << acc << " = " << (sum ? "hrm_block_sum" : "hrm_block_max") << "(" << acc << ");\n";
    mlir::OpOperand& init = l.getDpsInitsMutable()[0];
    const std::string out =
        element(views_[init.get()], indices(l.getIndexingMapsArray()[init.getOperandNumber()], index));
    os << in << "if (hrm_thread() == 0) " << out << " = "
       << (sum ? out + " + " + acc : "hrm_maximum(" + out + ", " + acc + ")") << ";\n";
    return true;
  }

  // The op's body at `index`: inputs loaded, outputs loaded or taken from `acc` (reductions), each
  // scalar op one C statement, the yielded values stored (or kept in `acc`).
  bool printBody(mlir::Operation* op, const std::vector<std::string>& index, const std::vector<std::string>& acc,
                 const std::string& in, std::ostringstream& os) {
    auto l = mlir::cast<mlir::linalg::LinalgOp>(op);
    llvm::SmallVector<mlir::AffineMap> maps = l.getIndexingMapsArray();
    loopIndex_ = &index;
    mlir::Block* block = l.getBlock();
    // linalg.fill and linalg.copy have a body too (a yield of their input).
    for (mlir::OpOperand& o : op->getOpOperands()) {
      mlir::BlockArgument arg = block->getArgument(o.getOperandNumber());
      const bool isInit = o.getOperandNumber() >= l.getNumDpsInputs();
      if (isInit && !acc.empty()) {
        scalars_[arg] = acc[o.getOperandNumber() - l.getNumDpsInputs()];
        continue;
      }
      if (arg.use_empty()) continue;
      if (!mlir::isa<mlir::MemRefType>(o.get().getType())) {
        scalars_[arg] = scalars_.lookup(o.get());
        continue;
      }
      std::string type;
      cType(arg.getType(), type);
      const std::string name = fresh("v");
      os << in << "const " << type << " " << name << " = " << element(views_[o.get()], indices(maps[o.getOperandNumber()], index)) << ";\n";
      scalars_[arg] = name;
    }
    for (mlir::Operation& inner : block->without_terminator())
      if (!scalar(&inner, in, os)) return false;
    mlir::Operation* yield = block->getTerminator();
    for (unsigned r = 0; r < yield->getNumOperands(); ++r) {
      const std::string value = scalars_.lookup(yield->getOperand(r));
      if (!acc.empty()) {
        os << in << acc[r] << " = " << value << ";\n";
        continue;
      }
      mlir::OpOperand& init = l.getDpsInitsMutable()[r];
      os << in << element(views_[init.get()], indices(maps[init.getOperandNumber()], index)) << " = " << value << ";\n";
    }
    return true;
  }

  // A float operand as an fp32 C expression (bf16 values widen exactly).
  std::string f32(Value v) {
    const std::string s = scalars_.lookup(v);
    return v.getType().isBF16() ? "hrm_bf16_to_f32(" + s + ")" : s;
  }

  // One scalar op of a body → `const T name = expr;`.
  bool scalar(mlir::Operation* op, const std::string& in, std::ostringstream& os) {
    if (auto c = mlir::dyn_cast<mlir::arith::ConstantOp>(op)) return constant(c, os, in.c_str());
    if (op->getNumResults() != 1) return unsupported(op);
    Value result = op->getResult(0);
    std::string type;
    if (!cType(result.getType(), type)) return unsupported(op, "result type");
    auto operand = [&](unsigned i) { return scalars_.lookup(op->getOperand(i)); };
    std::string e;
    const llvm::StringRef name = op->getName().getStringRef();
    static const std::map<std::string, const char*> binaryFloat = {
        {"arith.addf", "+"}, {"arith.subf", "-"}, {"arith.mulf", "*"}, {"arith.divf", "/"}};
    static const std::map<std::string, const char*> floatCalls = {
        {"arith.maximumf", "hrm_maximum"}, {"arith.minimumf", "hrm_minimum"}, {"arith.maxnumf", "fmaxf"},
        {"arith.minnumf", "fminf"},        {"math.exp", "hrm_exp"},           {"math.rsqrt", "hrm_rsqrt"},
        {"math.sqrt", "sqrtf"},            {"math.tanh", "tanhf"},            {"math.log", "logf"},
        {"math.log1p", "log1pf"},          {"math.absf", "fabsf"},            {"math.powf", "powf"},
        {"math.erf", "erff"},              {"math.sin", "sinf"},              {"math.cos", "cosf"},
        {"math.fma", "fmaf"},              {"arith.remf", "fmodf"}};
    static const std::map<std::string, const char*> binaryInt = {
        {"arith.addi", "+"}, {"arith.subi", "-"}, {"arith.muli", "*"}, {"arith.divsi", "/"},
        {"arith.remsi", "%"}, {"arith.andi", "&"}, {"arith.ori", "|"}, {"arith.xori", "^"}};
    if (auto it = binaryFloat.find(name.str()); it != binaryFloat.end()) {
      e = "(" + f32(op->getOperand(0)) + " " + it->second + " " + f32(op->getOperand(1)) + ")";
    } else if (auto it = floatCalls.find(name.str()); it != floatCalls.end()) {
      e = std::string(it->second) + "(";
      for (unsigned i = 0; i < op->getNumOperands(); ++i) e += (i ? ", " : "") + f32(op->getOperand(i));
      e += ")";
    } else if (auto it = binaryInt.find(name.str()); it != binaryInt.end()) {
      e = "(" + operand(0) + " " + it->second + " " + operand(1) + ")";
    } else if (mlir::isa<mlir::arith::NegFOp>(op)) {
      e = "(-" + f32(op->getOperand(0)) + ")";
    } else if (auto c = mlir::dyn_cast<mlir::arith::CmpFOp>(op)) {
      if (!compareFloats(c, e)) return unsupported(op, "predicate");
    } else if (auto c = mlir::dyn_cast<mlir::arith::CmpIOp>(op)) {
      static const std::map<mlir::arith::CmpIPredicate, const char*> ops = {
          {mlir::arith::CmpIPredicate::eq, "=="},  {mlir::arith::CmpIPredicate::ne, "!="},
          {mlir::arith::CmpIPredicate::slt, "<"},  {mlir::arith::CmpIPredicate::sle, "<="},
          {mlir::arith::CmpIPredicate::sgt, ">"},  {mlir::arith::CmpIPredicate::sge, ">="}};
      auto it = ops.find(c.getPredicate());
      if (it == ops.end()) return unsupported(op, "unsigned comparison");
      e = "(" + operand(0) + " " + it->second + " " + operand(1) + ")";
    } else if (mlir::isa<mlir::arith::SelectOp>(op)) {
      e = "(" + operand(0) + " ? " + operand(1) + " : " + operand(2) + ")";
    } else if (mlir::isa<mlir::arith::ExtFOp>(op)) {
      if (!result.getType().isF32()) return unsupported(op, "only widening to f32");
      e = f32(op->getOperand(0));
    } else if (mlir::isa<mlir::arith::TruncFOp>(op)) {
      if (!result.getType().isBF16() || !op->getOperand(0).getType().isF32()) return unsupported(op, "only f32 to bf16");
      e = "hrm_f32_to_bf16(" + operand(0) + ")";  // round to nearest even
    } else if (mlir::isa<mlir::arith::SIToFPOp, mlir::arith::FPToSIOp, mlir::arith::IndexCastOp, mlir::arith::ExtSIOp,
                         mlir::arith::TruncIOp>(op)) {
      if (result.getType().isBF16()) return unsupported(op, "to bf16");
      e = "(" + type + ")(" + f32(op->getOperand(0)) + ")";
    } else if (auto ix = mlir::dyn_cast<mlir::linalg::IndexOp>(op)) {
      e = (*loopIndex_)[ix.getDim()];
    } else if (auto load = mlir::dyn_cast<mlir::memref::LoadOp>(op)) {
      auto it = views_.find(load.getMemRef());
      if (it == views_.end()) return unsupported(op, "memref");
      std::vector<std::string> idx;
      for (Value i : load.getIndices()) idx.push_back(scalars_.lookup(i));
      e = element(it->second, idx);
    } else {
      return unsupported(op);
    }
    if (result.getType().isBF16() && !mlir::isa<mlir::arith::TruncFOp, mlir::memref::LoadOp, mlir::arith::SelectOp>(op))
      e = "hrm_f32_to_bf16(" + e + ")";  // bf16 arithmetic: computed in fp32, rounded once
    const std::string v = fresh("v");
    os << in << "const " << type << " " << v << " = " << e << ";\n";
    scalars_[result] = v;
    return true;
  }

  bool compareFloats(mlir::arith::CmpFOp c, std::string& e) {
    using P = mlir::arith::CmpFPredicate;
    const std::string a = f32(c.getLhs()), b = f32(c.getRhs());
    switch (c.getPredicate()) {
      case P::OEQ: e = "(" + a + " == " + b + ")"; break;
      case P::OGT: e = "(" + a + " > " + b + ")"; break;
      case P::OGE: e = "(" + a + " >= " + b + ")"; break;
      case P::OLT: e = "(" + a + " < " + b + ")"; break;
      case P::OLE: e = "(" + a + " <= " + b + ")"; break;
      case P::ONE: e = "(" + a + " < " + b + " || " + a + " > " + b + ")"; break;
      case P::UNE: e = "(" + a + " != " + b + ")"; break;
      case P::UGT: e = "!(" + a + " <= " + b + ")"; break;
      case P::UGE: e = "!(" + a + " < " + b + ")"; break;
      case P::ULT: e = "!(" + a + " >= " + b + ")"; break;
      case P::ULE: e = "!(" + a + " > " + b + ")"; break;
      case P::UNO: e = "(" + a + " != " + a + " || " + b + " != " + b + ")"; break;
      case P::ORD: e = "(" + a + " == " + a + " && " + b + " == " + b + ")"; break;
      default: return false;
    }
    return true;
  }

  mlir::func::FuncOp fn_;
  bool rowParallel_ = false;
  CudaMapping mapping_ = CudaMapping::Rows;
  std::vector<mlir::Operation*> nests_;
  std::vector<std::string> params_, paramTypes_;
  llvm::DenseMap<Value, View> views_;
  llvm::DenseMap<Value, std::string> scalars_;
  const std::vector<std::string>* loopIndex_ = nullptr;
  std::ostringstream prologue_, body_;
  int64_t sharedBytes_ = 0, maxRowWork_ = 1, workPerToken_ = 0, workFixed_ = 0;
  bool usesBlockSum_ = false, usesBlockMax_ = false;
  int next_ = 0;
  std::string error_;
};

}  // namespace

bool printCudaKernels(mlir::ModuleOp kernels, CudaSource& out, std::string& error) {
  std::ostringstream text;
  text << "// Generated by hrmc from " << (kernels.getName() ? kernels.getName()->str() : std::string("a module"))
       << ": CUDA C over the device vocabulary of hrm_device.cuh.\n#include \"hrm_device.cuh\"\n\n";
  out.kernels.clear();
  for (auto fn : kernels.getOps<mlir::func::FuncOp>()) {
    CudaKernelShape shape;
    std::string k;
    if (!KernelPrinter(fn).print(k, shape, error)) return false;
    text << k << "\n";
    out.kernels.push_back(shape);
  }
  out.text = text.str();
  return true;
}

}  // namespace hrmc::compiler
