// Every configuration key flowtrain knows (the table in config_keys.h): type,
// default, and which model kinds use it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace ft::launch {

enum class KeyType { integer, number, string, boolean, numbers, tables };  // tables: [[section.key]] arrays

// The C++ type a key of each KeyType is read into.
template <KeyType T> struct KeyValue;
template <> struct KeyValue<KeyType::integer> { using type = int64_t; };
template <> struct KeyValue<KeyType::number> { using type = double; };
template <> struct KeyValue<KeyType::string> { using type = std::string; };
template <> struct KeyValue<KeyType::boolean> { using type = bool; };
template <> struct KeyValue<KeyType::numbers> { using type = std::vector<double>; };
template <> struct KeyValue<KeyType::tables> { using type = toml::array; };

struct KeySpec {
  std::string key;      // "section.key"
  KeyType type;
  std::string default_toml;  // the default as a TOML value
  std::string model_kind;    // "" = every kind; else "glow", "tarflow" or "flow"
  std::vector<std::string> choices;  // allowed strings, when a fixed set
};

const std::vector<KeySpec>& config_schema();
const KeySpec* find_key(const std::string& key);
const char* key_type_name(KeyType type);
// Whether a key of model_kind ("" for every kind) is part of a config of `kind`.
bool key_applies(const std::string& model_kind, const std::string& kind);

}  // namespace ft::launch
