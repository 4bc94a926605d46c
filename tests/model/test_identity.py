"""A returned tracker's row is known by what it is, not where it stands: the Row IDs of model/identity.py."""

from __future__ import annotations

from generator.model.identity import grid_key, grid_row_id, school_of, task_row_id

from factories import D, task


def test_a_grid_row_keeps_its_identity_when_the_schools_designation_changes():
    # The principal's column is titled by the designation: a school named Comprehensive last year and
    # Intensive now must still find its Grid Progress rows.
    before = grid_key("November", "Identify a school leadership team", "Comprehensive School Principal")
    after = grid_key("NOVEMBER", "Identify a school  leadership team.", "Intensive School Principal")
    assert before == after
    assert grid_row_id("0101", "November", "X", "Targeted School Principal") == \
        grid_row_id("0101", "November", "X", "Additional Targeted School Principal")


def test_other_roles_and_other_schools_stay_apart():
    assert grid_key("November", "X", "District Staff") != grid_key("November", "X", "Intensive School Principal")
    one, other = grid_row_id("0101", "November", "X", "ISBE"), grid_row_id("0102", "November", "X", "ISBE")
    assert one != other and school_of(one) == "0101" and school_of(other) == "0102"


def test_a_repeating_tasks_dates_are_rows_of_their_own():
    first, second = task("Collect data", D(2026, 10, 9)), task("Collect data", D(2026, 11, 13))
    assert task_row_id("0101", first, repeating=True) != task_row_id("0101", second, repeating=True)
    assert task_row_id("0101", first, repeating=False) == task_row_id("0101", second, repeating=False)
