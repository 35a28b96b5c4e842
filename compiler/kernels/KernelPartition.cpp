#include "compiler/kernels/KernelPartition.h"

#include <functional>
#include <map>
#include <optional>
#include <set>

#include "compiler/autodiff/TrainStep.h"
#include "compiler/dialect/HrmDialect.h"
#include "compiler/lowering/GraphToHrm.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace hrmc::compiler {

namespace {

using mlir::Operation;
using mlir::Value;

bool isPerToken(mlir::Type t) {
  auto r = mlir::dyn_cast<mlir::RankedTensorType>(t);
  return r && r.getRank() > 0 && r.isDynamicDim(0);
}

// The attributes a library launch carries over from its op (most carry none).
template <typename Op>
void readAttributes(Op, Launch&) {}
void readAttributes(hrm::RopeOp r, Launch& l) {
  l.theta = r.getTheta().convertToDouble();
  l.inverse = r.getInverse();
}
void readAttributes(hrm::AttentionOp a, Launch& l) { l.mask = dsl::maskFromSpelling(a.getMask()); }
void readAttributes(hrm::AttentionGradOp a, Launch& l) { l.mask = dsl::maskFromSpelling(a.getMask()); }
void readAttributes(hrm::EmbeddingGradOp e, Launch& l) { l.vocab = static_cast<int64_t>(e.getVocab()); }
void readAttributes(hrm::RmsNormGradOp n, Launch& l) { l.eps = n.getEps().convertToDouble(); }
void readAttributes(hrm::MaxGradOp m, Launch& l) { l.axis = static_cast<int64_t>(m.getAxis()); }

// The library launch an op becomes, with its attributes (LibraryLaunches.def); nullopt for ops that
// are fused.
std::optional<Launch> libraryLaunch(Operation* op) {
  Launch l;
  const bool library = llvm::TypeSwitch<Operation*, bool>(op)
#define HRMC_LIBRARY_LAUNCH(Kind, name, HrmOp) \
  .Case([&](hrm::HrmOp o) {                    \
    l.kind = LaunchKind::Kind;                 \
    readAttributes(o, l);                      \
    return true;                               \
  })
#include "compiler/kernels/LibraryLaunches.def"
                           .Default([](Operation*) { return false; });
  if (!library) return std::nullopt;
  return l;
}

// Whether every row of T of the op's results depends only on the same row of its per-token operands
// (and on whole non-token operands): then a fused kernel of such ops can be split over rows.
bool isRowLocal(Operation* op) {
  for (Value r : op->getResults())
    if (!isPerToken(r.getType())) return false;
  if (auto axis = op->getAttrOfType<mlir::IntegerAttr>("axis")) return axis.getInt() != 0;
  return true;
}

ElementType elementTypeOf(mlir::Type t) {
  mlir::Type e = mlir::cast<mlir::RankedTensorType>(t).getElementType();
  if (e.isBF16()) return ElementType::BF16;
  if (e.isInteger(32)) return ElementType::I32;
  return ElementType::F32;
}

// "file.hrm:12, nn.hrm:40" for the source lines a set of ops came from (first few, in order).
std::string sourceLines(llvm::ArrayRef<Operation*> ops) {
  std::vector<std::string> lines;
  std::set<std::string> seen;
  for (Operation* op : ops) {
    std::string at;
    op->getLoc()->walk([&](mlir::Location l) {
      if (auto f = mlir::dyn_cast<mlir::FileLineColLoc>(l)) {
        at = (f.getFilename().strref() + ":" + llvm::Twine(f.getLine())).str();
        return mlir::WalkResult::interrupt();
      }
      return mlir::WalkResult::advance();
    });
    if (!at.empty() && seen.insert(at).second) lines.push_back(at);
  }
  std::string s;
  for (size_t i = 0; i < lines.size() && i < 4; ++i) s += (i ? ", " : "") + lines[i];
  if (lines.size() > 4) s += ", +" + std::to_string(lines.size() - 4) + " more";
  return s;
}

class Partitioner {
 public:
  Partitioner(mlir::func::FuncOp fn, Partition& out)
      : fn_(fn), out_(out), program_(out.program), builder_(fn.getContext()) {
    builder_.setInsertionPointToEnd(out.kernels->getBody());
  }

