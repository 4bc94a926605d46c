"""The templates folder is a setting: a district's own folder replaces shipped templates file by file,
the forms' fixed wording comes from forms.toml, and an installed (non-editable) generator finds the
templates it ships from any folder."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from generator.findings import PacketsError
from generator.model.status import OVERDUE
from generator.output.build_record import templates_digest
from generator.render import FORMS, packet_contexts
from generator.render.checkin import AFTER_ACTION_REVIEW, DISTRICT_REFLECTION
from generator.render.template_data import (
    FORMS_FILE,
    SHIPPED,
    SHIPPED_FOLDER,
    Templates,
    designations,
    form_data,
    grid_columns,
    state_names,
    state_profile,
)
from generator.settings import load_settings

from conftest import AS_OF, ROOT, run_cli

SHIPPED_FORMS = (SHIPPED_FOLDER / FORMS_FILE).read_text(encoding="utf-8")


def with_settings(inputs: Path, extra: str) -> None:
    path = inputs / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + extra + "\n", encoding="utf-8")


def restyled_plan(folder: Path, marker: str) -> Path:
    """Write a copy of the shipped plan.docx into folder with `marker` as an extra first paragraph."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = Document(str(SHIPPED_FOLDER / "plan.docx"))
    doc.paragraphs[0].insert_paragraph_before(marker)
    doc.save(str(folder / "plan.docx"))
    return folder / "plan.docx"


def texts(path: Path) -> list[str]:
    doc = Document(str(path))
    return [p.text for p in doc.paragraphs] + [p.text for s in doc.sections for p in s.footer.paragraphs]


def document(output: Path, school_id: str, form: str) -> Path:
    (path,) = output.glob(f"{school_id}-*/{school_id}-{form}")
    return path


# --- the setting ---------------------------------------------------------------------------------------------

def test_the_folder_is_read_relative_to_the_inputs_and_the_option_overrides_it(inputs, tmp_path):
    (inputs / "district-forms").mkdir()
    with_settings(inputs, '[templates]\nfolder = "district-forms"')
    assert load_settings(inputs).templates == inputs / "district-forms"
    other = tmp_path / "other"
    other.mkdir()
    assert load_settings(inputs, templates=other).templates == other
    # Without either, only the shipped templates.
    assert load_settings(ROOT / "inputs").templates is None


def test_a_folder_that_does_not_exist_is_one_error_line(inputs, output):
    with_settings(inputs, '[templates]\nfolder = "no-such-folder"')
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "[templates] folder = 'no-such-folder'" in lines[0]
    assert "no such folder" in lines[0] and not output.exists()

    result = run_cli("context", "0101", "--inputs", str(inputs), "--templates", str(inputs / "gone"))
    assert result.exit_code == 1 and "--templates" in result.output and "no such folder" in result.output


def test_an_unknown_key_in_the_templates_table_is_refused(inputs):
    (inputs / "forms").mkdir()
    with_settings(inputs, '[templates]\nfoldr = "forms"')
    with pytest.raises(PacketsError, match=r"unknown key \[templates\] foldr\. Did you mean folder\?"):
        load_settings(inputs)


# --- a district's own folder, file by file --------------------------------------------------------------------

def test_a_folder_holding_only_a_restyled_plan_changes_only_the_plan(inputs, tmp_path):
    shipped_out, own_out = tmp_path / "shipped", tmp_path / "own"
    args = ("--inputs", str(inputs), "--as-of", AS_OF, "--jobs", "1", "--school", "0101")
    assert run_cli("build", "--output", str(shipped_out), *args).exit_code == 0
    restyled_plan(inputs / "district-forms", "Riverbend restyle")
    with_settings(inputs, '[templates]\nfolder = "district-forms"')
    result = run_cli("build", "--output", str(own_out), *args)
    assert result.exit_code == 0, result.output

    plan = texts(document(own_out, "0101", "plan.docx"))
    assert plan[0] == "Riverbend restyle" and plan[1:] == texts(document(shipped_out, "0101", "plan.docx"))
    for form in ("schedule.docx", "isbe_grid.docx", "review.docx"):
        name = next(f for f in FORMS if f.template == form).key + ".docx"
        assert texts(document(own_out, "0101", name)) == texts(document(shipped_out, "0101", name))


