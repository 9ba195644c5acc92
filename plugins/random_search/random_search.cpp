// Random search (Bergstra & Bengio 2012, JMLR 13), as the seed text teaches it: sample every
// hyperparameter at random rather than on a grid; log_uniform samples the exponent uniformly
// ("powers of ten"); give up early on bad trials; narrow the ranges around the good ones.
//   propose:      uniform u in [0,1) per dimension from the trial's own stream;
//                 uniform lo + (hi-lo) u, log_uniform exp(ln lo + (ln hi - ln lo) u),
//                 int_uniform lo + floor((hi-lo+1) u), choice index floor(n u)
//   should_stop:  successive halving at rungs min_epochs * reduction^k (ASHA, Li et al. 2018,
//                 arXiv:1810.05934): a trial goes on only if its score ranks within the top
//                 max(1, floor(n / reduction)) of the n trials that reached the rung, itself
//                 included, earlier trials winning ties
//   narrow:       each numeric range becomes the span of the top `keep` fraction of the round's
//                 trials (at least two), ranked by final score; the span of log_uniform values
//                 is the same set in log space, so it stays a log range; choices are kept
#include <algorithm>
#include <cmath>
#include <lamina/plugin.hpp>
#include <lamina/search_strategy.hpp>
#include <sstream>

namespace lamina_random_search {

using namespace lamina;

std::string format_number(double v, bool integer) {
  if (integer) return std::to_string(static_cast<long long>(v));
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

class RandomSearch final : public SearchStrategy {
 public:
  std::vector<Value> propose(const SearchSpace& space, std::int64_t, Rng& rng) override {
    std::vector<Value> out;
    for (const auto& d : space.dims) {
      const double u = static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
      switch (d.type) {
        case Dimension::Type::Uniform: {
          const double v = d.lo + (d.hi - d.lo) * u;
          out.push_back({format_number(v, false), v});
          break;
        }
        case Dimension::Type::LogUniform: {
          const double v = std::exp(std::log(d.lo) + (std::log(d.hi) - std::log(d.lo)) * u);
          out.push_back({format_number(v, false), v});
          break;
        }
        case Dimension::Type::IntUniform: {
          const double v = std::min(d.hi, d.lo + std::floor((d.hi - d.lo + 1) * u));
          out.push_back({format_number(v, true), v});
          break;
        }
        case Dimension::Type::Choice: {
          const auto i = std::min(d.choices.size() - 1, static_cast<std::size_t>(std::floor(u * d.choices.size())));
          out.push_back({d.choices[i], static_cast<double>(i)});
          break;
        }
      }
    }
    return out;
  }

  bool should_stop(const TrialReport& trial, std::span<const TrialReport> earlier, const PruningRule& rule) override {
    if (!rule.enabled || trial.scores.empty()) return false;
    const auto e = static_cast<std::int64_t>(trial.scores.size());
    if (e < rule.min_epochs || e % rule.min_epochs != 0) return false;
    for (std::int64_t k = e / rule.min_epochs; k > 1; k /= rule.reduction) {
      if (k % rule.reduction != 0) return false;  // not a rung
    }
    const double mine = trial.scores.back();
    std::int64_t n = 1, better = 0;
    for (const auto& t : earlier) {
      if (static_cast<std::int64_t>(t.scores.size()) < e) continue;
      ++n;
      better += t.scores[static_cast<std::size_t>(e - 1)] >= mine;
    }
    return better >= std::max<std::int64_t>(1, n / rule.reduction);
  }

  SearchSpace narrow(const SearchSpace& space, std::span<const TrialReport> finished, double keep) override {
    std::vector<const TrialReport*> ranked;
    for (const auto& t : finished) {
      if (!t.scores.empty() && (t.status == "ok" || t.status == "pruned")) ranked.push_back(&t);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const TrialReport* a, const TrialReport* b) { return a->scores.back() > b->scores.back(); });
    const auto n = std::max<std::size_t>(2, static_cast<std::size_t>(std::ceil(keep * ranked.size())));
    if (ranked.size() < 2) return space;
    ranked.resize(std::min(n, ranked.size()));
    SearchSpace out = space;
    for (std::size_t d = 0; d < out.dims.size(); ++d) {
      auto& dim = out.dims[d];
      if (dim.type == Dimension::Type::Choice) continue;
      double lo = ranked[0]->values[d].number, hi = lo;
      for (const auto* t : ranked) {
        lo = std::min(lo, t->values[d].number);
        hi = std::max(hi, t->values[d].number);
      }
      dim.lo = lo;
      dim.hi = hi;
    }
    return out;
  }
};

void register_types(Registrar& r) {
  r.add<SearchStrategy>("random_search",
                        "random sampling (log_uniform on exponents), successive-halving pruning, range narrowing", {},
                        [](const Config&) { return std::make_unique<RandomSearch>(); });
}

}  // namespace lamina_random_search

LAMINA_PLUGIN("random_search", LAMINA_VERSION_STRING, "Random hyperparameter search",
              lamina_random_search::register_types)
