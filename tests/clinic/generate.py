#!/usr/bin/env python3
"""Random clinic requests, one JSON text a line, reproducible from a seed.

Each request aims at one row of the reading's tables (or at E) and draws that row's
condition true or false; times sit on both sides of 2026-01-01, 2026-02-16 and
last_visit + 6 years, also with offsets that cross midnight; consents expire or are
withdrawn just before, at and after the time. About one request in ten is not valid, in
every way the reading names. Usage: generate.py [--count N] [--seed S] [--output FILE]
"""

import argparse
import datetime as dt
import json
import random
import sys

KINDS = ("the_clinic", "person", "outside_party", "clinician", "health_plan",
         "public_health_authority", "law_enforcement", "researcher", "marketer", "processor")
OUTSIDE = KINDS[2:]
CATEGORIES = ("health_info", "clinical_record", "lab_result", "sud_record", "billing_info",
              "contact_info")
CLINICAL = ("clinical_record", "lab_result", "sud_record")
ACTIONS = ("use", "access", "amend", "store", "transfer_abroad", "sell")
PURPOSES = ("treatment", "payment", "operations", "quality_assessment", "training",
            "marketing", "research", "public_health")
FACTS = ("required_by_law", "court_order", "emergency", "contract_in_place")
CONSENTS = ("marketing_authorization", "sale_authorization", "research_authorization",
            "sud_consent", "representative_access")
OBJECTIONS = ("family_disclosure", "plan_disclosure")
IDS = ("p-1", "p-2", "c-1", "c-2", "r-1", "f-1", "x-9")
UTC = dt.timezone.utc
OFFSETS = (0, 60, -60, -300, 330, 840, -720, 23 * 60 + 59, -(23 * 60 + 59))

# Targets of the reading's rows: (kinds, actions, categories, purpose or None). A target
# with a purpose sets it; the rest draw a purpose at random.
TARGETS = {
    "S": (("law_enforcement",), ("access",), ("sud_record",), None),
    "P.r": (("health_plan",), ("access",), CATEGORIES, None),
    "K": (KINDS, ("store",), CATEGORIES, None),
    "gate": (OUTSIDE, ("access",), ("sud_record",), None),
    "T.use": (("the_clinic",), ("use",), CATEGORIES, "treatment"),
    "T.access": (("clinician",), ("access",), CATEGORIES, "treatment"),
    "P.use": (("the_clinic",), ("use",), CATEGORIES, "payment"),
    "P.access": (("health_plan",), ("access",), ("billing_info", "contact_info"), "payment"),
    "O": (("the_clinic",), ("use",), CATEGORIES, ("operations", "quality_assessment",
                                                    "training")),
    "A": (("person",), ("access", "amend"), CATEGORIES, None),
    "A.r": (("person",), ("access",), CATEGORIES, None),
    "F": (("person",), ("access",), CLINICAL + ("health_info",), None),
    "R.d": (("the_clinic", "researcher"), ("use", "access"), CATEGORIES, "research"),
    "L.ph": (("public_health_authority",), ("access",), CATEGORIES, "public_health"),
    "L.le": (("law_enforcement",), ("access",), CATEGORIES, None),
    "L": (OUTSIDE, ("access",), CATEGORIES, None),
    "B": (("processor",), ("use", "store"), CATEGORIES, None),
    "K.clinic": (("the_clinic",), ("store",), CATEGORIES, None),
    "X": (("processor",), ("transfer_abroad",), CATEGORIES, None),
    "M": (("the_clinic", "marketer", "outside_party", "researcher"), ("use", "access"),
          CATEGORIES, "marketing"),
    "M.s": (("the_clinic", "marketer"), ("sell",), CATEGORIES, None),
    "R": (("the_clinic", "researcher"), ("use", "access"), CATEGORIES, "research"),
    "any": (KINDS, ACTIONS, CATEGORIES, None),
}


def six_years_after(date):
    try:
        return date.replace(year=date.year + 6)
    except ValueError:  # 29 February
        return dt.date(date.year + 6, 3, 1)


def midnight(date):
    return dt.datetime(date.year, date.month, date.day, tzinfo=UTC)


def write_time(instant, rng):
    """An RFC 3339 text for an aware UTC datetime, in a random offset and precision."""
    if instant.microsecond == 0 and instant.time() == dt.time(0) and rng.random() < 0.2:
        return instant.date().isoformat()
    minutes = rng.choice(OFFSETS)
    local = instant.astimezone(dt.timezone(dt.timedelta(minutes=minutes)))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if local.microsecond:
        text += f".{local.microsecond:06d}".rstrip("0")
    elif rng.random() < 0.1:
        text += ".000"
    if minutes == 0 and rng.random() < 0.7:
        return text + "Z"
    sign = "-" if minutes < 0 or (minutes == 0 and rng.random() < 0.5) else "+"
    return text + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def near(boundary, rng):
    """An instant just before, at or just after a boundary, or somewhat further away."""
    step = rng.choice((dt.timedelta(0), dt.timedelta(0), dt.timedelta(seconds=1),
                       dt.timedelta(milliseconds=1), dt.timedelta(minutes=30),
                       dt.timedelta(hours=23), dt.timedelta(days=rng.randint(1, 400))))
    return boundary + step if rng.random() < 0.5 else boundary - step


