// Stage: compile (documents) and resolve (lookups). The JSON documents a policy declares:
// read once when it is compiled, every entry checked against the types of the attributes
// that read it; a request's looked-up attributes are then filled from them.
#include <fmt/format.h>

#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/policy_impl.hpp"
#include "core/request_attributes.hpp"
#include "core/sha256.hpp"
#include "core/tracked_iterator.hpp"

namespace clause::detail {
namespace {

using json = nlohmann::json;

// A field's value as the document writes it, before it is read as an attribute's type.
struct RawValue {
  enum class Kind : std::uint8_t { null, boolean, integer, number, string, list, container };
  Kind kind = Kind::null;
  bool boolean = false;
  std::int64_t integer = 0;
  std::string text;                // a string, or a number as written
  std::vector<std::string> items;  // a list of strings
  std::uint32_t at = 0;            // where the value starts
};

// One entry: its key, and the fields some attribute reads.
struct RawEntry {
  std::string key;
  std::uint32_t key_at = 0;
  std::uint32_t key_end = 0;
  std::uint32_t at = 0;
  std::vector<std::optional<RawValue>> fields;  // by wanted field
  std::optional<RawValue> key_value;            // `keyed by`: the key field's value
};

// What a value is, for a message: "a string", "a number", ...
std::string_view raw_noun(const RawValue& v) {
  switch (v.kind) {
    case RawValue::Kind::null:
      return "null";
    case RawValue::Kind::boolean:
      return "a boolean";
    case RawValue::Kind::integer:
      return "an integer";
    case RawValue::Kind::number:
      return "a number that is not a 64-bit integer";
    case RawValue::Kind::string:
      return "a string";
    case RawValue::Kind::list:
      return "a list of strings";
    case RawValue::Kind::container:
      return "an object, or a list holding more than strings";
  }
  return "a value";
}

// The first mistake found in a document: where and what.
struct Mistake {
  Span span;
  std::string message;
  std::string help;
  std::optional<Note> note;
};

// Reads a document's entries with nlohmann's SAX reader, keeping where each starts.
class EntryReader final : public nlohmann::json_sax<json> {
 public:
  EntryReader(std::string_view text, bool keyed, std::string key_field,
              std::vector<std::string> wanted, std::size_t max_depth)
      : text_(text),
        reached_(text.data()),
        keyed_(keyed),
        key_field_(std::move(key_field)),
        wanted_(std::move(wanted)),
        max_depth_(max_depth) {}

  const char** reached() { return &reached_; }
  std::vector<RawEntry>& entries() { return entries_; }
  std::optional<Mistake>& mistake() { return mistake_; }

  bool null() override { return scalar(RawValue{}); }
  bool boolean(bool b) override {
    RawValue v;
    v.kind = RawValue::Kind::boolean;
    v.boolean = b;
    return scalar(std::move(v));
  }
  bool number_integer(number_integer_t n) override {
    RawValue v;
    v.kind = RawValue::Kind::integer;
    v.integer = n;
    v.text = std::to_string(n);
    return scalar(std::move(v));
  }
  bool number_unsigned(number_unsigned_t n) override {
    RawValue v;
    v.kind = n <= static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max())
                 ? RawValue::Kind::integer
                 : RawValue::Kind::number;
    v.integer = static_cast<std::int64_t>(n);
    v.text = std::to_string(n);
    return scalar(std::move(v));
  }
  bool number_float(number_float_t /*n*/, const string_t& s) override {
    RawValue v;
    v.kind = RawValue::Kind::number;
    v.text = s;
    return scalar(std::move(v));
  }
  bool string(string_t& s) override {
    RawValue v;
    v.kind = RawValue::Kind::string;
    v.text = std::move(s);
    return scalar(std::move(v));
  }
  bool binary(binary_t& /*b*/) override { return scalar(RawValue{}); }

