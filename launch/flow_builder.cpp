#include "launch/flow_builder.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <functional>
#include <map>
#include <set>

#include "framework/core/check.h"
#include "layers/flows/batch_norm.h"
#include "layers/flows/cnf_multiscale.h"
#include "layers/flows/coupling.h"
#include "layers/flows/ddnf.h"
#include "layers/flows/diagonal_scaling.h"
#include "layers/flows/flowpp.h"
#include "layers/flows/logit.h"
#include "layers/flows/lu_linear.h"
#include "layers/flows/masked_autoregressive.h"
#include "layers/flows/permutation.h"
#include "layers/flows/planar.h"
#include "layers/flows/radial.h"
#include "layers/flows/realnvp.h"
#include "layers/flows/residual_flow.h"

namespace ft::launch {

namespace {

namespace flows = layers::flows;

enum class ArgType { integer, number, string, boolean, integers };

struct ArgSpec {
  std::string name;
  ArgType type;
  std::string fallback;  // the default, as TOML
};

class TransformArgs;
struct BuildState;
using TransformMaker = std::function<std::shared_ptr<flows::Transform>(const TransformArgs&, BuildState&)>;

// Where a type may stand: vector transforms see [N, D] (images flattened); image
// architectures take [N, C, H, W] whole (with elementwise transforms before them);
// elementwise ones go anywhere.
enum class Placement { vector, image, elementwise };

struct TransformType {
  std::string name;
  std::string summary;
  std::vector<ArgSpec> args;
  TransformMaker make;
  Placement placement = Placement::vector;
};

// What a transform is built against: the width of the vectors it sees, the
// context width (0: none) and the stream its random initialisation draws from.
struct BuildState {
  int64_t features = 0;
  int64_t context_features = 0;
  int64_t couplings = 0;  // built so far: "alternate" masks flip with each
  Generator& gen;
  Shape image;          // {C, H, W} of image data; empty for vectors
  Shape latent;         // what the last image architecture outputs per example
  bool vector_transforms = false;  // built so far
  std::shared_ptr<flows::VariationalDequantizer> dequantizer;  // Flow++'s, when asked for
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
      if (!matches(node, spec->type)) FT_FAIL("{}.{} must be {}", where_, key, type_name(spec->type));
    }
  }
  int64_t integer(const std::string& name) const { return *value(name).value<int64_t>(); }
  int64_t positive(const std::string& name) const {
    int64_t v = integer(name);
    if (v < 1) FT_FAIL("{}.{} must be >= 1, got {}", where_, name, v);
    return v;
  }
  double number(const std::string& name) const { return *value(name).value<double>(); }
  bool boolean(const std::string& name) const { return *value(name).value<bool>(); }
  std::vector<int64_t> integers(const std::string& name) const {
    std::vector<int64_t> out;
    for (const toml::node& e : *value(name).as_array()) out.push_back(*e.value<int64_t>());
    return out;
  }
  std::string string(const std::string& name) const { return *value(name).value<std::string>(); }
  const std::string& where() const { return where_; }

