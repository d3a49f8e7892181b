#!/usr/bin/env python3
"""Hand-written cases for oracle.py: one per row of the reading's tables and per fine
point, each answer written from the reading, not computed. Also checks that generate.py
draws every row's condition both true and false."""

import copy
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402
import oracle  # noqa: E402

BASE = {
    "data": {"category": "lab_result", "subject": "p-1", "subject_age": 40,
             "care_team": ["c-1"], "representatives": ["r-1"], "care_contacts": ["f-1"],
             "last_visit": "2025-06-01", "self_paid": False, "deidentified": False},
    "requester": {"kind": "person", "id": "x-9"},
    "action": "access",
    "context": {"time": "2026-03-01T10:00:00Z"},
}


def request(kind, action, category, who="x-9", data=None, **context):
    """BASE with the target, requester id, data attributes and context keys given."""
    made = copy.deepcopy(BASE)
    made["requester"] = {"kind": kind, "id": who}
    made["action"] = action
    made["data"]["category"] = category
    made["data"].update(data or {})
    made["context"].update(context)
    return made


def allow(clause, *obligations):
    return {"decision": "allow", "clause": clause, "consent": None,
            "obligations": sorted(obligations), "error": False}


def deny(clause):
    return {"decision": "deny", "clause": clause, "consent": None, "obligations": [],
            "error": False}


def needs(clause, consent):
    return {"decision": "require-consent", "clause": clause, "consent": consent,
            "obligations": [], "error": False}


ERROR = {"decision": "deny", "clause": "default", "consent": None, "obligations": [],
         "error": True}


