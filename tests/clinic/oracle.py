"""The clinic's notice of privacy practices read as decisions, without the engine.

clinic-reading.md (the reading) fixes how the notice decides a request. This module
decides a JSON request the same way, sharing no code with the engine, so that tests can
hold the engine and policies/clinic.policy against it.

Where the reading is silent, these choices are made (fail closed, as a careful privacy
lawyer would):

 1. Fields beside the reading's: the seed's top-level `id` and `data.id` stay allowed
    (a string, a number or null; they never decide). Every other field is unknown: error.
 2. `requester.id` and `data.subject` must be non-empty strings: an empty id names nobody,
    and "" = "" must not open the patient's record (A). Entries of the id lists may be any
    string. Ids are compared exactly (case sensitive, no trimming); repeats in a list of
    ids, objections or facts are harmless.
 3. `data.subject_age` is a JSON integer (not a float, not a boolean) that a 64-bit
    integer holds; the reading gives no range, so rows compare it as written.
 4. Dates are `YYYY-MM-DD` (four-digit year 0000-9999, proleptic Gregorian, real calendar
    days only) and mean 00:00 UTC of that day. `data.last_visit` takes a date only; the
    consent record's `expires` and `withdrawn` take a date or a date-time, as
    `context.time` does.
 5. `context.time` follows RFC 3339 section 5.6 with the restrictions it allows: `T` and
    `Z` upper case only, no space for `T`, seconds required, fraction of any length,
    offsets `+hh:mm`/`-hh:mm` with hh <= 23 and mm <= 59 (`-00:00` is UTC). A leap second
    (`:60`) is rejected: its instant cannot be placed without a leap-second table.
 6. `context.destination` is a non-empty string, compared exactly: X asks for "CA", and
    "ca" or "Canada" is simply not Canada.
 7. `context.purpose` may be null, meaning no purpose, as in the seed. Every other
    optional field (`destination`, `consent`, `objections`, `facts`, a consent's `expires`
    and `withdrawn`) given as null is a wrong type.
 8. Facts may be given as in the seed: as keys of `context`, as keys of an object
    `context.facts`, or as names in an array `context.facts`; a fact is true when any of
    them says so.
 9. A consent record needs `id` and takes only `id`, `expires` and `withdrawn`.
10. A `last_visit` after `context.time` is not an error: K only counts from it.
11. A key given twice in one JSON object, NaN or Infinity, or text that is not one JSON
    object is an error (`decide_text`).
12. A request about a parent category or kind (`health_info`, `clinical_record`,
    `outside_party`) is matched only by rows naming it or its ancestors, as in the
    language's hierarchies: the S gate and S prohibition, which name `sud_record`, do not
    match a request about `clinical_record`.
"""

import json
import re
from fractions import Fraction

# ---- vocabulary -------------------------------------------------------------------------

DATA_PARENT = {
    "health_info": None,
    "clinical_record": "health_info",
    "lab_result": "clinical_record",
    "sud_record": "clinical_record",
    "billing_info": "health_info",
    "contact_info": "health_info",
}
KIND_PARENT = {
    "the_clinic": None,
    "person": None,
    "outside_party": None,
    "clinician": "outside_party",
    "health_plan": "outside_party",
    "public_health_authority": "outside_party",
    "law_enforcement": "outside_party",
    "researcher": "outside_party",
    "marketer": "outside_party",
    "processor": "outside_party",
}
PURPOSE_PARENT = {
    "treatment": None,
    "payment": None,
    "operations": None,
    "quality_assessment": "operations",
    "training": "operations",
    "marketing": None,
    "research": None,
    "public_health": None,
}
ACTIONS = ("use", "access", "amend", "store", "transfer_abroad", "sell")
FACTS = ("required_by_law", "court_order", "emergency", "contract_in_place")
CONSENTS = (
    "marketing_authorization",
    "sale_authorization",
    "research_authorization",
    "sud_consent",
    "representative_access",
)
OBJECTIONS = ("family_disclosure", "plan_disclosure")