 private:
  static bool matches(const toml::node& node, ArgType type) {
    switch (type) {
      case ArgType::integer: return node.is_integer();
      case ArgType::number: return node.is_integer() || node.is_floating_point();
      case ArgType::string: return node.is_string();
      case ArgType::boolean: return node.is_boolean();
      case ArgType::integers: {
        const toml::array* a = node.as_array();
        if (!a) return false;
        for (const toml::node& e : *a)
          if (!e.is_integer()) return false;
        return true;
      }
    }
    return false;
  }
  static const char* type_name(ArgType type) {
    switch (type) {
      case ArgType::integer: return "an integer";
      case ArgType::number: return "a number";
      case ArgType::string: return "a string";
      case ArgType::boolean: return "true or false";
      case ArgType::integers: return "an array of integers";
    }
    return "?";
  }
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

// The image architectures validate their own keys as model.<key>; the entry names them.
template <class Build>
auto naming_the_entry(const TransformArgs& a, Build&& build) {
  try {
    return build();
  } catch (const Error& e) {
    FT_FAIL("{}: {}", a.where(), e.what());
  }
}

std::shared_ptr<flows::Transform> make_realnvp(const TransformArgs& a, BuildState& s) {
  flows::RealNvpConfig c;
  c.channels = s.image[0];
  c.image_size = s.image[1];
  c.scales = a.integer("scales");
  c.res_blocks = a.integer("res_blocks");
  c.features = a.integer("features");
  std::string coupling = a.string("coupling");
  if (coupling != "affine" && coupling != "additive")
    FT_FAIL("{}.coupling is \"{}\"; expected affine or additive", a.where(), coupling);
  c.coupling = coupling == "affine" ? flows::CouplingKind::affine : flows::CouplingKind::additive;
  c.batch_norm = a.boolean("batch_norm");
  c.learn_split_prior = a.boolean("learn_split_prior");
  c.learn_top = a.boolean("learn_top");
  auto transform = naming_the_entry(a, [&] { return flows::realnvp_transform(c, s.gen); });
  s.latent = {transform->features()};
  return transform;
}

std::shared_ptr<flows::Transform> make_flowpp(const TransformArgs& a, BuildState& s) {
  flows::FlowppConfig c;
  c.channels = s.image[0];
  c.image_size = s.image[1];
  c.filters = a.integer("filters");
  c.blocks = a.integer("blocks");
  c.heads = a.integer("heads");
  c.components = a.integer("components");
  std::vector<int64_t> channel = a.integers("channel_couplings"), checkerboard = a.integers("checkerboard_couplings");
  if (channel.size() != checkerboard.size())
    FT_FAIL("{}: channel_couplings has {} scales but checkerboard_couplings {}", a.where(), channel.size(),
            checkerboard.size());
  c.scales.clear();
  for (size_t i = 0; i < channel.size(); ++i) c.scales.push_back({channel[i], checkerboard[i]});
  c.dequant_couplings = a.integer("dequantizer_couplings");
  c.dequant_filters = a.integer("dequantizer_filters");
  c.dequant_blocks = a.integer("dequantizer_blocks");
  auto transform = naming_the_entry(a, [&] { return flows::flowpp_transform(c, s.gen); });
  if (a.boolean("dequantizer")) s.dequantizer = naming_the_entry(a, [&] { return flows::flowpp_dequantizer(c, s.gen); });
  // No factored-out dimensions: z keeps the last scale's shape, one squeeze per scale after the first.
  int64_t squeezes = int64_t(c.scales.size()) - 1;
  s.latent = {c.channels << (2 * squeezes), c.image_size >> squeezes, c.image_size >> squeezes};
  return transform;
}

// The keys every residual block reads (i-ResNet, Residual Flows; residual_block.h).
const std::vector<ArgSpec> kResidualArgs = {
    {"coefficient", ArgType::number, "0.98"},       // Lipschitz coefficient of each layer
    {"power_iterations", ArgType::integer, "5"},    // per training step
    {"estimator", ArgType::string, "\"roulette\""},  // exact, power_series, roulette
    {"probe", ArgType::string, "\"gaussian\""},      // gaussian, rademacher
    {"terms", ArgType::integer, "5"},               // power_series
    {"distribution", ArgType::string, "\"geometric\""},  // roulette: geometric, poisson
    {"geometric_p", ArgType::number, "0.5"},
    {"poisson_lambda", ArgType::number, "2.0"},
    {"exact_terms", ArgType::integer, "2"},
    {"eval_exact_terms", ArgType::integer, "20"},
    {"neumann_gradient", ArgType::boolean, "true"},
    {"inverse_tolerance", ArgType::number, "1e-5"},
    {"inverse_iterations", ArgType::integer, "1000"}};

// below_one: a residual block's layers must stay contractions; DDNF's velocity layers
// may be steeper (each Euler step divides the field by T).
nn::SpectralNormOptions spectral_options(const TransformArgs& a, bool below_one = true) {
  nn::SpectralNormOptions o;
  o.coefficient = a.number("coefficient");
  if (below_one && (o.coefficient <= 0.0 || o.coefficient >= 1.0))
    FT_FAIL("{}.coefficient must be in (0, 1) for an invertible block, got {}", a.where(), o.coefficient);
  if (o.coefficient <= 0.0) FT_FAIL("{}.coefficient must be > 0, got {}", a.where(), o.coefficient);
  o.iterations = a.integer("power_iterations");
  if (o.iterations < 0) FT_FAIL("{}.power_iterations must be >= 0, got {}", a.where(), o.iterations);
  return o;
}

flows::ResidualBlockOptions residual_options(const TransformArgs& a) {
  flows::ResidualBlockOptions o;
  o.estimator = flows::parse_logdet_estimator(a.string("estimator"), a.where() + ".estimator");
  o.probe = flows::parse_trace_probe(a.string("probe"), a.where() + ".probe");
  o.terms = a.positive("terms");
  o.roulette.distribution = flows::parse_series_length(a.string("distribution"), a.where() + ".distribution");
  o.roulette.geometric_p = a.number("geometric_p");
  o.roulette.poisson_lambda = a.number("poisson_lambda");
  o.roulette.exact_terms = a.integer("exact_terms");
  o.eval_exact_terms = a.integer("eval_exact_terms");
  o.neumann_gradient = a.boolean("neumann_gradient");
  o.inverse_tolerance = a.number("inverse_tolerance");
  o.inverse_iterations = a.positive("inverse_iterations");
  naming_the_entry(a, [&] { o.validate("residual block"); return 0; });
  return o;
}

std::shared_ptr<flows::Transform> make_residual(const TransformArgs& a, BuildState& s) {
  if (s.context_features > 0) FT_FAIL("{}: a residual block takes no class context; set model.num_classes = 0", a.where());
  std::vector<int64_t> widths{s.features};
  for (int64_t i = 0; i < a.positive("hidden_layers"); ++i) widths.push_back(a.positive("hidden"));
  widths.push_back(s.features);
  auto net = flows::LipschitzNetwork::mlp(widths, spectral_options(a), s.gen);
  return std::make_shared<flows::ResidualBlock>(net, residual_options(a), a.where());
}

std::shared_ptr<flows::Transform> make_ddnf(const TransformArgs& a, BuildState& s) {
  if (s.context_features > 0) FT_FAIL("{}: a DDNF flow takes no class context; set model.num_classes = 0", a.where());
  nn::SpectralNormOptions spectral = spectral_options(a, /*below_one=*/false);
  std::vector<int64_t> widths{s.features};
  for (int64_t i = 0; i < a.positive("hidden_layers"); ++i) widths.push_back(a.positive("hidden"));
  widths.push_back(s.features);
  flows::DiffeomorphicOptions o;
  o.steps = a.positive("steps");
  o.terms = a.positive("terms");
  o.probe = flows::parse_trace_probe(a.string("probe"), a.where() + ".probe");
  o.exact_logdet = a.boolean("exact_logdet");
  o.geodesic_weight = a.number("geodesic_weight");
  o.consistency_weight = a.number("consistency_weight");
  auto velocity = flows::LipschitzNetwork::mlp(widths, spectral, s.gen);
  return std::make_shared<flows::DiffeomorphicFlow>(velocity, o, a.where());  // errors name a.where()
}

std::shared_ptr<flows::Transform> make_residual_flow(const TransformArgs& a, BuildState& s) {
  flows::ResidualFlowConfig c;
  c.channels = s.image[0];
  c.image_size = s.image[1];
  c.scales = a.positive("scales");
  c.blocks = a.positive("blocks");
  c.hidden = a.positive("hidden");
  c.actnorm = a.boolean("actnorm");
  c.spectral = spectral_options(a);
  c.block = residual_options(a);
  auto transform = naming_the_entry(a, [&] { return flows::residual_flow_transform(c, s.gen); });
  s.latent = c.latent_shape();
  return transform;
}

// The keys every continuous flow reads (FFJORD, RNODE; cnf.h).
const std::vector<ArgSpec> kCnfArgs = {
    {"method", ArgType::string, "\"dopri5\""},  // dopri5, rk4, euler
    {"atol", ArgType::number, "1e-5"},            // dopri5
    {"rtol", ArgType::number, "1e-5"},
    {"step_size", ArgType::number, "0.0"},        // rk4, euler: > 0
    {"max_evaluations", ArgType::integer, "10000"},
    {"time_length", ArgType::number, "1.0"},      // T
    {"trace", ArgType::string, "\"hutchinson\""},  // exact, hutchinson
    {"probe", ArgType::string, "\"gaussian\""},    // gaussian, rademacher
    {"adjoint", ArgType::boolean, "false"},
    {"kinetic_energy", ArgType::number, "0.0"},   // RNODE's weights
    {"jacobian_norm", ArgType::number, "0.0"},
    {"activation", ArgType::string, "\"tanh\""}};  // tanh, softplus

flows::ContinuousFlowOptions cnf_options(const TransformArgs& a) {
  flows::ContinuousFlowOptions o;
  try {
    o.solver.method = ode::parse_method(a.string("method"));
  } catch (const Error& e) {
    FT_FAIL("{}.method: {}", a.where(), e.what());
  }
  o.solver.atol = a.number("atol");
  o.solver.rtol = a.number("rtol");
  o.solver.step_size = a.number("step_size");
  o.solver.max_evaluations = a.positive("max_evaluations");
  o.time_length = a.number("time_length");
  o.trace = flows::parse_trace_estimator(a.string("trace"), a.where() + ".trace");
  o.probe = flows::parse_trace_probe(a.string("probe"), a.where() + ".probe");
  o.adjoint = a.boolean("adjoint");
  o.kinetic_weight = a.number("kinetic_energy");
  o.jacobian_weight = a.number("jacobian_norm");
  if (o.time_length <= 0.0) FT_FAIL("{}.time_length must be > 0, got {}", a.where(), o.time_length);
  if (o.solver.atol <= 0.0) FT_FAIL("{}.atol must be > 0, got {}", a.where(), o.solver.atol);
  if (o.solver.rtol <= 0.0) FT_FAIL("{}.rtol must be > 0, got {}", a.where(), o.solver.rtol);
  if (o.solver.method != ode::Method::dopri5 && o.solver.step_size <= 0.0)
    FT_FAIL("{}.step_size must be > 0 for method \"{}\", got {}", a.where(), a.string("method"), o.solver.step_size);
  if (o.kinetic_weight < 0.0) FT_FAIL("{}.kinetic_energy must be >= 0, got {}", a.where(), o.kinetic_weight);
  if (o.jacobian_weight < 0.0) FT_FAIL("{}.jacobian_norm must be >= 0, got {}", a.where(), o.jacobian_weight);
  return o;
}

std::shared_ptr<flows::Transform> make_cnf(const TransformArgs& a, BuildState& s) {
  if (s.context_features > 0) FT_FAIL("{}: a continuous flow takes no class context; set model.num_classes = 0", a.where());
  auto activation = flows::parse_ode_activation(a.string("activation"), a.where() + ".activation");
  int64_t hidden_layers = a.integer("hidden_layers");
  if (hidden_layers < 0) FT_FAIL("{}.hidden_layers must be >= 0, got {}", a.where(), hidden_layers);
  auto net = std::make_shared<flows::ConcatSquashMlp>(s.features, a.positive("hidden"), hidden_layers, activation, s.gen);
  return std::make_shared<flows::ContinuousFlow>(net, cnf_options(a), a.where());
}

std::shared_ptr<flows::Transform> make_cnf_multiscale(const TransformArgs& a, BuildState& s) {
  flows::CnfMultiscaleConfig c;
  c.channels = s.image[0];
  c.image_size = s.image[1];
  c.scales = a.positive("scales");
  c.blocks = a.positive("blocks");
  c.hidden = a.positive("hidden");
  c.hidden_layers = a.integer("hidden_layers");
  if (c.hidden_layers < 0) FT_FAIL("{}.hidden_layers must be >= 0, got {}", a.where(), c.hidden_layers);
  c.activation = flows::parse_ode_activation(a.string("activation"), a.where() + ".activation");
  c.actnorm = a.boolean("actnorm");
  c.flow = cnf_options(a);
  auto transform = naming_the_entry(a, [&] { return flows::cnf_multiscale_transform(c, s.gen); });
  s.latent = c.latent_shape();
  return transform;
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
       },
       Placement::elementwise},
      {"realnvp", "RealNVP's multiscale image architecture (Dinh et al. 2017)",
       {{"scales", ArgType::integer, "2"},
        {"res_blocks", ArgType::integer, "8"},
        {"features", ArgType::integer, "64"},
        {"coupling", ArgType::string, "\"affine\""},
        {"batch_norm", ArgType::boolean, "true"},
        {"learn_split_prior", ArgType::boolean, "false"},
        {"learn_top", ArgType::boolean, "false"}},
       make_realnvp, Placement::image},
      {"flowpp", "Flow++'s image architecture (Ho et al. 2019), logit preprocessing included",
       {{"filters", ArgType::integer, "96"},
        {"blocks", ArgType::integer, "10"},
        {"heads", ArgType::integer, "4"},
        {"components", ArgType::integer, "32"},
        {"channel_couplings", ArgType::integers, "[0, 2]"},
        {"checkerboard_couplings", ArgType::integers, "[4, 3]"},
        // Variational dequantization (q(u | x), trained with the flow) in place of uniform noise.
        {"dequantizer", ArgType::boolean, "false"},
        {"dequantizer_couplings", ArgType::integer, "4"},
        {"dequantizer_filters", ArgType::integer, "96"},
        {"dequantizer_blocks", ArgType::integer, "2"}},
       make_flowpp, Placement::image},
      {"residual", "an invertible residual block over vectors (i-ResNet, Residual Flows)",
       joined({{{"hidden", ArgType::integer, "128"}, {"hidden_layers", ArgType::integer, "2"}}, kResidualArgs}),
       make_residual},
      {"ddnf", "a deep diffeomorphic flow: exp of a stationary velocity field (Salman et al. 2018)",
       {{"hidden", ArgType::integer, "128"},
        {"hidden_layers", ArgType::integer, "2"},
        {"coefficient", ArgType::number, "1.0"},  // each velocity layer's Lipschitz bound
        {"power_iterations", ArgType::integer, "5"},
        {"steps", ArgType::integer, "8"},
        {"terms", ArgType::integer, "6"},
        {"probe", ArgType::string, "\"gaussian\""},
        {"exact_logdet", ArgType::boolean, "false"},
        {"geodesic_weight", ArgType::number, "0.0"},
        {"consistency_weight", ArgType::number, "0.0"}},
       make_ddnf},
      {"residual_flow", "the multiscale image architecture of i-ResNet and Residual Flows",
       joined({{{"scales", ArgType::integer, "2"},
                {"blocks", ArgType::integer, "4"},
                {"hidden", ArgType::integer, "128"},
                {"actnorm", ArgType::boolean, "true"}},
               kResidualArgs}),
       make_residual_flow, Placement::image},
      {"cnf", "a continuous normalizing flow over vectors (FFJORD) with a concat-squash MLP, RNODE optional",
       joined({{{"hidden", ArgType::integer, "64"}, {"hidden_layers", ArgType::integer, "3"}}, kCnfArgs}), make_cnf},
      {"cnf_multiscale", "FFJORD's multiscale image architecture (concat-conv CNF blocks, squeezes)",
       joined({{{"scales", ArgType::integer, "2"},
                {"blocks", ArgType::integer, "1"},
                {"hidden", ArgType::integer, "64"},
                {"hidden_layers", ArgType::integer, "2"},
                {"actnorm", ArgType::boolean, "false"}},
               kCnfArgs}),
       make_cnf_multiscale, Placement::image},
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

