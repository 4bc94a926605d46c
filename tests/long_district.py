"""A district of long plans, the size real published school improvement plans reach (issue 17): 30-40
strategies with 1-4 activities each across the planning year, goals' baselines and strategy names of
1,000-1,800 characters, long unbroken tokens (URLs), empty sections and a school with no goals at all.

The typesetting acceptance tests (tests/e2e/test_typesetting.py) render it through LibreOffice, and
`tools/bench.py --long N` times it; so it is deterministic (one seed, the same workbooks every run) and
small in school count (a LibreOffice run of it stays under about a minute).

    packets = long_packets()                 # four schools' Packets
    write_long_district(tmp_path / "inputs")  # the same, as input workbooks the CLI reads

The schools:
- 4101 Escuela Primaria Benito Juárez: 39 strategies, the longest texts, every section filled.
- 4102 Académie Saint-Exupéry Middle School: 31 strategies, no monitoring and no supports (empty sections).
- 4103 Sor Juana Inés de la Cruz High School: no goals at all (no benchmarks, no monitoring either).
- 4104 Nguyễn Thị Định Community School: 34 strategies, mostly short texts with a few long ones.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from pathlib import Path
from typing import Sequence

from generator.inputs.schema import STAGES, SUPPORT_CATEGORIES
from generator.model.records import (
    Activity,
    Benchmark,
    Goal,
    Meeting,
    MonitoringItem,
    Packet,
    Plan,
    ProblemOfPractice,
    ReviewEvent,
    Strategy,
    Support,
)

from factories import (
    AS_OF,
    DISTRICT,
    YEAR,
    person,
    school,
    task,
    write_inputs,
)

D = dt.date
SEED = 17
LONG_DISTRICT = "Distrito Escolar Unificado de Peñasco Valley"

# Words and phrases of real school improvement plans (IL-EMPOWER, ESSA, MTSS vocabulary), so line
# breaking meets the long words it meets in real plans ("differentiated", "paraprofessionals").
SUBJECTS = ["all students in grades 3-5", "English learners", "students with IEPs", "grade 9 students",
            "chronically absent students", "Tier 2 and Tier 3 students", "multilingual learners",
            "students receiving special education services", "low-income students", "ninth-grade cohorts"]
PRACTICES = ["explicit, systematic phonics instruction", "structured literacy routines",
             "collaborative data-driven instructional planning", "differentiated small-group intervention",
             "Positive Behavioral Interventions and Supports (PBIS)", "Multi-Tiered Systems of Support (MTSS)",
             "culturally responsive classroom management", "standards-aligned formative assessment",
             "high-dosage tutoring", "restorative practices", "co-teaching with paraprofessionals",
             "academic vocabulary instruction", "reciprocal teaching of comprehension strategies",
             "student-led conferences", "attendance-intervention case management",
             "Professional Learning Communities (PLCs)"]
MEASURES = ["NWEA MAP Growth reading", "IAR ELA proficiency", "IAR mathematics proficiency",
            "i-Ready diagnostic", "DIBELS 8th Edition oral reading fluency", "chronic absenteeism rate",
            "ACCESS for ELLs composite", "SAT evidence-based reading and writing", "Illinois 5Essentials survey",
            "out-of-school suspension rate", "freshman on-track rate"]
CLAUSES = ["as measured by {m}", "with fidelity monitored through quarterly walkthroughs",
           "using the district's instructional framework and the Danielson rubric",
           "during a protected 30-minute intervention block", "with job-embedded coaching every other week",
           "aligned with the Illinois Learning Standards", "so that {s} receive targeted support",
           "documented in the school's continuous improvement plan",
           "reviewed at monthly Building Leadership Team meetings",
           "supported by Title I and ESSER III funds", "with family engagement nights each semester",
           "following the recommendations of the What Works Clearinghouse practice guide"]
URLS = ["https://www.isbe.net/Documents/IL-EMPOWER-Continuous-Improvement-Framework-2026.pdf",
        "https://ies.ed.gov/ncee/wwc/PracticeGuide/21-foundational-reading-skills-K-3",
        "https://www.pbis.org/resource/tiered-fidelity-inventory-implementation-guide-v2-1",
        "https://illinoisreportcard.com/School.aspx?source=trends&Schoolid=560992040260001"]
ACTIONS = ["Train", "Coach", "Schedule", "Administer", "Analyze", "Review", "Convene", "Publish", "Observe",
           "Pilot", "Purchase", "Facilitate"]
OBJECTS = ["grade-level teams on the intervention protocol", "the universal screener in reading",
           "walkthrough data with the leadership team", "family literacy workshops",
           "new teachers on PBIS expectations", "the attendance-intervention team",
           "quarterly progress-monitoring cycles", "instructional rounds in every classroom",
           "the master schedule's intervention block", "decodable text sets for grades K-2",
           "data-review protocols for PLCs", "student-support team referrals"]
MILESTONES = ["All teachers trained", "Screener administered to 95% of students", "Walkthrough data shared",
              "Protocol adopted by every team", "Fidelity check at 80% or higher", "Family survey published"]
FUNDING = ["Title I, Part A", "Title II, Part A", "Title III", "IDEA Part B", "ESSER III", "General Fund",
           "Evidence-Based Funding", "1003 School Improvement Grant"]
EVIDENCE = ["ESSA Tier 1: strong evidence (WWC)", "ESSA Tier 2: moderate evidence", "ESSA Tier 3: promising",
            "ESSA Tier 4: demonstrates a rationale"]

# People, with the accents and apostrophes of real rosters.
PRINCIPALS = {"4101": "José Ángel Muñoz", "4102": "Françoise Lefèvre-Dubois", "4103": "Siobhán Ó Briain",
              "4104": "Nguyễn Thị Hương"}
STAFF = ["Zoë Brontë-Okafor", "Björn Åström", "Dolores Peña Ibáñez", "Chloé Saint-Géry", "Łukasz Wiśniewski",
         "Aoife Ní Dhomhnaill", "Renée O'Connor", "Mårten Sjögren"]


def _member(name: str, role: str, school_id: str | None, title: str):
    """A person whose accented name has a plain-ASCII address, as a district's mail system gives it."""
    local = re.sub(r"[^a-z]+", ".", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower())
    return person(name, role, school_id, title=title, email=f"{local.strip('.')}.{school_id or 'district'}@example.org")


