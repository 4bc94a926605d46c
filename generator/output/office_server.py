"""Serves PDF conversions from one LibreOffice kept running for a whole build (see pdf.py's PdfConverter).

Run by a Python that can import uno (LibreOffice's own, or Debian's python3-uno), not the generator's:

    python office_server.py SOFFICE PROFILE_URL PIPE_NAME STARTUP_SECONDS

It starts soffice headless with its own profile, listening on a private pipe (so a desktop LibreOffice
the user has open never gets the work), connects and says {"ready": true}. Then it reads one JSON line a
document, {"source": path, "target": path, "filter": {...}}, and answers each with {"done": true}, or
{"error": "..."} when LibreOffice cannot open or export that document. When LibreOffice dies it says
{"died": exit code} and ends. When its standard input closes (the build ended) it stops LibreOffice.

Only the standard library and uno: it imports nothing from the generator, and keeps to the Python that
LibreOffice bundles (3.8 in some installers).
"""

import json
import os
import subprocess
import sys
import threading
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

SAYING = threading.Lock()


def say(message):
    with SAYING:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def watch(office):
    """Say at once when LibreOffice ends between documents too, so the next is not handed to it."""
    code = office.wait()
    say({"died": code})
    os._exit(0)


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def died(office):
    """Report LibreOffice's end (stopping what is left of it) and end."""
    try:
        code = office.wait(10)
    except subprocess.TimeoutExpired:
        office.kill()
        code = office.wait()
    say({"died": code})
    os._exit(0)


def start(soffice, profile, pipe, seconds):
    office = subprocess.Popen([soffice, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
                               "--nolockcheck", "-env:UserInstallation=" + profile,
                               "--accept=pipe,name=" + pipe + ";urp;StarOffice.ComponentContext"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + seconds
    while True:
        # A first start makes the profile and restarts LibreOffice once: the launcher runs on meanwhile.
        if office.poll() is not None:
            died(office)
        try:
            context = resolver.resolve("uno:pipe,name=" + pipe + ";urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if time.monotonic() > deadline:
                office.kill()
                say({"died": "timeout"})
                sys.exit(0)
            time.sleep(0.05)
    desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    return office, desktop


def export_filter(document):
    if document.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
        return "calc_pdf_Export"
    if document.supportsService("com.sun.star.presentation.PresentationDocument"):
        return "impress_pdf_Export"
    if document.supportsService("com.sun.star.drawing.DrawingDocument"):
        return "draw_pdf_Export"
    return "writer_pdf_Export"


def convert(desktop, source, target, options):
    """Return "" once target is written, else why not (an exception of the bridge propagates)."""
    document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0,
                                            (prop("Hidden", True), prop("ReadOnly", True)))
    if document is None:
        return "LibreOffice could not open it (a damaged or unsupported file?)"
    try:
        data = uno.Any("[]com.sun.star.beans.PropertyValue",
                       tuple(prop(name, value) for name, value in options.items()))
        uno.invoke(document, "storeToURL", (uno.systemPathToFileUrl(target),
                                            (prop("FilterName", export_filter(document)), prop("FilterData", data))))
    finally:
        document.close(True)
    return ""


def alive(office, desktop):
    """Return whether LibreOffice still answers (after a call that failed)."""
    if office.poll() is not None:
        return False
    try:
        desktop.getFrames()
        return True
    except Exception:
        return False


def main():
    soffice, profile, pipe, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    office, desktop = start(soffice, profile, pipe, seconds)
    threading.Thread(target=watch, args=(office,), daemon=True).start()
    say({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        if office.poll() is not None:
            died(office)
        try:
            problem = convert(desktop, request["source"], request["target"], request.get("filter", {}))
        except Exception as exc:
            if not alive(office, desktop):
                died(office)
            problem = "LibreOffice could not open it (" + (getattr(exc, "Message", "") or type(exc).__name__) + ")"
        say({"error": problem} if problem else {"done": True})
    try:
        desktop.terminate()
    except Exception:
        pass
    try:
        office.wait(10)
    except subprocess.TimeoutExpired:
        office.kill()
    os._exit(0)                         # not the watcher's "died": the build asked for the end


if __name__ == "__main__":
    main()
