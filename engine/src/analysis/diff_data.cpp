// Stage: analysis. `clause diff --data`: one policy under two versions of a data document.
// Only the requests whose key names a changed entry can decide differently; each is
// compared with the key and the attributes it looks up held at each version's values, and
// every other input free. Entries whose changes look alike to the policy (the same values,
// up to renaming strings no condition names) are compared once, as one group of keys.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "analysis/analysis.hpp"
#include "analysis/diff_compare.hpp"
#include "core/request_attributes.hpp"

namespace clause::detail {
namespace {

// The strings a policy's conditions tell apart from all others: a constant compared with,
// or a name of a set. Any other string stands for all strings the policy does not name.
std::set<std::string> named_strings(const dsl::CheckedPolicy& c) {
  std::set<std::string> out;
  for (const dsl::AttributeTest& t : c.tests) {
    if (const auto* s = std::get_if<std::string>(&t.constant)) out.insert(*s);
    if (const auto* l = std::get_if<std::vector<std::string>>(&t.constant))
      out.insert(l->begin(), l->end());
  }
  for (const dsl::AttributeInfo& a : c.attributes)
    out.insert(a.members.begin(), a.members.end());
  return out;
}

// The pinned values as the policy sees them: strings it does not name are numbered in the
// order they first appear, so that two entries alike up to such strings share one text.
class Signature {
 public:
  explicit Signature(const std::set<std::string>& named) : named_(named) {}

  void add(const std::string& s) {
    if (named_.count(s) != 0) {
      text_ += fmt::format("={}\x1f", s);
      return;
    }
    const auto [it, fresh] = fresh_.emplace(s, fresh_.size());
    text_ += fmt::format("#{}\x1f", it->second);
  }
  void add(const Value& v) {
    text_ += fmt::format("{}:", v.index());
    if (const auto* s = std::get_if<std::string>(&v)) add(*s);
    if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
      for (const std::string& s : *l)
        add(s);
    }
    if (const auto* b = std::get_if<bool>(&v)) text_ += *b ? "1" : "0";
    if (const auto* i = std::get_if<std::int64_t>(&v)) text_ += std::to_string(*i);
    if (const auto* t = std::get_if<Instant>(&v)) text_ += std::to_string(t->micros);
    text_ += ';';
  }
  void add_refusal(bool refused) { text_ += refused ? "!" : "."; }
  const std::string& text() const { return text_; }

