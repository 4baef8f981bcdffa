// The run configuration: a TOML file with sections [model], [data], [train],
// [optim], [checkpoint], [log], overridden by --set section.key=value. Every key
// has a type and a default in the schema (config_schema.cpp); an unknown key, a
// wrong type or a key of the other model kind is an error naming the key.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

namespace ft::launch {

class Config {
 public:
  // Loads path (may be empty: defaults only), applies overrides "section.key=value",
  // checks every key against the schema and fills in defaults.
  static Config load(const std::string& path, const std::vector<std::string>& overrides);
  // From TOML text (tests, resolved configs of runs).
  static Config parse(const std::string& text, const std::string& origin,
                      const std::vector<std::string>& overrides = {});

  int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  std::string string(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::vector<double> numbers(const std::string& key) const;
  const toml::array& tables(const std::string& key) const;  // KeyType::tables: an array of tables

  std::string model_kind() const { return string("model.kind"); }
  // The keys of one section and their values, as JSON (checkpoints record [model]).
  nlohmann::json section_json(const std::string& section) const;
  // The resolved configuration as TOML (every key, defaults included).
  std::string to_toml() const;
  const std::string& origin() const { return origin_; }

 private:
  toml::table table_;
  std::string origin_;
};

}  // namespace ft::launch
