#pragma once
// A JIT-compiled function (backend stage 2, in progress: issue 6), behind an MLIR-free interface.
// Arguments and the result are dense row-major buffers described by (data, sizes).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
}

namespace hrmc::compiler {

class JitFunction {
 public:
  struct Buffer {
    void* data = nullptr;
    std::vector<int64_t> sizes;
    void* allocation = nullptr;  // results only: what to std::free (the data may sit aligned inside it)
  };
  JitFunction(std::unique_ptr<mlir::ExecutionEngine> engine, std::string symbol, int resultRank, int resultElementBytes);
  ~JitFunction();
  // Runs the function. The result is allocated by the compiled code: release result.allocation with std::free.
  bool call(const std::vector<Buffer>& args, Buffer& result, std::string& error);

 private:
  std::unique_ptr<mlir::ExecutionEngine> engine_;
  std::string symbol_;
  int resultRank_;
  int resultElementBytes_;
};

}  // namespace hrmc::compiler
