"""The input contract: every workbook, sheet and column the pipeline reads.

This module is the single source of truth for what district staff must provide. The loader
matches headers against it, validation checks values against it, and the documentation and
blank workbooks are generated from it, so the three cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache

# What a school's designation means to the forms and rules: the support it is identified for (Illinois's
# and ESSA's categories), or none. Every designation staff may write (templates/designations.csv: Commendable,
# CSI, ATSI, ...) names one of these; the ISBE grid, the submission routes, the readiness rules' scope and
# email.toml's [designation.X] tables go by it, while the forms print the designation itself.
INTENSIVE, COMPREHENSIVE, TARGETED, NOT_IDENTIFIED = "Intensive", "Comprehensive", "Targeted", "Not identified"
IDENTIFICATIONS = (INTENSIVE, COMPREHENSIVE, TARGETED, NOT_IDENTIFIED)
DESIGNATIONS = IDENTIFICATIONS[:3]        # the identifications that are support designations

# Each known role, in the order a packet lists people. The ISBE grid column each role staffs
# lives with the grid's reference data, not here.
ROLES = (
    "Superintendent",
    "School Improvement Coordinator",
    "District Staff",
    "Board of Education",
    "Principal",
    "Leadership Team Chair",
    "Leadership Team Co-Chair",
    "Facilitator",
    "Leadership Team Member",
    "Needs Assessment Vendor",
    "ISBE Contact",
)

# Other spellings staff use for a role; matched after normalising case and punctuation.
ROLE_SYNONYMS = {
    "Superintendent": ("supt", "district superintendent"),
    "School Improvement Coordinator": ("coordinator", "sic", "improvement coordinator"),
    "District Staff": ("district contact", "district liaison", "district representative"),
    "Board of Education": ("board member", "boe", "board president", "board"),
    "Principal": ("building principal", "school principal"),
    "Leadership Team Chair": ("slt chair", "chair"),
    "Leadership Team Co-Chair": ("slt co-chair", "co-chair", "cochair"),
    "Facilitator": ("slt facilitator", "meeting facilitator"),
    "Leadership Team Member": ("slt member", "leadership team", "team member"),
    "Needs Assessment Vendor": ("vendor", "needs-assessment vendor", "school level needs assessment vendor"),
    "ISBE Contact": ("isbe", "isbe liaison"),
}

# The five stages of Resource 6, in order; the schedule shows them in this order.
STAGES = (
    "Prepare for Plan Development",
    "Stage 1: Identify Critical Needs",
    "Stage 2: Develop Focused Plan",
    "Stage 3: Implement and Monitor the Focused Plan",
    "Stage 4: Evaluate the Improvement Process",
)

STAGE_SYNONYMS = {
    "Prepare for Plan Development": ("prepare", "preparation", "stage 0"),
    "Stage 1: Identify Critical Needs": ("stage 1", "identify critical needs"),
    "Stage 2: Develop Focused Plan": ("stage 2", "develop focused plan"),
    "Stage 3: Implement and Monitor the Focused Plan": (
        "stage 3", "implement and monitor the focused plan", "implement and monitor"),
    "Stage 4: Evaluate the Improvement Process": ("stage 4", "evaluate the improvement process"),
}

GOAL_TYPES = ("Academic", "Non-academic")

SUPPORT_CATEGORIES = ("Professional Learning", "Local Assessment", "Communication", "Oversight")

BENCHMARK_TERMS = ("Short-term", "Long-term")

STATUSES = ("Not started", "In progress", "Done")
GRID_STATUSES = STATUSES           # an ISBE grid activity's status, as its tracker's dropdown offers them
# A reviewer's decision on a review round, as the Plan Review form's boxes offer them.
REVIEW_DECISIONS_CHOICES = ("Approve", "Approve with revisions", "Revise and resubmit")

# The district's review cycle for each school's plan (seed 003), in the order it runs.
REVIEW_STEPS = ("First Draft", "Feedback Round", "Final Review", "Board Approval", "Check-in")

REVIEW_STEP_SYNONYMS = {
    "First Draft": ("draft", "first draft due", "draft due", "draft submitted"),
    "Feedback Round": ("feedback", "feedback due", "review round", "round"),
    "Final Review": ("final", "final review due"),
    "Board Approval": ("approval", "board", "board of education approval", "adoption", "final approval"),
    "Check-in": ("check in", "checkin", "check-in meeting", "progress check-in", "progress check"),
}

# Steps that happen once per school; the others (feedback rounds, check-ins) may come several times.
SINGLE_REVIEW_STEPS = ("First Draft", "Final Review", "Board Approval")


def header_key(text: object) -> str:
    """Return the form of a header (or choice) used for matching: lower case, letters and digits only.

    `School ID`, `school_id`, `School Id #` and ` SCHOOL\\nID ` all become `schoolid`.
    """
    return _key(str(text))


@lru_cache(maxsize=4096)
def _key(text: str) -> str:
    # Cached: every choice cell of a large district (roles, stages) is matched against each choice.
    return re.sub(r"[^0-9a-z]+", "", text.replace("\u00a0", " ").lower())


@dataclass(frozen=True)
class Column:
    """One column of an input sheet."""

    name: str                      # the header written in blank workbooks and documentation
    key: str                       # the field name the rest of the pipeline uses
    kind: str = "text"             # text | id | date | time | number | choice | email | repeats | dates
    required: bool = False         # the column must be present and every row must fill it
    synonyms: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # for kind == "choice"
    example: str = ""
    help: str = ""
    # For a choice column whose choices are data (designations.csv): each choice's other spellings, and
    # the file they come from, named in the fix for an unknown value. Else CHOICE_SYNONYMS has them.
    choice_synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    choices_file: str = ""
    blank: str = ""                # what an empty cell reads as ("" : nothing; an error when required)

    def matches(self, header: object) -> bool:
        """Return True when a sheet's header cell names this column."""
        wanted = {header_key(self.name), header_key(self.key)} | {header_key(s) for s in self.synonyms}
        return header_key(header) in wanted