def _sentence(rng: random.Random) -> str:
    clause = rng.choice(CLAUSES).format(m=rng.choice(MEASURES), s=rng.choice(SUBJECTS))
    return (f"{rng.choice(['Implement', 'Expand', 'Sustain', 'Strengthen', 'Monitor'])} "
            f"{rng.choice(PRACTICES)} for {rng.choice(SUBJECTS)}, {clause}.")


def text(rng: random.Random, length: int, url: bool = False) -> str:
    """A plan text of about `length` characters (never less), made of plan sentences; with `url`, one
    sentence cites a long URL, an unbroken token wider than any column."""
    sentences = [_sentence(rng)]
    while sum(len(s) + 1 for s in sentences) < length:
        sentences.append(_sentence(rng))
    if url:
        sentences.insert(rng.randrange(len(sentences)), f"See {rng.choice(URLS)} for the guidance.")
    return " ".join(sentences)


def _length(rng: random.Random, long_share: float) -> int:
    """Many short texts, some of 1,000-1,800 characters, as in real plans."""
    return rng.randint(1000, 1800) if rng.random() < long_share else rng.randint(40, 220)


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def _activities(rng: random.Random, strategy_id: str, owners: Sequence[str], long_share: float) -> list[Activity]:
    year_start, year_end = D(YEAR.start, 8, 17), D(YEAR.start + 1, 6, 4)
    found = []
    for _ in range(rng.randint(1, 4)):
        start = _day(rng, year_start, year_end - dt.timedelta(days=30))
        end = _day(rng, start + dt.timedelta(days=14), year_end)
        name = f"{rng.choice(ACTIONS)} {rng.choice(OBJECTS)}"
        if rng.random() < long_share / 2:
            name = f"{name}: {text(rng, rng.randint(300, 900))}"
        found.append(Activity(strategy_id, name, start, end, rng.choice(MILESTONES), rng.choice(FUNDING),
                              rng.choice(owners)))
    return found


