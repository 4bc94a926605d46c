"""Pipeline: load -> normalize/validate -> model -> render -> package -> deliver, as plain functions the CLI
calls, one module a command:

- district.py  the district as read and checked (every command starts here); `packets validate`
- packets.py   `packets build`: what is stale, load and check, build the packets, PDFs, record, district view
- mail.py      `packets send` and `packets remind`, through a mailer (outbox, dry run, SMTP)
- returned.py  `packets collect`: returned trackers and review forms into the district's workbooks
- check_ins.py `packets checkin`: a check-in day's After Action Reviews and the District Level Reflection
- context.py   `packets context`: what each of a school's templates receives

Everything is gathered and checked before anything is written: a run with input errors raises InputError
carrying every finding, and leaves the output folder as it was.
"""

from generator.pipeline.check_ins import CheckinDay, CheckinForm, CheckinReport, checkin
from generator.pipeline.context import school_context
from generator.pipeline.district import (
    LoadedDistrict,
    SchoolCheck,
    ValidationReport,
    load_district,
    read_district,
    unset_state,
    validate,
)
from generator.pipeline.mail import RemindReport, SendReport, remind, send
from generator.pipeline.packets import (
    DISTRICT_REPORT,
    DISTRICT_VIEW,
    READINESS_REPORT,
    BuildReport,
    build,
    district_view_present,
    finding_rows,
    readiness_rows,
    write_district_view,
    write_readiness_report,
    write_validation_report,
)
from generator.pipeline.returned import CollectReport, collect

__all__ = [
    "DISTRICT_REPORT", "DISTRICT_VIEW", "READINESS_REPORT", "BuildReport", "CheckinDay", "CheckinForm",
    "CheckinReport", "CollectReport", "LoadedDistrict", "RemindReport", "SchoolCheck", "SendReport",
    "ValidationReport", "build", "checkin", "collect", "district_view_present", "finding_rows", "load_district",
    "read_district", "readiness_rows", "remind", "school_context", "send", "unset_state", "validate",
    "write_district_view", "write_readiness_report", "write_validation_report",
]