@dataclass(frozen=True)
class Sheet:
    """One sheet of an input workbook; it may also be given as a CSV file of its own."""

    workbook: str                  # file stem: roster -> roster.xlsx
    name: str                      # sheet name inside the workbook
    columns: tuple[Column, ...]
    required: bool = True          # the sheet must exist
    help: str = ""
    key_columns: tuple[str, ...] = field(default=())  # keys that must be unique per row
    # A missing optional sheet is noted ("that part of the packet stays empty"), except one `packets collect`
    # adds when it first has something to write there: most districts never have it.
    note_if_missing: bool = True

    @property
    def csv_name(self) -> str:
        """Return the file name of this sheet when it is kept as a CSV file."""
        return f"{self.workbook}_{header_key(self.name)}.csv"

    def column(self, key: str) -> Column:
        """Return the column with this field name."""
        return next(c for c in self.columns if c.key == key)

    @cached_property
    def positions(self) -> dict[str, int]:
        """Return where each field's value is in a normalized row's cells (normalize.Row): a loop over every
        row of a large sheet reads `row.cells[i]`, not `row[field]`, which is a call each."""
        return {col.key: i for i, col in enumerate(self.columns)}


SCHOOL_ID = Column(
    "School ID", "school_id", "id",
    synonyms=("school code", "school number", "school no", "building id", "rcdts", "cds code"),
    example="0104",
    help="The school's code, as the district writes it (leading zeros are kept).",
)
SCHOOL_ID_REQUIRED = Column(
    SCHOOL_ID.name, SCHOOL_ID.key, "id", required=True, synonyms=SCHOOL_ID.synonyms,
    example=SCHOOL_ID.example, help=SCHOOL_ID.help,
)
SCHOOL_ID_OPTIONAL = Column(
    SCHOOL_ID.name, SCHOOL_ID.key, "id", synonyms=SCHOOL_ID.synonyms, example="",
    help="Leave blank for a district-wide row that applies to every school; "
         "a school's own row for the same item overrides it.",
)