  bool start_object(std::size_t /*size*/) override { return open(true); }
  bool start_array(std::size_t /*size*/) override { return open(false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    const auto end = offset();
    if (depth_ == 1) {  // an entry's key, in a document of entries by key
      entry_ = RawEntry{};
      entry_.key = std::move(k);
      entry_.key_end = end;
      entry_.key_at = string_start(end);
      entry_.fields.assign(wanted_.size(), std::nullopt);
    } else if (depth_ == 2) {  // a field of an entry
      field_ = -1;
      key_field_next_ = keyed_ && k == key_field_;
      for (std::size_t i = 0; i < wanted_.size(); ++i) {
        if (wanted_[i] == k) field_ = static_cast<int>(i);
      }
      value_at_ = value_start(end);
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& e) override {
    // "[json.exception.parse_error.101] parse error at line 4, column 14: syntax error..."
    std::string what = e.what();
    if (const auto colon = what.find(": "); colon != std::string::npos)
      what = what.substr(colon + 2);
    // The place is just past the token that broke the text: point at its start.
    const std::size_t token = std::max<std::size_t>(last_token.size(), 1);
    const auto at = static_cast<std::uint32_t>(position > token ? position - token : 0);
    const auto end = static_cast<std::uint32_t>(std::min(position, text_.size()));
    fail(Span{at, std::max(end, at + 1)}, "invalid JSON: " + what,
         "a document is JSON text: check the brackets, commas and quotes here");
    return false;
  }

 private:
  std::uint32_t offset() const { return static_cast<std::uint32_t>(reached_ - text_.data()); }

  // Where the string that ends just before `end` starts: the last quote not escaped.
  std::uint32_t string_start(std::uint32_t end) const {
    std::uint32_t i = end > 1 ? end - 2 : 0;
    while (i > 0) {
      if (text_[i] == '"') {
        std::uint32_t slashes = 0;
        while (i > slashes && text_[i - 1 - slashes] == '\\')
          ++slashes;
        if (slashes % 2 == 0) return i;
      }
      --i;
    }
    return i;
  }

  // Where the value after a key that ends at `end` starts: past `:` and blanks.
  std::uint32_t value_start(std::uint32_t end) const {
    std::uint32_t i = end;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' ||
                                text_[i] == '\r' || text_[i] == ':'))
      ++i;
    return i;
  }

  bool fail(Span span, std::string message, std::string help) {
    if (!mistake_) mistake_ = Mistake{span, std::move(message), std::move(help), std::nullopt};
    return false;
  }

  std::string_view shape() const {
    return keyed_ ? "an array of entry objects" : "an object of entries by key";
  }

  bool open(bool object) {
    const std::uint32_t at = offset() > 0 ? offset() - 1 : 0;
    if (depth_ + 1 > max_depth_) {
      return fail(
          Span{at, at + 1}, fmt::format("the document is nested deeper than {} levels", max_depth_),
          "nest the entries' fields less deeply, or raise the limit (`--max-document-depth`)");
    }
    if (depth_ == 0 && object == keyed_) {
      return fail(Span{at, at + 1}, fmt::format("the document should be {}", shape()),
                  keyed_ ? "a document `keyed by` a field is an array: [{...}, {...}]"
                         : "write `{\"KEY\": {...}, ...}`, or declare the document `keyed by` "
                           "the field that holds each entry's key");
    }
    if (depth_ == 1) {
      if (!object) return entry_not_object(at);
      if (keyed_) {
        entry_ = RawEntry{};
        entry_.fields.assign(wanted_.size(), std::nullopt);
      }
      entry_.at = at;
    } else if (depth_ == 2 && (field_ >= 0 || key_field_next_)) {
      RawValue v;
      v.kind = object ? RawValue::Kind::container : RawValue::Kind::list;
      v.at = value_at_;
      list_ = std::move(v);
    } else if (depth_ == 3 && list_) {
      list_->kind = RawValue::Kind::container;
    }
    ++depth_;
    return true;
  }

  bool close() {
    --depth_;
    if (depth_ == 2 && list_) {
      store(std::move(*list_));
      list_.reset();
    } else if (depth_ == 1) {
      entries_.push_back(std::move(entry_));
      entry_ = RawEntry{};
    }
    return true;
  }

  bool entry_not_object(std::uint32_t at) {
    return fail(Span{at, at + 1}, "an entry of the document is not an object",
                keyed_ ? "each element of the array is an object such as {\"id\": \"...\", ...}"
                       : "each key maps to an object such as {\"roles\": [...]}");
  }