 private:
  const std::set<std::string>& named_;
  std::map<std::string, std::size_t> fresh_;
  std::string text_;
};

// The looked-up attributes one key attribute feeds from the document, with their columns.
struct KeyGroup {
  std::uint32_t key = 0;
  std::vector<std::uint32_t> attributes, columns;
};

std::vector<KeyGroup> key_groups(const PolicyImpl& p, std::uint32_t document) {
  std::vector<KeyGroup> out;
  for (const LookupStep& step : p.lookups) {
    if (step.document != document) continue;
    auto it =
        std::find_if(out.begin(), out.end(), [&](const KeyGroup& g) { return g.key == step.key; });
    if (it == out.end()) it = out.insert(out.end(), KeyGroup{step.key, {}, {}});
    it->attributes.push_back(step.attribute);
    it->columns.push_back(step.column);
  }
  return out;
}

// The entries whose read fields differ, by key.
std::vector<DiffEntry> changed_entries(const dsl::CheckedPolicy& c, const LoadedDocument& old_doc,
                                       const LoadedDocument& new_doc) {
  std::vector<DiffEntry> out;
  std::vector<std::string> keys;
  std::set_union(old_doc.keys.begin(), old_doc.keys.end(), new_doc.keys.begin(), new_doc.keys.end(),
                 std::back_inserter(keys));
  const auto field = [&](std::size_t column) {
    return c.attributes[old_doc.columns[column]].lookup->field;
  };
  for (const std::string& key : keys) {
    const auto x = row_of(old_doc, key);
    const auto y = row_of(new_doc, key);
    std::set<std::string> fields;
    for (std::size_t col = 0; col < old_doc.columns.size(); ++col) {
      const auto column = static_cast<std::uint32_t>(col);
      if (!x || !y || old_doc.cell(*x, column) != new_doc.cell(*y, column))
        fields.insert(field(col));
    }
    if (x && y && fields.empty()) continue;
    out.push_back({key, !x ? "added" : !y ? "removed" : "changed", {fields.begin(), fields.end()}});
  }
  return out;
}

Result<Diff, std::string> diff_data_impl(const Policy& before, const Policy& after) {
  const PolicyImpl* pa = Access::impl(before);
  const PolicyImpl* pb = Access::impl(after);
  if (pa == nullptr || pb == nullptr) return Diff{};
  if (pa->source.text != pb->source.text) {
    return Failure{std::string("the two versions are not compiled from the same policy text")};
  }
  std::optional<std::uint32_t> changed;
  for (std::uint32_t d = 0; d < pa->documents.size(); ++d) {
    if (pa->documents[d].hash == pb->documents[d].hash) continue;
    if (changed) {
      return Failure{
          fmt::format("documents `{}` and `{}` both differ: compare one document at a time",
                      pa->documents[*changed].name, pa->documents[d].name)};
    }
    changed = d;
  }
  Diff out;
  if (!changed) return out;  // the same data: nothing can change
  const dsl::CheckedPolicy& c = pa->checked();
  const LoadedDocument& old_doc = pa->documents[*changed];
  const LoadedDocument& new_doc = pb->documents[*changed];
  out.document = old_doc.name;
  out.entries = changed_entries(c, old_doc, new_doc);
  const std::set<std::string> named = named_strings(c);

  for (const KeyGroup& group : key_groups(*pa, *changed)) {
    const dsl::AttributeInfo& key_info = c.attributes[group.key];
    // One comparison per signature, with the first key as its witness.
    std::map<std::string, std::pair<Pinning, std::vector<std::string>>> by_signature;
    std::vector<std::string> order;
    for (const DiffEntry& entry : out.entries) {
      // A name set's key names only its members: no request names any other.
      if (!key_info.name_set.empty() && std::find(key_info.members.begin(), key_info.members.end(),
                                                  entry.key) == key_info.members.end())
        continue;
      Pinning pin;
      pin.key = group.key;
      pin.value = entry.key;
      pin.attributes = group.attributes;
      Signature sig(named);
      sig.add(entry.key);
      for (int side = 0; side < 2; ++side) {
        const LoadedDocument& doc = side == 0 ? old_doc : new_doc;
        const auto row = row_of(doc, entry.key);
        bool required = false;
        for (std::size_t i = 0; i < group.attributes.size(); ++i) {
          pin.values[side].push_back(row ? doc.cell(*row, group.columns[i]) : Value{});
          required = required || !c.attributes[group.attributes[i]].optional;
        }
        // Evaluation refuses a request whose key names no entry, unless all it feeds is
        // optional.
        if (!row && required) {
          pin.refused[side] =
              fmt::format("{}: no entry `{}` in document `{}` ({})", key_info.path,
                          printable(entry.key, quoted_name_bytes), doc.name, doc.path);
        }
        sig.add_refusal(pin.refused[side].has_value());
        for (const Value& v : pin.values[side])
          sig.add(v);
      }
      if (pin.values[0] == pin.values[1] && pin.refused[0] == pin.refused[1])
        continue;  // the change is in fields another key attribute reads
      auto [it, fresh] = by_signature.try_emplace(sig.text());
      if (fresh) {
        it->second.first = std::move(pin);
        order.push_back(sig.text());
      }
      it->second.second.push_back(entry.key);
    }
    for (const std::string& signature : order) {
      auto& [pin, keys] = by_signature.at(signature);
      Diff one;
      compare_versions(*pa, *pb, &pin, one);
      const std::uint64_t n = keys.size();
      out.total += one.total * n;
      out.changed += one.changed * n;
      out.complete = out.complete && one.complete;
      for (DiffRegion& region : one.regions) {
        region.requests *= n;
        region.key_attribute = key_info.path;
        region.keys = keys;
        out.regions.push_back(std::move(region));
      }
    }
  }
  return out;
}

}  // namespace
}  // namespace clause::detail

namespace clause {

Result<Diff, std::string> diff_data(const Policy& before, const Policy& after) noexcept {
  try {
    return detail::diff_data_impl(before, after);
  } catch (...) {
    Diff out;
    out.complete = false;  // out of memory: the regions so far are dropped
    return out;
  }
}

}  // namespace clause