  void run() {
    program_.function = fn_.getName().str();
    for (unsigned i = 0; i < fn_.getNumArguments(); ++i) {
      auto name = fn_.getArgAttrOfType<mlir::StringAttr>(i, kArgNameAttr);
      program_.argumentNames.push_back(name ? name.str() : "");
      if (mlir::isa<mlir::RankedTensorType>(fn_.getArgument(i).getType())) newValue(fn_.getArgument(i), i);
    }
    for (Operation& op : fn_.front().without_terminator()) {
      if (isRecomputed(&op)) continue;  // cloned into each kernel that reads it
      // A master weight's bf16 copy (the bf16 pass converts each fp32 argument where the function
      // starts) is an argument of its own: the runtime binds the copy the optimizer keeps, or rounds.
      if (auto c = mlir::dyn_cast<hrm::ConvertOp>(op))
        if (auto arg = mlir::dyn_cast<mlir::BlockArgument>(c.getX()); arg && elementTypeOf(c.getType()) == ElementType::BF16) {
          newValue(c.getResult(), static_cast<int>(arg.getArgNumber()));
          continue;
        }
      if (auto e = mlir::dyn_cast<hrm::EmbeddingOp>(op))
        if (auto arg = mlir::dyn_cast<mlir::BlockArgument>(e.getTokens()))
          program_.tokenChecks.emplace_back(ids_.lookup(arg),
                                            mlir::cast<mlir::RankedTensorType>(e.getTable().getType()).getDimSize(0));
      if (std::optional<Launch> l = libraryLaunch(&op)) {
        flushGroup();
        addLibraryLaunch(&op, *l);
        continue;
      }
      const bool rowLocal = isRowLocal(&op);
      if (!group_.empty() && rowLocal != groupRowLocal_) flushGroup();
      if (group_.empty()) groupRowLocal_ = rowLocal;
      group_.push_back(&op);
    }
    flushGroup();
    for (Value v : fn_.front().getTerminator()->getOperands()) program_.results.push_back(idOf(v));
  }

 private:
  int newValue(Value v, int argument = -1) {
    ProgramValue pv;
    auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
    for (int64_t d : t.getShape()) pv.shape.push_back(mlir::ShapedType::isDynamic(d) ? -1 : d);
    pv.type = elementTypeOf(t);
    pv.argument = argument;
    program_.values.push_back(pv);
    const int id = static_cast<int>(program_.values.size()) - 1;
    ids_[v] = id;
    return id;
  }

  // The program value of an SSA value; a constant read outside fused kernels gets a kernel of its own.
  int idOf(Value v) {
    auto it = ids_.find(v);
    if (it != ids_.end()) return it->second;
    Operation* def = v.getDefiningOp();
    if (!def || !isRecomputed(def)) {
      // The ops run in program order, so every operand has a value by now.
      llvm::report_fatal_error("kernel partition: operand without a program value");
    }
    flushGroup();
    group_.push_back(def);
    groupRowLocal_ = isRowLocal(def);
    flushGroup();
    return ids_.lookup(v);
  }

  void addLibraryLaunch(Operation* op, Launch l) {
    for (Value v : op->getOperands())
      if (mlir::isa<mlir::RankedTensorType>(v.getType())) l.inputs.push_back(idOf(v));
    for (Value r : op->getResults()) l.outputs.push_back(newValue(r));
    l.location = sourceLines({op});
    program_.launches.push_back(std::move(l));
  }

  // Constants, and slices and reshapes of per-token values (views), are recomputed inside each
  // kernel that reads them instead of being written out: a kernel reading q, k, v and gate reads the
  // one projection they are views of.
  static bool isRecomputed(Operation* op) {
    return mlir::isa<hrm::ConstantOp>(op) || (mlir::isa<hrm::SliceOp, hrm::ReshapeOp>(op) && isRowLocal(op));
  }