  bool scalar(RawValue v) {
    if (depth_ == 0) {
      const std::uint32_t at = offset() > 0 ? offset() - 1 : 0;
      return fail(Span{at, at + 1}, fmt::format("the document should be {}", shape()),
                  keyed_ ? "write [{...}, {...}]" : "write {\"KEY\": {...}, ...}");
    }
    if (depth_ == 1)
      return entry_not_object(keyed_ ? (offset() > 0 ? offset() - 1 : 0) : value_at_after_key());
    if (depth_ == 2) {
      v.at = value_at_;
      store(std::move(v));
    } else if (depth_ == 3 && list_) {
      if (v.kind == RawValue::Kind::string) {
        list_->items.push_back(std::move(v.text));
      } else {
        list_->kind = RawValue::Kind::container;
      }
    }
    return true;
  }

  std::uint32_t value_at_after_key() const { return value_start(entry_.key_end); }

  void store(RawValue v) {
    if (key_field_next_) entry_.key_value = v;
    if (field_ >= 0) entry_.fields[static_cast<std::size_t>(field_)] = std::move(v);
  }

  std::string_view text_;
  const char* reached_;
  bool keyed_;
  std::string key_field_;
  std::vector<std::string> wanted_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  RawEntry entry_;
  int field_ = -1;
  bool key_field_next_ = false;
  std::uint32_t value_at_ = 0;
  std::optional<RawValue> list_;
  std::vector<RawEntry> entries_;
  std::optional<Mistake> mistake_;
};

// A value of the document read as an attribute's type, or why it cannot be.
Result<Value, std::string> read_value(const dsl::AttributeInfo& a, const RawValue& raw) {
  const auto wrong = [&] {
    return fmt::format("is {}; `{}` is {}", raw_noun(raw), a.path, type_noun(a.type));
  };
  Value v;
  switch (a.type) {
    case AttrType::string:
      if (raw.kind != RawValue::Kind::string) return Failure{wrong()};
      if (raw.text.empty())
        return Failure{fmt::format("is empty; `{}` is a non-empty string", a.path)};
      v = raw.text;
      break;
    case AttrType::integer:
      if (raw.kind != RawValue::Kind::integer) return Failure{wrong()};
      v = raw.integer;
      break;
    case AttrType::boolean:
      if (raw.kind != RawValue::Kind::boolean) return Failure{wrong()};
      v = raw.boolean;
      break;
    case AttrType::date:
    case AttrType::time: {
      if (raw.kind != RawValue::Kind::string) return Failure{wrong()};
      auto at = read_instant(a.type, raw.text);
      if (!at) return Failure{at.error()};
      v = *at;
      break;
    }
    case AttrType::string_list:
      if (raw.kind != RawValue::Kind::list) return Failure{wrong()};
      v = raw.items;
      break;
  }
  if (auto why = refused_value(a, v)) return Failure{std::move(*why)};
  return v;
}

// The default reader: the file at `path` in the policy file's folder, within the limits.
DocumentReader reader_next_to(const SourceFile& source, const Limits& limits) {
  const std::filesystem::path folder = std::filesystem::path(source.name).parent_path();
  const std::size_t max_bytes = limits.max_document_bytes;
  return [folder, max_bytes](std::string_view path) {
    const std::string file = (folder / std::filesystem::path(path)).string();
    return read_source(file, ReadOptions{.max_bytes = max_bytes,
                                         .regular_file_only = true,
                                         .timeout = std::chrono::seconds(10),
                                         .kind = "document",
                                         .limit_option = "--max-document-bytes"});
  };
}

class DocumentLoader {
 public:
  DocumentLoader(PolicyImpl& p, const CompileOptions& options) : p_(p), options_(options) {}