# A row of Tasks, Meetings or Review may repeat: its date starts the series.
REPEATS = Column(
    "Repeats", "repeats", "repeats", synonyms=("repeat", "recurs", "recurrence", "how often"),
    example="2nd Tuesday",
    help="Leave blank for a single date. For a row that repeats, how often: monthly; twice monthly; "
         "2nd Tuesday; 1st and 3rd Wednesday; last Friday; weekly; every 2 weeks; quarterly. The row's "
         "date is the first of the series; each date becomes a row of its own.")
UNTIL = Column(
    "Until", "until", "date", synonyms=("repeat until", "repeats until", "through", "last date"),
    example="2027-06-08",
    help="The last day a repeating row may fall on. Blank: the end of the planning year (June 30).")
SKIP_DATES = Column(
    "Skip Dates", "skip", "dates", synonyms=("skip", "except", "except on", "exceptions", "not on"),
    example="2026-11-03; 2027-03-23",
    help="Dates a repeating row leaves out, separated by semicolons. Days on the Holidays sheet are "
         "left out too.")
RECURRENCE_COLUMNS = (REPEATS, UNTIL, SKIP_DATES)

SCHOOLS = Sheet("roster", "Schools", (
    SCHOOL_ID_REQUIRED,
    Column("School Name", "name", required=True, synonyms=("school", "name", "building"),
           example="José Martí Elementary School"),
    Column("Designation", "designation", "choice", required=True, choices=IDENTIFICATIONS, blank=NOT_IDENTIFIED,
           synonyms=("summative designation", "support designation", "essa designation"), example="Comprehensive",
           help="Blank: not identified. The designations and their other spellings (CSI, ATSI, TSI, "
                "Commendable, No Status, ...) are listed in templates/designations.csv."),
    Column("Support Level", "support_level", "number", synonyms=("level", "plan level"),
           example="2", help="1, 2 or 3: decides where the Plan for Improvement is submitted."),
    Column("ESSA Status", "essa_status", synonyms=("essa", "status"), example="CSI"),
    Column("Grades", "grades", synonyms=("grade span", "grade levels"), example="K-5"),
    Column("Address", "address", synonyms=("street address",), example="1200 Orchard Ave, Riverbend, IL 61000"),
    Column("Plan Date", "plan_date", "date", synonyms=("date of plan",), example="2027-05-15"),
    Column("Last Updated", "last_updated", "date", synonyms=("date of last update", "updated"),
           example="2027-06-01"),
    Column("Board Approval Date", "board_approval", "date",
           synonyms=("local board approval date", "boe approval date"), example="2027-07-15"),
), help="One row per school in the plan.", key_columns=("school_id",))

PEOPLE = Sheet("roster", "People", (
    SCHOOL_ID_OPTIONAL,
    Column("Name", "name", required=True, synonyms=("full name", "person", "staff name"),
           example="Siobhan O'Brien"),
    Column("Role", "role", "choice", required=True, choices=ROLES,
           synonyms=("plan role", "improvement role"), example="Principal"),
    Column("Title", "title", synonyms=("position", "job title"), example="Principal"),
    Column("Email", "email", "email", synonyms=("e-mail", "email address"), example="sobrien@riverbend204.org"),
    Column("Phone", "phone", synonyms=("telephone", "phone number"), example="(309) 555-0142"),
), help="One row per person and role; a person with two roles has two rows. "
        "Leave School ID blank for district staff who serve every school.")

