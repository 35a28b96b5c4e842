#pragma once
// What the trainer, generator and evaluator need from an executor: run a compiled function of the
// model on a packed batch, and hold the training state where it computes. The trainer does not care which backend runs it; runtime/Backends.h makes
// one by name.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compiler/kernels/KernelProgram.h"
#include "runtime/batch/PackedBatch.h"
#include "runtime/dist/Communicator.h"
#include "runtime/exec/Training.h"
#include "runtime/exec/Types.h"

namespace hrmc::runtime {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // forward → {logits}; loss → {loss, accuracy, exact}; train_step_kK → those + gradients.
  virtual std::vector<HostTensor<float>> run(const std::string& function, const PackedBatch& batch,
                                             const WeightMap& weights) = 0;
  // Binds training state to the backend (Training.h): every weight and buffer of `params`; the weights
  // with an entry in `state` are trained with AdamATan2 + EMA, their gradients summed over
  // `communicator`. Throws ExecError when the state does not fit the weights.
  virtual std::unique_ptr<Training> bindTraining(const WeightMap& params, const OptimizerState& state,
                                                 const AdamAtan2Config& config, Communicator& communicator) = 0;
  // Whether the backend's bf16 matrix products run natively (AMX-BF16 or AVX512-BF16 on the CPU):
  // --precision auto then picks bf16.
  virtual bool nativeBf16() const { return false; }
  // Gets a function ready to run (the CPU backend compiles it); run() does this on first use.
  virtual void prepare(const std::string& function) { (void)function; }
  // The activation memory a run of `function` on `tokens` packed tokens is planned to take, in
  // bytes; -1 when the backend does not plan memory.
  virtual int64_t plannedBytes(const std::string& function, int64_t tokens) {
    (void)function;
    (void)tokens;
    return -1;
  }

  // `forward` over new tokens only, with a per-step, per-layer KV cache of the earlier ones
  // (HRM-TEXT.md §5.2): for generation without recomputing the prefix.
  class IncrementalForward {
   public:
    virtual ~IncrementalForward() = default;
    // Each sample of `batch` holds the new tokens of sequence `sequences[s]` (positions continuing
    // where that sequence stopped; its first call is the prompt, whose length is its PrefixLM
    // prefix). Returns the logits of the new tokens.
    virtual HostTensor<float> run(const PackedBatch& batch, const std::vector<int>& sequences) = 0;
  };
  // Null when the backend or the model cannot (the generator then recomputes the prefix).
  virtual std::unique_ptr<IncrementalForward> incrementalForward(const WeightMap& weights) {
    (void)weights;
    return nullptr;
  }
};

// How a compiling backend gets a function compiled for its target (runtime/Backends.h binds it to the
// model's HrmModule): the compiled program, or null with `error`.
using ProgramCompiler = std::function<const compiler::CompiledProgram*(const std::string& function, std::string& error)>;

}  // namespace hrmc::runtime