  std::vector<Diagnostic> run() {
    const dsl::CheckedPolicy& c = p_.vocabulary();
    if (c.documents.empty()) return {};
    if (c.documents.size() > options_.limits.max_documents) {
      const auto& d = c.documents[options_.limits.max_documents];
      policy_error(d.span,
                   fmt::format("the policy declares {} documents, more than the limit of {}",
                               c.documents.size(), options_.limits.max_documents))
          .help = "join documents into fewer files, or raise the limit (`--max-documents`)";
      return std::move(errors_);
    }
    const DocumentReader read =
        options_.read_document ? *options_.read_document : reader_next_to(p_.source, p_.bounds);
    std::string combined = p_.hash;
    for (std::uint32_t i = 0; i < c.documents.size(); ++i) {
      load(i, read);
      if (!errors_.empty()) return std::move(errors_);
      combined += fmt::format("\n{}\n{}", p_.documents.back().name, p_.documents.back().hash);
    }
    // The views point into `documents`, which no longer moves.
    for (const LoadedDocument& d : p_.documents)
      p_.document_infos.push_back({d.name, d.path, d.hash, d.keys.size()});
    p_.hash = "sha256:" + sha256_hex(combined);
    return {};
  }

 private:
  Diagnostic& policy_error(Span span, std::string message) {
    errors_.push_back(Diagnostic{Severity::error, "E256", std::move(message), span, {}, {}});
    return errors_.back();
  }

  Diagnostic& document_error(const std::shared_ptr<const SourceFile>& file, Span span,
                             std::string message, std::string help) {
    Diagnostic d{Severity::error, "E257", std::move(message), span, {}, std::move(help)};
    d.file = file;
    d.subject = current_;  // the document, for tools that show it in the policy
    errors_.push_back(std::move(d));
    return errors_.back();
  }

  void load(std::uint32_t index, const DocumentReader& read) {
    const dsl::CheckedPolicy& c = p_.vocabulary();
    const dsl::DeclaredDocument& declared = c.documents[index];
    current_ = declared.name;
    auto source = read(declared.path);
    if (!source) {
      policy_error(declared.path_span,
                   fmt::format("cannot read the document `{}`: {}", declared.name, source.error()))
          .help = "documents are read from the policy file's folder";
      return;
    }
    if (source->text.size() > options_.limits.max_document_bytes) {
      policy_error(
          declared.path_span,
          fmt::format("the document `{}` is {} bytes, more than the limit of {}", declared.name,
                      source->text.size(), options_.limits.max_document_bytes))
          .help =
          "keep in the document only what the policy reads, or raise the limit "
          "(`--max-document-bytes`)";
      return;
    }
    const auto file = std::make_shared<const SourceFile>(std::move(*source));
    LoadedDocument doc;
    doc.name = declared.name;
    doc.path = declared.path;
    doc.hash = "sha256:" + sha256_hex(file->text);
    std::vector<std::string> wanted;  // the fields read, one per column
    for (std::uint32_t a = 0; a < c.attributes.size(); ++a) {
      const auto& lookup = c.attributes[a].lookup;
      if (!lookup || lookup->document != index) continue;
      p_.lookups.push_back({a, lookup->key, index, static_cast<std::uint32_t>(doc.columns.size())});
      doc.columns.push_back(a);
      wanted.push_back(lookup->field);
    }
    EntryReader reader(file->text, declared.key_field.has_value(), declared.key_field.value_or(""),
                       wanted, options_.limits.max_document_depth);
    const char* const begin = file->text.data();
    const bool ok = json::sax_parse(TrackedIterator(begin, reader.reached()),
                                    TrackedIterator(begin + file->text.size(), nullptr), &reader);
    if (!ok || reader.mistake()) {
      if (auto& m = reader.mistake()) {
        document_error(file, m->span, m->message, m->help);
      } else {
        document_error(file, Span{}, "invalid JSON", "a document is JSON text");
      }
      return;
    }
    std::vector<RawEntry>& entries = reader.entries();
    if (!key_entries(file, declared, entries)) return;
    std::vector<std::size_t> order(entries.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      return entries[x].key != entries[y].key ? entries[x].key < entries[y].key : x < y;
    });
    for (std::size_t i = 1; i < order.size(); ++i) {
      const RawEntry& first = entries[order[i - 1]];
      const RawEntry& again = entries[order[i]];
      if (first.key != again.key) continue;
      Diagnostic& d = document_error(
          file, Span{again.key_at, again.key_end},
          fmt::format("the key `{}` is in the document twice", printable(again.key, 64)),
          "give each entry its own key");
      d.notes.push_back({Span{first.key_at, first.key_end}, "first here"});
      return;
    }
    doc.keys.reserve(entries.size());
    doc.values.reserve(entries.size() * doc.columns.size());
    for (const std::size_t e : order) {
      const RawEntry& entry = entries[e];
      doc.keys.push_back(entry.key);
      for (std::size_t col = 0; col < doc.columns.size(); ++col) {
        const dsl::AttributeInfo& a = c.attributes[doc.columns[col]];
        const std::optional<RawValue>& raw = entry.fields[col];
        if (!raw || raw->kind == RawValue::Kind::null) {
          if (!a.optional) {
            document_error(file, Span{entry.at, entry.at + 1},
                           fmt::format("the entry `{}` has no `{}`, which `{}` reads",
                                       printable(entry.key, 64), wanted[col], a.path),
                           fmt::format("give every entry a `{}`, or declare `{}` optional",
                                       wanted[col], a.path));
            return;
          }
          doc.values.emplace_back();
          continue;
        }
        auto value = read_value(a, *raw);
        if (!value) {
          document_error(file, Span{raw->at, raw->at + 1},
                         fmt::format("`{}` of the entry `{}` {}", wanted[col],
                                     printable(entry.key, 64), value.error()),
                         fmt::format("write {} here", type_noun(a.type)));
          return;
        }
        doc.values.push_back(std::move(*value));
      }
    }
    p_.documents.push_back(std::move(doc));
  }