DATA_FIELDS = (
    "category", "subject", "subject_age", "care_team", "representatives",
    "care_contacts", "last_visit", "self_paid", "deidentified",
)


def is_kind_of(name, ancestor, parents):
    """True when `name` is `ancestor` or one of its descendants."""
    while name is not None:
        if name == ancestor:
            return True
        name = parents[name]
    return False


# ---- time -------------------------------------------------------------------------------

class BadRequest(Exception):
    """A request that is not valid: denied citing `default` with an error."""


DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
DATE_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))",
    re.ASCII)


def is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    if month == 2:
        return 29 if is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def check_date(field, year, month, day):
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        raise BadRequest(f"{field}: no such day")


def parse_date(field, value):
    """A `YYYY-MM-DD` date as (year, month, day)."""
    if not isinstance(value, str):
        raise BadRequest(f"{field}: expected a date")
    match = DATE_RE.fullmatch(value)
    if not match:
        raise BadRequest(f"{field}: malformed date")
    year, month, day = (int(part) for part in match.groups())
    check_date(field, year, month, day)
    return year, month, day


def date_instant(date):
    """00:00 UTC of a date, in seconds since the epoch."""
    return Fraction(days_from_civil(*date) * 86400)


def parse_time(field, value):
    """An RFC 3339 date or date-time as an exact instant in UTC seconds since the epoch."""
    if not isinstance(value, str):
        raise BadRequest(f"{field}: expected a date or date-time")
    if DATE_RE.fullmatch(value):
        return date_instant(parse_date(field, value))
    match = DATE_TIME_RE.fullmatch(value)
    if not match:
        raise BadRequest(f"{field}: malformed date-time")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zone, sign, off_hour, off_minute = match.groups()[6:]
    check_date(field, year, month, day)
    if hour > 23 or minute > 59 or second > 59:
        raise BadRequest(f"{field}: no such time of day")
    instant = date_instant((year, month, day)) + hour * 3600 + minute * 60 + second
    if fraction:
        instant += Fraction(int(fraction[1:]), 10 ** (len(fraction) - 1))
    if zone != "Z":
        if int(off_hour) > 23 or int(off_minute) > 59:
            raise BadRequest(f"{field}: no such offset")
        offset = int(off_hour) * 3600 + int(off_minute) * 60
        instant -= offset if sign == "+" else -offset
    return instant


def six_years_after(date):
    """The same month and day six years later; from 29 February, 1 March."""
    year, month, day = date
    if month == 2 and day == 29 and not is_leap(year + 6):
        return (year + 6, 3, 1)
    return (year + 6, month, day)


NOTICE_START = date_instant((2026, 1, 1))
SUD_RULE_START = date_instant((2026, 2, 16))


# ---- reading the request ----------------------------------------------------------------

def is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def expect_object(field, value):
    if not isinstance(value, dict):
        raise BadRequest(f"{field}: expected an object")
    return value


def expect_bool(field, value):
    if not isinstance(value, bool):
        raise BadRequest(f"{field}: expected true or false")
    return value


def expect_string(field, value, nonempty=False):
    if not isinstance(value, str) or (nonempty and value == ""):
        raise BadRequest(f"{field}: expected a{' non-empty' if nonempty else ''} string")
    return value


def expect_name(field, value, names):
    if not isinstance(value, str) or value not in names:
        raise BadRequest(f"{field}: unknown name {value!r}")
    return value


def expect_strings(field, value, names=None):
    if not isinstance(value, list):
        raise BadRequest(f"{field}: expected an array of strings")
    for index, item in enumerate(value):
        if names is None:
            expect_string(f"{field}[{index}]", item)
        else:
            expect_name(f"{field}[{index}]", item, names)
    return value


def expect_fields(field, obj, allowed, required):
    for key in obj:
        if key not in allowed:
            raise BadRequest(f"{field}.{key}: unknown field")
    for key in required:
        if key not in obj:
            raise BadRequest(f"{field}.{key}: missing field")