class Tables(unittest.TestCase):
    def check(self, req, expected):
        self.assertEqual(oracle.decide(req), expected, json.dumps(req))

    def test_e_before_the_notice(self):
        use = ("the_clinic", "use", "lab_result")
        self.check(request(*use, time="2025-12-31T23:59:59Z", purpose="treatment"), deny("E"))
        self.check(request(*use, time="2025-12-31T23:59:59.999Z", purpose="treatment"),
                   deny("E"))
        self.check(request(*use, time="2026-01-01T00:30:00+01:00", purpose="treatment"),
                   deny("E"))
        self.check(request(*use, time="2025-12-31T19:00:00-05:00", purpose="treatment"),
                   allow("T"))
        self.check(request(*use, time="2026-01-01", purpose="treatment"), allow("T"))
        self.check(request(*use, time="2025-12-31", purpose="treatment"), deny("E"))

    def test_s_prohibition(self):
        police = ("law_enforcement", "access", "sud_record")
        self.check(request(*police, time="2026-02-16T00:00:00Z", facts=["court_order"]),
                   deny("S"))
        self.check(request(*police, time="2026-02-16", facts=["court_order"],
                           consent=["sud_consent"]), deny("S"))
        self.check(request(*police, time="2026-02-15T23:59:59Z", facts=["court_order"]),
                   allow("L.le", "record_disclosure", "notify_patient"))
        self.check(request(*police, time="2026-02-16T00:30:00+01:00", facts=["court_order"]),
                   allow("L.le", "record_disclosure", "notify_patient"))
        self.check(request("law_enforcement", "access", "lab_result", facts=["court_order"]),
                   allow("L.le", "record_disclosure", "notify_patient"))

    def test_p_r_prohibition(self):
        plan = ("health_plan", "access", "billing_info")
        self.check(request(*plan, data={"self_paid": True}, purpose="payment",
                           objections=["plan_disclosure"]), deny("P.r"))
        self.check(request(*plan, data={"self_paid": True}, purpose="payment"), allow("P"))
        self.check(request(*plan, purpose="payment", objections=["plan_disclosure"]),
                   allow("P"))
        self.check(request("health_plan", "access", "lab_result", data={"self_paid": True},
                           facts=["required_by_law"], objections=["plan_disclosure"]),
                   deny("P.r"))

    def test_k_prohibition_and_permission(self):
        store = ("the_clinic", "store", "lab_result")
        visit = {"last_visit": "2020-03-01"}
        self.check(request(*store, data=visit, time="2026-03-01T00:00:00Z"), deny("K"))
        self.check(request(*store, data=visit, time="2026-02-28T23:59:59Z"), allow("K"))
        self.check(request(*store, data=visit, time="2026-02-28T23:30:00-01:00"), deny("K"))
        self.check(request(*store, data=visit, time="2026-03-01T00:30:00+01:00"), allow("K"))
        self.check(request("processor", "store", "billing_info", data=visit,
                           time="2026-03-01", facts=["contract_in_place"]), deny("K"))

    def test_k_from_29_february(self):
        store = ("the_clinic", "store", "health_info")
        leap = {"last_visit": "2020-02-29"}
        self.check(request(*store, data=leap, time="2026-02-28T23:59:59.999Z"), allow("K"))
        self.check(request(*store, data=leap, time="2026-03-01T00:00:00Z"), deny("K"))
        self.check(request(*store, data={"last_visit": "2024-02-29"},
                           time="2030-03-01T00:00:00Z"), deny("K"))
        self.check(request(*store, data={"last_visit": "2024-02-29"},
                           time="2030-02-28T23:59:59Z"), allow("K"))
        self.check(request(*store, data={"last_visit": "2019-12-31"},
                           time="2025-12-31T23:59:59Z"), deny("E"))
        self.check(request(*store, data={"last_visit": "2020-01-01"},
                           time="2026-01-01"), deny("K"))

    def test_s_consent_gate(self):
        doctor = ("clinician", "access", "sud_record", "c-1")
        self.check(request(*doctor, purpose="treatment"), needs("S", "sud_consent"))
        self.check(request(*doctor, purpose="treatment", consent=["sud_consent"]), allow("T"))
        self.check(request(*doctor, purpose="treatment", time="2026-02-15T23:59:59Z"),
                   allow("T"))
        self.check(request(*doctor, purpose="treatment", time="2026-02-15T23:30:00-01:00"),
                   needs("S", "sud_consent"))
        self.check(request("outside_party", "access", "sud_record",
                           facts=["required_by_law"]), needs("S", "sud_consent"))
        self.check(request("marketer", "access", "sud_record"), needs("S", "sud_consent"))
        self.check(request("processor", "use", "sud_record", facts=["contract_in_place"]),
                   allow("B"))
        self.check(request("person", "access", "sud_record", "p-1"), allow("A"))
        self.check(request("the_clinic", "use", "sud_record", purpose="treatment"),
                   allow("T"))
        # Choice 12: a request about the parent category is not a request about sud_record.
        self.check(request("clinician", "access", "clinical_record", "c-1",
                           purpose="treatment"), allow("T"))

    def test_t(self):
        self.check(request("the_clinic", "use", "lab_result", purpose="treatment"), allow("T"))
        self.check(request("the_clinic", "use", "lab_result"), deny("default"))
        self.check(request("clinician", "access", "lab_result", "c-1", purpose="treatment"),
                   allow("T"))
        self.check(request("clinician", "access", "lab_result", "c-2", purpose="treatment"),
                   deny("default"))
        self.check(request("clinician", "access", "lab_result", "c-1"), deny("default"))
        self.check(request("clinician", "use", "lab_result", "c-1", purpose="treatment"),
                   deny("default"))

    def test_p(self):
        self.check(request("the_clinic", "use", "lab_result", purpose="payment"), allow("P"))
        self.check(request("health_plan", "access", "billing_info", purpose="payment"),
                   allow("P"))
        self.check(request("health_plan", "access", "lab_result", purpose="payment"),
                   deny("default"))
        self.check(request("health_plan", "access", "health_info", purpose="payment"),
                   deny("default"))
        self.check(request("health_plan", "access", "billing_info"), deny("default"))

    def test_o(self):
        for purpose in ("operations", "quality_assessment", "training"):
            self.check(request("the_clinic", "use", "billing_info", purpose=purpose),
                       allow("O"))
        self.check(request("clinician", "access", "billing_info", "c-1", purpose="training"),
                   deny("default"))

    def test_a(self):
        self.check(request("person", "access", "health_info", "p-1"), allow("A"))
        self.check(request("person", "access", "billing_info", "p-1",
                           objections=["family_disclosure"]), allow("A"))
        self.check(request("person", "amend", "lab_result", "p-1"), allow("A"))
        self.check(request("person", "amend", "contact_info", "p-1"), allow("A"))
        self.check(request("person", "amend", "billing_info", "p-1"), deny("default"))
        self.check(request("person", "amend", "health_info", "p-1"), deny("default"))
        self.check(request("person", "amend", "lab_result", "f-1"), deny("default"))
        self.check(request("person", "store", "lab_result", "p-1"), deny("default"))

    def test_a_r(self):
        self.check(request("person", "access", "billing_info", "r-1",
                           data={"subject_age": 17}), allow("A.r"))
        self.check(request("person", "access", "billing_info", "r-1",
                           data={"subject_age": 18}), needs("A.r", "representative_access"))
        self.check(request("person", "access", "billing_info", "r-1",
                           data={"subject_age": 18}, consent=["representative_access"]),
                   allow("A.r"))
        self.check(request("person", "access", "billing_info", "f-1",
                           data={"subject_age": 17}), deny("default"))

    def test_f_and_f_e(self):
        self.check(request("person", "access", "lab_result", "f-1"), allow("F"))
        self.check(request("person", "access", "clinical_record", "f-1",
                           objections=["plan_disclosure"]), allow("F"))
        self.check(request("person", "access", "lab_result", "f-1",
                           objections=["family_disclosure"]), deny("default"))
        self.check(request("person", "access", "lab_result", "f-1",
                           objections=["family_disclosure"], facts=["emergency"]),
                   allow("F.e"))
        self.check(request("person", "access", "contact_info", "f-1", facts=["emergency"]),
                   deny("default"))
        self.check(request("person", "access", "health_info", "f-1"), deny("default"))
        # A representative of an adult who is also a named contact: A.r's requirement
        # comes after the permissions, so F decides.
        self.check(request("person", "access", "lab_result", "f-1",
                           data={"representatives": ["f-1"]}), allow("F"))

    def test_r_d(self):
        plain = {"deidentified": True}
        self.check(request("the_clinic", "use", "lab_result", data=plain, purpose="research"),
                   allow("R.d"))
        self.check(request("researcher", "access", "lab_result", data=plain,
                           purpose="research"), allow("R.d"))
        self.check(request("researcher", "access", "lab_result", data=plain),
                   deny("default"))
        self.check(request("clinician", "access", "lab_result", data=plain,
                           purpose="research"), deny("default"))

    def test_m_and_r(self):
        for clause, purpose, consent, outside in (
                ("M", "marketing", "marketing_authorization", "marketer"),
                ("R", "research", "research_authorization", "researcher")):
            self.check(request("the_clinic", "use", "contact_info", purpose=purpose),
                       needs(clause, consent))
            self.check(request(outside, "access", "contact_info", purpose=purpose),
                       needs(clause, consent))
            self.check(request(outside, "access", "contact_info", purpose=purpose,
                               consent=[consent]), allow(clause))
            self.check(request(outside, "access", "contact_info"), deny("default"))
        self.check(request("researcher", "access", "contact_info", purpose="marketing"),
                   needs("M", "marketing_authorization"))
        self.check(request("marketer", "access", "contact_info", purpose="research"),
                   deny("default"))

    def test_l_rows(self):
        self.check(request("public_health_authority", "access", "lab_result",
                           purpose="public_health"), allow("L.ph", "record_disclosure"))
        self.check(request("public_health_authority", "access", "lab_result"),
                   deny("default"))
        # First row decides, with its own obligations only.
        self.check(request("law_enforcement", "access", "lab_result",
                           facts=["court_order", "required_by_law"]),
                   allow("L.le", "record_disclosure", "notify_patient"))
        self.check(request("law_enforcement", "access", "lab_result",
                           facts=["required_by_law"]), allow("L", "record_disclosure"))
        self.check(request("public_health_authority", "access", "lab_result",
                           purpose="public_health", facts=["required_by_law"]),
                   allow("L.ph", "record_disclosure"))
        self.check(request("health_plan", "access", "lab_result", facts=["required_by_law"]),
                   allow("L", "record_disclosure"))
        self.check(request("outside_party", "access", "contact_info",
                           facts=["required_by_law"]), allow("L", "record_disclosure"))
        self.check(request("the_clinic", "use", "contact_info", facts=["required_by_law"]),
                   deny("default"))
        self.check(request("person", "access", "contact_info", facts=["required_by_law"]),
                   deny("default"))

    def test_b_and_x(self):
        deal = ["contract_in_place"]
        self.check(request("processor", "use", "lab_result", facts=deal), allow("B"))
        self.check(request("processor", "store", "lab_result", facts=deal), allow("B"))
        self.check(request("processor", "store", "lab_result"), deny("default"))
        self.check(request("processor", "transfer_abroad", "lab_result", facts=deal,
                           destination="CA"), allow("X"))
        self.check(request("processor", "transfer_abroad", "lab_result", facts=deal,
                           destination="US"), deny("default"))
        self.check(request("processor", "transfer_abroad", "lab_result", facts=deal),
                   deny("default"))
        self.check(request("processor", "transfer_abroad", "lab_result", destination="CA"),
                   deny("default"))
        self.check(request("the_clinic", "transfer_abroad", "lab_result", facts=deal,
                           destination="CA"), deny("default"))

    def test_m_s(self):
        self.check(request("the_clinic", "sell", "contact_info"),
                   needs("M.s", "sale_authorization"))
        self.check(request("the_clinic", "sell", "contact_info",
                           consent=["sale_authorization"]), allow("M.s"))
        self.check(request("processor", "sell", "contact_info", facts=["contract_in_place"]),
                   deny("default"))

    def test_default(self):
        self.check(request("person", "access", "lab_result"), deny("default"))


