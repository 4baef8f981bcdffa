#include "launch/flow_builder.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <functional>
#include <map>
#include <set>

#include "framework/core/check.h"
#include "layers/flows/batch_norm.h"
#include "layers/flows/coupling.h"
#include "layers/flows/diagonal_scaling.h"
#include "layers/flows/logit.h"
#include "layers/flows/lu_linear.h"
#include "layers/flows/masked_autoregressive.h"
#include "layers/flows/permutation.h"
#include "layers/flows/planar.h"
#include "layers/flows/radial.h"

namespace ft::launch {

namespace {

namespace flows = layers::flows;

enum class ArgType { integer, number, string };

struct ArgSpec {
  std::string name;
  ArgType type;
  std::string fallback;  // the default, as TOML
};

class TransformArgs;
struct BuildState;
using TransformMaker = std::function<std::shared_ptr<flows::Transform>(const TransformArgs&, BuildState&)>;

struct TransformType {
  std::string name;
  std::string summary;
  std::vector<ArgSpec> args;
  TransformMaker make;
};

// What a transform is built against: the width of the vectors it sees, the
// context width (0: none) and the stream its random initialisation draws from.
struct BuildState {
  int64_t features = 0;
  int64_t context_features = 0;
  int64_t couplings = 0;  // built so far: "alternate" masks flip with each
  Generator& gen;
};

// One [[model.transforms]] table, checked against its type's keys.
class TransformArgs {
 public:
  TransformArgs(const toml::table& table, const TransformType& type, std::string where)
      : table_(table), type_(type), where_(std::move(where)) {
    for (auto& [name, node] : table_) {
      std::string key(name.str());
      if (key == "type") continue;
      const ArgSpec* spec = find(key);
      if (!spec) {
        std::vector<std::string> keys;
        for (const ArgSpec& a : type_.args) keys.push_back(a.name);
        FT_FAIL("{}.{}: \"{}\" has no key '{}' (its keys: {})", where_, key, type_.name, key,
                keys.empty() ? std::string("none") : fmt::format("{}", fmt::join(keys, ", ")));
      }
      bool ok = spec->type == ArgType::integer  ? node.is_integer()
                : spec->type == ArgType::number ? node.is_integer() || node.is_floating_point()
                                                : node.is_string();
      if (!ok)
        FT_FAIL("{}.{} must be {}", where_, key,
                spec->type == ArgType::integer ? "an integer" : spec->type == ArgType::number ? "a number" : "a string");
    }
  }
  int64_t integer(const std::string& name) const { return *value(name).value<int64_t>(); }
  int64_t positive(const std::string& name) const {
    int64_t v = integer(name);
    if (v < 1) FT_FAIL("{}.{} must be >= 1, got {}", where_, name, v);
    return v;
  }
  double number(const std::string& name) const { return *value(name).value<double>(); }
  std::string string(const std::string& name) const { return *value(name).value<std::string>(); }
  const std::string& where() const { return where_; }