def expect_carried_id(field, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
        raise BadRequest(f"{field}: expected a string, a number or null")


def read_consent(index, entry):
    """One entry of `context.consent`: (id, instants the consent stops counting at)."""
    field = f"context.consent[{index}]"
    if isinstance(entry, str):
        return expect_name(field, entry, CONSENTS), []
    record = expect_object(field, entry)
    expect_fields(field, record, ("id", "expires", "withdrawn"), ("id",))
    ends = [parse_time(f"{field}.{key}", record[key])
            for key in ("expires", "withdrawn") if key in record]
    return expect_name(f"{field}.id", record["id"], CONSENTS), ends


def read_facts(context):
    """The facts that are true, from the three ways the seed allows."""
    true_facts = set()
    for name in FACTS:
        if name in context and expect_bool(f"context.{name}", context[name]):
            true_facts.add(name)
    if "facts" in context:
        facts = context["facts"]
        if isinstance(facts, dict):
            for name, value in facts.items():
                expect_name(f"context.facts.{name}", name, FACTS)
                if expect_bool(f"context.facts.{name}", value):
                    true_facts.add(name)
        else:
            true_facts.update(expect_strings("context.facts", facts, FACTS))
    return true_facts


def read_request(request):
    """The request's meaning as a flat dict; raises BadRequest when it is not valid."""
    expect_object("request", request)
    for key in request:
        if key not in ("id", "data", "requester", "action", "context"):
            raise BadRequest(f"{key}: unknown field")
    for key in ("data", "requester", "action", "context"):
        if key not in request:
            raise BadRequest(f"{key}: missing field")
    if "id" in request:
        expect_carried_id("id", request["id"])

    data = expect_object("data", request["data"])
    expect_fields("data", data, DATA_FIELDS + ("id",), DATA_FIELDS)
    if "id" in data:
        expect_carried_id("data.id", data["id"])
    requester = expect_object("requester", request["requester"])
    expect_fields("requester", requester, ("kind", "id"), ("kind", "id"))
    context = expect_object("context", request["context"])
    expect_fields("context", context,
                  ("time", "purpose", "destination", "facts", "consent", "objections") + FACTS,
                  ("time",))

    age = data["subject_age"]
    if not is_integer(age) or not -2 ** 63 <= age < 2 ** 63:
        raise BadRequest("data.subject_age: expected an integer")
    purpose = context.get("purpose")
    if purpose is not None:
        expect_name("context.purpose", purpose, PURPOSE_PARENT)
    destination = context.get("destination")
    if "destination" in context and not (isinstance(destination, str) and destination):
        raise BadRequest("context.destination: expected a non-empty string")
    consents = [read_consent(index, entry)
                for index, entry in enumerate(consent_entries(context))]
    return {
        "category": expect_name("data.category", data["category"], DATA_PARENT),
        "subject": expect_string("data.subject", data["subject"], nonempty=True),
        "age": age,
        "care_team": expect_strings("data.care_team", data["care_team"]),
        "representatives": expect_strings("data.representatives", data["representatives"]),
        "care_contacts": expect_strings("data.care_contacts", data["care_contacts"]),
        "last_visit": parse_date("data.last_visit", data["last_visit"]),
        "self_paid": expect_bool("data.self_paid", data["self_paid"]),
        "deidentified": expect_bool("data.deidentified", data["deidentified"]),
        "kind": expect_name("requester.kind", requester["kind"], KIND_PARENT),
        "requester_id": expect_string("requester.id", requester["id"], nonempty=True),
        "action": expect_name("action", request["action"], ACTIONS),
        "time": parse_time("context.time", context["time"]),
        "purpose": purpose,
        "destination": destination,
        "facts": read_facts(context),
        "consents": consents,
        "objections": set(expect_strings("context.objections",
                                         context.get("objections", []), OBJECTIONS)),
    }


def consent_entries(context):
    consent = context.get("consent", [])
    if not isinstance(consent, list):
        raise BadRequest("context.consent: expected an array")
    return consent


def granted(req, consent):
    """Granted at `context.time`: some entry is a bare id, or a record whose given dates
    are all later than the time."""
    return any(name == consent and all(end > req["time"] for end in ends)
               for name, ends in req["consents"])


# ---- the tables of the reading ----------------------------------------------------------

def purpose_is(req, purpose):
    return req["purpose"] is not None and is_kind_of(req["purpose"], purpose, PURPOSE_PARENT)


def sud_rule_in_force(req):
    return req["time"] >= SUD_RULE_START


def records_expired(req):
    return req["time"] >= date_instant(six_years_after(req["last_visit"]))


class Row:
    """One row of a table: clause, target (kinds, actions, categories, each covering its
    descendants) and condition; `extra` is the row's obligations or consent."""

    def __init__(self, clause, kinds, actions, categories, when, extra=()):
        self.clause, self.kinds, self.actions = clause, kinds, actions
        self.categories, self.when, self.extra = categories, when, extra

    def targets(self, req):
        return (req["action"] in self.actions
                and any(is_kind_of(req["category"], c, DATA_PARENT) for c in self.categories)
                and (self.kinds is None
                     or any(is_kind_of(req["kind"], k, KIND_PARENT) for k in self.kinds)))


HEALTH = ("health_info",)
PROHIBITIONS = [
    Row("S", ("law_enforcement",), ("access",), ("sud_record",), sud_rule_in_force),
    Row("P.r", ("health_plan",), ("access",), HEALTH,
        lambda r: r["self_paid"] and "plan_disclosure" in r["objections"]),
    Row("K", None, ("store",), HEALTH, records_expired),
]
SUD_GATE = Row("S", ("outside_party",), ("access",), ("sud_record",),
               lambda r: sud_rule_in_force(r) and not granted(r, "sud_consent"))
PERMISSIONS = [
    Row("T", ("the_clinic",), ("use",), HEALTH, lambda r: purpose_is(r, "treatment")),
    Row("T", ("clinician",), ("access",), HEALTH,
        lambda r: purpose_is(r, "treatment") and r["requester_id"] in r["care_team"]),
    Row("P", ("the_clinic",), ("use",), HEALTH, lambda r: purpose_is(r, "payment")),
    Row("P", ("health_plan",), ("access",), ("billing_info",),
        lambda r: purpose_is(r, "payment")),
    Row("O", ("the_clinic",), ("use",), HEALTH, lambda r: purpose_is(r, "operations")),
    Row("A", ("person",), ("access",), HEALTH, lambda r: r["requester_id"] == r["subject"]),
    Row("A", ("person",), ("amend",), ("clinical_record", "contact_info"),
        lambda r: r["requester_id"] == r["subject"]),
    Row("A.r", ("person",), ("access",), HEALTH,
        lambda r: r["requester_id"] in r["representatives"] and r["age"] < 18),
    Row("F", ("person",), ("access",), ("clinical_record",),
        lambda r: r["requester_id"] in r["care_contacts"]
        and "family_disclosure" not in r["objections"]),
    Row("F.e", ("person",), ("access",), ("clinical_record",),
        lambda r: r["requester_id"] in r["care_contacts"] and "emergency" in r["facts"]),
    Row("R.d", ("the_clinic",), ("use",), HEALTH,
        lambda r: purpose_is(r, "research") and r["deidentified"]),
    Row("R.d", ("researcher",), ("access",), HEALTH,
        lambda r: purpose_is(r, "research") and r["deidentified"]),
    Row("L.ph", ("public_health_authority",), ("access",), HEALTH,
        lambda r: purpose_is(r, "public_health"), ("record_disclosure",)),
    Row("L.le", ("law_enforcement",), ("access",), HEALTH,
        lambda r: "court_order" in r["facts"], ("record_disclosure", "notify_patient")),
    Row("L", ("outside_party",), ("access",), HEALTH,
        lambda r: "required_by_law" in r["facts"], ("record_disclosure",)),
    Row("B", ("processor",), ("use", "store"), HEALTH,
        lambda r: "contract_in_place" in r["facts"]),
    Row("K", ("the_clinic",), ("store",), HEALTH, lambda r: True),
    Row("X", ("processor",), ("transfer_abroad",), HEALTH,
        lambda r: "contract_in_place" in r["facts"] and r["destination"] == "CA"),
]
REQUIREMENTS = [
    Row("A.r", ("person",), ("access",), HEALTH,
        lambda r: r["requester_id"] in r["representatives"] and r["age"] >= 18,
        "representative_access"),
    Row("M", ("the_clinic",), ("use",), HEALTH, lambda r: purpose_is(r, "marketing"),
        "marketing_authorization"),
    Row("M", ("outside_party",), ("access",), HEALTH, lambda r: purpose_is(r, "marketing"),
        "marketing_authorization"),
    Row("M.s", ("the_clinic",), ("sell",), HEALTH, lambda r: True, "sale_authorization"),
    Row("R", ("the_clinic",), ("use",), HEALTH, lambda r: purpose_is(r, "research"),
        "research_authorization"),
    Row("R", ("researcher",), ("access",), HEALTH, lambda r: purpose_is(r, "research"),
        "research_authorization"),
]
# Every row with a name for coverage reports, in the reading's order.
ROWS = ([("E", None)]
        + [(f"prohibition {row.clause}", row) for row in PROHIBITIONS]
        + [("gate S", SUD_GATE)]
        + [(f"permission {row.clause}#{n}", row) for n, row in enumerate(PERMISSIONS)]
        + [(f"consent {row.clause}#{n}", row) for n, row in enumerate(REQUIREMENTS)])


def answer(decision, clause, consent=None, obligations=(), error=False):
    return {"decision": decision, "clause": clause, "consent": consent,
            "obligations": sorted(obligations), "error": error}


def decide_valid(req):
    if req["time"] < NOTICE_START:
        return answer("deny", "E")
    for row in PROHIBITIONS:
        if row.targets(req) and row.when(req):
            return answer("deny", row.clause)
    if SUD_GATE.targets(req) and SUD_GATE.when(req):
        return answer("require-consent", "S", "sud_consent")
    for row in PERMISSIONS:
        if row.targets(req) and row.when(req):
            return answer("allow", row.clause, obligations=row.extra)
    for row in REQUIREMENTS:
        if row.targets(req) and row.when(req):
            if granted(req, row.extra):
                return answer("allow", row.clause)
            return answer("require-consent", row.clause, row.extra)
    return answer("deny", "default")


def why_invalid(request):
    """The error of a request that is not valid, or None."""
    try:
        read_request(request)
    except BadRequest as bad:
        return str(bad)
    return None


def decide(request):
    """The reading's decision for a parsed JSON request."""
    try:
        req = read_request(request)
    except BadRequest:
        return answer("deny", "default", error=True)
    return decide_valid(req)


def row_conditions(request):
    """For coverage: {row name: condition value} for every row whose target the (valid)
    request matches, whether or not it decides; E maps to "time is before 2026"."""
    try:
        req = read_request(request)
    except BadRequest:
        return {}
    found = {"E": req["time"] < NOTICE_START}
    for name, row in ROWS[1:]:
        if row.targets(req):
            found[name] = bool(row.when(req))
    return found


def parse_text(text):
    """One JSON object as (request, None), or (None, error) for text that is not valid JSON
    or repeats a key in an object or holds NaN or Infinity."""
    def no_repeats(pairs):
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate field")
        return dict(pairs)

    def no_constant(name):
        raise ValueError(f"no such JSON value {name}")

    try:
        return json.loads(text, object_pairs_hook=no_repeats, parse_constant=no_constant), None
    except (ValueError, RecursionError) as bad:
        return None, f"invalid JSON: {bad}"


def why_invalid_text(text):
    """The error of a request text that is not valid, or None."""
    request, problem = parse_text(text)
    return problem or why_invalid(request)


def decide_text(text):
    """The reading's decision for one request as JSON text; text that is not JSON reads as
    None, which is not an object and so is denied with an error."""
    return decide(parse_text(text)[0])
