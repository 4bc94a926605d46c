"""Pipeline: load -> normalize/validate -> model -> render -> package -> deliver, as plain functions the CLI
calls, one module a command:

- district.py  the district as read and checked (every command starts here); `packets validate`
- packets.py   `packets build`: is anything stale? A run with nothing changed is answered from the manifest
- rebuild.py   `packets build` once something is: load and check, build the packets, PDFs, record, district view
- mail.py      `packets send` and `packets remind`, through a mailer (outbox, dry run, SMTP)
- returned.py  `packets collect`: returned trackers and review forms into the district's workbooks
- check_ins.py `packets checkin`: a check-in day's After Action Reviews and the District Level Reflection
- context.py   `packets context`: what each of a school's templates receives

Everything is gathered and checked before anything is written: a run with input errors raises InputError
carrying every finding, and leaves the output folder as it was.

The package's names are listed, with the module defining each, in __init__.pyi, and imported from
there when first used: a command loads only what it uses, and a build with nothing to rebuild loads
no reader or renderer (the document libraries were most of such a run's time).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
