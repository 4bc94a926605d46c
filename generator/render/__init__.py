"""Render: each form is a template (a file of the run's Templates) plus the context builder that feeds it.

Two engines render a template, one specification: the reference engines, render/docx.py (docxtpl) and
render/xlsx.py (openpyxl), are what a document must be; the fast engines in render/fast/ prepare each
template once per process and must give exactly the same documents (tests/render/test_prepared.py and
tests/render/test_prepared_tables.py compare them). render_document uses the fast engine where a template
has one, unless the environment variable PACKETS_ENGINE says otherwise:

- unset, empty or `fast`: the fast engines (the reference ones for templates they cannot reproduce);
- `reference`: the reference engines for every document, e.g. to rule out a fast-engine difference.
  Build workers inherit the environment, so a whole build follows it.

Any other value stops the run with one error (check_engine) instead of being ignored.

The package's names are listed, with the module defining each, in __init__.pyi, and imported from
there when first used: a command loads only what it uses, and a build with nothing to rebuild loads
no reader or renderer (the document libraries were most of such a run's time).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
