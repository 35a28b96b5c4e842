#include "dsl/report/ModelReport.h"

#include "dsl/sema/CreditSplit.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>
#include <set>

namespace hrmc::dsl {

namespace {

std::string grouped(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return (n < 0 ? "-" : "") + s;
}

std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3e", x);
  return buf;
}

std::string modulePathOf(const std::string& weightName) {
  size_t last = weightName.rfind('.');
  std::string mod = last == std::string::npos ? "(model)" : weightName.substr(0, last);
  size_t first = mod.find('.');
  if (first != std::string::npos) {
    size_t second = mod.find('.', first + 1);
    if (second != std::string::npos) mod = mod.substr(0, second);
  }
  return mod;
}

// The weight a Linear/MatMul/Embedding reads directly, or -1.
int weightInput(const ModelGraph& g, const Node& n) {
  int idx = n.op == OpKind::Embedding ? 0 : 1;
  if (static_cast<int>(n.inputs.size()) <= idx) return -1;
  int in = n.inputs[idx];
  return g.nodes[in].op == OpKind::Weight ? in : -1;
}

// "2 slow (H) and 6 fast (L)", "2 at level G, 4 slow (H) and 12 fast (L)": the levels outermost first.
std::string levelCounts(const ModelGraph& g) {
  std::vector<std::string> parts;
  for (const std::string& level : g.levels) {
    const std::string n = std::to_string(g.countSteps(level));
    parts.push_back(level == "H" ? n + " slow (H)" : level == "L" ? n + " fast (L)" : n + " at level " + level);
  }
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return s;
}

// The two-level default keeps the paper's name for it.
std::string splitDescription(const ModelGraph& g) {
  const std::vector<std::string>& order = g.splitOrder();
  if (order == std::vector<std::string>{"H", "L"} || order == std::vector<std::string>{"H"} ||
      order == std::vector<std::string>{"L"})
    return "H-first split";
  return "split order " + spellSplitOrder(order);
}

// "H1.L2": the iteration of every enclosing loop, by level; "-" outside every loop.
std::string cycleOf(const Step& s) {
  std::string c;
  for (const LoopPosition& p : s.loops) c += (c.empty() ? "" : ".") + p.level + std::to_string(p.iter);
  return c.empty() ? "-" : c;
}

int cycleWidth(const ModelGraph& g) {
  size_t w = 6;
  for (const Step& s : g.steps) w = std::max(w, cycleOf(s).size());
  return static_cast<int>(w);
}

// `hrmc check --explain-credit`: how the split gives each level its share at every K.
void printCreditExplanation(std::ostream& os, const ModelGraph& g, const std::vector<int>& ks) {
  const std::vector<std::string>& order = g.splitOrder();
  os << "\ncredit window (HRM-TEXT.md §2): of K steps with gradient, the levels take their share in split order ("
     << spellSplitOrder(order) << (g.credit.split.empty() ? ", outermost first" : ", as declared")
     << "): each takes as many of its last steps as K allows while leaving one step for every later level that has "
        "steps; the last level takes the rest\n";
  for (int k : ks) {
    const CreditSplit split = creditSplit(k, order, g.stepLevels());
    os << "  K=" << k << ":";
    if (!split.ok()) {
      os << " " << split.error << "\n";
      continue;
    }
    for (size_t i = 0; i < split.shares.size(); ++i) {
      const LevelShare& sh = split.shares[i];
      os << (i == 0 ? " " : "; ") << sh.level << " takes its last " << sh.withGrad << " of " << sh.steps;
      if (sh.reserved > 0 && sh.withGrad < sh.steps) os << " (leaving " << sh.reserved << " for the later levels)";
    }
    os << "\n";
  }
}

}  // namespace

ModelStats computeStats(const ModelGraph& g) {
  ModelStats s;
  std::set<int> embeddingNodes;
  for (const Node& n : g.nodes) {
    if (n.op == OpKind::Embedding)
      if (int w = weightInput(g, n); w >= 0) embeddingNodes.insert(w);
  }
  // The output head: the weight of the linear that produces the model's result.
  if (g.output >= 0) {
    const Node& out = g.nodes[g.output];
    if (out.op == OpKind::Linear || out.op == OpKind::MatMul)
      if (int w = weightInput(g, out); w >= 0) embeddingNodes.insert(w);
  }
  std::map<std::string, size_t> rowOf;
  for (const Weight& w : g.weights) {
    const int64_t numel = w.type.numelWithoutT();
    if (!w.trainable) {
      s.buffers.push_back(&w);
      continue;
    }
    s.totalParams += numel;
    if (embeddingNodes.count(w.node)) s.embeddingParams += numel;
    std::string mod = modulePathOf(w.name);
    auto [it, fresh] = rowOf.emplace(mod, s.modules.size());
    if (fresh) s.modules.push_back({mod, 0});
    s.modules[it->second].params += numel;
  }
  return s;
}

double trainFlopsPerToken(const ModelGraph& g, int K) {
  const std::vector<bool> grad = g.stepsWithGrad(K);
  double flops = 0;
  for (const Node& n : g.nodes) {
    if (n.op != OpKind::Linear && n.op != OpKind::MatMul) continue;
    int w = weightInput(g, n);
    if (w < 0) continue;
    const double numel = static_cast<double>(g.nodes[w].type.numelWithoutT());
    flops += 2 * numel;
    if (n.step < 0 || grad[n.step]) flops += 4 * numel;
  }
  return flops;
}

double forwardFlopsPerToken(const ModelGraph& g) {
  double flops = 0;
  for (const Node& n : g.nodes)
    if (n.op == OpKind::Linear || n.op == OpKind::MatMul)
      if (int w = weightInput(g, n); w >= 0) flops += 2.0 * static_cast<double>(g.nodes[w].type.numelWithoutT());
  return flops;
}

