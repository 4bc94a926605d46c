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
from generator.render.template_data import FORMS_FILE, SHIPPED, SHIPPED_FOLDER, Templates, form_data
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
    assert [name for name, _ in SHIPPED.files()] == sorted(p.name for p in SHIPPED_FOLDER.iterdir() if p.is_file())


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


def test_people_lists_and_submission_routes_come_from_forms_toml(tmp_path, settings):
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

    routes = own_forms(tmp_path / "routes", 'submitted_to = "the LEA\'s assigned CDE FMTA Consultant"',
                       'submitted_to = "the county office"')
    assert {packet_contexts(p, routes)["plan"]["submitted_to"] for p in packets} <= \
        {"the county office", "the SELPA, in the format the SELPA designates"}
    assert "the county office" in {packet_contexts(p, routes)["plan"]["submitted_to"] for p in packets}


@pytest.mark.parametrize("old,new,message", [
    ('overdue = "F4CCCC"', 'overdue = "red"', r"\[colours\] overdue must be a colour as six hex digits"),
    ('"Leadership Team Member"]', '"Leadership Team Membr"]', r"\[people\] leadership_team: unknown role\(s\) "
                                                               r"Leadership Team Membr"),
    ('plan = "Plan for Improvement"\n', '', r"\[titles\] has no title for the form 'plan'"),
    ('[[submission_routes]]\nsubmitted_to', '[[submission_routes]]\ndesignation = "Intensive"\nsubmitted_to',
     r"the last \[\[submission_routes\]\] must name no designation"),
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
    assert set(form_data().titles) == {form.key for form in FORMS}
    assert dataclasses.asdict(form_data())["colours"] == {"overdue": "F4CCCC", "ready": "D9EAD3",
                                                          "not_ready": "F4CCCC"}


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