TASKS = Sheet("timeline", "Tasks", (
    Column("Stage", "stage", "choice", required=True, choices=STAGES,
           synonyms=("process timeframe", "timeframe", "phase"), example="Stage 1: Identify Critical Needs"),
    Column("Task", "task", required=True, synonyms=("tasks", "activity"), example="Complete the DF"),
    Column("Detail", "detail", synonyms=("sub-task", "subtask", "step", "details"),
           example="Draft focus areas with the BLT",
           help="Optional sub-row under the task; several rows may share one task."),
    SCHOOL_ID_OPTIONAL,
    Column("Responsibility", "responsibility", required=True,
           synonyms=("responsible", "who", "owner", "person responsible"), example="District Leadership Team"),
    Column("Expected Date", "expected", "date", required=True,
           synonyms=("expected date of completion", "due", "due date", "expected completion"),
           example="2026-10-15"),
    Column("Completion Date", "completed", "date",
           synonyms=("date of completion", "actual date", "completed", "date completed"),
           example="2026-10-09",
           help="For a repeating row: every date of the series up to this one is done."),
    Column("Notes", "notes", synonyms=("note", "comments"), example=""),
    *RECURRENCE_COLUMNS,
), help="The Resource 6 tasks. Rows with no School ID apply to every school. A row may repeat "
        "(Repeats, Until, Skip Dates): each of its dates becomes a row of the schedule.",
    key_columns=("school_id", "stage", "detail", "task"))

STAGE_WINDOWS = Sheet("timeline", "Stages", (
    Column("Stage", "stage", "choice", required=True, choices=STAGES, synonyms=("process timeframe",),
           example="Stage 1: Identify Critical Needs"),
    Column("Starts", "starts", "date", required=True, synonyms=("start", "start date", "begins"),
           example="2026-09-01"),
), required=False, help="When each stage may start; a task expected before its stage starts is an error.",
    key_columns=("stage",))

MEETINGS = Sheet("timeline", "Meetings", (
    SCHOOL_ID_OPTIONAL,
    Column("Meeting", "meeting", required=True, synonyms=("meeting name", "event"),
           example="Leadership Team Meeting"),
    Column("Date", "date", "date", required=True, synonyms=("meeting date",), example="2026-09-16"),
    Column("Time", "time", "time", synonyms=("start time", "meeting time"), example="3:30 PM"),
    Column("Location", "location", synonyms=("place", "room", "where"), example="Library"),
    *RECURRENCE_COLUMNS,
), required=False, help="The Leadership Team Meeting Schedule. A meeting may repeat (Repeats, Until, "
                        "Skip Dates): each of its dates becomes a meeting of the schedule.")

REVIEW = Sheet("timeline", "Review", (
    Column(SCHOOL_ID.name, SCHOOL_ID.key, "id", synonyms=SCHOOL_ID.synonyms,
           help="Leave blank for the district's default cycle. A school's own rows for a step replace the "
                "district's rows for that step (e.g. its own feedback rounds)."),
    Column("Step", "step", "choice", required=True, choices=REVIEW_STEPS, synonyms=("review step", "review"),
           example="Feedback Round"),
    Column("Title", "title", synonyms=("title/round", "name", "description"), example="Feedback round 1",
           help="What the step is called. Blank: the step's name (feedback rounds and check-ins numbered)."),
    Column("Reviewer", "reviewer", synonyms=("reviewers", "reviewed by", "who", "responsible"),
           example="District Staff",
           help="A person's name, or a roster role (e.g. District Staff): a role names the school's "
                "people in that role."),
    Column("Due Date", "due", "date", required=True, synonyms=("due", "date", "deadline", "by"),
           example="2027-05-07"),
    *RECURRENCE_COLUMNS,
), required=False, help="The district's review cycle for each plan (first draft, feedback rounds, final "
                        "review, board approval) and its check-ins on the plan through the year. Check-ins "
                        "may repeat.")