class FinePoints(unittest.TestCase):
    def check(self, req, expected):
        self.assertEqual(oracle.decide(req), expected, json.dumps(req))

    def marketing(self, consent, time="2026-03-01T00:00:00Z"):
        return request("marketer", "access", "contact_info", purpose="marketing",
                       consent=consent, time=time)

    def test_consent_dates(self):
        granted = allow("M")
        missing = needs("M", "marketing_authorization")
        record = {"id": "marketing_authorization", "expires": "2026-03-01"}
        self.check(self.marketing([record]), missing)
        self.check(self.marketing([record], "2026-02-28T23:59:59Z"), granted)
        self.check(self.marketing([record], "2026-02-28T23:30:00-01:00"), missing)
        self.check(self.marketing([record], "2026-03-01T00:30:00+01:00"), granted)
        withdrawn = {"id": "marketing_authorization", "withdrawn": "2026-03-01"}
        self.check(self.marketing([withdrawn]), missing)
        self.check(self.marketing([withdrawn], "2026-02-28"), granted)
        both = {"id": "marketing_authorization", "expires": "2027-01-01",
                "withdrawn": "2026-02-01"}
        self.check(self.marketing([both]), missing)
        later = {"id": "marketing_authorization", "expires": "2027-01-01",
                 "withdrawn": "2026-03-02"}
        self.check(self.marketing([later]), granted)
        self.check(self.marketing([{"id": "marketing_authorization"}]), granted)

    def test_consent_listed_more_than_once(self):
        old = {"id": "marketing_authorization", "expires": "2026-01-02"}
        self.check(self.marketing([old, "marketing_authorization"]), allow("M"))
        self.check(self.marketing([{"id": "marketing_authorization", "expires": "2027-01-01"},
                                   old]), allow("M"))
        self.check(self.marketing([old, {"id": "marketing_authorization",
                                         "withdrawn": "2026-02-01"}]),
                   needs("M", "marketing_authorization"))
        self.check(self.marketing(["sud_consent", "sud_consent"]),
                   needs("M", "marketing_authorization"))

    def test_purpose_absent_or_null(self):
        self.check(request("the_clinic", "use", "lab_result", purpose=None), deny("default"))
        self.check(request("the_clinic", "sell", "lab_result", purpose=None),
                   needs("M.s", "sale_authorization"))

    def test_facts_in_the_seeds_ways(self):
        for context in ({"facts": {"court_order": True}}, {"court_order": True},
                        {"facts": {"court_order": True, "emergency": False}},
                        {"facts": ["court_order", "court_order"]}):
            self.check(request("law_enforcement", "access", "lab_result", **context),
                       allow("L.le", "record_disclosure", "notify_patient"))
        self.check(request("law_enforcement", "access", "lab_result",
                           facts={"court_order": False}), deny("default"))

    def test_times(self):
        use = ("the_clinic", "use", "lab_result")
        for time in ("2026-03-01T10:00:00-00:00", "2026-03-01T10:00:00.5+05:30",
                     "2026-03-01T10:00:00+23:59"):
            self.check(request(*use, purpose="treatment", time=time), allow("T"))
        for time in ("2026-03-01T10:00:00", "2026-03-01t10:00:00z", "2026-03-01 10:00:00Z",
                     "2026-03-01T10:00Z", "2026-03-01T10:00:00+0200", "2026-06-30T23:59:60Z",
                     "2026-03-01T24:00:00Z", "2026-02-29T10:00:00Z", "2026-03-01T10:00:00+24:00",
                     "2026-3-1", "", "2026-03-01T10:00:00.Z", 20260301, None):
            self.check(request(*use, purpose="treatment", time=time), ERROR)

    def test_bad_input_before_any_rule(self):
        early = {"time": "2025-06-01T00:00:00Z"}
        self.check(request("the_clinic", "use", "lab_result", purpose="treatment", **early),
                   deny("E"))
        self.check(request("the_clinic", "use", "lab_results", **early), ERROR)
        self.check(request("the_clinic", "use", "lab_result", reason="audit", **early), ERROR)
        self.check(request("the_clinic", "use", "lab_result", data={"subject_age": "40"},
                           **early), ERROR)

    def test_unknown_names(self):
        self.check(request("patient", "access", "lab_result", "p-1"), ERROR)
        self.check(request("person", "read", "lab_result", "p-1"), ERROR)
        self.check(request("person", "access", "Lab_result", "p-1"), ERROR)
        self.check(request("person", "access", "lab_result", "p-1", purpose="care"), ERROR)
        self.check(request("person", "access", "lab_result", "p-1", consent=["sud"]), ERROR)
        self.check(request("person", "access", "lab_result", "p-1",
                           consent=[{"id": "sud"}]), ERROR)
        self.check(request("person", "access", "lab_result", "p-1", objections=["all"]),
                   ERROR)
        self.check(request("person", "access", "lab_result", "p-1", facts=["court"]), ERROR)
        self.check(request("person", "access", "lab_result", "p-1", facts={"court": True}),
                   ERROR)
        self.check(request("person", "access", "lab_result", "p-1", court=True), ERROR)

    def test_unknown_and_missing_fields(self):
        good = request("person", "access", "lab_result", "p-1")
        self.check(good, allow("A"))
        for path in (("data", "owner"), ("requester", "name"), ("user",)):
            bad = copy.deepcopy(good)
            parent = bad
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = "x"
            self.check(bad, ERROR)
        for key in oracle.DATA_FIELDS:
            bad = copy.deepcopy(good)
            del bad["data"][key]
            self.check(bad, ERROR)
        for part, key in (("requester", "id"), ("requester", "kind"), ("context", "time")):
            bad = copy.deepcopy(good)
            del bad[part][key]
            self.check(bad, ERROR)
        for key in ("data", "requester", "action", "context"):
            bad = copy.deepcopy(good)
            del bad[key]
            self.check(bad, ERROR)
        carried = copy.deepcopy(good)
        carried["id"] = 7
        carried["data"]["id"] = "record-1"
        self.check(carried, allow("A"))
        self.check(self_with(good, "consent", [{"id": "sud_consent", "note": "x"}]), ERROR)
        self.check(self_with(good, "consent", [{"expires": "2027-01-01"}]), ERROR)

    def test_wrong_types(self):
        good = request("person", "access", "lab_result", "r-1", data={"subject_age": 12})
        self.check(good, allow("A.r"))
        for key, value in (("subject_age", 12.0), ("subject_age", "12"), ("subject_age", True),
                           ("subject_age", 2 ** 63),
                           ("subject_age", None), ("self_paid", 1),
                           ("self_paid", "false"), ("deidentified", None),
                           ("care_team", "c-1"), ("representatives", [1]),
                           ("care_contacts", None), ("subject", 1), ("subject", ""),
                           ("last_visit", "2025-02-29"), ("last_visit", "2025-6-1"),
                           ("last_visit", "2025-06-01T00:00:00Z"), ("category", 1)):
            bad = copy.deepcopy(good)
            bad["data"][key] = value
            self.check(bad, ERROR)
        for value in (42, None, ""):
            bad = copy.deepcopy(good)
            bad["requester"]["id"] = value
            self.check(bad, ERROR)
        for key, value in (("consent", "sud_consent"), ("consent", None), ("consent", [None]),
                           ("consent", [{"id": "sud_consent", "expires": "2027-02-29"}]),
                           ("consent", [{"id": "sud_consent", "expires": "2027-01-01T00:00:00"}]),
                           ("consent", [{"id": "sud_consent", "withdrawn": None}]),
                           ("objections", "plan_disclosure"), ("objections", None),
                           ("facts", "emergency"), ("facts", {"emergency": "yes"}),
                           ("facts", None), ("emergency", 1), ("purpose", 3),
                           ("destination", ""),
                           ("destination", None), ("destination", 124)):
            self.check(self_with(good, key, value), ERROR)
        for bad in ("lab_result", None, ["x"]):
            self.check(dict(good, data=bad), ERROR)
            self.check(dict(good, context=bad), ERROR)
        self.check(["x"], ERROR)

    def test_texts(self):
        good = json.dumps(request("person", "access", "lab_result", "p-1"))
        self.assertEqual(oracle.decide_text(good), allow("A"))
        for text in ('{"action": "use", ' + good[1:], good[:-1], good + " {}", "", "[]",
                     '{"data": NaN}', good.replace('"subject_age": 40', '"subject_age": 4e1')):
            self.assertEqual(oracle.decide_text(text), ERROR, text)


