// The Python module `clause`: compile a policy, decide requests (one at a time or many in
// one call, without the GIL), and check, verify and diff policies. docs/python.md.
#include <pybind11/pybind11.h>

#include <clause/clause.hpp>
#include <clause/diff.hpp>
#include <clause/json.hpp>
#include <clause/lint.hpp>
#include <clause/verify.hpp>
#include <string>
#include <utility>
#include <vector>

#include "clause_convert.hpp"

namespace py = pybind11;
using namespace clause;
using clause::python::DiagnosticView;

namespace {

// clause.CompileError, a ValueError; made once, when the module is first imported, and
// kept for the life of the interpreter (an extension module is never unloaded).
PyObject* compile_error_type = nullptr;

[[noreturn]] void raise_compile_error(const SourceFile& source,
                                      const std::vector<Diagnostic>& diagnostics) {
  const auto type = py::reinterpret_borrow<py::object>(compile_error_type);
  py::object error = type(render_text(source, diagnostics));
  error.attr("diagnostics") = py::cast(python::diagnostic_views(source, diagnostics));
  PyErr_SetObject(compile_error_type, error.ptr());
  throw py::error_already_set();
}

Policy compile_source(const SourceFile& source) {
  auto compiled = [&] {
    py::gil_scoped_release release;
    return compile(source);
  }();
  if (!compiled) raise_compile_error(source, compiled.error());
  return std::move(*compiled);
}

// A request that could not be written as JSON, denied as the engine denies one it cannot
// decode: citing `default`, with the error, naming the policy.
Decision refused(const Policy& policy, std::string error) {
  Decision d;
  d.reason = "the request could not be decided";
  d.error = std::move(error);
  d.policy_version = policy.version();
  d.policy_hash = policy.content_hash();
  d.policy = policy;
  return d;
}

Decision evaluate_one(const Policy& policy, py::handle request, bool trace) {
  python::RequestText in = python::request_text(request);
  if (!in.error.empty()) return refused(policy, std::move(in.error));
  py::gil_scoped_release release;
  return policy.evaluate_json(in.text, EvalOptions{.trace = trace});
}

// The requests are written as JSON with the GIL held; the loop that decides them runs
// without it, so that other Python threads run meanwhile.
std::vector<Decision> evaluate_many(const Policy& policy, const py::iterable& requests) {
  if (PyUnicode_Check(requests.ptr()) || PyBytes_Check(requests.ptr()) ||
      PyDict_Check(requests.ptr()))
    throw py::type_error("evaluate_many takes a list of requests; evaluate decides one");
  std::vector<python::RequestText> texts;
  for (py::handle request : requests)
    texts.push_back(python::request_text(request));
  std::vector<Decision> out;
  out.reserve(texts.size());
  {
    py::gil_scoped_release release;
    for (python::RequestText& in : texts) {
      out.push_back(in.error.empty() ? policy.evaluate_json(in.text)
                                     : refused(policy, std::move(in.error)));
    }
  }
  return out;
}

// The policy's warnings as `clause check` gives them: the checker's, then the linter's.
std::vector<DiagnosticView> check(const Policy& policy) {
  std::vector<Diagnostic> diagnostics(policy.warnings().begin(), policy.warnings().end());
  {
    py::gil_scoped_release release;
    std::vector<Diagnostic> findings = lint(policy);
    diagnostics.insert(diagnostics.end(), findings.begin(), findings.end());
    sort_by_position(diagnostics);
  }
  return python::diagnostic_views(policy.source(), diagnostics);
}

template <typename T>
py::list strings(const T& items) {
  py::list out;
  for (const auto& item : items)
    out.append(py::str(item.data(), item.size()));
  return out;
}

std::string effect_name(Effect effect) {
  return std::string(to_string(effect));
}

std::string decision_repr(const Decision& d) {
  std::string out =
      "Decision(effect='" + effect_name(d.effect) + "', clause='" + std::string(d.clause) + "'";
  if (!d.rule.empty()) out += ", rule='" + std::string(d.rule) + "'";
  if (!d.consent.empty()) out += ", consent='" + std::string(d.consent) + "'";
  if (!d.error.empty()) out += ", error=" + py::repr(py::str(d.error)).cast<std::string>();
  return out + ")";
}

py::dict looked_up_dict(const std::vector<Attribute>& attributes) {
  py::dict out;
  for (const Attribute& a : attributes)
    out[py::str(a.path)] = python::value_object(a.value);
  return out;
}

void bind_policy(py::module_& m) {
  py::class_<Decision>(m, "Decision",
                       "The answer to one request: immutable, and valid however long it is kept.")
      .def_property_readonly("effect", [](const Decision& d) { return effect_name(d.effect); })
      .def_property_readonly("allowed", [](const Decision& d) { return d.effect == Effect::allow; })
      .def_property_readonly("clause", [](const Decision& d) { return d.clause; })
      .def_property_readonly("rule", [](const Decision& d) { return d.rule; })
      .def_property_readonly("consent", [](const Decision& d) { return d.consent; })
      .def_property_readonly("reason", [](const Decision& d) { return d.reason; })
      .def_property_readonly("obligations",
                             [](const Decision& d) { return strings(d.obligations); })
      .def_property_readonly("error", [](const Decision& d) { return d.error; })
      .def_property_readonly("policy_version", [](const Decision& d) { return d.policy_version; })
      .def_property_readonly("policy_hash", [](const Decision& d) { return d.policy_hash; })
      .def_readonly("trace", &Decision::trace)
      .def(
          "to_json", [](const Decision& d) { return to_json(d); },
          "The decision as one line of JSON, as `clause eval` prints it.")
      .def("__repr__", &decision_repr);

  py::class_<TraceStep>(m, "TraceStep", "How one rule fared in a traced decision.")
      .def_property_readonly("rule", [](const TraceStep& t) { return t.rule; })
      .def_property_readonly("clause", [](const TraceStep& t) { return t.clause; })
      .def_property_readonly("tier", [](const TraceStep& t) { return to_string(t.tier); })
      .def_property_readonly("outcome", [](const TraceStep& t) { return to_string(t.outcome); })
      .def_property_readonly("line", [](const TraceStep& t) { return t.position.line; })
      .def_property_readonly("column", [](const TraceStep& t) { return t.position.column; })
      .def_readonly("detail", &TraceStep::detail);

  py::class_<Policy>(m, "Policy",
                     "A compiled policy: immutable; evaluate may be called from many threads.")
      .def_property_readonly("name", &Policy::name)
      .def_property_readonly("version", &Policy::version)
      .def_property_readonly("content_hash", &Policy::content_hash)
      .def_property_readonly("source_name", [](const Policy& p) { return p.source().name; })
      .def_property_readonly("clauses",
                             [](const Policy& p) {
                               py::list out;
                               for (const auto& [id, words] : p.clauses())
                                 out.append(py::make_tuple(py::str(id.data(), id.size()),
                                                           py::str(words.data(), words.size())));
                               return out;
                             })
      .def("clause_words", &Policy::clause_words, py::arg("clause_id"))
      .def("evaluate", &evaluate_one, py::arg("request"), py::kw_only(), py::arg("trace") = false,
           "Decides one request (a dict, or a str of JSON); never raises for a bad request. "
           "trace=True records how every rule fared, in Decision.trace.")
      .def("evaluate_many", &evaluate_many, py::arg("requests"),
           "Decides a list of requests in one call, without the GIL while deciding.")
      .def("check", &check, "The warnings of the checker and the linter, as `clause check`.")
      .def(
          "verify",
          [](const Policy& p) {
            py::gil_scoped_release release;
            return clause::verify(p);
          },
          "The policy's `assert` promises, each proved or refuted by a counterexample.")
      .def("__repr__", [](const Policy& p) {
        return "Policy(name=" + py::repr(py::str(std::string(p.name()))).cast<std::string>() +
               ", version=" + py::repr(py::str(std::string(p.version()))).cast<std::string>() + ")";
      });
}

void bind_reports(py::module_& m) {
  py::class_<DiagnosticView>(m, "Diagnostic", "One error or warning, with its place.")
      .def_readonly("severity", &DiagnosticView::severity)
      .def_readonly("code", &DiagnosticView::code)
      .def_readonly("message", &DiagnosticView::message)
      .def_readonly("help", &DiagnosticView::help)
      .def_readonly("file", &DiagnosticView::file)
      .def_readonly("line", &DiagnosticView::line)
      .def_readonly("column", &DiagnosticView::column)
      .def_readonly("end_line", &DiagnosticView::end_line)
      .def_readonly("end_column", &DiagnosticView::end_column)
      .def_readonly("text", &DiagnosticView::text)
      .def("__str__", [](const DiagnosticView& d) { return d.text; })
      .def("__repr__", [](const DiagnosticView& d) {
        return "Diagnostic(" + d.code + ", " + d.severity + ", line " + std::to_string(d.line) +
               ", column " + std::to_string(d.column) + ")";
      });

  py::class_<AssertionResult>(m, "Assertion", "One `assert` of a policy, proved or refuted.")
      .def_readonly("text", &AssertionResult::text)
      .def_property_readonly("line", [](const AssertionResult& r) { return r.position.line; })
      .def_property_readonly("column", [](const AssertionResult& r) { return r.position.column; })
      .def_readonly("proved", &AssertionResult::proved)
      .def_readonly("complete", &AssertionResult::complete)
      .def_readonly("regions", &AssertionResult::regions)
      .def_property_readonly("counterexample",
                             [](const AssertionResult& r) -> py::object {
                               if (!r.counterexample) return py::none();
                               return python::request_dict(*r.counterexample);
                             })
      .def_property_readonly("effect",
                             [](const AssertionResult& r) -> py::object {
                               if (!r.counterexample) return py::none();
                               return py::str(effect_name(r.effect));
                             })
      .def_readonly("clause", &AssertionResult::clause)
      .def_readonly("rule", &AssertionResult::rule)
      .def_readonly("consent", &AssertionResult::consent);

  py::class_<DiffSide>(m, "DiffSide", "A region's decision under one version.")
      .def_property_readonly("effect", [](const DiffSide& s) { return effect_name(s.effect); })
      .def_readonly("clause", &DiffSide::clause)
      .def_readonly("rule", &DiffSide::rule)
      .def_readonly("consent", &DiffSide::consent)
      .def_readonly("obligations", &DiffSide::obligations)
      .def_readonly("error", &DiffSide::error);

  py::class_<DiffRegion>(m, "DiffRegion", "Requests the two versions decide differently.")
      .def_readonly("actions", &DiffRegion::actions)
      .def_readonly("requesters", &DiffRegion::requesters)
      .def_readonly("data", &DiffRegion::data)
      .def_readonly("before", &DiffRegion::before)
      .def_readonly("after", &DiffRegion::after)
      .def_property_readonly("witness",
                             [](const DiffRegion& r) { return python::request_dict(r.witness); })
      .def_readonly("requests", &DiffRegion::requests)
      .def_readonly("attributes", &DiffRegion::attributes)
      .def_property_readonly("looked_up",
                             [](const DiffRegion& r) { return looked_up_dict(r.looked_up); })
      .def_readonly("key_attribute", &DiffRegion::key_attribute)
      .def_readonly("keys", &DiffRegion::keys);

  py::class_<DiffNames>(m, "DiffNames", "The names of one kind only one version declares.")
      .def_readonly("kind", &DiffNames::kind)
      .def_readonly("added", &DiffNames::added)
      .def_readonly("removed", &DiffNames::removed)
      .def_readonly("changed", &DiffNames::changed);

  py::class_<DiffEntry>(m, "DiffEntry", "A data entry that changed in a field the policy reads.")
      .def_readonly("key", &DiffEntry::key)
      .def_readonly("change", &DiffEntry::change)
      .def_readonly("fields", &DiffEntry::fields);

  py::class_<Diff>(m, "Diff", "Every region of requests two versions decide differently.")
      .def_readonly("names", &Diff::names)
      .def_readonly("regions", &Diff::regions)
      .def_readonly("document", &Diff::document)
      .def_readonly("entries", &Diff::entries)
      .def_readonly("changed", &Diff::changed)
      .def_readonly("total", &Diff::total)
      .def_readonly("complete", &Diff::complete);
}

}  // namespace

