#include "runtime/train/LossPlot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace hrmc::runtime {

namespace {

struct Point {
  double step, value;
};

// Round steps for a linear axis: about `want` ticks at 1, 2 or 5 × 10^k.
std::vector<double> linearTicks(double lo, double hi, int want) {
  const double raw = (hi - lo) / std::max(1, want);
  const double mag = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-300))));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(v);
  return t;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

struct Panel {
  double top, height;
};

class Svg {
 public:
  Svg(double width, double height, double left, double right, double maxStep)
      : width_(width), left_(left), right_(right), maxStep_(maxStep) {
    os_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
        << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  }
  double x(double step) const { return left_ + (width_ - left_ - right_) * step / maxStep_; }
  void line(double x1, double y1, double x2, double y2, const char* color, double w = 1) {
    os_ << "<line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2 << "\" stroke=\"" << color
        << "\" stroke-width=\"" << w << "\"/>\n";
  }
  void text(double x, double y, const std::string& s, const char* anchor = "end", const char* color = "black") {
    os_ << "<text x=\"" << x << "\" y=\"" << y << "\" text-anchor=\"" << anchor << "\" fill=\"" << color << "\">" << s
        << "</text>\n";
  }
  void polyline(const std::vector<std::pair<double, double>>& pts, const char* color, bool markers) {
    if (pts.empty()) return;
    os_ << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.5\" points=\"";
    for (auto [px, py] : pts) os_ << px << "," << py << " ";
    os_ << "\"/>\n";
    if (markers)
      for (auto [px, py] : pts) os_ << "<circle cx=\"" << px << "\" cy=\"" << py << "\" r=\"2.5\" fill=\"" << color << "\"/>\n";
  }
  // The frame of a panel, with horizontal grid lines and labels at `ticks` (positions from `y`).
  template <typename Y>
  void frame(const Panel& p, const std::vector<std::pair<double, std::string>>& ticks, Y y, const std::string& title) {
    for (const auto& [v, label] : ticks) {
      line(left_, y(v), width_ - right_, y(v), "#e5e5e5");
      text(left_ - 4, y(v) + 4, label);
    }
    for (double s : linearTicks(0, maxStep_, 8)) line(x(s), p.top, x(s), p.top + p.height, "#f0f0f0");
    os_ << "<rect x=\"" << left_ << "\" y=\"" << p.top << "\" width=\"" << width_ - left_ - right_ << "\" height=\""
        << p.height << "\" fill=\"none\" stroke=\"black\"/>\n";
    text(left_ + 4, p.top + 12, title, "start", "#444");
  }
  void stepAxis(const Panel& p) {
    for (double s : linearTicks(0, maxStep_, 8)) {
      line(x(s), p.top + p.height, x(s), p.top + p.height + 4, "black");
      text(x(s), p.top + p.height + 16, number(s), "middle");
    }
    text((left_ + width_ - right_) / 2, p.top + p.height + 30, "optimizer step", "middle");
  }
  std::string finish() {
    os_ << "</svg>\n";
    return os_.str();
  }

 private:
  std::ostringstream os_;
  double width_, left_, right_, maxStep_;
};

}  // namespace

void writeLossPlot(const std::string& metricsPath, const std::string& svgPath) {
  std::vector<Point> train, eval, lr, K;
  std::ifstream in(metricsPath);
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number()) continue;
    const double step = j["step"].get<double>();
    auto take = [&](const char* key, std::vector<Point>& to) {
      if (j.contains(key) && j[key].is_number() && std::isfinite(j[key].get<double>())) to.push_back({step, j[key].get<double>()});
    };
    take("loss", train);
    take("eval_loss", eval);
    take("lr", lr);
    take("bp_steps", K);
  }
  if (train.empty()) return;

  double maxStep = 1, lo = 1e300, hi = 0;
  for (const auto* c : {&train, &eval})
    for (const Point& p : *c) {
      maxStep = std::max(maxStep, p.step);
      if (p.value > 0) {
        lo = std::min(lo, p.value);
        hi = std::max(hi, p.value);
      }
    }
  if (hi <= 0) lo = hi = 1;  // no positive loss to draw on a log axis
  // Whole decades around the losses, so every gridline is a power of ten or 2×/5× one.
  const double decLo = std::floor(std::log10(lo)), decHi = std::max(decLo + 1, std::ceil(std::log10(hi)));

  const double W = 720, left = 64, right = 20;
  const Panel lossPanel{20, 300}, kPanel{340, 70}, lrPanel{430, 70};
  Svg svg(W, lrPanel.top + lrPanel.height + 40, left, right, maxStep);

  auto yLoss = [&](double v) {
    const double f = (std::log10(std::max(v, std::pow(10.0, decLo))) - decLo) / (decHi - decLo);
    return lossPanel.top + lossPanel.height * (1 - f);
  };
  std::vector<std::pair<double, std::string>> lossTicks;
  for (double d = decLo; d <= decHi; ++d)
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, d);
      if (d < decHi || m == 1.0) lossTicks.emplace_back(v, m == 1.0 || decHi - decLo <= 2 ? number(v) : "");
    }
  svg.frame(lossPanel, lossTicks, yLoss, "loss (log scale)");
  auto curve = [&](const std::vector<Point>& c, auto y) {
    std::vector<std::pair<double, double>> pts;
    for (const Point& p : c) pts.emplace_back(svg.x(p.step), y(p.value));
    return pts;
  };
  svg.polyline(curve(train, yLoss), "#1f77b4", false);
  svg.polyline(curve(eval, yLoss), "#d62728", true);
  svg.text(W - right - 8, lossPanel.top + 14, "train loss", "end", "#1f77b4");
  svg.text(W - right - 8, lossPanel.top + 28, "held-out loss", "end", "#d62728");

  // K: a staircase (it changes only between steps).
  double kMax = 1;
  for (const Point& p : K) kMax = std::max(kMax, p.value);
  auto yK = [&](double v) { return kPanel.top + kPanel.height * (1 - v / (kMax + 1)); };
  std::vector<std::pair<double, std::string>> kTicks;
  for (double k = 1; k <= kMax; ++k)
    if (kMax <= 6 || static_cast<int>(k) % 2 == 1) kTicks.emplace_back(k, number(k));
  svg.frame(kPanel, kTicks, yK, "credit window K");
  std::vector<std::pair<double, double>> stairs;
  for (size_t i = 0; i < K.size(); ++i) {
    if (i > 0) stairs.emplace_back(svg.x(K[i].step), yK(K[i - 1].value));
    stairs.emplace_back(svg.x(K[i].step), yK(K[i].value));
  }
  svg.polyline(stairs, "#2ca02c", false);

  double lrMax = 0;
  for (const Point& p : lr) lrMax = std::max(lrMax, p.value);
  if (lrMax <= 0) lrMax = 1;
  auto yLr = [&](double v) { return lrPanel.top + lrPanel.height * (1 - v / lrMax); };
  svg.frame(lrPanel, {{0, "0"}, {lrMax / 2, number(lrMax / 2)}, {lrMax, number(lrMax)}}, yLr, "learning rate");
  svg.polyline(curve(lr, yLr), "#9467bd", false);
  svg.stepAxis(lrPanel);

  std::ofstream(svgPath) << svg.finish();
}

}  // namespace hrmc::runtime