GRID_PROGRESS = Sheet("timeline", "Grid Progress", (
    SCHOOL_ID_REQUIRED,
    Column("Month", "month", synonyms=("grid month",), example="January",
           help="The month band of the ISBE grid the activity is under, as the grid tracker shows it."),
    Column("Key Activity", "key_activity", required=True, synonyms=("activity", "key activities"),
           example="Submit the IQFSR to ISBE by January 31, 2027",
           help="The key activity as the school's ISBE grid tracker shows it (packets collect copies it)."),
    Column("Role", "role", required=True, synonyms=("grid role", "column"), example="School Leadership Team",
           help="The grid column (role) whose tasks the row is about, as the grid tracker shows it."),
    Column("Status", "status", "choice", choices=GRID_STATUSES, synonyms=("progress", "state"),
           example="In progress", blank="Not started"),
    Column("Date Completed", "completed", "date", synonyms=("completed", "completion date", "date of completion"),
           example="2027-01-28"),
    Column("Notes", "notes", synonyms=("note", "comments"), example=""),
), required=False, help="Each school's progress on its ISBE planning-year grid activities: what its grid tracker "
                        "shows in Status, Date Completed and Notes. `packets collect --apply` fills it from the "
                        "trackers schools return; a row may also be typed in. An activity without a row is "
                        "Not started.", key_columns=("school_id", "month", "key_activity", "role"),
    note_if_missing=False)

REVIEW_DECISIONS = Sheet("timeline", "Review Decisions", (
    SCHOOL_ID_REQUIRED,
    Column("Round", "round", required=True, synonyms=("review round", "title", "step"), example="Feedback round 1",
           help="The review round's title as the Plan Review form shows it (the Review sheet's Title)."),
    Column("Decision", "decision", "choice", choices=REVIEW_DECISIONS_CHOICES,
           synonyms=("recommendation", "outcome"), example="Approve with revisions"),
    Column("Strengths", "strengths", synonyms=("strength",), example="Goals are measurable and student-focused."),
    Column("Revisions Requested", "revisions", synonyms=("revisions", "changes requested", "comments"),
           example="Tie strategy S2 to a problem of practice."),
), required=False, help="The reviewers' decision and comments on each school's review rounds, as the Plan Review "
                        "form shows them. `packets collect --apply` fills it from the forms returned; a row may "
                        "also be typed in.", key_columns=("school_id", "round"), note_if_missing=False)

HOLIDAYS = Sheet("timeline", "Holidays", (
    Column("Holiday", "name", synonyms=("name", "day off", "closure", "description"), example="Thanksgiving break"),
    Column("Date", "date", "date", required=True, synonyms=("start", "from", "first day", "start date"),
           example="2026-11-25"),
    Column("Through", "through", "date", synonyms=("to", "until", "last day", "end date", "end"),
           example="2026-11-27", help="For a break of several days, its last day; blank for one day."),
), required=False, help="Days the district is closed; repeating rows (Tasks, Meetings, Review) leave them out.")

PROBLEMS = Sheet("goals", "Problems", (
    SCHOOL_ID_REQUIRED,
    Column("Problem ID", "problem_id", "id", required=True, synonyms=("problem", "pop id", "id"), example="P1"),
    Column("Problem of Practice", "text", required=True, synonyms=("problem statement", "pop"),
           example="Grade 3-5 students do not yet read grade-level informational text fluently."),
    Column("Root Cause", "root_cause", synonyms=("root cause analysis", "cause"),
           example="Core reading block lacks daily fluency practice with complex text."),
), required=False, help="Problems of practice from the needs assessment and root cause analysis.",
    key_columns=("school_id", "problem_id"))

GOALS = Sheet("goals", "Goals", (
    SCHOOL_ID_REQUIRED,
    Column("Goal ID", "goal_id", "id", required=True, synonyms=("goal", "goal number"), example="G1"),
    Column("Goal Type", "goal_type", "choice", required=True, choices=GOAL_TYPES,
           synonyms=("type", "category"), example="Academic"),
    Column("SMART Goal", "statement", required=True, synonyms=("goal statement", "smart goal statement"),
           example="By May 2027, the share of grade 3-5 students meeting IAR ELA standards rises from 24% to 32%."),
    Column("Measure", "measure", synonyms=("measurable outcome", "metric"), example="IAR ELA proficiency, grades 3-5"),
    Column("Baseline", "baseline", synonyms=("baseline value", "initial"), example="24%"),
    Column("Target", "target", synonyms=("target value", "year 1 target"), example="32%"),
    Column("Target Date", "target_date", "date", synonyms=("by", "goal date", "date"), example="2027-05-31"),
    Column("Year 2 Target", "target_year2", synonyms=("target year 2",), example="38%"),
    Column("Year 3 Target", "target_year3", synonyms=("target year 3",), example="45%"),
    Column("Student Group", "student_group", synonyms=("students", "population"), example="All students, grades 3-5"),
), required=False, help="SMART goals; ISBE requires at least two academic goals.",
    key_columns=("school_id", "goal_id"))