  // In a document `keyed by` a field, each entry's key is that field: a string, or an
  // integer read as its decimal text.
  bool key_entries(const std::shared_ptr<const SourceFile>& file,
                   const dsl::DeclaredDocument& declared, std::vector<RawEntry>& entries) {
    if (!declared.key_field) return true;
    for (RawEntry& e : entries) {
      if (!e.key_value) {
        document_error(
            file, Span{e.at, e.at + 1},
            fmt::format("an entry has no `{}`, the field that holds its key", *declared.key_field),
            fmt::format("give every entry its key in `{}`", *declared.key_field));
        return false;
      }
      const RawValue& k = *e.key_value;
      if (k.kind != RawValue::Kind::string && k.kind != RawValue::Kind::integer) {
        document_error(file, Span{k.at, k.at + 1},
                       fmt::format("the key `{}` is {}; a key is a string or an integer",
                                   *declared.key_field, raw_noun(k)),
                       "write the key as a string or an integer");
        return false;
      }
      e.key = k.text;
      e.key_at = k.at;
      e.key_end = k.at + 1;
    }
    return true;
  }

  PolicyImpl& p_;
  const CompileOptions& options_;
  std::vector<Diagnostic> errors_;
  std::string current_;  // the document being read
};

// The value a lookup step reads from the entry of `key`; null when there is no entry.
const Value* entry_value(const LoadedDocument& doc, const LookupStep& step, std::string_view key) {
  const auto row = row_of(doc, key);
  return row ? &doc.cell(*row, step.column) : nullptr;
}

// A key that names no entry: the request fails closed. `field` is the key's, which holds
// the value that found nothing.
RequestError no_entry(std::string field, std::string_view key, const LoadedDocument& doc) {
  return RequestError{std::move(field), std::string(key),
                      fmt::format("no entry `{}` in document `{}` ({})",
                                  printable(key, quoted_name_bytes), doc.name, doc.path),
                      std::nullopt};
}

}  // namespace

// The row of `key` in a document. A search goes through a document's keys in order, and
// reads a row once per attribute: the last row found and the one after it are tried
// before a binary search, which over a large document costs a cache miss a step.
std::optional<std::size_t> row_of(const LoadedDocument& doc, std::string_view key) {
  thread_local const LoadedDocument* last_document = nullptr;
  thread_local std::size_t last_row = 0;
  if (last_document == &doc) {
    // Compared, not trusted: a document at a reused address is only a missed hint.
    for (std::size_t row = last_row; row < last_row + 2 && row < doc.keys.size(); ++row) {
      if (doc.keys[row] == key) {
        last_row = row;
        return row;
      }
    }
  }
  const auto it = std::lower_bound(doc.keys.begin(), doc.keys.end(), key);
  if (it == doc.keys.end() || *it != key) return std::nullopt;
  last_document = &doc;
  last_row = static_cast<std::size_t>(it - doc.keys.begin());
  return last_row;
}

