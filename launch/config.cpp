#include "launch/config.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <fstream>
#include <set>
#include <sstream>

#include "framework/core/check.h"
#include "launch/config_schema.h"

namespace ft::launch {

namespace {

toml::table parse_toml(const std::string& text, const std::string& origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    FT_FAIL("{}: line {}: {}", origin, e.source().begin.line, e.description());
  }
}

// "section.key=value": the value is parsed as TOML; bare words are strings.
void apply_override(toml::table& table, const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos) FT_FAIL("--set '{}' is not section.key=value", assignment);
  std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  size_t dot = key.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == key.size())
    FT_FAIL("--set key '{}' is not section.key", key);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    parsed.insert_or_assign("v", value);
  }
  std::string section = key.substr(0, dot), name = key.substr(dot + 1);
  if (!table.contains(section)) table.insert(section, toml::table{});
  toml::table* target = table[section].as_table();
  if (!target) FT_FAIL("--set {}: '{}' is not a section", key, section);
  target->insert_or_assign(name, *parsed.get("v"));
}

bool type_matches(const toml::node& node, KeyType type) {
  switch (type) {
    case KeyType::integer: return node.is_integer();
    case KeyType::number: return node.is_integer() || node.is_floating_point();
    case KeyType::string: return node.is_string();
    case KeyType::boolean: return node.is_boolean();
    case KeyType::numbers: {
      const toml::array* a = node.as_array();
      if (!a) return false;
      for (const toml::node& e : *a)
        if (!e.is_integer() && !e.is_floating_point()) return false;
      return true;
    }
    case KeyType::tables: {
      const toml::array* a = node.as_array();
      if (!a) return false;
      for (const toml::node& e : *a)
        if (!e.is_table()) return false;
      return true;
    }
  }
  return false;
}

nlohmann::json to_json(const toml::node& node) {
  if (auto v = node.value_exact<int64_t>()) return *v;
  if (auto d = node.value_exact<double>()) return *d;
  if (auto b = node.value_exact<bool>()) return *b;
  if (auto str = node.value_exact<std::string>()) return *str;
  if (const toml::array* a = node.as_array()) {
    nlohmann::json values = nlohmann::json::array();
    for (const toml::node& e : *a) values.push_back(to_json(e));
    return values;
  }
  nlohmann::json fields = nlohmann::json::object();
  if (const toml::table* t = node.as_table())
    for (auto& [name, value] : *t) fields[std::string(name.str())] = to_json(value);
  return fields;
}

// Checks every key present, then adds the defaults of the keys that are absent.
void validate_and_fill(toml::table& table, const std::string& origin) {
  std::string kind = "tarflow";
  if (auto k = table.at_path("model.kind").value<std::string>()) kind = *k;
  for (auto& [section_name, section_node] : table) {
    const toml::table* section = section_node.as_table();
    if (!section) FT_FAIL("{}: '{}' must be a [section]", origin, std::string(section_name.str()));
    for (auto& [name, node] : *section) {
      std::string key = fmt::format("{}.{}", section_name.str(), name.str());
      const KeySpec* spec = find_key(key);
      if (!spec) FT_FAIL("{}: unknown config key '{}'", origin, key);
      if (!spec->model_kind.empty() && spec->model_kind != kind)
        FT_FAIL("{}: config key '{}' belongs to {} models, not {}", origin, key, spec->model_kind, kind);
      if (!type_matches(node, spec->type))
        FT_FAIL("{}: config key '{}' must be {}", origin, key, key_type_name(spec->type));
      if (!spec->choices.empty()) {
        std::string v = *node.value<std::string>();
        std::set<std::string> allowed(spec->choices.begin(), spec->choices.end());
        if (!allowed.count(v))
          FT_FAIL("{}: config key '{}' is \"{}\"; expected one of: {}", origin, key, v,
                  fmt::join(spec->choices, ", "));
      }
    }
  }
  for (const KeySpec& spec : config_schema()) {
    if (!spec.model_kind.empty() && spec.model_kind != kind) continue;
    if (table.at_path(spec.key)) continue;
    size_t dot = spec.key.find('.');
    std::string section = spec.key.substr(0, dot), name = spec.key.substr(dot + 1);
    if (!table.contains(section)) table.insert(section, toml::table{});
    toml::table parsed = toml::parse("v = " + spec.default_toml);
    table[section].as_table()->insert(name, *parsed.get("v"));
  }
}

