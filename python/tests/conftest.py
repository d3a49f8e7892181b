"""Fixtures of the Python module's tests: the repository's policies and example requests."""
import json
import os
import pathlib

import pytest

ROOT = pathlib.Path(os.environ.get("CLAUSE_SOURCE_DIR", pathlib.Path(__file__).parents[2]))

# A small policy with an obligation, two promises and a requester no rule names (W002).
SHOP = """policy "Shop" version "1"
clause "1" "Staff may read orders, and each read is logged."
clause "2" "Nobody sells orders."
data order
requester staff
requester partner
action read
action sell
obligation log_access
allow read of order by staff obliges log_access cites "1"
deny sell of order cites "2"
assert never allow sell of order
assert never allow read of order by partner
"""


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def privacy():
    import clause

    return clause.compile_file(str(ROOT / "policies" / "privacy.policy"))


@pytest.fixture(scope="session")
def examples():
    """The example requests of policies/examples, as dicts, by file name."""
    return {
        path.name: json.loads(path.read_text())
        for path in sorted((ROOT / "policies" / "examples").glob("*.json"))
    }


@pytest.fixture(scope="session")
def shop():
    import clause

    return clause.compile(SHOP, name="shop.policy")


def request(data, requester, action, **context):
    return {
        "data": {"category": data},
        "requester": {"kind": requester},
        "action": action,
        "context": context,
    }