def test_the_digest_covers_the_files_a_run_reads(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "notes.txt").write_text("not a template: never read")
    assert templates_digest(Templates(own)) == templates_digest(SHIPPED)
    restyled_plan(own, "Restyled")
    assert templates_digest(Templates(own)) != templates_digest(SHIPPED)
    (own / "plan.docx").unlink()
    assert templates_digest(Templates(own)) == templates_digest(SHIPPED)
    assert [name for name, _ in SHIPPED.files()] == sorted(p.relative_to(SHIPPED_FOLDER).as_posix()
                                                           for p in SHIPPED_FOLDER.rglob("*") if p.is_file())
    assert "states/il.toml" in dict(SHIPPED.files())
    (own / "states").mkdir()
    (own / "states" / "tx.toml").write_text("name = 'Texas'")       # a state the district adds: read, so hashed
    assert templates_digest(Templates(own)) != templates_digest(SHIPPED)


def test_restyling_a_template_of_the_folder_rebuilds_the_packets(inputs, output):
    own = inputs / "district-forms"
    own.mkdir()
    with_settings(inputs, '[templates]\nfolder = "district-forms"')
    args = ("--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1")
    assert run_cli("build", *args).exit_code == 0
    assert run_cli("build", *args).output.count(": unchanged ->") == 9
    restyled_plan(own, "Restyled")
    again = run_cli("build", *args)
    assert ": unchanged ->" not in again.output
    assert texts(document(output, "0101", "plan.docx"))[0] == "Restyled"


# --- forms.toml: what the forms say besides their template files ------------------------------------------------

def own_forms(folder: Path, old: str, new: str) -> Templates:
    folder.mkdir(parents=True, exist_ok=True)
    assert SHIPPED_FORMS.count(old) == 1, old
    (folder / FORMS_FILE).write_text(SHIPPED_FORMS.replace(old, new), encoding="utf-8")
    return Templates(folder)


def test_a_title_is_written_once_in_forms_toml(inputs, output):
    own_forms(inputs / "district-forms", 'plan = "Plan for Improvement"', 'plan = "School Improvement Plan"')
    with_settings(inputs, '[templates]\nfolder = "district-forms"')
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1",
                     "--school", "0101")
    assert result.exit_code == 0, result.output
    plan = texts(document(output, "0101", "plan.docx"))
    assert plan[0] == "School Improvement Plan"                                    # the title paragraph
    assert "Riverbend High School \u00b7 School Improvement Plan \u00b7 2026-27" in plan      # the footer
    assert not any("Plan for Improvement" in line for line in plan)
    shown = json.loads(run_cli("context", "0101", "--inputs", str(inputs), "--form", "plan").output)
    assert shown["title"] == "School Improvement Plan"


def test_the_overdue_shading_comes_from_forms_toml(tmp_path, settings):
    from generator.pipeline import load_district
    packet = next(p for p in load_district(settings)[0].packets
                  if any(r["status"] == OVERDUE for r in packet_contexts(p)["schedule"]["rows"]))
    templates = own_forms(tmp_path / "own", 'overdue = "F4CCCC"', 'overdue = "ffee00"')
    rows = packet_contexts(packet, templates)["schedule"]["rows"]
    assert any(r["status"] == OVERDUE for r in rows)
    assert {r["shade"] for r in rows if r["status"] == OVERDUE} == {"FFEE00"}
    assert {r["shade"] for r in packet_contexts(packet)["schedule"]["rows"] if r["status"] == OVERDUE} == {"F4CCCC"}


def test_people_lists_come_from_forms_toml(tmp_path, settings):
    from generator.pipeline import load_district
    packets = load_district(settings)[0].packets
    templates = own_forms(tmp_path / "own", 'review_signatures = ["Principal", "Leadership Team Chair", '
                                                '"Leadership Team Co-Chair", "Facilitator",\n'
                                                '                     "Leadership Team Member", "Superintendent", '
                                                '"Board of Education"]',
                          'review_signatures = ["Superintendent"]')
    review = packet_contexts(packets[0], templates)["review"]
    assert [s["role"] for s in review["signatures"] if s["role"] in ("Principal", "Superintendent")] == \
        ["Superintendent"]