std::vector<int> creditWindowRange(const ModelGraph& g) {
  std::vector<int> ks;
  if (g.credit.declared) {
    for (int k = g.credit.minSteps; k <= g.credit.maxSteps; ++k) ks.push_back(k);
  } else {
    ks.push_back(static_cast<int>(g.steps.size()));
  }
  return ks;
}

void printCheckReport(std::ostream& os, const FrontendResult& fe, bool explainCredit) {
  const ModelGraph& g = *fe.graph;
  const ModelStats st = computeStats(g);
  os << "model " << g.name << " (" << fe.sources.path(g.loc.file) << ")";
  if (!fe.preset.empty()) os << ", preset " << fe.preset;
  os << "\n\nconfig\n";
  size_t w = 0;
  for (const ConfigValue& c : fe.config) w = std::max(w, c.name.size());
  for (const ConfigValue& c : fe.config) {
    std::string v = c.text;
    os << "  " << c.name << std::string(w - c.name.size(), ' ') << " = " << v
       << std::string(v.size() < 12 ? 12 - v.size() : 1, ' ') << c.source << "\n";
  }

  os << "\nparameters\n";
  size_t pw = 14;
  for (const ModuleParams& m : st.modules) pw = std::max(pw, m.path.size());
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-*s %15s %7s\n", static_cast<int>(pw), "module", "parameters", "share");
  os << buf;
  for (const ModuleParams& m : st.modules) {
    std::snprintf(buf, sizeof buf, "  %-*s %15s %6.1f%%\n", static_cast<int>(pw), m.path.c_str(), grouped(m.params).c_str(),
                  st.totalParams ? 100.0 * static_cast<double>(m.params) / static_cast<double>(st.totalParams) : 0.0);
    os << buf;
  }
  std::snprintf(buf, sizeof buf, "  %-*s %15s\n", static_cast<int>(pw), "total", grouped(st.totalParams).c_str());
  os << buf;
  std::snprintf(buf, sizeof buf, "  %-*s %15s\n", static_cast<int>(pw), "non-embedding", grouped(st.nonEmbeddingParams()).c_str());
  os << buf;
  for (const Weight* b : st.buffers) os << "  buffer " << b->name << " " << b->type.str() << " (not trained)\n";

  const std::vector<int> ks = creditWindowRange(g);
  os << "\nrecurrence: ";
  if (g.steps.empty()) {
    os << "none (a feed-forward model; every layer carries gradient)\n";
  } else {
    const std::string split = splitDescription(g);
    os << g.steps.size() << " steps, " << levelCounts(g) << "; ";
    if (g.credit.declared && g.credit.minSteps == g.credit.maxSteps) {
      os << "fixed credit window K = " << g.credit.minSteps << ", " << split << "\n";
    } else if (g.credit.declared) {
      os << "credit window K = " << g.credit.minSteps << ".." << g.credit.maxSteps << " over the first "
         << g.credit.warmupRatio * 100 << "% of training steps, " << split << "\n";
    } else {
      os << "no credit window: every step carries gradient\n";
    }
    std::snprintf(buf, sizeof buf, "  %-5s %-6s %-*s %-8s %-18s", "step", "level", cycleWidth(g), "cycle", "updates", "via");
    os << buf;
    auto cellWidth = [](int k) { return std::max<int>(4, 2 + static_cast<int>(std::to_string(k).size())); };
    for (int k : ks) {
      std::snprintf(buf, sizeof buf, " %-*s", cellWidth(k), ("K=" + std::to_string(k)).c_str());
      os << buf;
    }
    os << "\n";
    std::vector<std::vector<bool>> grads;
    for (int k : ks) grads.push_back(g.stepsWithGrad(k));
    for (size_t i = 0; i < g.steps.size(); ++i) {
      const Step& s = g.steps[i];
      const std::string level = s.level + std::to_string(s.levelIndex);
      std::snprintf(buf, sizeof buf, "  %-5zu %-6s %-*s %-8s %-18s", i + 1, level.c_str(), cycleWidth(g), cycleOf(s).c_str(),
                    s.state.c_str(), s.callee.empty() ? "-" : s.callee.c_str());
      os << buf;
      for (size_t k = 0; k < ks.size(); ++k) {
        std::snprintf(buf, sizeof buf, " %-*s", cellWidth(ks[k]), grads[k][i] ? "grad" : "-");
        os << buf;
      }
      os << "\n";
    }
    if (explainCredit && g.credit.declared) printCreditExplanation(os, g, ks);
    for (int k : ks) {
      const std::vector<bool> live = g.nodesWithGrad(k);
      std::string frozen;
      for (const Weight& wt : g.weights)
        if (wt.trainable && !live[wt.node]) frozen += (frozen.empty() ? "" : ", ") + wt.name;
      if (!frozen.empty())
        os << "  at K=" << k << " no gradient reaches: " << frozen << " (HRM-TEXT.md §2)\n";
    }
  }

  os << "\nFLOPs per token (linear layers, HRM-TEXT.md §9; attention excluded)\n";
  os << "  forward        " << sci(forwardFlopsPerToken(g)) << "\n";
  if (g.steps.empty()) {
    os << "  train          " << sci(trainFlopsPerToken(g, 0)) << "\n";
  } else {
    for (int k : ks) {
      std::snprintf(buf, sizeof buf, "  train K=%-5d  %s\n", k, sci(trainFlopsPerToken(g, k)).c_str());
      os << buf;
    }
  }
  os << "\nobjective " << (g.objective == Objective::ResponseOnly ? "response_only" : "all_tokens") << ", attention mask "
     << spell(g.mask) << ", " << g.nodes.size() << " operations after unrolling\n";
}

}  // namespace hrmc::dsl