BENCHMARKS = Sheet("goals", "Benchmarks", (
    SCHOOL_ID_REQUIRED,
    Column("Goal ID", "goal_id", "id", required=True, synonyms=("goal",), example="G1"),
    Column("Term", "term", "choice", required=True, choices=BENCHMARK_TERMS,
           synonyms=("benchmark term", "short or long term"), example="Short-term"),
    Column("Benchmark", "benchmark", required=True, synonyms=("benchmark measure", "measure"),
           example="Winter MAP reading, grades 3-5: share at or above 50th percentile"),
    Column("Initial Data Point", "initial", synonyms=("initial", "baseline", "starting point"), example="31%"),
    Column("Expected Value", "expected", synonyms=("expected", "intended outcome", "target"), example="38%"),
    Column("Date", "date", "date", synonyms=("benchmark date", "by"), example="2027-01-31"),
    Column("Actual", "actual", synonyms=("actual result", "actual value", "result", "outcome"), example="36%",
           help="The result once it is measured; leave blank until then."),
), required=False, help="Short- and long-term benchmarks for each goal.")

STRATEGIES = Sheet("goals", "Strategies", (
    SCHOOL_ID_REQUIRED,
    Column("Strategy ID", "strategy_id", "id", required=True, synonyms=("strategy number",), example="S1"),
    Column("High-Leverage Strategy", "text", required=True, synonyms=("strategy", "high leverage strategy"),
           example="Daily explicit fluency instruction with complex informational text"),
    Column("Evidence Base", "evidence", synonyms=("evidence", "research base", "essa evidence level"),
           example="WWC Practice Guide: Foundational Skills (strong evidence)"),
    Column("Problem ID", "problem_id", "id", synonyms=("addresses problem", "problem of practice"), example="P1"),
    Column("Goal ID", "goal_id", "id", synonyms=("goal", "goals"), example="G1"),
), required=False, help="High-leverage strategies; each addresses a problem of practice.",
    key_columns=("school_id", "strategy_id"))

ACTIVITIES = Sheet("goals", "Activities", (
    SCHOOL_ID_REQUIRED,
    Column("Strategy ID", "strategy_id", "id", required=True, synonyms=("strategy",), example="S1"),
    Column("Activity", "activity", required=True, synonyms=("action", "key activity"),
           example="Train grade 3-5 teachers in repeated-reading routines"),
    Column("Start Date", "start", "date", synonyms=("start", "begins"), example="2026-08-17"),
    Column("End Date", "end", "date", synonyms=("end", "ends"), example="2026-10-30"),
    Column("Milestone", "milestone", synonyms=("milestones",), example="All grade 3-5 teachers trained"),
    Column("Funding Source", "funding", synonyms=("funding", "fund source", "budget source"),
           example="Title I, Part A"),
    Column("Person Responsible", "owner", synonyms=("responsible", "owner", "lead"), example="Siobhan O'Brien"),
), required=False, help="Each strategy's activities with their own timelines.")

MONITORING = Sheet("goals", "Monitoring", (
    SCHOOL_ID_REQUIRED,
    Column("Goal ID", "goal_id", "id", required=True, synonyms=("goal",), example="G1"),
    Column("Evidence", "evidence", required=True, synonyms=("data", "data source", "what is monitored"),
           example="MAP reading growth reports"),
    Column("Frequency", "frequency", synonyms=("how often", "when"), example="Three times a year"),
    Column("Responsible", "responsible", synonyms=("person responsible", "who"), example="Leadership team"),
), required=False, help="The monitoring plan; every SMART goal needs at least one row.")