@pytest.mark.parametrize("old,new,message", [
    ('overdue = "F4CCCC"', 'overdue = "red"', r"\[colours\] overdue must be a colour as six hex digits"),
    ('"Leadership Team Member"]', '"Leadership Team Membr"]', r"\[people\] leadership_team: unknown role\(s\) "
                                                               r"Leadership Team Membr"),
    ('plan = "Plan for Improvement"\n', '', r"\[titles\] has no title for the form 'plan'"),
    ('[isbe_grid]', '[[submission_routes]]\nsubmitted_to = "ISBE"\n\n[isbe_grid]',       # an older copy's routes
     r"\[\[submission_routes\]\] is now part of the state profile .* Fix: remove it from this file"),
    ('"July"]', '"July", "August"]\nmonth = 3', r"unknown key \[isbe_grid\] month\. Did you mean months\?"),
])
def test_a_mistake_in_forms_toml_is_one_error_naming_the_file(tmp_path, settings, old, new, message):
    from generator.pipeline import load_district
    packet = load_district(settings)[0].packets[0]
    templates = own_forms(tmp_path / "own", old, new)
    with pytest.raises(PacketsError, match=message) as caught:
        packet_contexts(packet, templates)
    assert str(caught.value).startswith(str(tmp_path / "own" / FORMS_FILE))


def test_the_grid_months_come_from_forms_toml(tmp_path):
    from generator.render.template_data import grid_activities
    templates = own_forms(tmp_path / "own", '"June", "July"]', '"June"]')
    with pytest.raises(PacketsError, match=r"month 'July' is not one of: .*\(\[isbe_grid\] months in forms.toml\)"):
        grid_activities(templates)
    assert form_data().grid_months[0] == "Designation release"


