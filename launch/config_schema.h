// Every configuration key flowtrain knows: type, default, and which model kinds use it.
#pragma once
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace ft::launch {

enum class KeyType { integer, number, string, boolean, numbers, tables };  // tables: [[section.key]] arrays

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

}  // namespace ft::launch
