// Stage: resolve (JSON input). An iterator over a character buffer for nlohmann's SAX
// reader that tells how far the reader has got, so that readers can place what they find.
#pragma once

#include <cstddef>
#include <iterator>

namespace clause::detail {

// Walks a character buffer for nlohmann's reader while telling the SAX handler how far
// the reader has got, so that events can be given positions.
class TrackedIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackedIterator() = default;
  TrackedIterator(const char* at, const char** reached) : at_(at), reached_(reached) {}
  reference operator*() const { return *at_; }
  TrackedIterator& operator++() {
    ++at_;
    if (reached_ != nullptr) *reached_ = at_;
    return *this;
  }
  TrackedIterator operator++(int) {
    TrackedIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const TrackedIterator& other) const { return at_ == other.at_; }
  bool operator!=(const TrackedIterator& other) const { return at_ != other.at_; }

 private:
  const char* at_ = nullptr;
  const char** reached_ = nullptr;
};

}  // namespace clause::detail
