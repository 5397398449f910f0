"""fn launcher for `protocol: stdio` scripts that have a memory limit.

    python <flags> script.py <entry>

Caps the address space at fn.yaml `memory` (FN_MEMORY_LIMIT_MB), so that allocations beyond it
raise MemoryError, then runs <entry> as `__main__`, as `python <entry>` would. Scripts without a
memory limit are started directly and never pass through here.
"""

import os
import resource
import runpy
import sys

entry = os.path.abspath(sys.argv[1])
limit = int(os.environ['FN_MEMORY_LIMIT_MB']) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.argv = [entry]
sys.path[0] = os.path.dirname(entry)
runpy.run_path(entry, run_name='__main__')