 private:
  const ArgSpec* find(const std::string& name) const {
    for (const ArgSpec& a : type_.args)
      if (a.name == name) return &a;
    return nullptr;
  }
  toml::node_view<const toml::node> value(const std::string& name) const {
    if (auto present = table_[name]) return present;
    const ArgSpec* spec = find(name);
    FT_CHECK(spec, "transform type {} reads an undeclared key {}", type_.name, name);
    fallbacks_[name] = toml::parse("v = " + spec->fallback);
    const toml::table& parsed = fallbacks_[name];
    return parsed["v"];
  }
  const toml::table& table_;
  const TransformType& type_;
  std::string where_;
  mutable std::map<std::string, toml::table> fallbacks_;
};

const std::vector<ArgSpec> kNetworkArgs = {{"hidden", ArgType::integer, "256"}, {"hidden_layers", ArgType::integer, "2"}};
const std::vector<ArgSpec> kSplineArgs = {{"bins", ArgType::integer, "8"}, {"tail_bound", ArgType::number, "3.0"}};

std::vector<ArgSpec> joined(std::initializer_list<std::vector<ArgSpec>> lists) {
  std::vector<ArgSpec> out;
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

// "alternate" flips the mask parity with each coupling of the list (RealNVP's stacking).
std::vector<int> coupling_mask(const TransformArgs& args, BuildState& state) {
  FT_CHECK(state.features >= 2, "{}: a coupling splits the features, but there is only {}", args.where(),
           state.features);
  std::string mask = args.string("mask");
  bool even;
  if (mask == "alternate") even = state.couplings % 2 == 1;
  else if (mask == "even" || mask == "odd") even = mask == "even";
  else FT_FAIL("{}.mask is \"{}\"; expected alternate, even or odd", args.where(), mask);
  ++state.couplings;
  return flows::alternating_mask(state.features, even);
}

flows::SplineOptions spline_options(const TransformArgs& args) {
  flows::SplineOptions spline;
  spline.bins = args.positive("bins");
  spline.tail_bound = args.number("tail_bound");
  if (spline.tail_bound <= 0.0) FT_FAIL("{}.tail_bound must be > 0, got {}", args.where(), spline.tail_bound);
  return spline;
}

TransformMaker coupling_maker(flows::CouplingKind kind) {
  return [kind](const TransformArgs& a, BuildState& s) -> std::shared_ptr<flows::Transform> {
    std::vector<int> mask = coupling_mask(a, s);
    flows::SplineOptions spline = kind == flows::CouplingKind::rational_quadratic ? spline_options(a) : flows::SplineOptions{};
    return std::make_shared<flows::CouplingTransform>(mask, kind, a.positive("hidden"), a.positive("hidden_layers"),
                                                      s.context_features, s.gen, spline);
  };
}

const std::vector<TransformType>& transform_types() {
  using flows::CouplingKind;
  const ArgSpec mask{"mask", ArgType::string, "\"alternate\""};
  static const std::vector<TransformType> types = {
      {"additive_coupling", "NICE's additive coupling (Dinh et al. 2015)", joined({{mask}, kNetworkArgs}),
       coupling_maker(CouplingKind::additive)},
      {"affine_coupling", "RealNVP's affine coupling over vectors", joined({{mask}, kNetworkArgs}),
       coupling_maker(CouplingKind::affine)},
      {"spline_coupling", "rational-quadratic spline coupling (NSF, Durkan et al. 2019)",
       joined({{mask}, kNetworkArgs, kSplineArgs}), coupling_maker(CouplingKind::rational_quadratic)},
      {"maf", "masked affine autoregressive (MAF, Papamakarios et al. 2017)", kNetworkArgs,
       [](const TransformArgs& a, BuildState& s) -> std::shared_ptr<flows::Transform> {
         return std::make_shared<flows::MaskedAffineAutoregressive>(s.features, a.positive("hidden"),
                                                                    a.positive("hidden_layers"), s.context_features, s.gen);
       }},
      {"iaf", "inverse autoregressive (IAF, Kingma et al. 2016): an inverted MAF", kNetworkArgs,
       [](const TransformArgs& a, BuildState& s) {
         return flows::make_iaf(s.features, a.positive("hidden"), a.positive("hidden_layers"), s.context_features, s.gen);
       }},
      {"spline_autoregressive", "rational-quadratic autoregressive spline (NSF)", joined({kNetworkArgs, kSplineArgs}),
       [](const TransformArgs& a, BuildState& s) -> std::shared_ptr<flows::Transform> {
         return std::make_shared<flows::MaskedRationalQuadraticAutoregressive>(
             s.features, a.positive("hidden"), a.positive("hidden_layers"), s.context_features, spline_options(a), s.gen);
       }},
      {"reverse", "reverses the feature order", {},
       [](const TransformArgs&, BuildState& s) -> std::shared_ptr<flows::Transform> {
         return std::make_shared<flows::Permutation>(flows::reverse_order(s.features));
       }},
      {"random_permutation", "a fixed random permutation (drawn from train.seed)", {},
       [](const TransformArgs&, BuildState& s) -> std::shared_ptr<flows::Transform> {
         return std::make_shared<flows::Permutation>(flows::random_order(s.features, s.gen));
       }},
      {"lu_linear", "an LU-parametrised invertible linear map", {},
       [](const TransformArgs&, BuildState& s) -> std::shared_ptr<flows::Transform> {
         return std::make_shared<flows::LULinear>(s.features, s.gen);
       }},
      {"batch_norm", "batch normalisation as a flow layer (running statistics at eval)",
       {{"eps", ArgType::number, "1e-5"}, {"momentum", ArgType::number, "0.1"}},
       [](const TransformArgs& a, BuildState& s) -> std::shared_ptr<flows::Transform> {
         double momentum = a.number("momentum"), eps = a.number("eps");
         if (momentum <= 0.0 || momentum > 1.0) FT_FAIL("{}.momentum must be in (0, 1], got {}", a.where(), momentum);
         if (eps <= 0.0) FT_FAIL("{}.eps must be > 0, got {}", a.where(), eps);
         return std::make_shared<flows::BatchNormTransform>(s.features, eps, momentum);
       }},
      {"diagonal_scaling", "NICE's learned diagonal scaling", {},
       [](const TransformArgs&, BuildState& s) -> std::shared_ptr<flows::Transform> {
         return std::make_shared<flows::DiagonalScaling>(s.features);
       }},
      {"planar", "planar flow (Rezende & Mohamed 2015)", {},
       [](const TransformArgs&, BuildState& s) -> std::shared_ptr<flows::Transform> {
         return std::make_shared<flows::PlanarFlow>(s.features, s.gen);
       }},
      {"radial", "radial flow (Rezende & Mohamed 2015)", {},
       [](const TransformArgs&, BuildState& s) -> std::shared_ptr<flows::Transform> {
         return std::make_shared<flows::RadialFlow>(s.features, s.gen);
       }},
      {"logit", "RealNVP's logit of data in [0, 1): logit(alpha + (1 - 2 alpha) x)", {{"alpha", ArgType::number, "0.05"}},
       [](const TransformArgs& a, BuildState&) -> std::shared_ptr<flows::Transform> {
         double alpha = a.number("alpha");
         if (alpha < 0.0 || alpha >= 0.5) FT_FAIL("{}.alpha must be in [0, 0.5), got {}", a.where(), alpha);
         return std::make_shared<flows::LogitTransform>(alpha);
       }},
  };
  return types;
}

const TransformType& transform_type(const toml::table& table, const std::string& where) {
  auto type = table["type"].value<std::string>();
  if (!type) FT_FAIL("{}.type is missing (a string naming the transform)", where);
  std::vector<std::string> names;
  for (const TransformType& t : transform_types()) {
    if (t.name == *type) return t;
    names.push_back(t.name);
  }
  FT_FAIL("{}.type = \"{}\" is not a transform; expected one of: {}", where, *type, fmt::join(names, ", "));
}

std::shared_ptr<flows::Distribution> build_base(const Config& config, int64_t features, int64_t context, Generator& gen) {
  std::string name = config.string("model.distribution");
  if (name == "standard_logistic") return std::make_shared<flows::StandardLogistic>(features);
  if (name == "diagonal_normal") {
    if (context == 0) return std::make_shared<flows::DiagonalNormal>(features);
    // Class-conditional: mean and log-std from the label (model.width hidden units).
    auto encoder = std::make_shared<flows::DenseNetwork>(context, 0, config.integer("model.width"), 2, 2 * features, gen);
    return std::make_shared<flows::ConditionalDiagonalNormal>(features, encoder);
  }
  return std::make_shared<flows::StandardNormal>(features);
}

}  // namespace

std::shared_ptr<flows::ComposedFlowModel> build_flow_model(const Config& config, Generator& gen) {
  flows::ComposedFlowOptions options;
  int64_t features = config.integer("model.features");
  if (features < 0) FT_FAIL("{}: model.features must be >= 0 (0: images), got {}", config.origin(), features);
  if (features > 0) {
    options.data_shape = {features};
    options.scaling = layers::vector_scaling();
  } else {
    int64_t channels = config.integer("model.channels"), size = config.integer("model.image_size");
    if (channels < 1 || size < 1)
      FT_FAIL("{}: model.channels and model.image_size must be >= 1, got {} and {}", config.origin(), channels, size);
    options.data_shape = {channels, size, size};
    options.flatten = true;
    options.scaling = layers::unit_scaling();
    features = channels * size * size;
  }
  options.latent_shape = {features};
  options.num_classes = config.integer("model.num_classes");
  if (options.num_classes < 0) FT_FAIL("{}: model.num_classes must be >= 0, got {}", config.origin(), options.num_classes);
  int64_t repeat = config.integer("model.repeat");
  if (repeat < 1) FT_FAIL("{}: model.repeat must be >= 1, got {}", config.origin(), repeat);
  const toml::array& tables = config.tables("model.transforms");
  if (tables.empty()) FT_FAIL("{}: model.transforms is empty; a flow needs at least one [[model.transforms]]", config.origin());

  BuildState state{features, options.num_classes, 0, gen};
  std::vector<std::shared_ptr<flows::Transform>> transforms;
  auto build_list = [&](const char* key) {
    const toml::array& list = config.tables(key);
    for (size_t i = 0; i < list.size(); ++i) {
      std::string where = fmt::format("{}: {}[{}]", config.origin(), key, i);
      const toml::table& table = *list[i].as_table();
      const TransformType& type = transform_type(table, where);
      transforms.push_back(type.make(TransformArgs(table, type, where), state));
    }
  };
  build_list("model.preprocess");
  for (int64_t r = 0; r < repeat; ++r) build_list("model.transforms");
  options.description = {{"features", config.integer("model.features")},
                         {"data_shape", options.data_shape},
                         {"distribution", config.string("model.distribution")},
                         {"repeat", repeat},
                         {"num_classes", options.num_classes},
                         {"preprocess", config.section_json("model")["preprocess"]},
                         {"transforms", config.section_json("model")["transforms"]},
                         {"transform_count", transforms.size()}};
  auto base = build_base(config, features, options.num_classes, gen);
  return std::make_shared<flows::ComposedFlowModel>(std::make_shared<flows::CompositeTransform>(std::move(transforms)),
                                                    base, options);
}

std::string describe_transform_types() {
  std::string out;
  for (const TransformType& t : transform_types()) {
    std::vector<std::string> args;
    for (const ArgSpec& a : t.args) args.push_back(fmt::format("{} = {}", a.name, a.fallback));
    out += fmt::format("{:<22} {}{}\n", t.name, t.summary, args.empty() ? "" : fmt::format(" [{}]", fmt::join(args, ", ")));
  }
  return out;
}

}  // namespace ft::launch