// The value of key in the validated table; keys of another model kind are absent
// there and take their defaults.
const toml::node& node_or_default(const toml::table& table, const std::string& key, toml::table& defaults) {
  if (const toml::node* node = table.at_path(key).node()) return *node;
  const KeySpec* spec = find_key(key);
  FT_CHECK(spec != nullptr, "config key '{}' is not in the schema", key);
  defaults = toml::parse("v = " + spec->default_toml);
  return *defaults.get("v");
}

void read_value(const toml::node& node, int64_t& out) { out = *node.value<int64_t>(); }
void read_value(const toml::node& node, double& out) { out = *node.value<double>(); }
void read_value(const toml::node& node, std::string& out) { out = *node.value<std::string>(); }
void read_value(const toml::node& node, bool& out) { out = *node.value<bool>(); }
void read_value(const toml::node& node, toml::array& out) { out = *node.as_array(); }
void read_value(const toml::node& node, std::vector<double>& out) {
  out.clear();
  for (const toml::node& e : *node.as_array()) out.push_back(*e.value<double>());
}

template <class T>
nlohmann::json json_of(const T& value) {
  return value;
}
nlohmann::json json_of(const toml::array& value) { return to_json(value); }

template <class T>
void insert_toml(toml::table& section, const char* key, const T& value) {
  section.insert_or_assign(key, value);
}
void insert_toml(toml::table& section, const char* key, const std::vector<double>& values) {
  toml::array array;
  for (double v : values) array.push_back(v);
  section.insert_or_assign(key, std::move(array));
}

}  // namespace

Config Config::parse(const std::string& text, const std::string& origin, const std::vector<std::string>& overrides) {
  toml::table table = parse_toml(text, origin);
  for (const std::string& o : overrides) apply_override(table, o);
  validate_and_fill(table, origin);
  Config config;
  config.origin_ = origin;
  toml::table defaults;
#define FT_READ_KEY(section, key, ...) \
  read_value(node_or_default(table, #section "." #key, defaults), config.section.key);
#define FT_READ_SECTION(section, struct_name, KEYS) KEYS(FT_READ_KEY)
  FT_CONFIG_SECTIONS(FT_READ_SECTION)
#undef FT_READ_SECTION
#undef FT_READ_KEY
  return config;
}

Config Config::load(const std::string& path, const std::vector<std::string>& overrides) {
  std::string text;
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) FT_FAIL("cannot read config file '{}'", path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  return parse(text, path.empty() ? std::string("<defaults>") : path, overrides);
}

nlohmann::json Config::section_json(const std::string& section) const {
  nlohmann::json out = nlohmann::json::object();
#define FT_JSON_KEY(s, key, value_type, default_toml, model_kind, ...) \
  if (section == #s && key_applies(model_kind, model.kind)) out[#key] = json_of(s.key);
#define FT_JSON_SECTION(s, struct_name, KEYS) KEYS(FT_JSON_KEY)
  FT_CONFIG_SECTIONS(FT_JSON_SECTION)
#undef FT_JSON_SECTION
#undef FT_JSON_KEY
  return out;
}

nlohmann::json Config::to_json() const {
  nlohmann::json out = nlohmann::json::object();
#define FT_JSON_SECTION(section, struct_name, KEYS) out[#section] = section_json(#section);
  FT_CONFIG_SECTIONS(FT_JSON_SECTION)
#undef FT_JSON_SECTION
  return out;
}

std::string Config::to_toml() const {
  toml::table table;
#define FT_TOML_KEY(s, key, value_type, default_toml, model_kind, ...) \
  if (key_applies(model_kind, model.kind)) insert_toml(*table[#s].as_table(), #key, s.key);
#define FT_TOML_SECTION(s, struct_name, KEYS) \
  table.insert(#s, toml::table{});            \
  KEYS(FT_TOML_KEY)
  FT_CONFIG_SECTIONS(FT_TOML_SECTION)
#undef FT_TOML_SECTION
#undef FT_TOML_KEY
  std::stringstream out;
  out << toml::toml_formatter(table);
  return out.str() + "\n";
}

}  // namespace ft::launch