def random_last_visit(rng):
    special = (dt.date(2020, 2, 29), dt.date(2020, 2, 28), dt.date(2020, 3, 1),
               dt.date(2019, 12, 31), dt.date(2020, 1, 1), dt.date(2024, 2, 29),
               dt.date(2019, 2, 28))
    if rng.random() < 0.3:
        return rng.choice(special)
    return dt.date(2019, 6, 1) + dt.timedelta(days=rng.randint(0, 2600))


def random_instant(rng, last_visit):
    start = midnight(dt.date(2026, 1, 1))
    roll = rng.random()
    if roll < 0.15:
        return near(start, rng)
    if roll < 0.35:
        return near(midnight(dt.date(2026, 2, 16)), rng)
    if roll < 0.55:
        return near(midnight(six_years_after(last_visit)), rng)
    return start + dt.timedelta(seconds=rng.randint(0, 5 * 365 * 86400))


def consent_entry(rng, name, time):
    """A bare id, or a record whose dates fall just before, at or after the time."""
    if rng.random() < 0.4:
        return name
    utc_day = time.astimezone(UTC).date()
    days = (utc_day - dt.timedelta(days=1), utc_day, utc_day + dt.timedelta(days=1),
            utc_day + dt.timedelta(days=2), dt.date(2024, 1, 1), dt.date(2031, 1, 1))
    record = {"id": name}
    for key in ("expires", "withdrawn"):
        if rng.random() < 0.5:
            record[key] = rng.choice(days).isoformat()
    return record


def subset(rng, names, chance):
    return [name for name in names if rng.random() < chance]


def valid_request(rng):
    target = rng.choice(list(TARGETS))
    kinds, actions, categories, purpose = TARGETS[target]
    last_visit = random_last_visit(rng)
    time = random_instant(rng, last_visit)
    if isinstance(purpose, tuple):
        purpose = rng.choice(purpose)
    elif purpose is None or rng.random() < 0.15:
        purpose = rng.choice(PURPOSES + (None,))
    subject = rng.choice(IDS[:2])
    care_team = subset(rng, IDS, 0.3)
    representatives = subset(rng, IDS, 0.3)
    care_contacts = subset(rng, IDS, 0.3)
    # Favour ids that make the rows' id conditions true.
    requester_id = rng.choice(IDS + (subject, subject, rng.choice(care_team or IDS),
                                     rng.choice(representatives or IDS),
                                     rng.choice(care_contacts or IDS)))
    age = rng.choice((17, 18, 17, 18, 0, 5, 40, 90))
    facts = subset(rng, FACTS, 0.4)
    consents = []
    for name in subset(rng, CONSENTS, 0.45):
        consents.append(consent_entry(rng, name, time))
        if rng.random() < 0.25:  # the same consent again
            consents.append(consent_entry(rng, name, time))
    rng.shuffle(consents)
    context = {"time": write_time(time, rng)}
    if purpose is not None:
        context["purpose"] = purpose
    elif rng.random() < 0.2:
        context["purpose"] = None
    if rng.random() < 0.6:
        context["destination"] = rng.choice(("CA", "CA", "US", "DE", "MX"))
    write_facts(rng, context, facts)
    if consents or rng.random() < 0.3:
        context["consent"] = consents
    objections = subset(rng, OBJECTIONS, 0.5)
    if objections or rng.random() < 0.3:
        context["objections"] = objections
    return {
        "data": {"category": rng.choice(categories), "subject": subject, "subject_age": age,
                 "care_team": care_team, "representatives": representatives,
                 "care_contacts": care_contacts, "last_visit": last_visit.isoformat(),
                 "self_paid": rng.random() < 0.5, "deidentified": rng.random() < 0.5},
        "requester": {"kind": rng.choice(kinds), "id": requester_id},
        "action": rng.choice(actions),
        "context": context,
    }


def write_facts(rng, context, facts):
    """The facts, mostly as the array `context.facts`, sometimes in the seed's other ways."""
    roll = rng.random()
    if roll < 0.75:
        if facts or rng.random() < 0.3:
            context["facts"] = facts
    elif roll < 0.87:
        context["facts"] = {name: name in facts for name in subset(rng, FACTS, 0.5) + facts}
    else:
        for name in subset(rng, FACTS, 0.3) + facts:
            context[name] = name in facts


