#include "clause_convert.hpp"

#include <clause/json.hpp>
#include <cmath>
#include <string_view>
#include <variant>

namespace clause::python {

namespace {

// Writes a Python value as JSON into `out`, naming the field of the first value that JSON
// cannot hold. Stops (returning true, with no error) once `out` is past `max_bytes`: the
// engine refuses the text as too long, with its own message.
class JsonWriter {
 public:
  JsonWriter(std::string& out, std::size_t max_bytes, std::size_t max_depth)
      : out_(out), max_bytes_(max_bytes), max_depth_(max_depth) {}

  bool write(py::handle value, std::size_t depth) {
    if (out_.size() > max_bytes_) return true;
    if (value.is_none()) {
      out_ += "null";
    } else if (PyBool_Check(value.ptr())) {
      out_ += value.ptr() == Py_True ? "true" : "false";
    } else if (PyLong_Check(value.ptr())) {
      if (!number(value, PyLong_Type)) return fail("the number has too many digits");
    } else if (PyFloat_Check(value.ptr())) {
      if (!std::isfinite(PyFloat_AsDouble(value.ptr())) || !number(value, PyFloat_Type))
        return fail("the number " + py::repr(value).cast<std::string>() +
                    " cannot be written in JSON");
    } else if (PyUnicode_Check(value.ptr())) {
      std::string_view text;
      if (!utf8(value, text)) return fail("the text is not valid Unicode");
      append_json_string(out_, text);
    } else if (PyDict_Check(value.ptr())) {
      return write_object(py::reinterpret_borrow<py::dict>(value), depth);
    } else if (PyList_Check(value.ptr()) || PyTuple_Check(value.ptr())) {
      return write_array(py::reinterpret_borrow<py::sequence>(value), depth);
    } else {
      return fail("a value of type " + type_name(value) + " cannot be given in a request");
    }
    return true;
  }

  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  bool write_object(const py::dict& object, std::size_t depth) {
    if (depth >= max_depth_) return too_deep();
    out_ += '{';
    bool first = true;
    for (auto [key, item] : object) {
      std::string_view name;
      if (!PyUnicode_Check(key.ptr()) || !utf8(key, name))
        return fail("a key must be a str, not " + type_name(key));
      if (!first) out_ += ',';
      first = false;
      append_json_string(out_, name);
      out_ += ':';
      path_.push_back(Step{name, 0});
      if (!write(item, depth + 1) || !error_.empty()) return false;
      path_.pop_back();
      if (out_.size() > max_bytes_) return true;
    }
    out_ += '}';
    return true;
  }

  bool write_array(const py::sequence& items, std::size_t depth) {
    if (depth >= max_depth_) return too_deep();
    out_ += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_ += ',';
      path_.push_back(Step{{}, i});
      if (!write(items[i], depth + 1) || !error_.empty()) return false;
      path_.pop_back();
      if (out_.size() > max_bytes_) return true;
    }
    out_ += ']';
    return true;
  }

  // Writes a number as int's or float's own repr does, whatever a subclass (an IntEnum)
  // says of itself; false when Python refuses (an int past its limit on digits).
  bool number(py::handle value, PyTypeObject& type) {
    const auto text = py::reinterpret_steal<py::object>(type.tp_repr(value.ptr()));
    std::string_view digits;
    if (!text || !utf8(text, digits)) {
      PyErr_Clear();
      return false;
    }
    out_ += digits;
    return true;
  }

  static bool utf8(py::handle text, std::string_view& out) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
    if (data == nullptr) {
      PyErr_Clear();  // a lone surrogate: reported as the request's error instead
      return false;
    }
    out = std::string_view(data, static_cast<std::size_t>(size));
    return true;
  }

  static std::string type_name(py::handle value) {
    return py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>();
  }

  // The engine's own wording for nesting past its limit.
  bool too_deep() {
    return fail("JSON nested more than " + std::to_string(max_depth_) + " levels deep");
  }

