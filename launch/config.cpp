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

const toml::node& node_at(const toml::table& table, const std::string& key) {
  toml::node_view<const toml::node> view = table.at_path(key);
  FT_CHECK(view.node() != nullptr, "config key '{}' is not in the schema", key);
  return *view.node();
}

}  // namespace

Config Config::parse(const std::string& text, const std::string& origin, const std::vector<std::string>& overrides) {
  Config config;
  config.origin_ = origin;
  config.table_ = parse_toml(text, origin);
  for (const std::string& o : overrides) apply_override(config.table_, o);
  validate_and_fill(config.table_, origin);
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

int64_t Config::integer(const std::string& key) const { return *node_at(table_, key).value<int64_t>(); }

double Config::number(const std::string& key) const { return *node_at(table_, key).value<double>(); }

std::string Config::string(const std::string& key) const { return *node_at(table_, key).value<std::string>(); }

bool Config::boolean(const std::string& key) const { return *node_at(table_, key).value<bool>(); }

const toml::array& Config::tables(const std::string& key) const { return *node_at(table_, key).as_array(); }

std::vector<double> Config::numbers(const std::string& key) const {
  std::vector<double> out;
  for (const toml::node& e : *node_at(table_, key).as_array()) out.push_back(*e.value<double>());
  return out;
}

nlohmann::json Config::section_json(const std::string& section) const {
  nlohmann::json out = nlohmann::json::object();
  const toml::table* table = table_[section].as_table();
  if (!table) return out;
  for (auto& [name, node] : *table) {
    nlohmann::json value = to_json(node);
    // Arrays of numbers read as numbers (optim.betas = [0.9, 1] is two doubles).
    if (value.is_array() && !node.as_array()->empty() && !node.as_array()->front().is_table())
      for (auto& e : value) e = e.get<double>();
    out[std::string(name.str())] = value;
  }
  return out;
}

std::string Config::to_toml() const {
  std::stringstream out;
  out << toml::toml_formatter(table_);
  return out.str() + "\n";
}

}  // namespace ft::launch
