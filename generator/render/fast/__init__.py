"""The fast engines: templates prepared once per process, then filled for each school.

They must give exactly what the reference engines, render/docx.py and render/xlsx.py, give: the
reference engines are the specification, and a difference is a bug here. tests/render/test_prepared.py
(each sample school's documents and the district reports, compared with the reference
engines' documents) and tests/render/test_prepared_tables.py (tables that may change shape, broken XML,
line breaks) hold them to it; fast/docx.py and fast/xlsx.py name the tests. PACKETS_ENGINE=reference
makes every document take the reference engines instead (render/__init__.py).
"""