# --- installed as a package ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_non_editable_install_builds_from_another_folder(tmp_path):
    """pip install . (not -e) ships templates/ as generator/templates, and the installed generator builds the
    sample district from a folder that is neither the repository nor its templates' parent."""
    source, target, work = tmp_path / "source", tmp_path / "site", tmp_path / "elsewhere"
    work.mkdir()
    # From a copy: pip builds in the source tree, and the repository's build/ is not this test's to leave.
    for name in ("generator", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "~$*"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(source)], check=True, capture_output=True, cwd=work)
    installed = target / "generator"
    shipped = sorted(p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts)
    assert sorted(p.relative_to(installed / "templates").as_posix()
                  for p in (installed / "templates").rglob("*") if p.is_file()) == shipped
    for module in (ROOT / "generator").rglob("*.py"):      # every sub-package is listed in pyproject.toml
        assert (installed / module.relative_to(ROOT / "generator")).is_file(), module

    shutil.copytree(ROOT / "inputs", work / "inputs")
    env = {**os.environ, "PYTHONPATH": str(target)}
    script = ("import sys, generator; assert generator.__file__.startswith(sys.argv[1]), generator.__file__; "
              "from generator.cli import main; sys.argv[1:2] = []; main()")
    run = subprocess.run([sys.executable, "-c", script, str(target), "build", "--inputs", "inputs", "--output", "out",
                          "--as-of", AS_OF, "--jobs", "1"], cwd=work, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Built 9" in run.stdout
    plan = texts(document(work / "out", "0101", "plan.docx"))
    assert plan[0] == "Plan for Improvement"
    tracker = openpyxl.load_workbook(document(work / "out", "0101", "isbe-grid-tracker.xlsx"))
    assert tracker.active["A1"].value.startswith("ISBE Planning Year Activities \u2014 Riverbend High School")


def test_the_form_keys_of_forms_toml_are_the_forms():
    assert set(form_data().titles) == {form.key for form in FORMS} | {AFTER_ACTION_REVIEW, DISTRICT_REFLECTION}
    assert dataclasses.asdict(form_data())["colours"] == {"overdue": "F4CCCC", "ready": "D9EAD3",
                                                          "not_ready": "F4CCCC"}


@pytest.mark.parametrize("template", sorted(p.name for p in SHIPPED_FOLDER.glob("*.docx")))
def test_every_repeated_header_row_keeps_with_the_row_below(template):
    """A header row alone at a page foot is a stranded heading (issue 17): Word and LibreOffice keep a row
    whose paragraphs are keep-with-next on the page of the row below."""
    W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    body = Document(str(SHIPPED_FOLDER / template)).element.body
    headers = [tr for tr in body.iter(f"{W}tr") if tr.find(f"{W}trPr/{W}tblHeader") is not None]
    for tr in headers:
        paragraphs = list(tr.iter(f"{W}p"))
        assert paragraphs and all(p.find(f"{W}pPr/{W}keepNext") is not None for p in paragraphs), template


# --- designations.csv and the state profiles (states/*.toml) ------------------------------------------------------

def own_file(folder: Path, name: str, old: str, new: str) -> Templates:
    """A templates folder holding a copy of the shipped `name` with `old` replaced by `new`."""
    shipped = (SHIPPED_FOLDER / name).read_text(encoding="utf-8")
    assert shipped.count(old) == 1, old
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(shipped.replace(old, new), encoding="utf-8")
    return Templates(folder)


def test_the_shipped_designations_say_what_each_is_identified_for():
    vocabulary = designations()
    meaning = {d.name: d.identification for d in vocabulary.designations}
    assert meaning == {"Intensive": "Intensive", "Comprehensive": "Comprehensive", "Targeted": "Targeted",
                       "Additional Targeted": "Targeted", "Not identified": "Not identified",
                       "Commendable": "Not identified", "Exemplary": "Not identified"}
    assert vocabulary.blank.name == "Not identified"
    synonyms = {s for d in vocabulary.designations for s in d.synonyms}
    assert {"CSI", "TSI", "ATSI", "No Status", "ISI"} <= synonyms


@pytest.mark.parametrize("old,new,message", [
    ("Exemplary,Not identified,", "Exemplary,Honoured,", r"row 8: Identification 'Honoured' is not one of"),
    ("Exemplary School,", "Exemplary School; CSI,", r"row 8: 'CSI' is also Comprehensive's"),
])
def test_a_mistake_in_designations_csv_is_one_error_naming_it(tmp_path, old, new, message):
    templates = own_file(tmp_path, "designations.csv", old, new)
    with pytest.raises(PacketsError, match=message) as caught:
        designations(templates)
    assert str(caught.value).startswith(str(tmp_path / "designations.csv"))


def test_a_blank_designation_is_the_first_that_is_not_identified(tmp_path):
    templates = own_file(tmp_path, "designations.csv", "Not identified,Not identified,", "Not identified,Targeted,")
    assert designations(templates).blank.name == "Commendable"


def test_designations_csv_needs_one_that_is_not_identified(tmp_path):
    (tmp_path / "designations.csv").write_text("Designation,Identification,Synonyms\nIntensive,Intensive,ISI\n",
                                               encoding="utf-8")
    with pytest.raises(PacketsError, match="no designation is 'Not identified'"):
        designations(Templates(tmp_path))


def test_the_shipped_state_profiles():
    illinois, california = state_profile(SHIPPED, "IL"), state_profile(SHIPPED, "ca")
    assert (illinois.name, illinois.agency, california.name, california.agency) == \
        ("Illinois", "ISBE", "California", "CDE")
    assert state_profile(SHIPPED, "") == illinois                                     # the default
    assert illinois.holds("isbe-grid", "Comprehensive") and not illinois.holds("isbe-grid", "Not identified")
    assert illinois.holds("plan", "Not identified")
    assert not any(california.holds(key, ident) for key in ("isbe-grid", "isbe-grid-tracker")
                   for ident in ("Intensive", "Comprehensive", "Targeted", "Not identified"))
    assert illinois.rules == {"two-academic-goals": ("Intensive", "Comprehensive", "Targeted")}
    assert california.rules == {"two-academic-goals": ()}


@pytest.mark.parametrize("old,new,message", [
    ("isbe-grid-tracker =", "isbe-grid-trackr =", r"\[forms\] isbe-grid-trackr is not a form"),
    ("two-academic-goals =", "two-goals =", r"\[rules\] two-goals is not a readiness rule"),
    ('isbe-grid = ["Intensive", "Comprehensive", "Targeted"]', 'isbe-grid = ["Intensive", "CSI"]',
     r"\[forms\] isbe-grid: 'CSI' is not an identification"),
    ('agency = "ISBE"', 'agency = ""', "agency is missing"),
    ('[[submission_routes]]\nsubmitted_to = "ISBE',
     '[[submission_routes]]\ndesignation = "Targeted"\nsubmitted_to = "ISBE',
     r"the last \[\[submission_routes\]\] must name no designation"),
    ('name = "Illinois"', 'name = "Illinois"\nwording = "x"', r"unknown key wording"),
])
def test_a_mistake_in_a_state_profile_is_one_error_naming_it(tmp_path, old, new, message):
    templates = own_file(tmp_path, "states/il.toml", old, new)
    with pytest.raises(PacketsError, match=message) as caught:
        state_profile(templates, "IL")
    assert str(caught.value).startswith(str(tmp_path / "states" / "il.toml"))


def test_a_district_may_add_a_state_of_its_own(tmp_path):
    shipped = (SHIPPED_FOLDER / "states" / "ca.toml").read_text(encoding="utf-8")
    (tmp_path / "states").mkdir()
    (tmp_path / "states" / "nv.toml").write_text(shipped.replace('name = "California"', 'name = "Nevada"'),
                                                 encoding="utf-8")
    templates = Templates(tmp_path)
    assert state_profile(templates, "Nevada").code == "nv"
    assert state_names(templates) == {"ca": "California", "il": "Illinois", "nv": "Nevada"}
    with pytest.raises(PacketsError, match=r'^where = "Texas" is not a state .*"NV" \(Nevada\)'):
        state_profile(templates, "Texas", "where")


def test_a_state_found_is_remembered_and_one_not_found_is_looked_for_again(tmp_path, monkeypatch):
    """Each packet asks for its state's profile three times: the states' folders are listed for the first
    ask only. A state a district has no file for yet is looked for again once it adds one."""
    shipped = (SHIPPED_FOLDER / "states" / "ca.toml").read_text(encoding="utf-8")
    templates = Templates(tmp_path)
    with pytest.raises(PacketsError, match='"Nevada" is not a state'):
        state_profile(templates, "Nevada")
    (tmp_path / "states").mkdir()
    (tmp_path / "states" / "nv.toml").write_text(shipped.replace('name = "California"', 'name = "Nevada"'),
                                                 encoding="utf-8")
    assert state_profile(templates, " nevada ").code == "nv"
    listed = []
    real = Templates.state_files
    monkeypatch.setattr(Templates, "state_files", lambda self: listed.append(self) or real(self))
    assert state_profile(templates, "Nevada").code == "nv" and not listed
    assert state_profile(templates, "NV").code == "nv" and listed == [templates]     # another way to name it


def test_a_wrong_applies_to_in_the_grid_columns_is_one_error(tmp_path):
    templates = own_file(tmp_path, "isbe_grid_columns.csv", "Needs Assessment Vendor,Intensive",
                         "Needs Assessment Vendor,ISI only")
    with pytest.raises(PacketsError, match=r"isbe_grid_columns.csv, row 8, column Applies To: 'ISI only' is not"):
        grid_columns(templates)


def test_the_calendar_organizer_roles_come_from_forms_toml_and_an_older_copy_lacks_them(tmp_path):
    from generator.render.template_data import form_data
    line = ('calendar_organizer = ["School Improvement Coordinator", "District Staff", "Superintendent", '
            '"Principal"]\n')
    older = form_data(own_forms(tmp_path / "older", line, ""))                   # a copy from before the list
    assert older.people["calendar_organizer"] == form_data().people["calendar_organizer"]
    assert form_data(own_forms(tmp_path / "own", line, 'calendar_organizer = ["Principal"]\n')) \
        .people["calendar_organizer"] == ("Principal",)
    with pytest.raises(PacketsError, match=r"\[people\] calendar_organizer: unknown role\(s\) Principle"):
        form_data(own_forms(tmp_path / "bad", line, 'calendar_organizer = ["Principle"]\n'))