// An image architecture needs image data, comes once, and has only elementwise
// transforms around it; vector transforms cannot follow it.
void check_placement(const TransformType& type, const std::string& where, const BuildState& state,
                     bool after_image_architecture, int64_t repeat, int64_t num_classes) {
  if (type.placement == Placement::image) {
    if (state.image.empty())
      FT_FAIL("{}: \"{}\" is an image architecture, but the model is a flow over vectors (model.features = {})", where,
              type.name, state.features);
    if (state.vector_transforms)
      FT_FAIL("{}: \"{}\" takes images whole and cannot follow vector transforms", where, type.name);
    if (after_image_architecture || repeat > 1)
      FT_FAIL("{}: \"{}\" is a whole image architecture; give it once (model.repeat = 1)", where, type.name);
    if (num_classes > 0)
      FT_FAIL("{}: \"{}\" takes no class context; set model.num_classes = 0", where, type.name);
  }
  if (type.placement == Placement::vector && after_image_architecture)
    FT_FAIL("{}: \"{}\" works on vectors and cannot follow an image architecture", where, type.name);
}

std::shared_ptr<flows::Distribution> build_base(const Config& config, int64_t features, int64_t context, Generator& gen) {
  std::string name = config.model.distribution;
  if (name == "standard_logistic") return std::make_shared<flows::StandardLogistic>(features);
  if (name == "diagonal_normal") {
    if (context == 0) return std::make_shared<flows::DiagonalNormal>(features);
    // Class-conditional: mean and log-std from the label (model.width hidden units).
    auto encoder = std::make_shared<flows::DenseNetwork>(context, 0, config.model.width, 2, 2 * features, gen);
    return std::make_shared<flows::ConditionalDiagonalNormal>(features, encoder);
  }
  return std::make_shared<flows::StandardNormal>(features);
}

}  // namespace

