// The engine's internals for white-box tests and `clause bench`: the compiled form of a
// policy, the reference evaluator, the analyses' regions, the request mix of the
// benchmarks, SHA-256. The one header outside engine/ may include that is not installed
// (target clause::engine_detail); everything else uses the installed headers.
#pragma once

#include "../../src/analysis/analysis.hpp"
#include "../../src/analysis/workload.hpp"
#include "../../src/core/policy_impl.hpp"
#include "../../src/core/sha256.hpp"