def _goals(rng: random.Random, count: int, long_share: float) -> list[Goal]:
    goals = []
    for i in range(1, count + 1):
        gid, measure = f"G{i}", rng.choice(MEASURES)
        base, target = rng.randint(12, 48), 0
        target = base + rng.randint(4, 12)
        baseline = f"{base}%"
        if rng.random() < long_share or i == 1:     # the baseline narrative real plans write
            baseline = f"{base}% in spring {YEAR.start}. {text(rng, rng.randint(1000, 1800), url=i == 1)}"
        statement = (f"By May 31, {YEAR.start + 1}, the percentage of {rng.choice(SUBJECTS)} meeting or "
                     f"exceeding standards on the {measure} will increase from {base}% to {target}%.")
        if rng.random() < long_share:
            statement = f"{statement} {text(rng, rng.randint(600, 1500))}"
        benchmarks = (
            Benchmark(gid, "Short-term", f"Winter {measure}", f"{base}%", f"{base + 2}%", D(YEAR.start + 1, 1, 29)),
            Benchmark(gid, "Long-term", f"Spring {measure}", f"{base}%", f"{target}%", D(YEAR.start + 1, 5, 31)),
        )
        goals.append(Goal(gid, "Academic" if i <= 2 or rng.random() < 0.6 else "Non-academic", statement,
                          measure, baseline, f"{target}%", D(YEAR.start + 1, 5, 31),
                          student_group=rng.choice(SUBJECTS), benchmarks=benchmarks))
    return goals