std::shared_ptr<flows::ComposedFlowModel> build_flow_model(const Config& config, Generator& gen) {
  flows::ComposedFlowOptions options;
  int64_t features = config.model.features;
  if (features < 0) FT_FAIL("{}: model.features must be >= 0 (0: images), got {}", config.origin(), features);
  if (features > 0) {
    options.data_shape = {features};
    options.scaling = layers::vector_scaling();
  } else {
    int64_t channels = config.model.channels, size = config.model.image_size;
    if (channels < 1 || size < 1)
      FT_FAIL("{}: model.channels and model.image_size must be >= 1, got {} and {}", config.origin(), channels, size);
    options.data_shape = {channels, size, size};
    options.flatten = true;
    options.scaling = layers::unit_scaling();
    features = channels * size * size;
  }
  options.latent_shape = {features};
  options.num_classes = config.model.num_classes;
  if (options.num_classes < 0) FT_FAIL("{}: model.num_classes must be >= 0, got {}", config.origin(), options.num_classes);
  int64_t repeat = config.model.repeat;
  if (repeat < 1) FT_FAIL("{}: model.repeat must be >= 1, got {}", config.origin(), repeat);
  const toml::array& tables = config.model.transforms;
  if (tables.empty()) FT_FAIL("{}: model.transforms is empty; a flow needs at least one [[model.transforms]]", config.origin());

  BuildState state{features, options.num_classes, 0, gen, options.flatten ? options.data_shape : Shape{}, {}, false, nullptr};
  std::vector<std::shared_ptr<flows::Transform>> transforms;
  bool image_architecture = false;
  auto build_list = [&](const char* key, const toml::array& list) {
    for (size_t i = 0; i < list.size(); ++i) {
      std::string where = fmt::format("{}: {}[{}]", config.origin(), key, i);
      const toml::table& table = *list[i].as_table();
      const TransformType& type = transform_type(table, where);
      check_placement(type, where, state, image_architecture, repeat, options.num_classes);
      if (type.placement == Placement::image) image_architecture = true;
      if (type.placement == Placement::vector) state.vector_transforms = true;
      transforms.push_back(type.make(TransformArgs(table, type, where), state));
    }
  };
  build_list("model.preprocess", config.model.preprocess);
  for (int64_t r = 0; r < repeat; ++r) build_list("model.transforms", config.model.transforms);
  if (image_architecture) {
    options.flatten = false;  // the architecture takes the images whole
    options.latent_shape = state.latent;
  }
  options.description = {{"features", config.model.features},
                         {"data_shape", options.data_shape},
                         {"distribution", config.model.distribution},
                         {"repeat", repeat},
                         {"num_classes", options.num_classes},
                         {"preprocess", config.section_json("model")["preprocess"]},
                         {"transforms", config.section_json("model")["transforms"]},
                         {"transform_count", transforms.size()},
                         {"variational_dequantization", state.dequantizer != nullptr}};
  auto base = build_base(config, features, options.num_classes, gen);
  return std::make_shared<flows::ComposedFlowModel>(std::make_shared<flows::CompositeTransform>(std::move(transforms)),
                                                    base, options, state.dequantizer);
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
