#pragma once
// The training dashboard as one SVG, drawn from a run's metrics.jsonl (so a resumed run is drawn whole):
// train and held-out loss on a log-scale axis with ticks and grid, and beneath it, on the same step
// axis, the credit window K (a staircase) and the learning rate.
#include <string>

namespace hrmc::runtime {

// Reads `metricsPath` (one JSON object per line: {"step", "loss", "lr", "bp_steps"} or {"step",
// "eval_loss"}) and writes the plot to `svgPath`. Lines that are not such objects are ignored. Writes
// nothing when there is no training step.
void writeLossPlot(const std::string& metricsPath, const std::string& svgPath);

}  // namespace hrmc::runtime