  // Outlines the pending group into `fused_N(inputs..., outputs...)` and adds its launch.
  void flushGroup() {
    if (group_.empty()) return;
    llvm::SmallPtrSet<Operation*, 32> members(group_.begin(), group_.end());
    const std::string name = "fused_" + std::to_string(kernelCount_);
    mlir::Location loc = group_.front()->getLoc();
    auto kernel = builder_.create<mlir::func::FuncOp>(loc, name, builder_.getFunctionType({}, {}));
    mlir::Block* entry = kernel.addEntryBlock();
    mlir::OpBuilder b = mlir::OpBuilder::atBlockEnd(entry);
    mlir::IRMapping map;
    std::vector<Value> inputs, outputs;
    // The kernel's value for v: cloned when it is recomputed here, else read from a new input.
    std::function<Value(Value)> local = [&](Value v) -> Value {
      if (Value m = map.lookupOrNull(v)) return m;
      Operation* def = v.getDefiningOp();
      if (def && isRecomputed(def) && !ids_.count(v)) {
        for (Value operand : def->getOperands()) local(operand);
        b.clone(*def, map);
        return map.lookup(v);
      }
      if (!ids_.count(v)) llvm::report_fatal_error("kernel partition: a kernel input without a program value");
      inputs.push_back(v);
      mlir::BlockArgument arg = entry->addArgument(v.getType(), loc);
      map.map(v, arg);
      return arg;
    };
    for (Operation* op : group_) {
      for (Value v : op->getOperands()) local(v);
      b.clone(*op, map);
    }
    for (Operation* op : group_)
      for (Value r : op->getResults())
        if (llvm::any_of(r.getUsers(), [&](Operation* u) { return !members.count(u); })) outputs.push_back(r);
    // Outputs are written into destination arguments and returned: bufferization then computes each
    // result straight into its argument's buffer and drops the (equivalent) results.
    llvm::SmallVector<Value> results;
    for (Value v : outputs) {
      mlir::BlockArgument arg = entry->addArgument(v.getType(), loc);
      results.push_back(
          b.create<mlir::bufferization::MaterializeInDestinationOp>(loc, v.getType(), map.lookup(v), arg).getResult());
    }
    kernel.setFunctionType(builder_.getFunctionType(entry->getArgumentTypes(), mlir::ValueRange(results).getTypes()));
    b.create<mlir::func::ReturnOp>(loc, results);
    for (unsigned i = 0; i < entry->getNumArguments(); ++i)  // inputs are read-only, outputs writable
      kernel.setArgAttr(i, mlir::bufferization::BufferizationDialect::kWritableAttrName,
                        builder_.getBoolAttr(i >= inputs.size()));
    if (groupRowLocal_) kernel->setAttr(kRowParallelAttr, builder_.getUnitAttr());
    // The same computation recurs in every layer and step with other weights: compile it once.
    std::string text;
    {
      kernel.setSymName("kernel");
      llvm::raw_string_ostream os(text);
      kernel->print(os, mlir::OpPrintingFlags().useLocalScope());
    }
    std::string kernelName = name;
    auto [existing, isNew] = kernelByText_.try_emplace(text, name);
    if (isNew) {
      kernel.setSymName(name);
      ++kernelCount_;
    } else {
      kernel.erase();
      kernelName = existing->second;
    }

    Launch l;
    l.kind = LaunchKind::Fused;
    l.kernel = kernelName;
    for (Value v : inputs) l.inputs.push_back(ids_.lookup(v));
    for (Value v : outputs) l.outputs.push_back(newValue(v));
    l.rowParallel = groupRowLocal_;
    l.ops = static_cast<int>(group_.size());
    l.location = sourceLines(group_);
    program_.launches.push_back(std::move(l));
    group_.clear();
  }

  mlir::func::FuncOp fn_;
  Partition& out_;
  KernelProgram& program_;
  mlir::OpBuilder builder_;
  llvm::DenseMap<Value, int> ids_;
  std::vector<Operation*> group_;
  bool groupRowLocal_ = false;
  int kernelCount_ = 0;
  std::map<std::string, std::string> kernelByText_;  // kernel body (named "kernel") → its function
};

}  // namespace

bool partitionIntoKernels(mlir::ModuleOp module, const std::string& function, Partition& out, std::string& error) {
  auto source = module.lookupSymbol<mlir::func::FuncOp>(function);
  if (!source) {
    error = "no function '" + function + "'";
    return false;
  }
  mlir::MLIRContext* ctx = module.getContext();
  ctx->getOrLoadDialect<mlir::bufferization::BufferizationDialect>();
  ctx->getOrLoadDialect<mlir::memref::MemRefDialect>();
  // Work on a copy with every recurrent step inlined: a step is a region only for the autodiff.
  mlir::OwningOpRef<mlir::ModuleOp> scratch = mlir::ModuleOp::create(module.getLoc());
  auto fn = mlir::cast<mlir::func::FuncOp>(source->clone());
  scratch->push_back(fn);
  std::vector<hrm::StepOp> steps;
  for (Operation& op : fn.front())
    if (auto s = mlir::dyn_cast<hrm::StepOp>(op)) steps.push_back(s);
  for (hrm::StepOp s : steps) inlineStep(s);
  // Across the inlined steps: fold, merge split gradients into concats, and share common values.
  mlir::PassManager cleanup(ctx);
  cleanup.addPass(mlir::createCanonicalizerPass());
  cleanup.addPass(mlir::createCSEPass());
  if (mlir::failed(cleanup.run(*scratch))) {
    error = "cleaning up '" + function + "' before partitioning failed";
    return false;
  }

  out.kernels = mlir::ModuleOp::create(module.getLoc(), llvm::StringRef(function + ".kernels"));
  out.program = KernelProgram();
  Partitioner(fn, out).run();
  return true;
}

}  // namespace hrmc::compiler