  bool fail(std::string message) {
    // The field's name is written only now: a request that converts costs no path.
    std::string field;
    for (const Step& step : path_) {
      if (step.key.data() == nullptr) {
        field += "[" + std::to_string(step.index) + "]";
      } else {
        field += (field.empty() ? "" : ".") + std::string(step.key);
      }
    }
    error_ = RequestError{field, "", std::move(message), std::nullopt}.to_string();
    return false;
  }

  std::string& out_;
  std::size_t max_bytes_;
  std::size_t max_depth_;
  // A key (its UTF-8, which the str object keeps) or, with no key, an index in an array.
  struct Step {
    std::string_view key;
    std::size_t index = 0;
  };
  std::vector<Step> path_;
  std::string error_;
};

py::str str_of(std::string_view text) {
  return py::str(text.data(), text.size());
}

}  // namespace

RequestText request_text(py::handle request) {
  RequestText out;
  if (PyUnicode_Check(request.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(request.ptr(), &size);
    if (data == nullptr) {
      PyErr_Clear();
      out.error = "the request is not valid Unicode";
    } else {
      out.text.assign(data, static_cast<std::size_t>(size));
    }
  } else if (PyBytes_Check(request.ptr())) {
    out.text = request.cast<std::string>();
  } else if (PyDict_Check(request.ptr())) {
    const Limits limits;
    JsonWriter writer(out.text, limits.max_request_bytes, limits.max_json_depth);
    if (!writer.write(request, 0)) out.error = writer.error();
  } else {
    out.error = "the request must be a dict or a str of JSON, not " +
                py::str(py::type::handle_of(request).attr("__name__")).cast<std::string>();
  }
  return out;
}

py::object value_object(const Value& value) {
  return std::visit(
      [](const auto& v) -> py::object {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return py::none();
        } else if constexpr (std::is_same_v<T, Instant>) {
          return py::str(format_instant(v));
        } else {
          return py::cast(v);
        }
      },
      value);
}

py::dict request_dict(const Request& r) {
  py::dict context;
  if (r.purpose) context["purpose"] = *r.purpose;
  py::list consent = py::cast(r.consent);
  for (const ConsentRecord& record : r.consent_records) {
    py::dict entry;
    entry["id"] = record.id;
    if (record.expires) entry["expires"] = format_instant(*record.expires);
    if (record.withdrawn) entry["withdrawn"] = format_instant(*record.withdrawn);
    consent.append(entry);
  }
  context["consent"] = consent;
  if (!r.objections.empty()) context["objections"] = py::cast(r.objections);
  for (const std::string& fact : r.facts)
    context[str_of(fact)] = true;
  py::dict data, requester, out;
  data["category"] = r.data;
  requester["kind"] = r.requester;
  if (!r.requester_id.empty()) requester["id"] = r.requester_id;
  out["data"] = data;
  out["requester"] = requester;
  out["action"] = r.action;
  out["context"] = context;
  for (const Attribute& a : r.attributes) {
    const std::size_t dot = a.path.find('.');
    if (dot == std::string::npos || std::holds_alternative<std::monostate>(a.value)) continue;
    const py::str head = str_of(std::string_view(a.path).substr(0, dot));
    if (!out.contains(head)) out[head] = py::dict();
    out[head][str_of(std::string_view(a.path).substr(dot + 1))] = value_object(a.value);
  }
  return out;
}

std::vector<DiagnosticView> diagnostic_views(const SourceFile& source,
                                             const std::vector<Diagnostic>& diagnostics) {
  std::vector<DiagnosticView> out;
  out.reserve(diagnostics.size());
  for (const Diagnostic& d : diagnostics) {
    const SourceFile& file = d.file ? *d.file : source;
    const LineColumn begin = line_column(file.text, d.span.begin);
    const LineColumn end = line_column(file.text, d.span.end);
    out.push_back(DiagnosticView{d.severity == Severity::error ? "error" : "warning", d.code,
                                 d.message, d.help, file.name, begin.line, begin.column, end.line,
                                 end.column, render_text(source, {d})});
  }
  return out;
}

}  // namespace clause::python
