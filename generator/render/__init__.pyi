# The package's names, and where each is defined: __init__.py imports each from its module when it is first
# used (lazy_loader.attach_stub reads this file), and type checkers read them here.
from .engine import ENGINE_ENV as ENGINE_ENV
from .engine import ENGINES as ENGINES
from .engine import check_engine as check_engine
from .forms import FORMS as FORMS
from .forms import RENDERERS as RENDERERS
from .forms import Form as Form
from .forms import form_titles as form_titles
from .forms import packet_contexts as packet_contexts
from .forms import packet_forms as packet_forms
from .forms import prepare_templates as prepare_templates
from .forms import prepared as prepared
from .forms import render_document as render_document
from .forms import render_packet as render_packet
