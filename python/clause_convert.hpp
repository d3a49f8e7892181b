// The Python module's conversions: a request given as a dict (or JSON text) to the JSON
// text the engine decodes, and the engine's requests, values and diagnostics to plain
// Python objects.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // everywhere: a TU without it would convert vectors differently

#include <clause/clause.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace clause::python {

namespace py = pybind11;

/// A request as JSON text, or why it cannot be one (then `error` is set and the request
/// is denied with it, as the engine denies a request it cannot decode).
struct RequestText {
  std::string text;
  std::string error;
};

/// Reads a request given as a dict (written as JSON here, with the GIL held), a str or
/// bytes of JSON (taken as they are), or anything else (an error). Writing stops one byte
/// past the engine's request limit and one level past its nesting limit, so that a huge
/// or deep dict costs no more than the engine would read of it.
RequestText request_text(py::handle request);

/// A request as a dict of the JSON shape `clause eval` reads.
py::dict request_dict(const Request& request);

/// An attribute's value as Python holds it: bool, int, str, list of str, or a date or
/// date-time as its RFC 3339 text; None when absent.
py::object value_object(const Value& value);

/// One diagnostic as plain fields, with its rendering as `clause check` prints it.
struct DiagnosticView {
  std::string severity;  // "error" or "warning"
  std::string code;
  std::string message;
  std::string help;
  std::string file;  // the policy's name, or the document's the diagnostic is in
  std::uint32_t line = 1, column = 1, end_line = 1, end_column = 1;
  std::string text;
};

std::vector<DiagnosticView> diagnostic_views(const SourceFile& source,
                                             const std::vector<Diagnostic>& diagnostics);

}  // namespace clause::python
