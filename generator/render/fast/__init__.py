"""Fast engines: templates prepared once per run. They must give exactly what the reference
engines (render/docx.py, render/xlsx.py) give; tests/render/test_fast_engines.py holds them to it.
"""
