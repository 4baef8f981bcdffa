#include "launch/config_schema.h"

#include "launch/config_keys.h"

namespace ft::launch {

const std::vector<KeySpec>& config_schema() {
#define FT_SCHEMA_ENTRY(section, key, value_type, default_toml, model_kind, ...) \
  {#section "." #key, KeyType::value_type, default_toml, model_kind, {__VA_ARGS__}},
#define FT_SCHEMA_SECTION(section, struct_name, KEYS) KEYS(FT_SCHEMA_ENTRY)
  static const std::vector<KeySpec> schema = {FT_CONFIG_SECTIONS(FT_SCHEMA_SECTION)};
#undef FT_SCHEMA_SECTION
#undef FT_SCHEMA_ENTRY
  return schema;
}

const KeySpec* find_key(const std::string& key) {
  for (const KeySpec& spec : config_schema())
    if (spec.key == key) return &spec;
  return nullptr;
}

bool key_applies(const std::string& model_kind, const std::string& kind) {
  return model_kind.empty() || model_kind == kind;
}

const char* key_type_name(KeyType type) {
  switch (type) {
    case KeyType::integer: return "an integer";
    case KeyType::number: return "a number";
    case KeyType::string: return "a string";
    case KeyType::boolean: return "true or false";
    case KeyType::numbers: return "an array of numbers";
    case KeyType::tables: return "an array of tables ([[section.key]])";
  }
  return "?";
}

}  // namespace ft::launch
