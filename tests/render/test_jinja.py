"""The Word forms' templates compiled by compile_xml: a template that only prints values is rendered by an
environment escaping each value as it finalizes it, and must print exactly what autoescape prints; and rendered
text written out in blocks (utf8_blocks)."""

from __future__ import annotations

import datetime as dt

import jinja2
import markupsafe
import pytest

from generator.render.jinja import _escaping_twin, compile_xml, jinja_env, utf8_blocks


class RichText:
    """Stands for docxtpl's RichText, Listing and pictures: markup of their own, by __html__."""

    def __html__(self) -> str:
        return '<w:r><w:t xml:space="preserve">kept & whole</w:t></w:r>'


VALUES = ["Tom & Jerry <b>\"quoted\" 'single'</b>", "due October 29, 2026 & after", "", "plain", 42, 3.5, True,
          dt.date(2026, 10, 29), None, ["a & b"], markupsafe.Markup("<w:br/> & due May 1, 2027"), RichText()]

VALUES_ONLY = ("<w:p><w:t>{{ value }}</w:t>{% for item in items %}<w:t>{{ item }}</w:t>{% endfor %}"
               "{% if value %}<w:t>{{ row.name }}</w:t>{% else %}<w:t>{{ 'none & nothing' }}</w:t>{% endif %}"
               "{% set shown = row.name %}<w:t>{{ shown }}{{ loop_free }}</w:t></w:p>")


@pytest.fixture
def env():
    return jinja_env(autoescape=True, typeset=True)


def context(value):
    return {"value": value, "items": VALUES, "row": {"name": value}, "loop_free": 7}


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_template_printing_values_only_prints_what_autoescape_prints_without_it(env, value):
    template = compile_xml(env, VALUES_ONLY)
    assert template.environment.autoescape is False          # the escaping twin, not autoescape
    assert template.render(context(value)) == env.from_string(VALUES_ONLY).render(context(value))


def test_escaped_by_the_twin_data_stays_data_and_dates_stay_whole(env):
    rendered = compile_xml(env, "<w:t>{{ value }}</w:t>").render(value="<w:p>& due October 29, 2026")
    assert rendered == "<w:t>&lt;w:p&gt;&amp; due October\u00a029,\u00a02026</w:t>"
    with pytest.raises(jinja2.UndefinedError):                # strict as before
        compile_xml(env, "{{ missing }}").render()


@pytest.mark.parametrize("source", [
    "{{ items|join(', ') }}",                                 # a filter: join escapes markup and text apart
    "{{ value ~ ' & more' }}",                                # joined to another value
    "{% macro cell(text) %}<w:t>{{ text }}</w:t>{% endmacro %}{{ cell(value) }}",     # printed twice over
    "{% set shown %}<w:t>{{ value }}</w:t>{% endset %}{{ shown }}",
    "{% filter upper %}{{ value }}{% endfilter %}",
    "{% autoescape false %}{{ value }}{% endautoescape %}",
])
def test_a_template_printing_more_than_values_keeps_autoescape(env, source):
    """What such a template prints again is markup autoescape knows not to escape twice; the twin would."""
    value = markupsafe.Markup("<w:br/>")
    ctx = {"value": value, "items": [value, "a & b"]}
    template = compile_xml(env, source)
    assert template.environment is env
    assert template.render(ctx) == env.from_string(source).render(ctx)


def test_the_twin_alone_would_escape_a_macros_output_twice(env):
    """Why compile_xml looks: without autoescape a macro's output is text, which the twin escapes again."""
    source = "{% macro cell(text) %}<w:t>{{ text }}</w:t>{% endmacro %}{{ cell('a') }}"
    assert env.from_string(source).render() == "<w:t>a</w:t>"
    assert _escaping_twin(env.undefined).from_string(source).render() == "&lt;w:t&gt;a&lt;/w:t&gt;"


def test_an_environment_not_escaping_for_word_compiles_as_it_is():
    for env in (jinja_env(autoescape=False), jinja_env(autoescape=True)):
        assert compile_xml(env, "{{ value }}").environment is env


def test_rendered_pieces_are_written_in_blocks_of_the_same_text():
    # Rows of a long sheet or page: a block is written once it reaches the size, a multi-byte character is never
    # split, and one piece longer than a block (a kept chart row) stays whole.
    pieces = [f"<row r=\"{i}\">Café «{i}»</row>" for i in range(2000)] + ["x" * 300] + ["é"] * 50
    blocks = list(utf8_blocks(iter(pieces), size=256))
    assert b"".join(blocks).decode("utf-8") == "".join(pieces)
    assert all(len(block.decode("utf-8")) >= 256 for block in blocks[:-1])
    assert len(blocks) < len(pieces) / 8
    assert list(utf8_blocks(iter([]))) == []
