// The run configuration: a TOML file with sections [model], [data], [train],
// [optim], [checkpoint], [log], overridden by --set section.key=value. It is parsed
// once, into typed sections generated from the one key table (config_keys.h):
// config.model.width, config.optim.betas, ... Every key has a type and a default;
// an unknown key, a wrong type or a key of the other model kind is an error naming
// the key. Keys of other model kinds hold their defaults and are in no output.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "launch/config_keys.h"
#include "launch/config_schema.h"

namespace ft::launch {

#define FT_CONFIG_FIELD(section, key, value_type, ...) KeyValue<KeyType::value_type>::type key{};
#define FT_CONFIG_STRUCT(section, struct_name, KEYS) \
  struct struct_name {                                \
    KEYS(FT_CONFIG_FIELD)                             \
  };
FT_CONFIG_SECTIONS(FT_CONFIG_STRUCT)
#undef FT_CONFIG_STRUCT
#undef FT_CONFIG_FIELD

class Config {
 public:
#define FT_CONFIG_MEMBER(section, struct_name, KEYS) struct_name section;
  FT_CONFIG_SECTIONS(FT_CONFIG_MEMBER)
#undef FT_CONFIG_MEMBER

  // Loads path (may be empty: defaults only), applies overrides "section.key=value",
  // checks every key against the schema and fills in defaults.
  static Config load(const std::string& path, const std::vector<std::string>& overrides);
  // From TOML text (tests, resolved configs of runs).
  static Config parse(const std::string& text, const std::string& origin,
                      const std::vector<std::string>& overrides = {});

  // The keys of one section that apply to model.kind, as JSON: what checkpoints
  // record and the resume check compares.
  nlohmann::json section_json(const std::string& section) const;
  // Every section, as JSON (info's summary).
  nlohmann::json to_json() const;
  // The resolved configuration as TOML (every key of the kind, defaults included).
  std::string to_toml() const;
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

}  // namespace ft::launch