SUPPORTS = Sheet("goals", "Supports", (
    SCHOOL_ID_REQUIRED,
    Column("Category", "category", "choice", required=True, choices=SUPPORT_CATEGORIES,
           synonyms=("type", "section"), example="Professional Learning"),
    Column("Description", "description", required=True, synonyms=("item", "text"),
           example="Coaching cycles on fluency routines for grade 3-5 teachers"),
    Column("Who", "who", synonyms=("audience", "responsible", "person responsible"), example="Instructional coach"),
    Column("When", "when", synonyms=("timing", "schedule", "frequency"), example="Monthly, September to May"),
), required=False, help="Professional learning needs, local assessments, the communication plan and "
                        "oversight responsibilities (who monitors what).")

SHEETS = (SCHOOLS, PEOPLE, TASKS, STAGE_WINDOWS, MEETINGS, REVIEW, HOLIDAYS, GRID_PROGRESS, REVIEW_DECISIONS,
          PROBLEMS, GOALS, BENCHMARKS, STRATEGIES, ACTIVITIES, MONITORING, SUPPORTS)

WORKBOOKS = ("roster", "timeline", "goals")
# The sheets only a packet's plan is made of (nothing else of the district reads them) and the workbook
# holding them: a rebuild leaves that workbook in its store, unloaded, when it has not changed.
PLAN_SHEETS = frozenset({PROBLEMS.name, GOALS.name, BENCHMARKS.name, STRATEGIES.name, ACTIVITIES.name,
                         MONITORING.name, SUPPORTS.name})


def canonical_choice(value: str, choices: tuple[str, ...], synonyms: dict[str, tuple[str, ...]] | None = None):
    """Return the canonical spelling of a choice typed in any case or punctuation, or None."""
    wanted = header_key(value)
    for choice in choices:
        names = (choice, *((synonyms or {}).get(choice, ())))
        if any(header_key(n) == wanted for n in names):
            return choice
    return None


@dataclass(frozen=True)
class Designation:
    """One designation a school may have, as templates/designations.csv lists it."""

    name: str                          # what the forms print: "Commendable", "Additional Targeted"
    identification: str                # one of IDENTIFICATIONS: what the forms and rules make of it
    synonyms: tuple[str, ...] = ()     # other spellings staff write: "CSI", "No Status"


@dataclass(frozen=True)
class DesignationVocabulary:
    """Every designation a roster may give a school (templates/designations.csv), in the file's order."""

    designations: tuple[Designation, ...]
    file: str = "designations.csv"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.designations)

    @property
    def blank(self) -> Designation:
        """What an empty Designation cell reads as: the first designation that is not identified."""
        return next(d for d in self.designations if d.identification == NOT_IDENTIFIED)

    def identification(self, name: str) -> str:
        """Return what a designation (as normalized: one of `names`) is identified for."""
        return next((d.identification for d in self.designations if d.name == name), NOT_IDENTIFIED)


def with_designations(sheet: Sheet, vocabulary: DesignationVocabulary) -> Sheet:
    """Return the sheet with its Designation column accepting the vocabulary's designations and their
    synonyms (a blank cell reads as the vocabulary's first designation that is not identified); a sheet
    without a Designation column is returned as it is."""
    if not any(c.key == "designation" for c in sheet.columns):
        return sheet
    columns = tuple(replace(c, choices=vocabulary.names, blank=vocabulary.blank.name, choices_file=vocabulary.file,
                            choice_synonyms=tuple((d.name, d.synonyms) for d in vocabulary.designations))
                    if c.key == "designation" else c for c in sheet.columns)
    return replace(sheet, columns=columns)


# The sheets whose rows may repeat, and the field holding each row's (first) date.
SERIES_DATE = {"Tasks": "expected", "Meetings": "date", "Review": "due"}

CHOICE_SYNONYMS = {"role": ROLE_SYNONYMS, "stage": STAGE_SYNONYMS, "step": REVIEW_STEP_SYNONYMS}
