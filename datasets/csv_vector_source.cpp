#include "datasets/csv_vector_source.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "framework/core/check.h"

namespace ft::datasets {

namespace {

std::string_view trimmed(std::string_view cell) {
  size_t first = cell.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  size_t last = cell.find_last_not_of(" \t\r");
  return cell.substr(first, last - first + 1);
}

std::vector<std::string_view> split_cells(const std::string& text) {
  std::vector<std::string_view> cells;
  std::string_view rest(text);
  while (true) {
    size_t comma = rest.find(',');
    cells.push_back(trimmed(rest.substr(0, comma)));
    if (comma == std::string_view::npos) return cells;
    rest.remove_prefix(comma + 1);
  }
}

std::string_view without_plus(std::string_view cell) {
  return !cell.empty() && cell[0] == '+' ? cell.substr(1) : cell;
}

bool parse_number(std::string_view cell, float& value) {
  cell = without_plus(cell);
  auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return error == std::errc() && end == cell.data() + cell.size() && std::isfinite(value);
}

bool parse_label(std::string_view cell, int32_t& label) {
  cell = without_plus(cell);
  int64_t value = -1;
  auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (error != std::errc() || end != cell.data() + cell.size() || value < 0 ||
      value > std::numeric_limits<int32_t>::max())
    return false;
  label = int32_t(value);
  return true;
}

bool is_blank(const std::string& text) { return trimmed(text).empty(); }

// A header names every column: none of its cells reads as a number.
bool is_header(const std::vector<std::string_view>& cells) {
  float ignored = 0;
  for (std::string_view cell : cells)
    if (parse_number(cell, ignored)) return false;
  return true;
}

}  // namespace

CsvVectorSource::CsvVectorSource(const std::vector<std::filesystem::path>& paths, std::optional<int64_t> label_column)
    : files_(paths), label_column_(label_column) {
  if (files_.empty()) FT_FAIL("no csv file given");
  {
    std::ifstream first(files_[0]);
    if (!first) FT_FAIL("{}: cannot open", files_[0].string());
    std::string text;
    while (std::getline(first, text) && is_blank(text)) {
    }
    if (is_blank(text)) FT_FAIL("{}: no rows", files_[0].string());
    columns_ = int64_t(split_cells(text).size());
  }
  if (label_column_ && (*label_column_ < 1 || *label_column_ > columns_))
    FT_FAIL("--label-column {} is outside the {} columns of {} (columns count from 1)", *label_column_, columns_,
            files_[0].string());
  features_ = columns_ - (label_column_ ? 1 : 0);
  if (features_ < 1) FT_FAIL("{}: no feature column besides the labels", files_[0].string());
  Cursor cursor;
  std::vector<float> row(static_cast<size_t>(features_));
  int32_t label = -1;
  while (next_row(cursor, row.data(), label)) ++count_;
}

nlohmann::json CsvVectorSource::description() const {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : files_) files.push_back(file.string());
  nlohmann::json description = {{"kind", "csv"}, {"files", files}};
  if (label_column_) description["label_column"] = *label_column_;
  return description;
}

void CsvVectorSource::parse_row(const std::string& text, const std::string& file, int64_t line, float* features,
                                int32_t& label) const {
  std::vector<std::string_view> cells = split_cells(text);
  if (int64_t(cells.size()) != columns_)
    FT_FAIL("{}:{}: {} columns, but the rows before have {}", file, line, cells.size(), columns_);
  label = -1;
  int64_t feature = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    auto column = int64_t(i) + 1;
    if (label_column_ && column == *label_column_) {
      if (!parse_label(cells[i], label))
        FT_FAIL("{}:{}:{}: label '{}' is not a non-negative integer", file, line, column, cells[i]);
    } else if (!parse_number(cells[i], features[feature++])) {
      FT_FAIL("{}:{}:{}: '{}' is not a finite number", file, line, column, cells[i]);
    }
  }
}

bool CsvVectorSource::next_row(Cursor& cursor, float* features, int32_t& label) const {
  std::string text;
  while (true) {
    if (!cursor.stream.is_open()) {
      if (cursor.file == files_.size()) return false;
      cursor.stream.open(files_[cursor.file]);
      if (!cursor.stream) FT_FAIL("{}: cannot open", files_[cursor.file].string());
      cursor.line = 0;
      cursor.at_file_start = true;
    }
    if (!std::getline(cursor.stream, text)) {
      if (cursor.stream.bad()) FT_FAIL("{}: read error", files_[cursor.file].string());
      cursor.stream.close();
      ++cursor.file;
      continue;
    }
    ++cursor.line;
    if (is_blank(text)) continue;
    bool first = cursor.at_file_start;
    cursor.at_file_start = false;
    if (first && is_header(split_cells(text))) {
      auto cells = int64_t(split_cells(text).size());
      if (cells != columns_)
        FT_FAIL("{}:{}: a header of {} columns, but the rows have {}", files_[cursor.file].string(), cursor.line,
                cells, columns_);
      continue;
    }
    parse_row(text, files_[cursor.file].string(), cursor.line, features, label);
    return true;
  }
}

void CsvVectorSource::read(int64_t count, VectorBlock& block) {
  prepare_vector_block(block, count, features_);
  if (!cursor_) cursor_ = std::make_unique<Cursor>();
  for (int64_t i = 0; i < count; ++i)
    if (!next_row(*cursor_, block.features.data() + i * features_, block.labels[size_t(i)]))
      FT_FAIL("{}: fewer rows than the {} counted when opened (changed since?)", files_.back().string(), count_);
}

void CsvVectorSource::skip(int64_t count) {
  VectorBlock scratch;
  for (int64_t left = count; left > 0; left -= 4096) read(std::min<int64_t>(left, 4096), scratch);
}

}  // namespace ft::datasets