# Ways a request goes wrong: (path, bad value); the value replaces or adds the field, and
# MISSING removes it.
MISSING = object()
BAD_VALUES = [
    (("data", "category"), "lab_results"), (("data", "category"), "Health_info"),
    (("data", "category"), MISSING), (("data", "category"), 3),
    (("requester", "kind"), "patient"), (("requester", "kind"), MISSING),
    (("action",), "read"), (("action",), MISSING), (("action",), None),
    (("context", "purpose"), "treatement"), (("context", "purpose"), 1),
    (("context", "purpose"), "operations.training"),
    (("data", "subject_age"), 12.0), (("data", "subject_age"), "12"),
    (("data", "subject_age"), True), (("data", "subject_age"), None),
    (("data", "subject_age"), -1), (("data", "subject_age"), MISSING),
    (("data", "self_paid"), "true"), (("data", "self_paid"), 1),
    (("data", "self_paid"), None), (("data", "deidentified"), MISSING),
    (("data", "care_team"), "c-1"), (("data", "care_team"), [1]),
    (("data", "representatives"), None), (("data", "care_contacts"), MISSING),
    (("data", "care_contacts"), [["f-1"]]),
    (("data", "subject"), 1), (("data", "subject"), MISSING), (("data", "subject"), ""),
    (("requester", "id"), 42), (("requester", "id"), None), (("requester", "id"), MISSING),
    (("requester", "id"), ""),
    (("data", "last_visit"), "2025-02-29"), (("data", "last_visit"), "2025-6-1"),
    (("data", "last_visit"), "2025-06-01T00:00:00Z"), (("data", "last_visit"), "06/01/2025"),
    (("data", "last_visit"), "2025-13-01"), (("data", "last_visit"), 20250601),
    (("data", "last_visit"), MISSING),
    (("context", "time"), MISSING), (("context", "time"), "2026-03-01T10:00:00"),
    (("context", "time"), "2026-02-30T10:00:00Z"), (("context", "time"), "2026-03-01T24:00:00Z"),
    (("context", "time"), "2026-03-01T10:00Z"), (("context", "time"), "2026-03-01 10:00:00Z"),
    (("context", "time"), "2026-03-01T10:00:00+0200"),
    (("context", "time"), "2026-03-01T10:00:00+24:00"), (("context", "time"), "2026-3-1"),
    (("context", "time"), ""), (("context", "time"), 1772359200),
    (("context", "time"), "2026-03-01T10:00:00.Z"), (("context", "time"), "2026-06-30T23:59:60Z"),
    (("context", "time"), "2025-12-31T10:00:00"), (("context", "time"), None),
    (("context",), MISSING), (("context",), None), (("data",), "lab_result"),
    (("context", "destination"), "Canada"), (("context", "destination"), "ca"),
    (("context", "destination"), 124), (("context", "destination"), None),
    (("context", "facts"), ["court_orders"]), (("context", "facts"), "emergency"),
    (("context", "facts"), {"emergency": "yes"}), (("context", "emergency"), 1),
    (("context", "consent"), "sud_consent"), (("context", "consent"), ["sud"]),
    (("context", "consent"), [{"id": "sud_consent", "expires": "2027-02-29"}]),
    (("context", "consent"), [{"id": "sud_consent", "expires": "2027-01-01T00:00:00Z"}]),
    (("context", "consent"), [{"id": "sud_consent", "withdrawn": 20270101}]),
    (("context", "consent"), [{"id": "sud_consent", "until": "2027-01-01"}]),
    (("context", "consent"), [{"expires": "2027-01-01"}]),
    (("context", "consent"), [{"id": "sud_consent", "expires": None}]),
    (("context", "consent"), [None]), (("context", "consent"), None),
    (("context", "objections"), ["plan"]), (("context", "objections"), "plan_disclosure"),
    (("context", "objections"), [1]),
    (("data", "owner"), "p-1"), (("requester", "name"), "Dr X"), (("user",), "u-1"),
    (("context", "reason"), "audit"),
]


def set_path(request, path, value):
    node = request
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if value is MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def bad_request_text(rng):
    request = valid_request(rng)
    if rng.random() < 0.3:  # bad input is found before E
        request["context"]["time"] = "2025-06-01T00:00:00Z"
    roll = rng.random()
    if roll < 0.06:
        text = json.dumps(request)
        return '{"action": "use", ' + text[1:]  # a key given twice
    if roll < 0.09:
        return rng.choice(('["lab_result"]', '{"data": NaN}', json.dumps(request)[:-1],
                           json.dumps(request) + " {}"))
    path, value = rng.choice(BAD_VALUES)
    set_path(request, path, value)
    return json.dumps(request)


def generate(count, seed):
    """`count` request texts, the same for the same seed."""
    rng = random.Random(seed)
    return [bad_request_text(rng) if rng.random() < 0.1 else json.dumps(valid_request(rng))
            for _ in range(count)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default="-")
    args = parser.parse_args()
    lines = "".join(line + "\n" for line in generate(args.count, args.seed))
    if args.output == "-":
        sys.stdout.write(lines)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(lines)


if __name__ == "__main__":
    main()