std::vector<Diagnostic> load_documents(PolicyImpl& policy, const CompileOptions& options) {
  return DocumentLoader(policy, options).run();
}

std::optional<RequestError> apply_lookups(const PolicyImpl& p, ResolvedRequest& r,
                                          const std::function<bool(const std::string&)>& open) {
  const dsl::CheckedPolicy& c = p.vocabulary();
  std::vector<Value>& values = Access::attributes(r);
  for (const LookupStep& step : p.lookups) {
    const dsl::AttributeInfo& a = c.attributes[step.attribute];
    const dsl::AttributeInfo& key = c.attributes[step.key];
    const LoadedDocument& doc = p.documents[step.document];
    Value& value = values[step.attribute];
    // A plan's open attribute keeps its stand-in; one whose key is open is open too.
    if (open && (open(a.path) || open(key.path))) continue;
    if (!std::holds_alternative<std::monostate>(value)) {
      return RequestError{a.path, "",
                          fmt::format("`{}` is read from document `{}`; a request cannot give it",
                                      a.path, doc.name),
                          std::nullopt};
    }
    const auto* k = std::get_if<std::string>(&values[step.key]);
    // Errors about the key name the key's field: it is what the request got wrong.
    if (k == nullptr) {
      if (a.optional) continue;
      return RequestError{key.path, "",
                          fmt::format("`{}` is read from document `{}` by `{}`, which the request "
                                      "does not give",
                                      a.path, doc.name, key.path),
                          std::nullopt};
    }
    const Value* found = entry_value(doc, step, *k);
    if (found == nullptr) {
      if (a.optional) continue;
      return no_entry(key.path, *k, doc);
    }
    value = *found;
  }
  return std::nullopt;
}

}  // namespace clause::detail

namespace clause {

std::optional<RequestError> Policy::rekey(ResolvedRequest& request, std::string_view field,
                                          std::string_view key) const {
  using detail::Access;
  const auto fail = [&](std::string name, std::string message) {
    Access::serial(request) = 0;  // fail closed: what is left of it is not to be decided
    return RequestError{std::string(field), std::move(name), std::move(message), std::nullopt};
  };
  if (!impl_ || Access::serial(request) != impl_->serial) {
    return fail("", "the request was not resolved by this policy");
  }
  const detail::PolicyImpl& p = *impl_;
  const dsl::CheckedPolicy& c = p.vocabulary();
  std::vector<Value>& values = Access::attributes(request);
  bool keyed = false;
  // A key is never itself looked up (E255): one pass over the lookups it drives is enough.
  for (const detail::LookupStep& step : p.lookups) {
    if (c.attributes[step.key].path != field) continue;
    if (!keyed) {
      keyed = true;
      if (auto* given = std::get_if<std::string>(&values[step.key])) {
        given->assign(key);  // keeps its buffer: no allocation per key
      } else {
        values[step.key] = std::string(key);
      }
    }
    const detail::LoadedDocument& doc = p.documents[step.document];
    Value& value = values[step.attribute];
    const Value* found = detail::entry_value(doc, step, key);
    if (found == nullptr) {
      if (c.attributes[step.attribute].optional) {
        value = std::monostate{};
        continue;
      }
      Access::serial(request) = 0;
      return detail::no_entry(std::string(field), key, doc);
    }
    value = *found;
  }
  if (!keyed) return fail("", fmt::format("no document is keyed by `{}`", field));
  // The tests' answers follow the new values.
  std::vector<std::uint64_t>& atoms = Access::atoms(request);
  for (std::uint32_t i = 0; i < c.tests.size(); ++i) {
    const std::uint32_t bit = p.layout.test(i);
    atoms[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
  }
  detail::answer_tests(p, request);
  return std::nullopt;
}

}  // namespace clause