PYBIND11_MODULE(clause, m) {
  m.doc() = "The clause policy engine: compile a policy, decide requests, check, verify, diff.";
  compile_error_type = PyErr_NewExceptionWithDoc("clause.CompileError",
                                                 "A policy with errors; .diagnostics lists them.",
                                                 PyExc_ValueError, nullptr);
  if (compile_error_type == nullptr) throw py::error_already_set();
  m.attr("CompileError") = py::reinterpret_borrow<py::object>(compile_error_type);
  m.attr("__version__") = CLAUSE_VERSION;

  bind_policy(m);
  bind_reports(m);

  m.def(
      "compile",
      [](std::string text, std::string name) {
        return compile_source(SourceFile{std::move(name), std::move(text)});
      },
      py::arg("text"), py::arg("name") = "policy.policy",
      "Compiles a policy's text; `name` is shown in diagnostics, and documents are read "
      "from its folder. Raises CompileError.");
  m.def(
      "compile_file",
      [](const std::string& path) {
        auto source = [&] {
          py::gil_scoped_release release;
          return read_source(path);
        }();
        if (!source) {
          PyErr_SetString(PyExc_OSError, source.error().c_str());
          throw py::error_already_set();
        }
        return compile_source(*source);
      },
      py::arg("path"), "Reads and compiles a policy file. Raises OSError or CompileError.");
  m.def(
      "diff",
      [](const Policy& before, const Policy& after) {
        py::gil_scoped_release release;
        return diff_policies(before, after);
      },
      py::arg("old"), py::arg("new"),
      "Every region of requests the two policies decide differently.");
  m.def(
      "diff_data",
      [](const Policy& before, const Policy& after) {
        auto diff = [&] {
          py::gil_scoped_release release;
          return diff_data(before, after);
        }();
        if (!diff) throw py::value_error(diff.error());
        return std::move(*diff);
      },
      py::arg("old"), py::arg("new"),
      "One policy's text under two versions of a data document. Raises ValueError.");
}