def self_with(req, key, value):
    made = copy.deepcopy(req)
    made["context"][key] = value
    return made


class Generator(unittest.TestCase):
    def test_reproducible(self):
        self.assertEqual(generate.generate(200, 7), generate.generate(200, 7))
        self.assertNotEqual(generate.generate(200, 7), generate.generate(200, 8))

    def test_every_row_both_ways_and_bad_input(self):
        seen = set()
        answers = set()
        bad = 0
        texts = generate.generate(5000, 1)
        for text in texts:
            answer = oracle.decide_text(text)
            answers.add((answer["decision"], answer["clause"]))
            bad += answer["error"]
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            seen.update(oracle.row_conditions(parsed).items())
        always = {"permission K#16", "consent M.s#3"}
        for name, _ in oracle.ROWS:
            self.assertIn((name, True), seen, name)
            if name not in always:
                self.assertIn((name, False), seen, name)
        clauses = {"E", "T", "P", "P.r", "O", "A", "A.r", "F", "F.e", "M", "M.s", "R", "R.d",
                   "L", "L.ph", "L.le", "S", "B", "K", "X"}
        self.assertEqual({clause for _, clause in answers}, clauses | {"default"})
        self.assertTrue(0.07 * len(texts) < bad < 0.14 * len(texts), bad)


if __name__ == "__main__":
    unittest.main()
