// The engine's internals for white-box tests and `clause bench`: the compiled form of a
// policy, the reference evaluator, the analyses' regions, the request mix of the
// benchmarks, SHA-256. The one header outside engine/ may include that is not installed
// (target clause::engine_detail); everything else uses the installed headers.
#pragma once

#include "../../src/analysis.hpp"
#include "../../src/policy_impl.hpp"
#include "../../src/sha256.hpp"
#include "../../src/workload.hpp"