def _plan(rng: random.Random, *, strategies: int, goals: int, long_share: float, owners: Sequence[str],
          monitoring: bool = True, supports: bool = True) -> Plan:
    problems = (
        ProblemOfPractice("P1", text(rng, _length(rng, long_share)), text(rng, _length(rng, long_share))),
        ProblemOfPractice("P2", text(rng, rng.randint(60, 200)), text(rng, rng.randint(1000, 1500), url=True)),
    )
    the_goals = _goals(rng, goals, long_share)
    the_strategies = []
    for i in range(1, strategies + 1):
        sid = f"S{i}"
        length = rng.randint(1200, 1500) if i in (1, strategies // 2) else _length(rng, long_share)
        the_strategies.append(Strategy(
            sid, text(rng, length, url=i == 3), rng.choice(EVIDENCE), rng.choice(["P1", "P2"]),
            the_goals[(i - 1) % len(the_goals)].goal_id if the_goals else "",
            tuple(_activities(rng, sid, owners, long_share))))
    return Plan(
        problems=problems, goals=tuple(the_goals), strategies=tuple(the_strategies),
        monitoring=tuple(MonitoringItem(g.goal_id, text(rng, _length(rng, long_share)), "Three times a year",
                                        "Building Leadership Team") for g in the_goals) if monitoring else (),
        supports=tuple(Support(c, text(rng, _length(rng, long_share)), rng.choice(owners), "Monthly, September to May")
                       for c in SUPPORT_CATEGORIES) if supports else (),
    )


def _tasks(rng: random.Random, sid: str, principal: str) -> list:
    """The school's schedule: a task per stage with dated sub-rows out of order (as coordinators type them),
    one with a long detail."""
    rows = []
    dates = [D(2026, 9, 10), D(2026, 10, 15), D(2026, 10, 29), D(2026, 12, 10), D(2027, 2, 18), D(2027, 4, 22)]
    for k, stage in enumerate(STAGES):
        for j in range(3):
            expected = dates[(k + j) % len(dates)]
            rows.append(task("Collect Data on Strategy Indicators" if j == 0 else f"{rng.choice(ACTIONS)} "
                             f"{rng.choice(OBJECTS)}", expected, stage=stage,
                             responsibility=rng.choice(["Principal", "Leadership Team", "Coordinator"]),
                             school_id=sid, detail=text(rng, 1100) if (k, j) == (2, 1) else f"Step {j + 1}",
                             completed=expected if expected < AS_OF and j != 2 else None))
    return rows


def long_packets(seed: int = SEED, count: int = 4) -> list[Packet]:
    """The long district's packets (`count` of its schools, 1-4, then more like the last), the same every run."""
    rng = random.Random(seed)
    shapes = [
        dict(sid="4101", name="Escuela Primaria Benito Juárez", designation="Intensive", strategies=39, goals=4,
             long_share=0.45),
        dict(sid="4102", name="Académie Saint-Exupéry Middle School", designation="Comprehensive", strategies=31,
             goals=3, long_share=0.25, monitoring=False, supports=False),
        dict(sid="4103", name="Sor Juana Inés de la Cruz High School", designation="Targeted", strategies=3,
             goals=0, long_share=0.2, monitoring=False),
        dict(sid="4104", name="Nguyễn Thị Định Community School", designation="Comprehensive", strategies=34,
             goals=2, long_share=0.12),
    ]
    while len(shapes) < count:
        shapes.append({**shapes[-1], "sid": f"{4100 + len(shapes) + 1}", "name": f"{shapes[-1]['name']} Annex"})
    district_staff = [_member("Dr. Mariana Ibáñez-Castillo", "Superintendent", None, "Superintendent"),
                      _member("Renée Beaulieu", "School Improvement Coordinator", None, "Coordinator")]
    packets = []
    for shape in shapes[:count]:
        sid = str(shape["sid"])
        principal = PRINCIPALS.get(sid, rng.choice(STAFF))
        team = rng.sample(STAFF, 4)
        people = [_member(principal, "Principal", sid, "Principal"),
                  _member(team[0], "Leadership Team Chair", sid, "Instructional Coach"),
                  *[_member(name, "Leadership Team Member", sid, "Teacher") for name in team[1:]],
                  *district_staff]
        owners = [principal, *team]
        the_school = school(sid, str(shape["name"]), designation=str(shape["designation"]), support_level=2,
                            essa_status="CSI" if shape["designation"] == "Intensive" else "TSI", grades="K-8",
                            address="1200 Avenida de los Niños, Peñasco, IL 61000")
        plan = _plan(rng, strategies=int(shape["strategies"]), goals=int(shape["goals"]),  # type: ignore[call-overload]
                     long_share=float(shape["long_share"]), owners=owners,  # type: ignore[arg-type]
                     monitoring=bool(shape.get("monitoring", True)), supports=bool(shape.get("supports", True)))
        meetings = [Meeting("Building Leadership Team", D(2026, 9, 16) + dt.timedelta(weeks=4 * i), "3:30 PM",
                            "Library", school_id=sid) for i in range(8)] if sid != "4102" else []
        review = [ReviewEvent("first-draft", "First draft due", D(2027, 4, 23), "Principal"),
                  ReviewEvent("feedback", "Feedback round 1", D(2027, 5, 7), "Renée Beaulieu"),
                  ReviewEvent("board-approval", "Board approval", D(2027, 6, 15), "Board of Education")]
        packets.append(Packet(the_school, LONG_DISTRICT, YEAR, AS_OF, tuple(people),
                              tuple(_tasks(rng, sid, principal)), tuple(meetings), plan, tuple(review)))
    return packets


def write_long_district(folder: Path, seed: int = SEED, count: int = 4) -> Path:
    """Write the long district's input workbooks and settings.toml into `folder`."""
    return write_inputs(folder, long_packets(seed, count))


__all__ = ["DISTRICT", "LONG_DISTRICT", "long_packets", "write_long_district"]
